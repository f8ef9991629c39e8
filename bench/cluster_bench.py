"""Ingest on Dask against the local ingest: the same reports through each, throughput as ratios.

    python bench/cluster_bench.py [--texts 1000] [--scans 20] [--pages 2]

The scans are made here, offline, as the tests make them: generated reports rendered to PDF
(LibreOffice), each page rasterised at 150 dpi (pdfium) and the images saved as a PDF with no text
layer, so every page goes through OCR. A scan's pages are recognised across the cluster's workers.
The document budget (GONGKAI_DOC_SECONDS) is raised to an hour here unless set: on a loaded machine
a 2-page scan can take past the default 120 s of wall time, and the benchmark measures throughput,
not the guard.

Runs, each into a fresh SQLite database: the local ingest (2 worker processes, the default on
this 2-core machine), then Dask LocalClusters of 1 and 2 worker processes (`--cluster local:N`;
the cluster's start-up is timed apart and left out of the throughput, as a standing cluster does
not pay it per run). Texts and scans are run separately. Goal: the Dask overhead on text ≤ 20%
(the 2-worker cluster at ≥ 0.8 of the local ingest's throughput). Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import time
from pathlib import Path

from PIL import Image

os.environ.setdefault("GONGKAI_DOC_SECONDS", "3600")  # before gongkai.store.worker reads it (see above)

from gongkai.render.markdown import render_markdown
from gongkai.render.pdf import render_pdfs, render_png
from gongkai.store.cluster import items_from_sources, local_cluster, run_on_cluster, warm_worker
from gongkai.store.db import connect
from gongkai.store.ingest import Summary, ingest, list_sources
from gongkai.synth import synth_report


def write_texts(folder: Path, count: int) -> None:
    folder.mkdir(parents=True)
    for i in range(count):
        (folder / f"report_{i:05d}.txt").write_text(render_markdown(synth_report(i), tables="tabs"), encoding="utf-8")


def write_scans(folder: Path, count: int, pages: int) -> None:
    """Scanned PDFs at 150 dpi: pages of rendered reports, each scan a different report."""
    folder.mkdir(parents=True)
    pdfs = render_pdfs([synth_report(5000 + i) for i in range(count)])
    for i, pdf in enumerate(pdfs):
        images = [Image.open(io.BytesIO(render_png(pdf, n, dpi=150))).convert("RGB") for n in range(1, pages + 1)]
        images[0].save(folder / f"scan_{i:03d}.pdf", "PDF", resolution=150, save_all=True, append_images=images[1:])


def local(folder: Path, db: str, workers: int) -> Summary:
    engine = connect(db)
    try:
        return ingest(engine, [folder], workers=workers)
    finally:
        engine.dispose()


def on_dask(folder: Path, db: str, workers: int) -> tuple[Summary, float]:
    from distributed import Client

    start = time.perf_counter()
    cluster = local_cluster(workers)
    client = Client(cluster)
    client.run(warm_worker)
    started = time.perf_counter() - start
    engine = connect(db)
    try:
        summary = Summary()
        run_on_cluster(engine, client, items_from_sources(list_sources([folder]), summary, None, None), summary)
        return summary, started
    finally:
        engine.dispose()
        client.close()
        cluster.close()


def rate(summary: Summary) -> float:
    return (summary.parsed + summary.failed) / summary.seconds


def outcome(summary: Summary) -> str:
    cut = " (INTERRUPTED: figures incomplete)" if summary.interrupted else ""
    return (f"{summary.parsed} stored, {summary.failed} failed{cut}; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--texts", type=int, default=1000)
    ap.add_argument("--scans", type=int, default=20)
    ap.add_argument("--pages", type=int, default=2, help="pages per scan")
    ap.add_argument("--local-workers", type=int, default=2)
    ap.add_argument("--dask-workers", default="1,2", help="Dask cluster sizes to run, comma-separated")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="gongkai-cluster-bench-") as tmp:
        base = Path(tmp)
        corpora = []
        if args.texts:
            write_texts(base / "texts", args.texts)
            corpora.append(("text", base / "texts", args.texts))
        if args.scans:
            write_scans(base / "scans", args.scans, args.pages)
            corpora.append(("scan", base / "scans", args.scans))
        for kind, folder, count in corpora:
            baseline = local(folder, str(base / f"{kind}-local.db"), args.local_workers)
            # Pages a second for scans (each scan has args.pages pages), documents a second for texts.
            unit, per = ("pages", args.pages) if kind == "scan" else ("documents", 1)
            print(f"{kind}: {count} documents; local ingest ({args.local_workers} processes): "
                  f"{baseline.seconds:.1f}s, {rate(baseline) * per:.3f} {unit}/s, {outcome(baseline)}", flush=True)
            for workers in (int(n) for n in args.dask_workers.split(",")):
                summary, started = on_dask(folder, str(base / f"{kind}-dask{workers}.db"), workers)
                ratio = rate(summary) / rate(baseline)
                print(f"{kind}: Dask {workers} worker(s): {summary.seconds:.1f}s (+{started:.1f}s cluster start), "
                      f"{rate(summary) * per:.3f} {unit}/s = {ratio:.2f}× the local ingest, {outcome(summary)}"
                      + (f" (overhead {max(0.0, 1 - ratio) * 100:.0f}%)" if workers == args.local_workers else ""),
                      flush=True)
            if kind == "scan":
                seconds = baseline.kinds.get("ocr", (0, 0.0))[1]
                print(f"scan: {seconds / max(count * args.pages, 1):.2f} s of OCR per page in a worker process "
                      f"({seconds / max(count, 1):.2f} s per {args.pages}-page report)")
            else:
                seconds = baseline.kinds.get("text", (0, 0.0))[1]
                print(f"text: {seconds / max(count, 1) * 1000:.0f} ms per report in a worker process")


if __name__ == "__main__":
    main()
