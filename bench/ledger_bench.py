"""Ledger speed: N generated applications over B bodies into a fresh database, then every body's
table 三 for the year, one body's full report, and the overdue list.

    python bench/ledger_bench.py [--count 100000] [--bodies 500] [--db URL|FILE [--reuse]]

Goal: every body's table 三 in < 5 s on SQLite for 100,000 applications over 500 bodies. Prints
the figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path

from gongkai.check import check_report
from gongkai.ledger import store
from gongkai.ledger.synth import synth_applications
from gongkai.store.db import connect

YEAR = 2026


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--bodies", type=int, default=500)
    parser.add_argument("--db", default=None, help="a database URL or file (default: a new SQLite file)")
    parser.add_argument("--reuse", action="store_true", help="time the queries on --db as it is, adding nothing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gongkai-ledger-bench-") as tmp:
        db = args.db or str(Path(tmp) / "ledger.db")
        engine = connect(db)
        bodies = [f"第{i:03d}号机关" for i in range(args.bodies)]
        if args.reuse:
            queries(engine, bodies)
            engine.dispose()
            return
        started = time.perf_counter()
        apps = synth_applications(args.count, YEAR, bodies, seed=1)
        generated = time.perf_counter() - started
        started = time.perf_counter()
        for start in range(0, len(apps), 10_000):
            store.create_applications(engine, apps[start:start + 10_000])
        stored = time.perf_counter() - started
        print(f"generated {len(apps):,} applications over {len(bodies)} bodies in {generated:.1f} s; "
              f"stored (validated, deadlines computed) in {stored:.1f} s ({len(apps) / stored:,.0f}/s)")
        queries(engine, bodies)
        engine.dispose()


def queries(engine, bodies: list[str]) -> None:
    with engine.connect() as conn:
        started, cpu = time.perf_counter(), time.process_time()
        tables = store.application_tables(conn, YEAR)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        total = sum(t["applications.new.total"] + t["applications.carried_over.total"] for t in tables.values())
        # CPU time too: SQLite runs in this process, and a shared machine's wall clock includes waiting for a core.
        print(f"table 三 of all {len(tables)} bodies: {elapsed:.2f} s wall, {cpu:.2f} s CPU (goal < 5 s); "
              f"{total:,} applications counted; load average {os.getloadavg()[0]:.1f}")
        started = time.perf_counter()
        report = store.report_for(conn, bodies[0], YEAR)
        findings = check_report(report)
        print(f"one body's report from its records and checked: {time.perf_counter() - started:.2f} s, "
              f"{sum(f.severity == 'error' for f in findings)} errors")
        started = time.perf_counter()
        due = store.due_list(conn, dt.date(YEAR, 11, 2), within=5)
        print(f"due and overdue list over every body: {time.perf_counter() - started:.2f} s, {len(due):,} applications")
        started = time.perf_counter()
        due = store.due_list(conn, dt.date(YEAR, 11, 2), within=5, body=bodies[0])
        print(f"due and overdue list of one body: {time.perf_counter() - started:.3f} s, {len(due):,} applications")


if __name__ == "__main__":
    main()
