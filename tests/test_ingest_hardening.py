"""Ingest against hostile input (issue 11): a figure the database cannot hold, links out of the
tree, special files, zip members named `..`, a nested-zip bomb, a document past its time budget,
a database that cannot be written. Each bad file is recorded with its reason and limit; the good
ones are stored once; nothing from outside the folder is read."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import event, func, select, text

from gongkai.render.markdown import render_markdown
from gongkai.store.db import StoreError, connect
from gongkai.store.ingest import Job, Summary, Writer, ingest, list_sources
from gongkai.store.schema import cells, contents, documents, reports
from gongkai.store.worker import process
from gongkai.synth import synth_report
from store_helpers import database, write_reports

GOOD = 6


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path) -> str:
    return database(request.param, tmp_path)


def oversized_report(folder: Path) -> Path:
    """A report whose one figure has 20 digits (≥ 2⁶³): the reader leaves it null with a note (a
    figure no report prints), so the report is stored and no batch ever meets the number."""
    report = synth_report(99)
    key = next(k for k, c in report.cells.items() if c.value)
    report.cells[key].value = 12345678901234567890
    path = folder / "oversized.txt"
    path.write_text(render_markdown(report, tables="tabs"), encoding="utf-8")
    return path


def blank_scan(path: Path, pages: int = 300) -> Path:
    """A 300-page scan of blank pages: a picture on every page, nothing to read in it."""
    page = Image.new("1", (600, 800), 1)
    page.save(path, "PDF", save_all=True, append_images=[page] * (pages - 1))
    return path


def nested_zip_bomb(path: Path) -> Path:
    """Zips of 20 MB members of one byte repeated, zipped again: 1.3 MB that unpacks to 1.3 GB."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(8):
            z.writestr(f"z{i}.txt", b"0" * (20 << 20))
    with zipfile.ZipFile(path, "w") as z:
        for i in range(8):
            z.writestr(f"inner{i}.zip", inner.getvalue())
    return path


def hostile_folder(tmp_path: Path) -> tuple[Path, bytes]:
    """Good reports plus one of each bad kind; returns the folder and the outside file's bytes."""
    folder = tmp_path / "in"
    write_reports(folder, range(GOOD))
    oversized_report(folder)
    secret = tmp_path / "secret.txt"
    secret.write_text((folder / "report_00000.txt").read_text(encoding="utf-8").replace("2", "7"), encoding="utf-8")
    (folder / "link.txt").symlink_to(secret)
    os.mkfifo(folder / "pipe.txt")
    nested_zip_bomb(folder / "bomb.zip")
    blank_scan(folder / "blank.pdf")  # over the pages a scan may have (GONGKAI_MAX_OCR_PAGES)
    blank_scan(folder / "slow.pdf", pages=40)  # within it, but past the document's time budget
    return folder, secret.read_bytes()


def test_hostile_folder_stores_every_good_report_once_and_each_bad_one_with_its_reason(db, tmp_path):
    folder, secret = hostile_folder(tmp_path)
    env = {**os.environ, "GONGKAI_DOC_SECONDS": "5"}
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "gongkai", "ingest", str(folder), "--db", db, "--workers", "2",
                           "--no-progress"], capture_output=True, text=True, env=env, timeout=300)
    assert time.monotonic() - start < 120
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    problems = {line.split(": ", 2)[1].split("/")[-1]: line.split(": ", 2)[2] for line in done.stderr.splitlines()}
    assert "符号链接" in problems["link.txt"]
    assert "不是普通文件" in problems["pipe.txt"]
    assert "压缩比超过 100 倍" in problems["bomb.zip"]
    assert "GONGKAI_MAX_OCR_PAGES" in problems["blank.pdf"]
    assert "GONGKAI_DOC_SECONDS=5" in problems["slow.pdf"]
    assert "oversized.txt" not in problems
    assert f"新入库报告 {GOOD + 1} 份" in done.stdout and "解析失败 2 份" in done.stdout and "拒绝 3 个" in done.stdout

    engine = connect(db)
    with engine.connect() as conn:
        rows = {Path(r.name).name: r for r in conn.execute(select(documents))}
        assert conn.scalar(select(func.count()).select_from(reports)) == GOOD + 1
        huge = conn.execute(select(cells.c.value, cells.c.note).where(cells.c.raw.contains("12345678901234567890"))).one()
        assert huge.value is None and huge.note  # stated, but not a figure the corpus can hold: null, and why
        stored = [zlib_bytes(conn, r.id) for r in rows.values()]
    assert sorted(rows) == sorted([f"report_{i:05d}.txt" for i in range(GOOD)] + ["oversized.txt", "blank.pdf", "slow.pdf"])
    assert rows["oversized.txt"].status == "parsed" and rows["blank.pdf"].status == rows["slow.pdf"].status == "failed"
    assert "GONGKAI_DOC_SECONDS" in rows["slow.pdf"].error
    assert secret not in stored  # no byte from outside the folder

    again = subprocess.run([sys.executable, "-m", "gongkai", "ingest", str(folder), "--db", db, "--workers", "2",
                            "--no-progress"], capture_output=True, text=True, env=env, timeout=300)
    assert "新入库报告 0 份" in again.stdout and f"已在库中 {GOOD + 3} 份" in again.stdout
    engine.dispose()


