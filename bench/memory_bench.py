"""Peak memory of reading, parsing and checking one large document, as an ingest worker does it.

    python bench/memory_bench.py [--text-mb 100] [--docx-mb 33]

Made here: a text report padded with paragraphs of prose to --text-mb MB (the default file size
limit, GONGKAI_MAX_BYTES, is 100 MiB), and a DOCX report whose body holds paragraphs of varied
prose to --docx-mb MB packed (issue 11's probe: 33 MB packed, 184 MB of XML). Each is processed
in a fresh Python process (gongkai.store.worker.process, as an ingest worker runs it, with the
per-document memory budget off) and that process reports its peak resident memory
(VmHWM) after its imports and the document's bytes, and after the document, and the seconds it took. Prints
figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from gongkai.render.docx import render_docx
from gongkai.render.markdown import render_markdown
from gongkai.synth import synth_report

PROSE = "本机关认真贯彻落实政府信息公开条例依法做好主动公开和依申请公开工作进一步规范办理流程提高答复质量加强平台建设"

# Run in the child: imports first (their memory is the baseline), then the document.
# Peak resident memory is VmHWM, not getrusage's ru_maxrss: Linux carries the peak of the process
# before exec (here the benchmark, which made the document) into ru_maxrss.
CHILD = """
import json, sys, time
from gongkai.store.worker import process
import gongkai.parse, gongkai.read, gongkai.check  # noqa: E401
def peak_kb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
path = sys.argv[1]
data = open(path, "rb").read()
before = peak_kb()
start = time.perf_counter()
result = process(path, data, keep_content=True)
seconds = time.perf_counter() - start
after = peak_kb()
print(json.dumps({"before_kb": before, "peak_kb": after, "seconds": seconds, "status": result["status"],
                  "error": result["error"], "cells": len(result["cells"])}))
"""


def prose(rng: random.Random, chars: int, phrases: bool = True) -> str:
    """Chars of prose: phrases of PROSE in random order (packs about 14:1 in a DOCX), or its
    characters in random order (about 3:1)."""
    if not phrases:
        return "".join(rng.choice(PROSE) for _ in range(chars))
    starts = [rng.randrange(len(PROSE) - 8) for _ in range(chars // 8)]
    return "".join(PROSE[i:i + 8] for i in starts)


def write_text(path: Path, megabytes: float) -> None:
    """A text report, its last section padded with paragraphs of prose to the size given."""
    rng = random.Random(1)
    paragraph = prose(rng, 300, phrases=False) + "。\n\n"  # 900 bytes; repeated: the parser's cost is in the size
    head = render_markdown(synth_report(1), tables="tabs")
    count = int(megabytes * 2**20 - len(head.encode())) // len(paragraph.encode())
    path.write_text(head + "\n\n" + paragraph * count, encoding="utf-8")


def write_docx(path: Path, megabytes: float) -> None:
    """A DOCX report with paragraphs of varied prose added to its body until it packs to the size
    given (half the paragraphs phrases, half characters at random: it packs about 5:1, as the
    probe's file did)."""
    rng = random.Random(2)
    with zipfile.ZipFile(io.BytesIO(render_docx(synth_report(2)))) as z:
        members = {name: z.read(name) for name in z.namelist()}
    xml = members["word/document.xml"].decode()
    cut = xml.rindex("<w:sectPr")
    blocks = []
    size = 0
    while size < megabytes * 2**20:
        chunk = "".join(f"<w:p><w:r><w:t>{prose(rng, 400, i % 2 == 0)}</w:t></w:r></w:p>" for i in range(30))
        blocks.append(chunk)
        size += len(chunk.encode()) // 5  # packs about 5:1
    members["word/document.xml"] = (xml[:cut] + "".join(blocks) + xml[cut:]).encode()
    path.write_bytes(_pack(members).getvalue())


def _pack(members: dict[str, bytes]) -> io.BytesIO:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out


def measure(path: Path) -> dict:
    env = {**os.environ, "GONGKAI_DOC_MEMORY_MB": "1000000", "GONGKAI_DOC_SECONDS": "100000"}
    done = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--text-mb", type=float, default=100)
    ap.add_argument("--docx-mb", type=float, default=33)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="gongkai-memory-bench-") as tmp:
        files = []
        if args.text_mb:
            write_text(Path(tmp) / "large.txt", args.text_mb)
            files.append(Path(tmp) / "large.txt")
        if args.docx_mb:
            write_docx(Path(tmp) / "large.docx", args.docx_mb)
            files.append(Path(tmp) / "large.docx")
        for path in files:
            size = path.stat().st_size
            extra = ""
            if path.suffix == ".docx":
                with zipfile.ZipFile(path) as z:
                    extra = f", {sum(m.file_size for m in z.infolist()) / 2**20:.0f} MB of XML"
            figures = measure(path)
            print(f"{path.name}: {size / 2**20:.1f} MB{extra}: peak RSS {figures['peak_kb'] / 1024:.0f} MB "
                  f"(imports and the file's bytes {figures['before_kb'] / 1024:.0f} MB: the document added "
                  f"{(figures['peak_kb'] - figures['before_kb']) / 1024:.0f} MB, "
                  f"{(figures['peak_kb'] - figures['before_kb']) / 1024 / (size / 2**20):.1f}× its size), "
                  f"{figures['seconds']:.1f} s, {figures['status']}"
                  + (f" ({figures['error']})" if figures["error"] else f", {figures['cells']} cells")
                  + f"; load average {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
