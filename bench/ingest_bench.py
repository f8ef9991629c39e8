"""Corpus ingest speed: N generated text reports into a fresh SQLite database, then `stats` over them.

    python bench/ingest_bench.py [--count 10000] [--workers 2] [--db URL] [--keep DIR] [--no-review]

As `gongkai ingest` does, each batch written also stores the reports' outcomes, versions and
cross-year pairs (gongkai.review.hook); --no-review measures the store alone.

Goals: ingest ≥ 100 reports/s on 2 cores; stats < 1 s. Prints the figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gongkai.render.markdown import render_markdown
from gongkai.review.hook import after_write
from gongkai.store.db import connect
from gongkai.store.ingest import ingest
from gongkai.store.query import stats
from gongkai.store.region import PROVINCES
from gongkai.synth import synth_report


def write_reports(folder: Path, count: int) -> None:
    """Reports as pasted from Word (tab-separated tables), in folders of 1,000 like a real crawl;
    most agencies named with their province, so that stats by region has groups."""
    for i in range(count):
        sub = folder / f"{i // 1000:03d}"
        sub.mkdir(exist_ok=True)
        report = synth_report(i)
        if i % 5:
            report.agency = PROVINCES[i % len(PROVINCES)][1] + (report.agency or "")
            report.title = f"{report.agency}{report.year}年政府信息公开工作年度报告"
        (sub / f"report_{i:06d}.txt").write_text(render_markdown(report, tables="tabs"), encoding="utf-8")


def megabytes(kilobytes: int) -> float:
    return kilobytes / 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=10_000, help="reports to generate and ingest")
    ap.add_argument("--workers", type=int, default=2, help="parsing processes")
    ap.add_argument("--db", help="database URL (default: a SQLite file in the temporary folder)")
    ap.add_argument("--keep", help="write the reports and database here and keep them")
    ap.add_argument("--no-review", action="store_true", help="without the review's hook (outcomes, versions, years)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="gongkai-bench-") as tmp:
        base = Path(args.keep or tmp)
        base.mkdir(parents=True, exist_ok=True)
        folder = base / "reports"
        folder.mkdir(exist_ok=True)
        start = time.perf_counter()
        write_reports(folder, args.count)
        print(f"generated {args.count} text reports in {time.perf_counter() - start:.1f}s")

        db = args.db or str(base / "bench.db")
        engine = connect(db)
        cpu_start = time.process_time()
        hook = None if args.no_review else after_write
        summary = ingest(engine, [folder], workers=args.workers, after_write=hook)
        rate = (summary.parsed + summary.failed) / summary.seconds
        print(f"ingested {summary.parsed} reports ({summary.failed} failed, {summary.skipped} already stored) "
              f"in {summary.seconds:.1f}s with {args.workers} workers: {rate:.0f} reports/s")
        parent_cpu = time.process_time() - cpu_start
        per_report = (parent_cpu + summary.worker_cpu) / max(summary.parsed, 1)
        print(f"CPU per report: {parent_cpu / max(summary.parsed, 1) * 1000:.1f} ms writing (this process), "
              f"{summary.worker_cpu / max(summary.parsed, 1) * 1000:.1f} ms parsing and checking (workers): "
              f"{2 / per_report:.0f} reports/s on 2 idle cores")
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"peak memory: writer process {megabytes(own):.0f} MB, "
              f"largest parsing process {megabytes(summary.worker_peak_kb):.0f} MB")
        if not args.db:
            size = sum(p.stat().st_size for p in base.glob("bench.db*"))
            print(f"database: {size / 1e6:.0f} MB on disk")

        start = time.perf_counter()
        again = ingest(engine, [folder], workers=args.workers, after_write=hook)
        print(f"re-ingest of the same files: {again.skipped} skipped, {again.parsed} new, "
              f"in {time.perf_counter() - start:.1f}s")

        with engine.connect() as conn:
            for by in (("year",), ("region",), ("year", "region")):
                start = time.perf_counter()
                rows = stats(conn, by)
                print(f"stats by {'+'.join(by)}: {len(rows)} groups in {time.perf_counter() - start:.3f}s")
        engine.dispose()
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "gongkai", "stats", "--db", db], check=True, capture_output=True)
        print(f"`gongkai stats` command, start to finish: {time.perf_counter() - start:.2f}s")


if __name__ == "__main__":
    main()
