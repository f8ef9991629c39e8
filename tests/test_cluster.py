"""Ingest on a Dask cluster (issue 17): a LocalCluster of 2 worker processes started here ingests a
folder of mixed reports (text, a zip member shipped as bytes, a PDF with a text layer, a two-page
scan split by page) into SQLite and PostgreSQL and stores exactly what a local ingest stores; a
worker killed mid-run loses nothing and stores nothing twice, and its Nanny starts it again; a
document that kills its worker twice is stored as failed, and the workers it killed come back."""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import time
import zipfile
from pathlib import Path

import cloudpickle
import pytest
from PIL import Image
from sqlalchemy import func, select

import store_helpers
from gongkai.render.pdf import render_pdfs, render_png
from gongkai.store import cluster
from gongkai.store.cluster import ingest_on_cluster, local_cluster, reparse_on_cluster
from gongkai.store.db import connect
from gongkai.store.ingest import WORKER_DIED, ingest
from gongkai.store.schema import cells, documents, findings, reports
from gongkai.synth import synth_report
from store_helpers import database, stored, write_reports

cloudpickle.register_pickle_by_value(store_helpers)  # the workers cannot import the tests' helpers


@pytest.fixture(scope="module")
def scheduler():
    """A LocalCluster of 2 worker processes: its scheduler's address."""
    local = local_cluster(2)
    yield local.scheduler_address
    local.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path) -> str:
    return database(request.param, tmp_path)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("mixed")
    write_reports(folder, range(4))
    with zipfile.ZipFile(folder / "archive.zip", "w") as z:  # a member: shipped to the workers as bytes
        z.writestr("zipped.txt", (folder / "report_00003.txt").read_text(encoding="utf-8").replace("2", "8"))
    text_pdf, scanned = render_pdfs([synth_report(21), synth_report(22)])
    (folder / "text.pdf").write_bytes(text_pdf)
    pages = [Image.open(io.BytesIO(render_png(scanned, n, dpi=150))).convert("RGB") for n in (1, 2)]
    pages[0].save(folder / "scan.pdf", "PDF", resolution=150, save_all=True, append_images=pages[1:])
    return folder


def contents_of(db: str) -> dict[str, tuple]:
    """Everything stored, by content hash, without ids and times."""
    engine = connect(db)
    out = {}
    with engine.connect() as conn:
        for doc in conn.execute(select(documents)):
            report = conn.execute(select(reports).where(reports.c.document_id == doc.id)).one_or_none()
            stored_cells = stored_findings = ()
            if report is not None:
                # Sorted by their text, compared as values (JSON objects from SQLite and PostgreSQL
                # keep their keys in different orders).
                stored_cells = sorted((tuple(r)[1:] for r in conn.execute(select(cells).where(cells.c.report_id == report.id))),
                                      key=repr)
                stored_findings = sorted((tuple(r)[2:] for r in conn.execute(
                    select(findings).where(findings.c.report_id == report.id))), key=lambda f: json.dumps(f, sort_keys=True))
                report = tuple(report)[2:]
            out[doc.sha256] = (doc.name, doc.kind, doc.status, doc.error, doc.parser_version, report,
                               stored_cells, stored_findings)
    engine.dispose()
    return out


@pytest.fixture(scope="module")
def local_result(mixed, tmp_path_factory) -> dict[str, tuple]:
    db = str(tmp_path_factory.mktemp("local") / "local.db")
    engine = connect(db)
    summary = ingest(engine, [mixed], workers=1)
    assert (summary.parsed, summary.failed) == (7, 0), summary.problems
    engine.dispose()
    return contents_of(db)


def restarted(client, workers: int, gone: set[int], seconds: float = 240) -> bool:
    """Whether the cluster is back to `workers` workers, none of them a process in `gone` (a worker
    takes 20–80 s to start on a loaded 2-core machine)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        # A worker just killed may still be listed: its answer is an error, and it is not counted.
        pids = {pid for pid in client.run(os.getpid, on_error="return").values() if isinstance(pid, int)}
        if len(pids) == workers and not pids & gone:
            return True
        time.sleep(0.5)
    return False


def test_a_cluster_stores_exactly_what_a_local_ingest_stores(scheduler, db, mixed, local_result):
    engine = connect(db)
    summary = ingest_on_cluster(engine, [mixed], scheduler)
    assert (summary.parsed, summary.failed, summary.unreadable) == (7, 0, 0), summary.problems
    assert summary.kinds["text"][0] == 5 and summary.kinds["pdf"][0] == 1 and summary.kinds["ocr"][0] == 1
    assert summary.dashboard and summary.dashboard.startswith("http")
    again = ingest_on_cluster(engine, [mixed], scheduler)  # a re-run skips what is stored
    assert (again.parsed, again.skipped) == (0, 7)
    engine.dispose()
    assert contents_of(db) == local_result


def test_reparse_on_the_cluster_replaces_reports_in_place(scheduler, tmp_path):
    db = str(tmp_path / "gongkai.db")
    write_reports(tmp_path / "in", range(6))
    engine = connect(db)
    ingest(engine, [tmp_path / "in"], workers=1)
    before = contents_of(db)
    summary = reparse_on_cluster(engine, scheduler, everything=True)
    assert (summary.parsed, summary.failed) == (6, 0)
    engine.dispose()
    assert contents_of(db) == before


def test_a_worker_killed_mid_run_loses_nothing_and_stores_nothing_twice(scheduler, db, tmp_path, monkeypatch):
    from distributed import Client

    monkeypatch.setattr(cluster, "BATCH_DOCUMENTS", 3)  # many small tasks: some in flight when the worker dies
    count = 60
    write_reports(tmp_path / "in", range(count))
    engine = connect(db)
    outcome = {}
    run = threading.Thread(target=lambda: outcome.update(summary=ingest_on_cluster(engine, [tmp_path / "in"], scheduler)))
    run.start()
    with Client(scheduler) as client:
        deadline = time.monotonic() + 120
        while not stored(engine):
            assert time.monotonic() < deadline and run.is_alive()
            time.sleep(0.05)
        pid = next(iter(client.run(os.getpid).values()))
        os.kill(pid, signal.SIGKILL)
        run.join(timeout=300)
        assert restarted(client, 2, {pid})
    summary = outcome["summary"]
    assert (summary.parsed, summary.failed, summary.duplicates) == (count, 0, 0), summary.problems
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(documents)) == count
        assert conn.scalar(select(func.count(func.distinct(documents.c.name)))) == count
        assert conn.scalar(select(func.count()).select_from(reports)) == count
    engine.dispose()


def test_a_document_that_kills_its_worker_twice_is_stored_as_failed(scheduler, tmp_path):
    from distributed import Client

    folder = tmp_path / "in"
    write_reports(folder, range(3))
    (folder / "crash.txt").write_text((folder / "report_00000.txt").read_text(encoding="utf-8") + "\n")
    engine = connect(tmp_path / "gongkai.db")
    with Client(scheduler) as client:
        before = set(client.run(os.getpid).values())
        # crash.txt kills the worker of its batch, then, run alone, the other one: both workers are
        # gone, and the three reports left are parsed once the Nannies have started them again.
        summary = ingest_on_cluster(engine, [folder], scheduler, task=store_helpers.cluster_crashing_items)
        assert restarted(client, 2, set())
        assert set(client.run(os.getpid).values()) != before
    assert (summary.parsed, summary.failed) == (3, 1)
    with engine.connect() as conn:
        row = conn.execute(select(documents.c.name, documents.c.error).where(documents.c.status == "failed")).one()
    assert row.name.endswith("crash.txt") and row.error == WORKER_DIED
    engine.dispose()
