"""The corpus: ingest into SQLite and PostgreSQL, query, compare, export, the Python API."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

import gongkai
from gongkai.cli import app
from gongkai.formats import load_format
from gongkai.parse import parse_file
from gongkai.render.markdown import render_markdown
from gongkai.store.db import StoreError, connect
from gongkai.store.export import ExportFormat, findings_path
from gongkai.store.ingest import ingest, reparse
from gongkai.store.query import Filters, list_reports, resolve, stats
from gongkai.store.region import derive_region
from gongkai.store.schema import SCHEMA_HEADS, cells, documents, findings, metadata, reports
from gongkai.synth import synth_report
from store_helpers import database, write_reports

runner = CliRunner()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path) -> str:
    return database(request.param, tmp_path)


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(table))


def cli(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def named(seed: int, agency: str, year: int, **changes: int | None):
    """A synthetic report of one agency and year, with some cells changed (None: left blank)."""
    report = synth_report(seed, year=year)
    report.agency = agency
    report.title = f"{agency}{year}年政府信息公开工作年度报告"
    for key, value in changes.items():
        key = key.replace("__", ".")
        report.cells[key].value = value
        report.cells[key].raw = "" if value is None else str(value)
    return report


def write(folder: Path, name: str, report) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(render_markdown(report, tables="tabs"), encoding="utf-8")
    return path


# ---- schema --------------------------------------------------------------------------------


def test_migrations_create_exactly_the_schema(db):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from gongkai.store.db import MIGRATIONS

    engine = connect(db)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        revisions = set(MigrationContext.configure(conn).get_current_heads())
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert set(ScriptDirectory.from_config(cfg).get_heads()) == SCHEMA_HEADS == revisions
    assert diff == []
    engine.dispose()


# ---- ingest --------------------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 2])
def test_every_cell_is_stored_with_its_text_and_provenance(db, tmp_path, workers):
    files = write_reports(tmp_path / "in", range(5))
    engine = connect(db)
    summary = ingest(engine, [tmp_path / "in"], workers=workers)
    assert (summary.parsed, summary.failed, summary.interrupted) == (5, 0, False)
    corpus = gongkai.load(db)
    for name, seed in files.items():
        expected = parse_file(str(tmp_path / "in" / name))
        stored = corpus.report(name)
        assert stored.agency == synth_report(seed).agency and stored.year == synth_report(seed).year
        assert stored.values() == synth_report(seed).values()
        assert all(type(stored.value(k)) is type(v) for k, v in expected.values().items())  # 12 stays int, 3.5 float
        for key, cell in expected.cells.items():
            got = stored.cells[key]
            assert (got.raw, got.provenance, got.confidence, got.note) == (cell.raw, cell.provenance, cell.confidence, cell.note)
        assert [s.text for s in stored.sections] == [s.text for s in expected.sections]
        assert stored.tables == expected.tables
    corpus.close()
    engine.dispose()


def test_a_blank_cell_is_stored_as_null_not_zero(db, tmp_path):
    report = named(1, "东湖县人民政府", 2023, applications__new__research_institution=None, appeals__review__upheld=0)
    write(tmp_path, "blank.txt", report)
    engine = connect(db)
    ingest(engine, [tmp_path], workers=1)
    with engine.connect() as conn:
        values = dict(conn.execute(select(cells.c.key, cells.c.value)).all())
    assert values["applications.new.research_institution"] is None
    assert values["appeals.review.upheld"] == 0
    frame = gongkai.load(db).reports()
    assert pd.isna(frame.loc[0, "applications.new.research_institution"])
    assert frame.loc[0, "appeals.review.upheld"] == 0
    assert str(frame["appeals.review.upheld"].dtype) == "Int64"
    engine.dispose()


def test_the_same_bytes_are_stored_once(db, tmp_path):
    write_reports(tmp_path / "a", range(3))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "copy.txt").write_bytes((tmp_path / "a" / "report_00000.txt").read_bytes())
    engine = connect(db)
    first = ingest(engine, [tmp_path / "a", tmp_path / "b"], workers=1)
    assert (first.parsed, first.duplicates) == (3, 1)
    again = ingest(engine, [tmp_path], workers=1)
    assert (again.parsed, again.skipped, again.failed) == (0, 4, 0)
    assert count(engine, documents) == count(engine, reports) == 3
    assert count(engine, cells) == 3 * len(load_format("2021").keys)
    engine.dispose()


def test_a_broken_file_is_recorded_once_and_the_batch_goes_on(db, tmp_path):
    write_reports(tmp_path, range(3))
    (tmp_path / "notes.txt").write_text("会议纪要：无统计表格。", encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    engine = connect(db)
    problems = []
    summary = ingest(engine, [tmp_path, tmp_path / "missing.txt"], workers=2,
                     on_problem=lambda name, problem: problems.append((Path(name).name, problem)))
    assert (summary.parsed, summary.failed, summary.unreadable) == (3, 2, 1)
    names = dict(problems)
    assert "未找到年度报告的统计表格" in names["notes.txt"]
    assert "文件为空" in names["empty.txt"]
    assert "无法读取" in names["missing.txt"]
    with engine.connect() as conn:
        failed = dict(conn.execute(select(documents.c.name, documents.c.error).where(documents.c.status == "failed")).all())
    assert {Path(n).name for n in failed} == {"notes.txt", "empty.txt"}
    again = ingest(engine, [tmp_path], workers=1)
    assert (again.parsed, again.failed, again.skipped) == (0, 0, 5)  # failures are not retried by ingest
    assert count(engine, documents) == 5
    engine.dispose()
    listed = [json.loads(line) for line in cli("list", "--failed", "--json", "--db", db).stdout.splitlines()]
    assert sorted((Path(r["file"]).name, "文件为空" in r["error"]) for r in listed) == [("empty.txt", True), ("notes.txt", False)]
    retried = cli("reparse", "--failed", "--workers", "1", "--db", db)
    assert "重新解析完成" in retried.stdout and "解析失败 2 份" in retried.stdout


def test_a_worker_that_dies_costs_only_its_own_file(db, tmp_path):
    from gongkai.store.ingest import Summary, ingest_jobs, list_sources, run
    from store_helpers import crashing_task

    folder = tmp_path / "in"
    write_reports(folder, range(6))
    (folder / "crash.txt").write_bytes((folder / "report_00000.txt").read_bytes() + b"\n")
    engine = connect(db)
    summary = Summary()
    run(engine, ingest_jobs(list_sources([folder]), set(), summary), workers=2, summary=summary, task=crashing_task)
    assert (summary.parsed, summary.failed) == (6, 1)
    with engine.connect() as conn:
        failed = conn.execute(select(documents.c.name, documents.c.error).where(documents.c.status == "failed")).one()
    assert Path(failed.name).name == "crash.txt" and "异常退出" in failed.error
    engine.dispose()


def test_cli_ingest_exit_code_and_summary(db, tmp_path):
    write_reports(tmp_path, range(2))
    (tmp_path / "bad.txt").write_text("不是年度报告", encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(tmp_path), "--db", db, "--workers", "1"])
    assert result.exit_code == 1  # some failed
    assert "新入库报告 2 份" in result.stdout and "解析失败 1 份" in result.stdout
    assert "bad.txt" in result.stderr and "未找到年度报告的统计表格" in result.stderr
    result = runner.invoke(app, ["ingest", str(tmp_path), "--db", db, "--workers", "1"])
    assert result.exit_code == 0 and "已在库中 3 份" in result.stdout


def test_zip_archives_and_folders(db, tmp_path):
    texts = [render_markdown(synth_report(seed), tables="tabs").encode() for seed in range(4)]
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("deep/r3.txt", texts[3])
    archive = tmp_path / "in" / "batch.zip"
    archive.parent.mkdir()
    gbk = "报告一.txt".encode("gbk")
    placeholder = b"X" * (len(gbk) - 4) + b".txt"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(placeholder.decode(), texts[0])
        z.writestr("sub/r1.txt", texts[1])
        z.writestr("__MACOSX/._r1.txt", b"resource fork")
        z.write(inner, "inner.zip")
    # A name as Chinese Windows writes it: GBK bytes without the UTF-8 flag (zipfile cannot write one).
    archive.write_bytes(archive.read_bytes().replace(placeholder, gbk))
    (tmp_path / "in" / "nested" / "deeper").mkdir(parents=True)
    (tmp_path / "in" / "nested" / "deeper" / "r2.txt").write_bytes(texts[2])
    (tmp_path / "in" / ".hidden.txt").write_bytes(b"ignored")
    engine = connect(db)
    summary = ingest(engine, [tmp_path / "in"], workers=1)
    assert (summary.parsed, summary.failed) == (4, 0)
    with engine.connect() as conn:
        names = sorted(Path(n).relative_to(tmp_path / "in").as_posix() for n in conn.scalars(select(documents.c.name)))
    assert names == ["batch.zip/inner.zip/deep/r3.txt", "batch.zip/sub/r1.txt", "batch.zip/报告一.txt", "nested/deeper/r2.txt"]
    engine.dispose()


def test_reparse_replaces_reports_of_an_older_parser(db, tmp_path, monkeypatch):
    import gongkai.parse

    write_reports(tmp_path, range(3))
    (tmp_path / "bad.txt").write_text("不是年度报告", encoding="utf-8")
    engine = connect(db)
    ingest(engine, [tmp_path], workers=1)
    assert reparse(engine, workers=1).parsed == 0  # nothing is stale
    monkeypatch.setattr(gongkai.parse, "PARSER_VERSION", "test-next")
    summary = reparse(engine, workers=1)
    assert (summary.parsed, summary.failed) == (3, 1)
    with engine.connect() as conn:
        assert set(conn.scalars(select(reports.c.parser_version))) == {"test-next"}
        assert set(conn.scalars(select(documents.c.parser_version))) == {"test-next"}
    assert count(engine, documents) == 4 and count(engine, reports) == 3
    assert count(engine, cells) == 3 * len(load_format("2021").keys)
    assert reparse(engine, workers=1).parsed == 0
    assert reparse(engine, workers=1, everything=True).parsed == 3
    assert count(engine, reports) == 3
    engine.dispose()


def test_real_seed_reports(db, shared, tmp_path):
    seeds = sorted((shared / "seeds").glob("*.txt"))
    engine = connect(db)
    summary = ingest(engine, [shared / "seeds"], workers=2)
    assert (summary.parsed, summary.failed) == (len(seeds), 0)
    with engine.connect() as conn:
        for path in seeds:
            expected = parse_file(str(path))
            stored = gongkai.load(db).report(path.name)
            assert stored.values() == expected.values()
            assert stored.agency == expected.agency and stored.year == expected.year
            row = conn.execute(select(reports.c.province_code, reports.c.city).where(reports.c.id == resolve(conn, path.name))).one()
            assert tuple(row) == derive_region(expected.agency)[::2]
    engine.dispose()


# ---- query ---------------------------------------------------------------------------------


@pytest.fixture
def corpus(db, tmp_path) -> str:
    """Two years of one agency (the later one's carry-over does not match), two other agencies."""
    folder = tmp_path / "corpus"
    a23 = named(10, "河南省南阳市西峡县人民政府", 2023)
    carried = a23.value("applications.carried_forward.natural_person")
    write(folder, "xixia-2023.txt", a23)
    write(folder, "xixia-2024.txt", named(11, "河南省南阳市西峡县人民政府", 2024,
                                          applications__carried_over__natural_person=carried + 5))
    bad = named(12, "北京市朝阳区人民政府", 2024)
    bad.cells["appeals.review.total"].value += 1
    bad.cells["appeals.review.total"].raw = str(bad.cells["appeals.review.total"].value)
    write(folder, "chaoyang-2024.txt", bad)
    write(folder, "dongshan-2023.txt", named(13, "东湖县人民政府", 2023))  # no such county: region unknown
    engine = connect(db)
    assert ingest(engine, [folder], workers=1).parsed == 4
    engine.dispose()
    return db


def test_list_filters(corpus):
    engine = connect(corpus)
    with engine.connect() as conn:
        def agencies(**kw) -> list[tuple[str, int]]:
            return [(r.agency, r.year) for r in list_reports(conn, Filters(**kw))]

        assert len(agencies()) == 4
        assert agencies(agency="西峡") == [("河南省南阳市西峡县人民政府", 2023), ("河南省南阳市西峡县人民政府", 2024)]
        assert sorted(agencies(year=2023)) == [("东湖县人民政府", 2023), ("河南省南阳市西峡县人民政府", 2023)]
        assert len(agencies(region="41")) == len(agencies(region="河南")) == len(agencies(region="河南省")) == 2
        assert len(agencies(region="南阳市")) == 2
        assert agencies(region="北京") == [("北京市朝阳区人民政府", 2024)]
        with_errors = agencies(has_errors=True)
        assert ("北京市朝阳区人民政府", 2024) in with_errors
        assert ("东湖县人民政府", 2023) not in with_errors
        assert len(agencies(has_errors=False)) == 4 - len(with_errors)
    engine.dispose()
    result = cli("list", "--db", corpus, "--region", "河南", "--json")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["agency"], r["year"], r["province_code"], r["city"]) for r in rows] == [
        ("河南省南阳市西峡县人民政府", 2023, "41", "南阳市"), ("河南省南阳市西峡县人民政府", 2024, "41", "南阳市")]
    table = cli("list", "--db", corpus)
    assert "报告 4 份" in table.stdout and "西峡县" in table.stdout


