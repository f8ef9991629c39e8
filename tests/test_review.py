"""Review in the corpus: outcomes, decisions, corrections, versions, the hierarchy of bodies, regions,
cross-year pairs, the letter and submission states, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from functools import partial
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

import gongkai.check
from gongkai.model import Outcome
from gongkai.review import ReviewError
from gongkai.review.bodies import body, import_bodies
from gongkai.review.corrections import correct, history
from gongkai.review.hierarchy import check_hierarchy, evaluate_parent
from gongkai.review.hook import after_write
from gongkai.review.outcomes import decide, report_outcomes, summary
from gongkai.review.versions import choose, versions
from gongkai.review.workflow import accept, return_report, state, submit
from gongkai.store import ingest as store_ingest
from gongkai.store.db import connect
from gongkai.store.export import ExportFormat, export
from gongkai.store.query import Filters, list_reports, resolve, stats
from gongkai.store.schema import outcomes
from store_helpers import database
from test_store import named, write

# The corpus's ingest and reparse as the CLI and the web app run them: the review's hook after each batch.
ingest = partial(store_ingest.ingest, after_write=after_write)
reparse = partial(store_ingest.reparse, after_write=after_write)


def evaluate_from_findings(report, previous=None):
    """Test-local stand-in for gongkai.check.evaluate (until it is merged): each finding of
    check_report a failed outcome with its cells' values, every other rule of the format passed."""
    from gongkai.formats import load_format

    found = gongkai.check.check_report(report, previous)
    out = [Outcome(rule=f.rule, status="failed", severity=f.severity, message=f.message, cells=f.cells,
                   values={k: report.value(k) for k in f.cells}, expected=f.expected, found=f.found, locations=f.locations)
           for f in found]
    failed = {f.rule for f in found}
    for rule in load_format(report.format).rules:
        if rule.id not in failed and (previous is not None or not rule.cross_year):
            out.append(Outcome(rule=rule.id, status="passed", severity=rule.severity))
    return out


@pytest.fixture(autouse=True)
def evaluate(monkeypatch):
    if not hasattr(gongkai.check, "evaluate"):
        monkeypatch.setattr(gongkai.check, "evaluate", evaluate_from_findings, raising=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path) -> str:
    return database(request.param, tmp_path)


# ---- the hierarchy: 淮安市 and its children -------------------------------------------------

NEW = "applications.new.total"
TOTAL = "appeals.review.total"


def huai_an(tmp_path: Path, db: str, children: dict[str, int | None], parent: int):
    """淮安市人民政府 (a summary of its children) and the children's reports that exist (None: missing)."""
    folder = tmp_path / "reports"
    write(folder, "parent.txt", named(1, "淮安市人民政府", 2024, applications__new__total=parent))
    for i, (name, value) in enumerate(children.items()):
        if value is not None:
            write(folder, f"child{i}.txt", named(2 + i, name, 2024, applications__new__total=value))
    tree = tmp_path / "tree.csv"
    tree.write_text("单位,上级,地区,汇总\n淮安市人民政府,,320800,是\n"
                    + "".join(f"{name},淮安市人民政府,,否\n" for name in children), encoding="utf-8")
    engine = connect(db)
    ingest(engine, [folder], workers=1)
    with engine.begin() as conn:
        import_bodies(conn, tree)
        found = check_hierarchy(conn, 2024)
    engine.dispose()
    return [f for f in found if f["rule"] == "H-missing" or f["cells"] == [NEW]]


def test_parent_against_the_sum_of_its_children(db, tmp_path):
    # 本年新收: 清江浦区 40 + 淮阴区 50 = 90 against 淮安市 100, every child reported → fail.
    found = huai_an(tmp_path, db, {"淮安市清江浦区人民政府": 40, "淮安市淮阴区人民政府": 50}, parent=100)
    by_rule = {f["rule"]: f for f in found}
    assert by_rule["H-sum"]["status"] == "failed"
    assert (by_rule["H-sum"]["left"], by_rule["H-sum"]["right"], by_rule["H-sum"]["delta"]) == (100, 90, 10)
    assert by_rule["H-missing"]["status"] == "passed"
    # stored on the parent's report, open for review
    engine = connect(db)
    with engine.connect() as conn:
        parent_id = resolve(conn, "淮安市人民政府@2024")
        stored = [o for o in report_outcomes(conn, parent_id) if o["scope"] == "hierarchy" and o["cells"] == [NEW]]
        assert [o["status"] for o in stored] == ["failed"] and stored[0]["review"] == "open"
    engine.dispose()


