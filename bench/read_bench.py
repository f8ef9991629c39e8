"""Reading speed by input kind: pages/s and reports/s for text, Markdown, HTML, DOCX, PDF and images (OCR).

    python bench/read_bench.py [--reports 20] [--ocr-reports 1] [--min-seconds 1]

Generated reports (synth_report) are rendered to each kind of file in a temporary directory, then
each file is read by content (gongkai.read.read) and parsed. "Pages" are the pages the report
prints as PDF, for every kind, so the figures compare. For PDFs the script also times bare text
extraction (pdfplumber's extract_text of every page) and prints the ratio of the full parse to it:
the goal is that parsing adds less than 50% to extraction. Last, the cost of placing rows by the
format's order (gongkai.parse.align) on clean text reports and on the damaged layouts of
tests/damage.py: reports/s and the share of parse time spent ordering and aligning rows.
Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import functools
import io
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pdfplumber
import pypdfium2 as pdfium
from PIL import Image

import gongkai.parse.tables as tables
from gongkai.parse import parse
from gongkai.read import read
from gongkai.read.text import read_text
from gongkai.render.docx import render_docx
from gongkai.render.html import render_html
from gongkai.render.markdown import render_markdown
from gongkai.render.pdf import render_pdfs, render_png
from gongkai.synth import synth_report


def timed(files: list[Path], work: Callable[[Path], object], min_seconds: float) -> tuple[float, int]:
    """Seconds per pass over the files (passes repeated until min_seconds have gone by), and the passes."""
    for f in files[:2]:  # warm up: imports, the OCR engine, format loading
        work(f)
    passes = 0
    start = time.perf_counter()
    while True:
        for f in files:
            work(f)
        passes += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return elapsed / passes, passes


def read_and_parse(path: Path) -> None:
    parse(read(path))


def extract_text(path: Path) -> None:
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            page.extract_text()


def tiff(pdf: bytes, dpi: int) -> bytes:
    """Every page of a PDF rendered at dpi, as the frames of one TIFF: a scanned report in one file."""
    pages = len(pdfium.PdfDocument(pdf))
    frames = [Image.open(io.BytesIO(render_png(pdf, p, dpi))).convert("RGB") for p in range(1, pages + 1)]
    out = io.BytesIO()
    frames[0].save(out, "TIFF", save_all=True, append_images=frames[1:], compression="tiff_deflate", dpi=(dpi, dpi))
    return out.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reports", type=int, default=20, help="generated reports per kind")
    ap.add_argument("--ocr-reports", type=int, default=1, help="reports read by OCR (about 5 s a page on one core)")
    ap.add_argument("--min-seconds", type=float, default=1.0, help="repeat the fast kinds for at least this long")
    ap.add_argument("--dpi", type=int, default=150, help="resolution of the images read by OCR")
    args = ap.parse_args()

    reports = [synth_report(seed) for seed in range(args.reports)]
    with tempfile.TemporaryDirectory(prefix="gongkai-read-bench-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        pdfs = render_pdfs(reports)
        print(f"rendered {len(reports)} reports to PDF with LibreOffice in {time.perf_counter() - start:.1f}s")
        pages = [len(pdfium.PdfDocument(pdf)) for pdf in pdfs]
        writers: dict[str, Callable[[int], tuple[str, bytes]]] = {
            "text": lambda i: ("txt", render_markdown(reports[i], tables="tabs").encode("utf-8")),
            "markdown": lambda i: ("md", render_markdown(reports[i]).encode("utf-8")),
            "html": lambda i: ("html", render_html(reports[i]).encode("utf-8")),
            "docx": lambda i: ("docx", render_docx(reports[i])),
            "pdf": lambda i: ("pdf", pdfs[i]),
        }
        files: dict[str, list[Path]] = {}
        for kind, write in writers.items():
            files[kind] = []
            for i in range(len(reports)):
                suffix, data = write(i)
                files[kind].append(root / f"{kind}{i}.{suffix}")
                files[kind][-1].write_bytes(data)
        ocr_count = min(args.ocr_reports, len(reports))
        files["image (OCR)"] = []
        for i in range(ocr_count):
            files["image (OCR)"].append(root / f"scan{i}.tiff")
            files["image (OCR)"][-1].write_bytes(tiff(pdfs[i], args.dpi))

        print(f"{'kind':<12} {'reports':>7} {'pages':>6} {'s/report':>9} {'reports/s':>10} {'pages/s':>9}")
        for kind, paths in files.items():
            n_pages = sum(pages[: len(paths)])
            min_seconds = 0 if kind.startswith("image") else args.min_seconds  # OCR: one pass is plenty
            per_pass, _ = timed(paths, read_and_parse, min_seconds)
            print(f"{kind:<12} {len(paths):>7} {n_pages:>6} {per_pass / len(paths):>9.4f} "
                  f"{len(paths) / per_pass:>10.1f} {n_pages / per_pass:>9.1f}")

        parse_time, _ = timed(files["pdf"], read_and_parse, args.min_seconds)
        extract_time, _ = timed(files["pdf"], extract_text, args.min_seconds)
        print(f"\nPDF: read_pdf + parse {parse_time:.3f}s, pdfplumber extract_text {extract_time:.3f}s per pass over "
              f"{len(files['pdf'])} reports; parse / extraction = {parse_time / extract_time:.2f} "
              f"(parsing adds {100 * (parse_time / extract_time - 1):+.0f}%; goal < +50%)")
    alignment_cost(reports, args.min_seconds)


def alignment_cost(reports: list, min_seconds: float) -> None:
    """Parse time of clean and damaged text reports, and the share of it spent placing rows by order."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from damage import damaged

    spent = [0.0]

    def clocked(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - start
        return wrapper

    texts = {
        "clean": [render_markdown(r, tables="pipe") for r in reports],
        "damaged": [damaged(r, random.Random(i), rate=0.3)[0] for i, r in enumerate(reports)],
    }
    originals = tables._in_order, tables._align_rows
    tables._in_order, tables._align_rows = (clocked(f) for f in originals)
    try:
        print(f"\n{'alignment':<12} {'reports':>7} {'reports/s':>10} {'ordering+aligning':>18}")
        for name, docs in texts.items():
            spent[0] = 0.0
            per_pass, passes = timed(docs, lambda text: parse(read_text(text, "r.md")), min_seconds)
            share = spent[0] / (per_pass * (passes + 2 / len(docs)))  # timed() warms up on two documents
            print(f"{name:<12} {len(docs):>7} {len(docs) / per_pass:>10.1f} {100 * share:>17.1f}%")
    finally:
        tables._in_order, tables._align_rows = originals


if __name__ == "__main__":
    main()
