"""Ingest on Dask against the local ingest: the same reports through each, throughput as ratios.

    python bench/cluster_bench.py [--texts 1000] [--scans 20] [--pages 2] [--rounds 3]

The scans are made here, offline, as the tests make them: generated reports rendered to PDF
(LibreOffice), each page rasterised at 150 dpi (pdfium) and the images saved as a PDF with no text
layer, so every page goes through OCR. A scan's pages are recognised across the cluster's workers.
The document budget (GONGKAI_DOC_SECONDS) is raised to an hour here unless set: on a loaded machine
a 2-page scan can take past the default 120 s of wall time, and the benchmark measures throughput,
not the guard.

Each round ingests the corpus into fresh SQLite databases: by the local ingest (2 worker processes,
the default on this 2-core machine), then on Dask LocalClusters of 1 and 2 worker processes
(`--cluster local:N`). The clusters are started once and stand through the rounds, as a cluster
does between runs; their start-up is timed apart. The host's speed varies from minute to minute
(2× on a shared machine), so a single run's ratio says little: the rounds alternate between the
local ingest and the clusters, and the ratios are given round by round and as their median.
Texts and scans are run separately. Goal: the Dask overhead on text ≤ 20% (the 2-worker cluster at
≥ 0.8 of the local ingest's throughput). Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

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


def start_cluster(workers: int) -> tuple[Any, Any, float]:
    from distributed import Client

    logging.getLogger("distributed").setLevel(logging.ERROR)  # not its INFO lines as the clusters close
    start = time.perf_counter()
    cluster = local_cluster(workers)
    client = Client(cluster)
    client.run(warm_worker)
    return cluster, client, time.perf_counter() - start


def on_dask(client: Any, folder: Path, db: str) -> Summary:
    engine = connect(db)
    try:
        summary = Summary()
        return run_on_cluster(engine, client, items_from_sources(list_sources([folder]), summary, None, None), summary)
    finally:
        engine.dispose()


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
    ap.add_argument("--rounds", type=int, default=3, help="rounds alternating the local ingest and the clusters")
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
        sizes = [int(n) for n in args.dask_workers.split(",")]
        clusters = {}
        for workers in sizes:
            cluster, client, started = start_cluster(workers)
            clusters[workers] = (cluster, client)
            print(f"Dask LocalCluster of {workers} worker(s) started in {started:.1f}s", flush=True)
        try:
            for kind, folder, count in corpora:
                # Pages a second for scans (each scan has args.pages pages), documents a second for texts.
                unit, per = ("pages", args.pages) if kind == "scan" else ("documents", 1)
                ratios: dict[int, list[float]] = {workers: [] for workers in sizes}
                for n in range(args.rounds):
                    baseline = local(folder, str(base / f"{kind}-local-{n}.db"), args.local_workers)
                    print(f"{kind} round {n + 1}: {count} documents; local ingest ({args.local_workers} processes): "
                          f"{baseline.seconds:.1f}s, {rate(baseline) * per:.3f} {unit}/s, {outcome(baseline)}",
                          flush=True)
                    for workers in sizes:
                        summary = on_dask(clusters[workers][1], folder, str(base / f"{kind}-dask{workers}-{n}.db"))
                        ratios[workers].append(rate(summary) / rate(baseline))
                        print(f"{kind} round {n + 1}: Dask {workers} worker(s): {summary.seconds:.1f}s, "
                              f"{rate(summary) * per:.3f} {unit}/s = {ratios[workers][-1]:.2f}× the local ingest, "
                              f"{outcome(summary)}", flush=True)
                    if n == 0:
                        print(per_document(kind, baseline, count, args.pages))
                for workers in sizes:
                    median = statistics.median(ratios[workers])
                    print(f"{kind}: Dask {workers} worker(s) / local ingest over {args.rounds} rounds: median "
                          f"{median:.2f}× (rounds {', '.join(f'{r:.2f}' for r in ratios[workers])})"
                          + (f"; overhead {max(0.0, 1 - median) * 100:.0f}%" if workers == args.local_workers else ""),
                          flush=True)
        finally:
            for cluster, client in clusters.values():
                client.close()
                cluster.close()


def per_document(kind: str, baseline: Summary, count: int, pages: int) -> str:
    if kind == "scan":
        seconds = baseline.kinds.get("ocr", (0, 0.0))[1]
        return (f"scan: {seconds / max(count * pages, 1):.2f} s of OCR per page in a worker process "
                f"({seconds / max(count, 1):.2f} s per {pages}-page report)")
    seconds = baseline.kinds.get("text", (0, 0.0))[1]
    return f"text: {seconds / max(count, 1) * 1000:.0f} ms per report in a worker process"


if __name__ == "__main__":
    main()