def test_equal_sums_with_a_child_missing_pass_and_the_missing_report_is_its_own_outcome(db, tmp_path):
    found = huai_an(tmp_path, db, {"淮安市清江浦区人民政府": 40, "淮安市淮阴区人民政府": 60, "淮安市洪泽区人民政府": None},
                    parent=100)
    by_rule = {f["rule"]: f for f in found}
    assert by_rule["H-sum"]["status"] == "passed"
    assert by_rule["H-missing"]["status"] == "failed" and by_rule["H-missing"]["missing"] == ["淮安市洪泽区人民政府"]


def test_different_sums_with_a_child_missing_are_uncertain_and_name_it(db, tmp_path):
    found = huai_an(tmp_path, db, {"淮安市清江浦区人民政府": 40, "淮安市淮阴区人民政府": 50, "淮安市洪泽区人民政府": None},
                    parent=100)
    h_sum = next(f for f in found if f["rule"] == "H-sum")
    assert h_sum["status"] == "uncertain" and "淮安市洪泽区人民政府" in h_sum["message"]
    assert h_sum["missing"] == ["淮安市洪泽区人民政府"]


def test_a_child_that_does_not_state_the_figure_leaves_the_sum_not_assessable():
    outcomes_ = evaluate_parent("淮安市人民政府", (NEW,), {NEW: 100}, ["甲", "乙"], {"甲": {NEW: 40}, "乙": {NEW: None}})
    assert [o["status"] for o in outcomes_ if o["rule"] == "H-sum"] == ["not_assessable"]


# ---- outcomes, decisions, corrections -------------------------------------------------------


@pytest.fixture
def xixia(db, tmp_path) -> str:
    """西峡县 2023 and 2024; 2024's 行政复议 总计 is one too many (A4-total fails)."""
    folder = tmp_path / "xixia"
    r23 = named(10, "西峡县人民政府", 2023)
    write(folder, "2023.txt", r23)
    r24 = named(11, "西峡县人民政府", 2024)
    r24.cells["appeals.review.total"].value += 1
    r24.cells["appeals.review.total"].raw = str(r24.cells["appeals.review.total"].value)
    r24.cells["applications.carried_over.natural_person"].value = r23.value("applications.carried_forward.natural_person") + 3
    write(folder, "2024.txt", r24)
    engine = connect(db)
    ingest(engine, [folder], workers=1)
    engine.dispose()
    return db


def test_every_outcome_is_stored_and_counted(xixia):
    engine = connect(xixia)
    with engine.connect() as conn:
        items = report_outcomes(conn, resolve(conn, "西峡县人民政府@2024"))
    counts = summary(items)
    assert counts["failed"] >= 1 and counts["passed"] > 10
    assert counts["text"] == (f"{counts['total']} checks: {counts['passed']} passed, {counts['failed']} failed, "
                              f"{counts['uncertain']} uncertain, {counts['not_assessable']} not assessable")
    # cross-year outcomes are stored for the consecutive years, without asking
    cross = [i for i in items if i["scope"] == "cross_year"]
    assert any(i["rule"] == "X-carry-over" and i["status"] == "failed" for i in cross)
    with engine.connect() as conn:
        assert not [i for i in report_outcomes(conn, resolve(conn, "西峡县人民政府@2023")) if i["scope"] == "cross_year"]
        assert {r.agency for r in list_reports(conn, Filters(has_errors=True))} == {"西峡县人民政府"}
    engine.dispose()