def test_show(corpus):
    result = cli("show", "xixia-2023.txt", "--db", corpus, "--json")
    data = json.loads(result.stdout)
    assert (data["agency"], data["year"], data["province"], data["city"]) == ("河南省南阳市西峡县人民政府", 2023, "河南", "南阳市")
    assert data["applications"]["new"]["total"] == named(10, "x", 2023).value("applications.new.total")
    by_id = cli("show", str(data["id"]), "--db", corpus, "--json")
    by_hash = cli("show", data["sha256"][:10], "--db", corpus, "--json")
    by_agency = cli("show", "河南省南阳市西峡县人民政府@2023", "--db", corpus, "--json")
    assert json.loads(by_id.stdout) == json.loads(by_hash.stdout) == json.loads(by_agency.stdout) == data
    text = cli("show", "chaoyang-2024.txt", "--db", corpus).stdout
    assert "北京市朝阳区人民政府" in text and "表三" in text
    missing = runner.invoke(app, ["show", "nowhere.txt", "--db", corpus])
    assert missing.exit_code == 1 and "nowhere.txt" in missing.stderr and "没有这份报告" in missing.stderr


def test_compare_two_years_runs_the_cross_year_rules(corpus):
    pytest.importorskip("gongkai.check")
    result = cli("compare", "河南省南阳市西峡县人民政府@2023", "河南省南阳市西峡县人民政府@2024", "--db", corpus, "--json")
    data = json.loads(result.stdout)
    a, b = named(10, "x", 2023), named(11, "x", 2024)
    changed = {c["key"]: (c["a"], c["b"]) for c in data["changes"]}
    assert changed == {k: (a.value(k), b.value(k)) for k in a.cells if a.value(k) != b.value(k)} | {
        "applications.carried_over.natural_person": (a.value("applications.carried_over.natural_person"),
                                                     a.value("applications.carried_forward.natural_person") + 5)}
    rules = [(f["rule"], f["cells"]) for f in data["cross_year"]]
    assert ("X-carry-over", ["applications.carried_over.natural_person", "prev:applications.carried_forward.natural_person"]) in rules \
        or any(rule == "X-carry-over" and "applications.carried_over.natural_person" in cells for rule, cells in rules)
    assert all(f["rule"].startswith("X") for f in data["cross_year"])
    text = cli("compare", "xixia-2023.txt", "xixia-2024.txt", "--db", corpus).stdout
    assert "跨年度规则" in text and "X-carry-over" in text