def padded_report(path: Path, megabytes: int) -> Path:
    """A text report whose last section runs on for megabytes of prose: within the file size limit,
    and costing its worker several times its size to read and parse."""
    text = render_markdown(synth_report(98), tables="tabs")
    paragraph = "本机关依法做好政府信息公开工作，进一步规范办理流程，提高答复质量。\n\n"
    path.write_text(text + paragraph * (megabytes * 2**20 // len(paragraph.encode())), encoding="utf-8")
    return path


def test_a_document_past_its_memory_budget_fails_alone_with_the_limit_named(tmp_path):
    folder = tmp_path / "in"
    write_reports(folder, range(GOOD))
    large = padded_report(folder / "large.txt", 20)
    db = str(tmp_path / "gongkai.db")
    env = {**os.environ, "GONGKAI_DOC_MEMORY_MB": "24"}  # a report adds a few MB; this one adds ~70
    done = subprocess.run([sys.executable, "-m", "gongkai", "ingest", str(folder), "--db", db, "--workers", "2",
                           "--no-progress"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    (line,) = done.stderr.splitlines()  # one line, naming the file and the limit
    assert str(large) in line and "内存超限" in line and "GONGKAI_DOC_MEMORY_MB=24" in line
    assert f"新入库报告 {GOOD} 份" in done.stdout and "解析失败 1 份" in done.stdout

    engine = connect(db)
    with engine.connect() as conn:
        rows = {Path(r.name).name: r for r in conn.execute(select(documents))}
        assert conn.scalar(select(func.count()).select_from(reports)) == GOOD
    engine.dispose()
    assert sorted(rows) == sorted([f"report_{i:05d}.txt" for i in range(GOOD)] + ["large.txt"])
    assert rows["large.txt"].status == "failed" and "GONGKAI_DOC_MEMORY_MB=24" in rows["large.txt"].error
    assert all(r.status == "parsed" for name, r in rows.items() if name != "large.txt")


def zlib_bytes(conn, document_id: int) -> bytes:
    import zlib

    return zlib.decompress(conn.scalar(select(contents.c.data).where(contents.c.document_id == document_id)))


def test_links_are_not_followed_by_default_and_never_out_of_the_tree(tmp_path):
    folder = tmp_path / "in"
    write_reports(folder, range(2))
    (folder / "sub").mkdir()
    (folder / "inside.txt").symlink_to(folder / "report_00000.txt")
    (folder / "outside.txt").symlink_to(tmp_path)
    (folder / "up").symlink_to(tmp_path)  # a folder link: never walked
    refused = {Path(s.name).name: s.refused for s in list_sources([folder])}
    assert refused["report_00001.txt"] is None
    assert all("符号链接" in refused[name] for name in ("inside.txt", "outside.txt", "up"))
    followed = {Path(s.name).name: s for s in list_sources([folder], follow_links=True)}
    assert followed["inside.txt"].refused is None and followed["inside.txt"].path == folder / "report_00000.txt"
    assert "之外" in followed["outside.txt"].refused and "之外" in followed["up"].refused


def test_special_files_named_directly_are_skipped_with_a_reason(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    sources = list_sources([fifo, "/dev/zero"])
    assert all("不是普通文件" in s.refused for s in sources)


def test_zip_members_named_with_dotdot_are_reported(db, tmp_path):
    report = write_reports(tmp_path / "src", [3])
    archive = tmp_path / "in.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(tmp_path / "src" / next(iter(report)), "ok.txt")
        z.writestr("../../escape.txt", "x")
    engine = connect(db)
    problems: list[tuple[str, str]] = []
    summary = ingest(engine, [archive], workers=1, on_problem=lambda n, m: problems.append((n, m)))
    assert (summary.parsed, summary.refused) == (1, 1)
    assert problems == [(f"{archive}/../../escape.txt",
                         "压缩包成员名指向包外（含 .. 或绝对路径），已拒绝 (member name escapes the archive)")]
    engine.dispose()


def test_a_value_the_database_refuses_costs_only_its_own_document(db, tmp_path):
    """The worker refuses figures past 2^53; whatever else the database refuses (here a figure past
    the double range, as a result from an older worker could hold) is stored as that file's failure."""
    engine = connect(db)
    summary = Summary()
    writer = Writer(engine, summary, batch=100)
    folder = tmp_path / "in"
    write_reports(folder, range(3))
    for i, path in enumerate(sorted(folder.iterdir())):
        data = path.read_bytes()
        result = process(path.name, data)
        if i == 1:
            result["cells"][0] = (result["cells"][0][0], 10**400, *result["cells"][0][2:])
        writer.add(Job(path.name, f"{i:064d}", len(data), data), result)
    writer.flush()
    assert (summary.parsed, summary.failed) == (2, 1)
    with engine.connect() as conn:
        failed = conn.execute(select(documents.c.name, documents.c.error).where(documents.c.status == "failed")).one()
    assert failed.name == "report_00001.txt" and "数据库拒绝" in failed.error
    engine.dispose()


def test_a_full_disk_is_a_store_error_not_a_traceback(tmp_path):
    engine = connect(tmp_path / "full.db")

    @event.listens_for(engine, "connect")
    def tiny(dbapi_connection, _record):  # the database may not grow: what a full disk looks like to SQLite
        dbapi_connection.execute("PRAGMA max_page_count = 1")

    engine.dispose()
    folder = tmp_path / "in"
    write_reports(folder, range(3))
    with pytest.raises(StoreError, match="无法写入数据库"):
        ingest(engine, [folder], workers=1)
    engine.dispose()


def test_a_read_only_database_is_a_one_line_error(tmp_path):
    url = database("postgresql", tmp_path)
    engine = connect(url)
    with engine.begin() as conn:
        conn.execute(text(f"ALTER DATABASE {engine.url.database} SET default_transaction_read_only = on"))
    engine.dispose()
    folder = tmp_path / "in"
    write_reports(folder, range(2))
    done = subprocess.run([sys.executable, "-m", "gongkai", "ingest", str(folder), "--db", url, "--workers", "1",
                           "--no-progress"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("gongkai:")]
    assert len(errors) == 1 and "无法写入数据库" in errors[0] and "read-only" in errors[0]