def test_the_store_writes_outcomes_only_through_the_hook_its_caller_passes(db, tmp_path):
    """The store knows nothing of the review: without the hook a report is stored with its cells and
    findings but no outcomes or filing; a reparse with the hook gives it both."""
    write(tmp_path / "in", "a.txt", named(12, "西峡县人民政府", 2024))
    engine = connect(db)
    assert store_ingest.ingest(engine, [tmp_path / "in"], workers=1).parsed == 1
    with engine.connect() as conn:
        report_id = resolve(conn, "西峡县人民政府@2024")
        assert report_outcomes(conn, report_id) == []
        with pytest.raises(ReviewError):
            state(conn, report_id)
    assert reparse(engine, workers=1, everything=True).parsed == 1
    with engine.connect() as conn:
        report_id = resolve(conn, "西峡县人民政府@2024")
        assert summary(report_outcomes(conn, report_id))["passed"] > 50
        assert state(conn, report_id) == "draft"
    engine.dispose()


def test_a_decision_survives_reparse_and_reopens_when_its_cell_changes(xixia, monkeypatch):
    import gongkai.parse

    engine = connect(xixia)
    with engine.begin() as conn:
        report_id = resolve(conn, "西峡县人民政府@2024")
        failed = next(i for i in report_outcomes(conn, report_id)
                      if i["rule"] == "A4-total" and i["status"] == "failed" and TOTAL in i["cells"])
        with pytest.raises(ReviewError):
            decide(conn, report_id, failed["fingerprint"][:8], "confirmed", "", "审核员")
        decide(conn, report_id, failed["fingerprint"][:8], "confirmed", "总计与各项之和不符", "审核员")
    monkeypatch.setattr(gongkai.parse, "PARSER_VERSION", "test-next")
    assert reparse(engine, workers=1).parsed == 2
    with engine.begin() as conn:
        report_id = resolve(conn, "西峡县人民政府@2024")  # a new report row
        again = next(i for i in report_outcomes(conn, report_id) if i["fingerprint"] == failed["fingerprint"])
        assert again["review"] == "confirmed" and again["decision"]["user"] == "审核员"
        # 总计 is corrected to another wrong figure: the same rule instance, other values → reopened
        correct(conn, report_id, TOTAL, again["values"][TOTAL] + 1, "按原件更正", "作者")
        after = next(i for i in report_outcomes(conn, report_id) if i["rule"] == "A4-total" and TOTAL in i["cells"])
    assert after["status"] == "failed" and after["fingerprint"] != failed["fingerprint"]
    assert after["review"] == "reopened" and after["earlier_decision"]["reason"] == "总计与各项之和不符"
    engine.dispose()


def test_a_correction_changes_stats_and_export_and_keeps_its_history(xixia, tmp_path):
    engine = connect(xixia)
    with engine.connect() as conn:
        report_id = resolve(conn, "西峡县人民政府@2024")
        parsed = gongkai.load(xixia).report(report_id).value(NEW)
        before = {r["year"]: r["applications"] for r in stats(conn)}
    with engine.begin() as conn:
        correct(conn, report_id, NEW, parsed + 7, "原文笔误", "审核员")
    with engine.connect() as conn:
        after = {r["year"]: r["applications"] for r in stats(conn)}
        assert after[2024] == before[2024] + 7 and after[2023] == before[2023]
        story = history(conn, report_id, NEW)[0]["history"]
        assert [(e["what"], e["value"]) for e in story] == [("parsed", parsed), ("corrected", parsed + 7)]
        assert story[1]["user"] == "审核员" and story[1]["reason"] == "原文笔误"
        export(conn, ExportFormat.csv, tmp_path / "out.csv")
        stored = gongkai.load(xixia).report(report_id).cells[NEW]
    frame = pd.read_csv(tmp_path / "out.csv")
    row = frame[frame["year"] == 2024].iloc[0]
    assert row[NEW] == parsed + 7 and row["corrected"] == 1
    assert stored.value == parsed + 7 and "已更正" in stored.note  # show and checks say so
    engine.dispose()