def test_compare_two_agencies(corpus):
    result = cli("compare", "xixia-2023.txt", "dongshan-2023.txt", "--db", corpus, "--json")
    data = json.loads(result.stdout)
    assert data["cross_year"] is None and "不是同一单位" in data["note"]
    assert data["changes"] and all(c["a"] != c["b"] for c in data["changes"])
    assert len(data["changes"]) + data["same"] == len(load_format("2021").keys)


def test_stats_by_year_and_region(corpus):
    reports_by_year = {2023: [named(10, "x", 2023), named(13, "x", 2023)], 2024: [named(11, "x", 2024), named(12, "x", 2024)]}
    engine = connect(corpus)
    with engine.connect() as conn:
        rows = {row["year"]: row for row in stats(conn, ("year",))}
        by_region = {row["region"]: row["reports"] for row in stats(conn, ("region",))}
    engine.dispose()
    for year, group in reports_by_year.items():
        row = rows[year]
        v = [r.values() for r in group]
        assert row["reports"] == 2
        assert row["applications"] == sum(x["applications.new.total"] for x in v)
        processed = sum(x["applications.total_processed.total"] for x in v)
        granted = sum(x["applications.granted.total"] + x["applications.partially_granted.total"] for x in v)
        assert row["disclosure_rate"] == pytest.approx(granted / processed)
        unable = sum(x[k] for x in v for k in x if k.startswith("applications.unable.") and k.endswith(".total"))
        assert row["unable_share"] == pytest.approx(unable / processed)
        litigation = ("litigation_direct", "litigation_after_review")
        corrected = sum(x[f"appeals.{r}.corrected"] for x in v for r in litigation)
        concluded = sum(x[f"appeals.{r}.total"] - x[f"appeals.{r}.pending"] for x in v for r in litigation)
        assert row["litigation_correction_rate"] == (pytest.approx(corrected / concluded) if concluded else None)
    assert by_region == {"河南": 2, "北京": 1, None: 1}
    text = cli("stats", "--db", corpus, "--by", "year,region").stdout
    assert "公开率" in text and "河南" in text and "（不详）" in text


