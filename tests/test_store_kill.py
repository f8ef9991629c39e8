"""An ingest killed midway (Ctrl-C or SIGKILL) and run again stores every report exactly once."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from gongkai.formats import load_format
from gongkai.store.db import connect
from gongkai.store.schema import cells, documents, reports
from store_helpers import database, write_reports

COUNT = 240  # enough that the first batches are committed well before the end


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path) -> str:
    return database(request.param, tmp_path)


def stored(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(documents))


def ingest_command(folder, db: str) -> list[str]:
    return [sys.executable, "-m", "gongkai", "ingest", str(folder), "--db", db, "--workers", "2", "--no-progress"]


def session_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("how", ["SIGINT", "SIGKILL"])
def test_killed_ingest_resumes_without_duplicates(db, tmp_path, how):
    folder = tmp_path / "in"
    write_reports(folder, range(COUNT))
    engine = connect(db)
    # Its own session: Ctrl-C goes to the whole process group (workers too), as in a terminal.
    proc = subprocess.Popen(ingest_command(folder, db), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while stored(engine) < 20:
        assert proc.poll() is None, f"ingest ended before it could be interrupted: {proc.communicate()}"
        assert time.monotonic() < deadline, "no report stored within 120 s"
        time.sleep(0.02)
    if how == "SIGINT":
        os.killpg(proc.pid, signal.SIGINT)
    else:
        os.kill(proc.pid, signal.SIGKILL)  # the writer only: its workers are left to notice alone
    out, _ = proc.communicate(timeout=60)
    before = stored(engine)
    assert 20 <= before < COUNT, "the ingest was not interrupted midway"
    if how == "SIGINT":
        assert proc.returncode == 130
        assert "已中断" in out and f"新入库报告 {before} 份" in out
    else:
        assert proc.returncode == -signal.SIGKILL
    # No parsing process outlives the ingest that started it.
    deadline = time.monotonic() + 30
    while session_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    leftover = session_alive(proc.pid)
    if leftover:
        os.killpg(proc.pid, signal.SIGKILL)
    assert not leftover, "worker processes were left running"

    again = subprocess.run(ingest_command(folder, db), capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert re.search(rf"新入库报告 {COUNT - before} 份.*已在库中 {before} 份", again.stdout), again.stdout
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(documents)) == COUNT
        assert conn.scalar(select(func.count(func.distinct(documents.c.name)))) == COUNT
        assert conn.scalar(select(func.count()).select_from(reports)) == COUNT
        per_report = set(conn.scalars(select(func.count()).select_from(cells).group_by(cells.c.report_id)))
    assert per_report == {len(load_format("2021").keys)}  # no report half-written
    engine.dispose()


def test_two_ingests_at_once_store_each_report_once(db, tmp_path):
    folder = tmp_path / "in"
    write_reports(folder, range(60))
    command = [sys.executable, "-m", "gongkai", "ingest", str(folder), "--db", db, "--workers", "1", "--no-progress"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outs
    # Between them they stored each report once; each counted the other's as already stored.
    new = [int(re.search(r"新入库报告 (\d+) 份", out).group(1)) for out, _ in outs]
    skipped = [int(re.search(r"已在库中 (\d+) 份", out).group(1)) for out, _ in outs]
    assert sum(new) == 60 and [n + s for n, s in zip(new, skipped, strict=True)] == [60, 60]
    engine = connect(db)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(documents)) == 60
        assert conn.scalar(select(func.count()).select_from(reports)) == 60
        assert conn.scalar(select(func.count()).select_from(cells)) == 60 * len(load_format("2021").keys)
    engine.dispose()