# ---- one report per body and year -----------------------------------------------------------


def test_the_same_report_as_html_and_as_pdf_is_one_report_in_two_versions(db, tmp_path):
    from gongkai.render.html import render_html
    from gongkai.render.pdf import RenderError, render_pdf

    report = named(20, "南阳市宛城区人民政府", 2024)
    folder = tmp_path / "two"
    folder.mkdir()
    (folder / "report.html").write_text(render_html(report), encoding="utf-8")
    try:
        (folder / "report.pdf").write_bytes(render_pdf(report))
    except RenderError as exc:
        pytest.skip(str(exc))
    engine = connect(db)
    assert ingest(engine, [folder], workers=1).parsed == 2
    with engine.connect() as conn:
        assert len(list_reports(conn)) == 2
        (row,) = stats(conn)
        assert row["reports"] == 1 and row["applications"] == report.value(NEW)
        first = list_reports(conn)[0].id
        listed = versions(conn, first)
        assert len(listed) == 2 and sum(v["counted"] for v in listed) == 1
        assert listed[0]["counted"]  # the newest counts by default
        counted = listed[0]["report_id"]
        agree = [o for o in report_outcomes(conn, counted) if o["rule"] == "V-versions"]
        assert [o["status"] for o in agree] == ["passed"]
    with engine.begin() as conn:
        chosen = choose(conn, first, listed[1]["report_id"])
        assert [v["counted"] for v in chosen] == [False, True]
    engine.dispose()


def test_cells_on_which_versions_disagree_are_a_finding(db, tmp_path):
    engine = connect(db)
    write(tmp_path / "a", "web.txt", named(21, "西峡县人民政府", 2024))
    ingest(engine, [tmp_path / "a"], workers=1)
    revised = named(21, "西峡县人民政府", 2024)
    revised.cells[NEW].value += 2
    write(tmp_path / "b", "revised.txt", revised)
    ingest(engine, [tmp_path / "b"], workers=1)
    with engine.connect() as conn:
        (row,) = stats(conn)
        assert row["reports"] == 1 and row["applications"] == revised.value(NEW)  # the newest counts
        counted = next(v["report_id"] for v in versions(conn, list_reports(conn)[0].id) if v["counted"])
        differ = [o for o in report_outcomes(conn, counted) if o["rule"] == "V-versions" and o["status"] == "failed"]
        assert [o["cells"] for o in differ] == [[NEW]]
    engine.dispose()


# ---- regions --------------------------------------------------------------------------------


def test_import_places_a_zone_the_name_does_not(db, tmp_path):
    engine = connect(db)
    write(tmp_path / "in", "zone.txt", named(30, "城乡一体化示范区管委会", 2024))
    ingest(engine, [tmp_path / "in"], workers=1)
    tree = tmp_path / "tree.csv"
    tree.write_text("单位,上级,地区,类型\n城乡一体化示范区管委会,南阳市人民政府,南阳市,开发区/示范区\n", encoding="utf-8")
    with engine.begin() as conn:
        assert list_reports(conn, Filters(region="南阳市")) == []
        import_bodies(conn, tree)
        placed = body(conn, "城乡一体化示范区管委会")
        assert (placed["region"], placed["parent"], placed["kind"]) == ("河南省南阳市", "南阳市人民政府", "zone")
        assert [r.agency for r in list_reports(conn, Filters(region="南阳市"))] == ["城乡一体化示范区管委会"]
        bad = tmp_path / "bad.csv"
        bad.write_text("单位,地区\n某单位,鼓楼区\n", encoding="utf-8")
        with pytest.raises(ReviewError, match="第2行"):
            import_bodies(conn, bad)
    engine.dispose()


# ---- the letter and submission states -------------------------------------------------------