def test_stats_leave_out_reports_that_do_not_state_a_figure(db, tmp_path):
    write(tmp_path, "a.txt", named(20, "甲县人民政府", 2024, appeals__review__corrected=None))
    write(tmp_path, "b.txt", named(21, "乙县人民政府", 2024, appeals__review__corrected=1, appeals__review__total=4))
    engine = connect(db)
    ingest(engine, [tmp_path], workers=1)
    with engine.connect() as conn:
        (row,) = stats(conn, ("year",))
    engine.dispose()
    # Report a does not state 结果纠正: it drops out of the ratio instead of counting as 0 corrected.
    b = named(21, "x", 2024, appeals__review__corrected=1, appeals__review__total=4)
    assert row["review_correction_rate"] == pytest.approx(1 / (4 - b.value("appeals.review.pending")))
    assert row["reports"] == 2


# ---- export and the Python API ------------------------------------------------------------


@pytest.mark.parametrize("to", list(ExportFormat))
def test_export_reads_back_with_pandas(corpus, tmp_path, to):
    fmt = load_format("2021")
    out = tmp_path / f"out.{to.value}"
    result = cli("export", "--to", to.value, "--out", str(out), "--db", corpus)
    assert str(out) in result.stdout
    zh = tmp_path / f"zh.{to.value}"
    cli("export", "--to", to.value, "--out", str(zh), "--headers", "zh", "--db", corpus)
    if to is ExportFormat.xlsx:
        frame, found = (pd.read_excel(out, sheet_name=s) for s in ("reports", "findings"))
        frame_zh, found_zh = (pd.read_excel(zh, sheet_name=s) for s in ("报告", "核查结果"))
    elif to is ExportFormat.csv:
        frame, found, frame_zh, found_zh = (pd.read_csv(p) for p in (out, findings_path(out), zh, findings_path(zh)))
    else:
        frame, found, frame_zh, found_zh = (pd.read_parquet(p) for p in (out, findings_path(out), zh, findings_path(zh)))
    assert len(frame) == len(frame_zh) == 4
    assert set(fmt.keys) <= set(frame.columns)
    row = frame.set_index("document").loc[next(d for d in frame["document"] if d.endswith("xixia-2023.txt"))]
    expected = named(10, "x", 2023)
    assert all(row[k] == expected.value(k) for k in fmt.keys)
    assert frame_zh.columns.tolist()[:3] == ["报告编号", "单位", "年度"]
    assert fmt.all_cells["applications.new.total"].label in frame_zh.columns
    assert "北京市朝阳区人民政府" in set(found["agency"]) and "A4-total" in set(found["rule"])
    assert "规则" in found_zh.columns


