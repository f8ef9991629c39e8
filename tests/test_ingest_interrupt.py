"""Ctrl-C during an ingest (issue 11): SIGINT to the process group at random moments, on SQLite and
PostgreSQL. Each run stops within 5 s with exit status 130, a true summary (its count of new reports
is what it added to the database) and no traceback from any process; a second Ctrl-C ends it at
once; a last run completes with every report stored exactly once."""

from __future__ import annotations

import hashlib
import os
import random
import re
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from gongkai.formats import load_format
from gongkai.store.db import connect
from gongkai.store.ingest import Job, Summary, Writer
from gongkai.store.schema import cells, documents, reports
from gongkai.store.worker import process
from store_helpers import database, stored, write_reports

# Enough that ten Ctrl-Cs, each 0–0.4 s into a run, come before the end on a fast, idle machine.
COUNT = 400
INTERRUPTS = 10  # per database: 20 in the test run


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path) -> str:
    return database(request.param, tmp_path)


def start(folder, db: str) -> subprocess.Popen:
    # Its own session: Ctrl-C goes to the whole process group (workers too), as in a terminal.
    return subprocess.Popen([sys.executable, "-m", "gongkai", "ingest", str(folder), "--db", db, "--workers", "2",
                             "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def wait_until_underway(proc: subprocess.Popen, engine, before: int) -> None:
    """Until the command has stored something (the interpreter has started and the ingest is running;
    a Ctrl-C while Python itself starts is not the ingest's)."""
    deadline = time.monotonic() + 120
    while stored(engine) == before and proc.poll() is None:
        assert time.monotonic() < deadline, "nothing stored within 120 s"
        time.sleep(0.02)


def test_interrupted_at_random_moments_then_resumed(db, tmp_path):
    folder = tmp_path / "in"
    write_reports(folder, range(COUNT))
    engine = connect(db)
    rng = random.Random(11)
    interrupted = 0
    for _ in range(INTERRUPTS):
        before = stored(engine)
        if before == COUNT:
            break
        proc = start(folder, db)
        wait_until_underway(proc, engine, before)
        time.sleep(rng.uniform(0.0, 0.4))
        sent = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        took = time.monotonic() - sent
        assert took < 5, f"took {took:.1f}s to stop"
        assert "Traceback" not in out + err and "KeyboardInterrupt" not in err, err
        after = stored(engine)
        new = int(re.search(r"新入库报告 (\d+) 份", out).group(1))
        skipped = int(re.search(r"已在库中 (\d+) 份", out).group(1))
        assert new == after - before and skipped <= before, out  # the summary is true
        if proc.returncode == 130:
            interrupted += 1
            assert "已中断" in out
        else:
            # It had finished: the Ctrl-C came after the work, while the process was exiting.
            assert proc.returncode in (0, -signal.SIGINT) and after == COUNT
    assert interrupted >= INTERRUPTS // 2

    done = subprocess.run([sys.executable, "-m", "gongkai", "ingest", str(folder), "--db", db, "--workers", "2",
                           "--no-progress"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(documents)) == COUNT
        assert conn.scalar(select(func.count(func.distinct(documents.c.name)))) == COUNT
        assert conn.scalar(select(func.count()).select_from(reports)) == COUNT
        per_report = set(conn.scalars(select(func.count()).select_from(cells).group_by(cells.c.report_id)))
    assert per_report == {len(load_format("2021").keys)}  # no report half-written
    engine.dispose()


def test_a_second_ctrl_c_ends_at_once(tmp_path):
    folder = tmp_path / "in"
    write_reports(folder, range(COUNT))
    db = str(tmp_path / "gongkai.db")
    engine = connect(db)
    proc = start(folder, db)
    wait_until_underway(proc, engine, 0)
    os.killpg(proc.pid, signal.SIGINT)
    time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    sent = time.monotonic()
    proc.communicate(timeout=30)
    assert time.monotonic() - sent < 5
    assert proc.returncode in (130, -signal.SIGINT)
    engine.dispose()


def test_a_slow_commit_makes_the_writer_write_smaller_batches(tmp_path):
    """Ctrl-C waits for the commit under way and the last one: when the batches' hook is slow (many
    versions to compare), the writer commits fewer results at a time, so that each stays short."""
    commits: list[int] = []

    def slow_hook(conn, written):
        commits.append(len(written))
        time.sleep(0.02 * len(written))

    write_reports(tmp_path / "in", range(20))
    parsed = []
    for path in sorted((tmp_path / "in").iterdir()):
        data = path.read_bytes()
        parsed.append((Job(path.name, hashlib.sha256(data).hexdigest(), len(data), data), process(path.name, data)))
    summary = Summary()
    writer = Writer(connect(str(tmp_path / "gongkai.db")), summary, batch=10, interval=3600, after_write=slow_hook,
                    commit_seconds=0.1)  # commits by size only, not by the time between them
    for job, result in parsed:
        writer.add(job, result)
    writer.flush()
    assert summary.parsed == 20
    assert commits[0] == 10 and sum(commits) == 20 and max(commits[1:]) <= 5  # 0.1 s at ≥ 0.02 s a report