def test_the_letter_lists_the_confirmed_findings_and_reads_back(xixia, tmp_path):
    from gongkai.review.letter import LETTER_COLUMNS, letter_docx, read_letter, region_summary_xlsx

    engine = connect(xixia)
    with engine.begin() as conn:
        report_id = resolve(conn, "西峡县人民政府@2024")
        failed = [i for i in report_outcomes(conn, report_id, {"failed"})]
        decide(conn, report_id, str(failed[0]["id"]), "confirmed", "属实", "审核员")
        if len(failed) > 1:
            decide(conn, report_id, str(failed[1]["id"]), "dismissed", "表述可以接受", "审核员")
        data = letter_docx(conn, [report_id])
        summary_xlsx = region_summary_xlsx(conn, "南阳市", 2024)
    back = read_letter(data)
    assert [(r["规则"], r["实为"]) for r in back] == [(failed[0]["rule"], _text(failed[0]["found"]))]
    assert set(back[0]) == set(LETTER_COLUMNS)
    import docx

    fonts = {r.element.rPr.rFonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia")
             for p in docx.Document(io.BytesIO(data)).paragraphs for r in p.runs}
    assert fonts <= {"仿宋_GB2312", "SimSun", "SimHei"}
    sheet = pd.read_excel(io.BytesIO(summary_xlsx))
    assert sheet.loc[0, "单位"] == "西峡县人民政府" and sheet.loc[0, "已确认问题"] == 1
    engine.dispose()


def _text(value):
    from gongkai.review.letter import _text as letter_text

    return letter_text(value)


def test_submission_is_gated_by_the_checks(xixia):
    engine = connect(xixia)
    with engine.begin() as conn:
        report_id = resolve(conn, "西峡县人民政府@2024")
        assert state(conn, report_id) == "draft"
        with pytest.raises(ReviewError, match="错误"):
            submit(conn, report_id, "作者")
        with pytest.raises(ReviewError, match="管理员"):
            submit(conn, report_id, "作者", override="急需报送")
        moved = submit(conn, report_id, "管理员", admin=True, override="已电话核实，先行报送")
        assert moved["to"] == "submitted" and moved["overridden"] >= 1
        returned = return_report(conn, report_id, "审核员", "请更正")
        assert returned["to"] == "returned" and returned["letter_bytes"] > 0
        with pytest.raises(ReviewError):
            accept(conn, report_id, "审核员")
        # the clean year goes straight through
        clean = resolve(conn, "西峡县人民政府@2023")
        submit(conn, clean, "作者")
        assert accept(conn, clean, "审核员")["to"] == "accepted"
    engine.dispose()


def test_outcomes_are_deleted_with_their_report(xixia):
    engine = connect(xixia)
    with engine.connect() as conn:
        assert conn.scalar(select(outcomes.c.id).limit(1)) is not None
    engine.dispose()


def test_the_letter_as_pdf_is_set_in_chinese_fonts_and_reads_back(tmp_path):
    import pdfplumber

    from gongkai.libreoffice import soffice
    from gongkai.review.letter import letter_pdf, read_letter

    if soffice() is None:
        pytest.skip("LibreOffice is not installed")
    db = str(tmp_path / "letter.db")
    bad = named(11, "西峡县人民政府", 2024)
    bad.cells[TOTAL].value += 1
    write(tmp_path / "in", "2024.txt", bad)
    engine = connect(db)
    ingest(engine, [tmp_path / "in"], workers=1)
    with engine.begin() as conn:
        report_id = resolve(conn, "西峡县人民政府@2024")
        failed = next(i for i in report_outcomes(conn, report_id, {"failed"}) if TOTAL in i["cells"])
        decide(conn, report_id, str(failed["id"]), "confirmed", "属实", "审核员")
        data = letter_pdf(conn, [report_id])
    engine.dispose()
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        fonts = {c["fontname"].split("+")[-1] for page in pdf.pages for c in page.chars if ord(c["text"]) > 0x3000}
        text = "".join(page.extract_text() or "" for page in pdf.pages)
    assert fonts and all("CJK" in f for f in fonts), fonts
    assert "西峡县人民政府" in text and "审核意见" in text
    assert [(r["规则"], r["实为"]) for r in read_letter(data, "letter.pdf")] == [("A4-total", _text(failed["found"]))]