def test_python_api(corpus):
    corpus_ = gongkai.load(corpus)
    frame = corpus_.reports()
    assert isinstance(frame, pd.DataFrame) and len(frame) == 4
    assert frame["applications.new.total"].dtype == "Int64"
    assert frame["proactive.fees.amount_10k_yuan"].dtype == "Float64"
    assert len(corpus_.reports(year=2024)) == 2
    assert len(corpus_.reports(region="河南")) == 2
    labelled = corpus_.reports(labels=True)
    assert load_format("2021").all_cells["appeals.review.total"].label in labelled.columns
    assert set(corpus_.findings()["severity"]) <= {"error", "warning", "info"}
    assert set(corpus_.stats(("year",))["year"]) == {2023, 2024}
    corpus_.close()


def test_reading_a_database_that_does_not_exist(tmp_path):
    with pytest.raises(StoreError, match="数据库不存在"):
        gongkai.load(tmp_path / "none.db")
    result = runner.invoke(app, ["list", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 2 and "none.db" in result.stderr and "数据库不存在" in result.stderr
    assert not (tmp_path / "none.db").exists()


def test_empty_corpus(db, tmp_path):
    connect(db).dispose()
    assert gongkai.load(db).reports().empty
    cli("export", "--to", "csv", "--out", str(tmp_path / "e.csv"), "--db", db)
    assert pd.read_csv(tmp_path / "e.csv").columns.tolist()[:2] == ["report_id", "agency"]
    assert "报告 0 份" in cli("list", "--db", db).stdout


# ---- regions -------------------------------------------------------------------------------


@pytest.mark.parametrize(("agency", "region"), [
    ("河南省南阳市西峡县人民政府", ("41", "河南", "南阳市")),
    ("西峡县人民政府", ("41", "河南", "南阳市")),  # the county alone places it (GB/T 2260 table)
    ("鼓楼区人民政府", (None, None, None)),  # four 鼓楼区: the name does not say which
    ("北京市朝阳区人民政府", ("11", "北京", None)),
    ("吉林市人民政府", ("22", "吉林", "吉林市")),
    ("海南藏族自治州人民政府", ("63", "青海", "海南藏族自治州")),  # in 青海, not 海南
    ("海南省三亚市人民政府", ("46", "海南", "三亚市")),
    ("广西壮族自治区教育厅", ("45", "广西", None)),
    ("内蒙古呼和浩特市人民政府", ("15", "内蒙古", "呼和浩特市")),
    ("河南省市场监督管理局", ("41", "河南", None)),
    ("东湖县城市管理局", (None, None, None)),
    (None, (None, None, None)),
])
def test_region_from_the_agency_name(agency, region):
    assert tuple(derive_region(agency)) == region


def test_findings_are_stored_at_ingest(corpus):
    pytest.importorskip("gongkai.check")
    engine = connect(corpus)
    with engine.connect() as conn:
        rows = conn.execute(select(findings.c.rule, findings.c.cells, findings.c.expected, findings.c.found)
                            .join(reports, reports.c.id == findings.c.report_id)
                            .where(reports.c.agency == "北京市朝阳区人民政府")).all()
        assert all(conn.scalars(select(reports.c.checked)))
    engine.dispose()
    a4 = [r for r in rows if r.rule == "A4-total"]
    assert a4 and "appeals.review.total" in a4[0].cells
    assert a4[0].expected != a4[0].found


def test_both_formats_in_one_corpus(db, tmp_path):
    """The cells table is long: a 2019-format report's own keys need no schema of their own."""
    write(tmp_path, "r2020.txt", synth_report(5, format_id="2019", year=2020))
    write(tmp_path, "r2024.txt", synth_report(6, year=2024))
    engine = connect(db)
    assert ingest(engine, [tmp_path], workers=1).parsed == 2
    engine.dispose()
    corpus = gongkai.load(db)
    frame = corpus.reports().set_index("year")
    f2019, f2021 = load_format("2019"), load_format("2021")
    only_2019 = [k for k in f2019.keys if k not in f2021.all_cells]
    only_2021 = [k for k in f2021.keys if k not in f2019.all_cells]
    assert only_2019 and only_2021
    assert frame.loc[2020, "format"] == "2019" and frame.loc[2024, "format"] == "2021"
    assert all(frame.loc[2020, k] == synth_report(5, format_id="2019", year=2020).value(k) for k in f2019.keys)
    assert all(pd.isna(frame.loc[2024, k]) for k in only_2019)  # not in that format: empty, not 0
    assert all(pd.isna(frame.loc[2020, k]) for k in only_2021)
    labelled = corpus.reports(labels=True)
    assert {f2019.all_cells[k].label for k in only_2019} <= set(labelled.columns)
    assert corpus.report("r2020.txt").values() == synth_report(5, format_id="2019", year=2020).values()
    corpus.close()
