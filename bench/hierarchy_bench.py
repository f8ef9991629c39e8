"""Hierarchy check speed: 10,000 reports of 3,000 bodies in a 5-level tree, every parent a summary of
its children, all its cells stored; then `check_hierarchy` over every year (computed and stored).

    python bench/hierarchy_bench.py [--bodies 3000] [--reports 10000] [--db URL]

Goal: < 2 s on SQLite. Prints the figures and asserts nothing. The corpus is written straight into
the tables (parsing 10,000 documents is ingest's benchmark, not this one's).
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from gongkai.formats import load_format
from gongkai.review.hierarchy import check_hierarchy
from gongkai.store.db import connect
from gongkai.store.ingest import write_cells
from gongkai.store.schema import bodies, documents, filings, report_versions, reports

LEVELS = (1, 9, 90, 900)  # province, cities, counties, townships; the rest are the fifth level


def build(url: str, n_bodies: int, n_reports: int) -> None:
    rng = random.Random(7)
    engine = connect(url)
    keys = load_format("2021").keys
    levels = [*LEVELS, n_bodies - sum(LEVELS)]
    now = datetime.now(UTC)
    with engine.begin() as conn:
        rows, parents, next_id = [], [], 1
        for depth, size in enumerate(levels):
            current = []
            for i in range(size):
                parent = parents[i % len(parents)] if parents else None
                rows.append({"id": next_id, "name": f"单位{depth}-{i}", "region_code": None, "parent_id": parent,
                             "kind": "government", "placed_by": "import", "sums_children": depth < len(levels) - 1,
                             "note": None})
                current.append(next_id)
                next_id += 1
            parents = current
        conn.execute(insert(bodies), rows)
        years = (2021, 2022, 2023, 2024)
        pairs = [(b, y) for y in years for b in range(1, n_bodies + 1)][:n_reports]
        conn.execute(insert(documents), [
            {"id": i, "sha256": f"{i:064x}", "name": f"r{i}.txt", "kind": "text", "size": 1, "ingested_at": now,
             "status": "parsed", "error": None, "parser_version": "bench"} for i in range(1, len(pairs) + 1)])
        conn.execute(insert(reports), [
            {"id": i, "document_id": i, "agency": f"b{b}", "year": y, "format": "2021", "parser_version": "bench",
             "checked": True} for i, (b, y) in enumerate(pairs, start=1)])
        filing_ids = {}
        for i, (b, y) in enumerate(pairs, start=1):
            filing_ids[(b, y)] = i
        conn.execute(insert(filings), [{"id": i, "body_id": b, "year": y, "state": "draft"} for (b, y), i in filing_ids.items()])
        conn.execute(insert(report_versions), [{"report_id": i, "filing_id": i, "document_id": i, "counted": True}
                                               for i in range(1, len(pairs) + 1)])
        for start in range(1, len(pairs) + 1, 500):
            write_cells(conn, [(i, key, float(rng.randint(0, 50)), None, None, 1.0, None)
                               for i in range(start, min(start + 500, len(pairs) + 1)) for key in keys])
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bodies", type=int, default=3000)
    parser.add_argument("--reports", type=int, default=10000)
    parser.add_argument("--db", help="a database URL (default: a new SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or str(Path(tmp) / "hierarchy.db")
        start = time.perf_counter()
        build(url, args.bodies, args.reports)
        print(f"corpus: {args.reports} reports of {args.bodies} bodies in 5 levels, "
              f"{len(load_format('2021').keys)} cells each, built in {time.perf_counter() - start:.1f} s")
        engine = connect(url)
        for label in ("first run", "second run (replacing the stored outcomes)"):
            start, cpu = time.perf_counter(), time.process_time()
            with engine.begin() as conn:
                found = check_hierarchy(conn)
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            statuses: dict[str, int] = {}
            for item in found:
                statuses[item["status"]] = statuses.get(item["status"], 0) + 1
            print(f"hierarchy check, every year, {label}: {seconds:.2f} s ({cpu:.2f} s CPU) for {len(found)} outcomes "
                  f"{statuses} (goal < 2 s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        engine.dispose()


if __name__ == "__main__":
    main()
