"""One body's filings in the workbench, through its HTTP interface on a real database: the versions
of a 单位@年度 and the choice of the one that counts, the submission states (submit, return with
the letter, accept), 跨年比对, 地区汇总 and the 工作台's overview with lateness against the
statutory dates. Given the web corpus (tests/web_helpers.py): 西峡县 and 南阳市 (河南) and 淮安市
(江苏), each for 2023 and 2024; the 2024 reports fail the X- rules against 2023."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from sqlalchemy import select

from gongkai.store.schema import audit, outcomes, reports
from web_helpers import AGENCIES, signed_in

fastapi = pytest.importorskip("fastapi")

pytestmark = pytest.mark.usefixtures("cheap_hashes")  # app, sqlite_app: tests/conftest.py


def report_of(app, agency: str, year: int) -> int:
    with app.state.engine.connect() as conn:
        return conn.scalar(select(reports.c.id).where(reports.c.agency == agency, reports.c.year == year)
                           .order_by(reports.c.id).limit(1))


def last_audit(app) -> tuple[str, str, dict]:
    with app.state.engine.connect() as conn:
        row = conn.execute(select(audit).order_by(audit.c.id.desc()).limit(1)).one()
    return row.action, row.target, row.detail


def audited(app, action: str) -> int:
    with app.state.engine.connect() as conn:
        return len(conn.execute(select(audit.c.id).where(audit.c.action == action)).all())


def section(html: str, section_id: str) -> str:
    return re.search(rf'<section id="{section_id}">.*?</section>', html, re.S).group(0)


# ---- versions ------------------------------------------------------------------------------------


def add_version(app, tmp_path):
    """西峡县 2024 published a second time (a revision) with one figure changed."""
    from gongkai.render.markdown import render_markdown
    from gongkai.review.hook import after_write
    from gongkai.store.ingest import ingest
    from gongkai.store.query import load_report

    first = report_of(app, AGENCIES["henan"], 2024)
    with app.state.engine.connect() as conn:
        report = load_report(conn, first).report
    key = "applications.carried_forward.total"
    report.cells[key].value = report.value(key) + 3
    path = tmp_path / "修订稿.txt"
    path.write_text(render_markdown(report, tables="tabs"), encoding="utf-8")
    ingest(app.state.engine, [path], workers=1, after_write=after_write)  # as an upload
    with app.state.engine.connect() as conn:
        second = conn.scalar(select(reports.c.id).where(reports.c.agency == AGENCIES["henan"], reports.c.year == 2024,
                                                        reports.c.id != first))
    return first, second, key


def test_the_report_page_lists_the_versions_the_counted_one_and_the_cells_they_disagree_on(app, tmp_path):
    first, second, key = add_version(app, tmp_path)
    html = signed_in(app, "rev_henan").client.get(f"/reports/{first}").text
    versions = section(html, "versions")
    assert "版本（2 个）" in versions and "修订稿.txt" in versions
    counted = re.findall(r'<tr class="counted" data-report="(\d+)">', versions)
    assert counted == [str(second)]  # the newest counts until a reviewer chooses
    disagreement = re.search(rf'<tr data-key="{re.escape(key)}">.*?</tr>', versions, re.S).group(0)
    assert "修订稿.txt" in disagreement and len(re.findall(r"<b>\d+</b>", disagreement)) == 2


def test_a_reviewer_chooses_the_counted_version_and_it_is_audited(app, tmp_path):
    first, second, _ = add_version(app, tmp_path)
    session = signed_in(app, "rev_henan")
    url = f"/reports/{second}/versions/counted"
    response = session.client.post(url, data={"csrf": session.csrf, "counted": str(first)}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].endswith("#versions")
    listed = session.client.get(f"/api/reports/{second}/versions").json()
    assert listed["counted"] == first and [v["report_id"] for v in listed["versions"] if v["counted"]] == [first]
    assert last_audit(app) == ("version.choose", f"report:{second}", {"counted": first})
    # Back to the newest, through the API.
    back = session.client.post(f"/api/reports/{second}/versions/counted", json={"counted": None},
                               headers={"X-CSRF-Token": session.csrf})
    assert back.status_code == 200 and [v["report_id"] for v in back.json() if v["counted"]] == [second]


def test_choosing_the_version_is_refused_to_authors_other_regions_and_without_csrf(sqlite_app, tmp_path):
    first, second, _ = add_version(sqlite_app, tmp_path)
    url = f"/reports/{second}/versions/counted"
    author = signed_in(sqlite_app, "author_xixia")
    assert "改为计入此版本" not in author.client.get(f"/reports/{second}").text
    assert author.client.post(url, data={"csrf": author.csrf, "counted": str(first)}).status_code == 403
    other = signed_in(sqlite_app, "rev_jiangsu")
    assert other.client.post(url, data={"csrf": other.csrf, "counted": str(first)}).status_code == 403
    assert other.client.get(f"/api/reports/{second}/versions").status_code == 403
    mine = signed_in(sqlite_app, "rev_henan")
    assert mine.client.post(url, data={"counted": str(first)}).status_code == 403
    elsewhere = report_of(sqlite_app, AGENCIES["jiangsu"], 2024)  # not a version of this filing
    assert mine.client.post(url, data={"csrf": mine.csrf, "counted": str(elsewhere)}).status_code == 403
    assert audited(sqlite_app, "version.choose") == 0


# ---- submission states -----------------------------------------------------------------------------


def test_author_submits_reviewer_returns_with_the_letter_and_the_author_sees_it_returned(app):
    from gongkai.review.letter import read_letter

    report_id = report_of(app, AGENCIES["henan"], 2023)  # no cross-year rule to block it
    author, reviewer = signed_in(app, "author_xixia"), signed_in(app, "rev_henan")
    page = author.client.get(f"/reports/{report_id}").text
    assert 'id="filing-state" class="state-draft">草稿' in page and 'id="filing-submit"' in page
    submitted = author.client.post(f"/reports/{report_id}/filing/submit", data={"csrf": author.csrf}, follow_redirects=False)
    assert submitted.status_code == 303
    assert last_audit(app)[:2] == ("filing.submit", f"report:{report_id}")
    # An author does not return or accept; a reviewer does not submit.
    assert author.client.post(f"/reports/{report_id}/filing/return", data={"csrf": author.csrf}).status_code == 403
    assert reviewer.client.post(f"/reports/{report_id}/filing/submit", data={"csrf": reviewer.csrf}).status_code == 403

    returned = reviewer.client.post(f"/reports/{report_id}/filing/return",
                                    data={"csrf": reviewer.csrf, "reason": "请补充第五部分"}, follow_redirects=False)
    assert returned.status_code == 303
    action, target, detail = last_audit(app)
    assert (action, target, detail["from"], detail["to"], detail["reason"]) == (
        "filing.return", f"report:{report_id}", "submitted", "returned", "请补充第五部分")

    page = author.client.get(f"/reports/{report_id}").text
    assert 'id="filing-state" class="state-returned">已退回' in page and "请补充第五部分" in page
    letter = author.client.get(f"/reports/{report_id}/returned-letter.docx")
    assert letter.status_code == 200 and letter.content[:2] == b"PK"
    assert read_letter(letter.content) == []  # nothing confirmed: the letter says so, with no table
    from docx import Document

    assert AGENCIES["henan"] in "\n".join(p.text for p in Document(io.BytesIO(letter.content)).paragraphs)
    assert signed_in(app, "rev_jiangsu").client.get(f"/reports/{report_id}/returned-letter.docx").status_code == 403

    # Submitted again, and accepted.
    author.client.post(f"/reports/{report_id}/filing/submit", data={"csrf": author.csrf})
    accepted = reviewer.client.post(f"/api/reports/{report_id}/filing/accept", json={},
                                    headers={"X-CSRF-Token": reviewer.csrf})
    assert accepted.status_code == 200 and accepted.json()["to"] == "accepted"
    states = [e["to"] for e in author.client.get(f"/api/reports/{report_id}/filing").json()["events"]]
    assert states == ["submitted", "returned", "submitted", "accepted"]


def test_a_submission_with_unhandled_errors_is_blocked_and_moves_are_scoped(sqlite_app):
    report_id = report_of(sqlite_app, AGENCIES["henan"], 2024)  # fails the X- rules against 2023
    author = signed_in(sqlite_app, "author_xixia")
    page = author.client.get(f"/reports/{report_id}").text
    assert 'id="blocking"' in page
    blocked = author.client.post(f"/reports/{report_id}/filing/submit", data={"csrf": author.csrf})
    assert blocked.status_code == 400 and "不能报送" in blocked.text
    assert author.client.post(f"/reports/{report_id}/filing/submit", data={}).status_code == 403  # no CSRF
    other = signed_in(sqlite_app, "rev_jiangsu")
    assert other.client.post(f"/reports/{report_id}/filing/accept", data={"csrf": other.csrf}).status_code == 403
    assert audited(sqlite_app, "filing.submit") == audited(sqlite_app, "filing.accept") == 0


# ---- 跨年比对 ---------------------------------------------------------------------------------------


def test_compare_shows_last_year_the_changed_cells_the_cross_year_outcomes_and_the_texts(app):
    later, earlier = report_of(app, AGENCIES["henan"], 2024), report_of(app, AGENCIES["henan"], 2023)
    client = signed_in(app, "rev_henan").client
    html = client.get(f"/reports/{later}/compare").text
    assert f'href="/reports/{earlier}"' in html and "2023 年度" in html and "2024 年度" in html
    with app.state.engine.connect() as conn:
        failed = set(conn.scalars(select(outcomes.c.rule).where(outcomes.c.report_id == later, outcomes.c.scope == "cross_year",
                                                                outcomes.c.status == "failed")))
    cross_year = section(html, "cross-year")
    assert failed and failed <= set(re.findall(r'data-rule="([^"]+)"', cross_year))
    api = client.get(f"/api/reports/{later}").json()["cells"]
    before = client.get(f"/api/reports/{earlier}").json()["cells"]
    changed = {k for k in api if api[k]["value"] != before.get(k, {}).get("value")}
    assert set(re.findall(r'<tr data-key="([^"]+)">', section(html, "changes"))) == changed
    assert 'class="diff-' in section(html, "texts")
    # The earliest year has nothing to compare with.
    assert 'id="compare-missing"' in client.get(f"/reports/{earlier}/compare").text


def test_compare_is_refused_outside_the_scope(sqlite_app):
    later = report_of(sqlite_app, AGENCIES["henan"], 2024)
    assert signed_in(sqlite_app, "rev_jiangsu").client.get(f"/reports/{later}/compare").status_code == 403
    jiangsu = report_of(sqlite_app, AGENCIES["jiangsu"], 2023)  # someone else's report as "last year"
    client = signed_in(sqlite_app, "rev_henan").client
    assert client.get(f"/reports/{later}/compare", params={"earlier": jiangsu}).status_code == 403


# ---- 地区汇总 ---------------------------------------------------------------------------------------


def test_a_region_page_lists_its_bodies_states_tree_and_hierarchy_outcomes(app):
    from gongkai.review.bodies import edit_body

    with app.state.engine.begin() as conn:  # 南阳市 files the sum of its children (西峡县 here)
        edit_body(conn, AGENCIES["henan_city"], sums_children=True)
    session = signed_in(app, "rev_henan")
    html = session.client.get("/regions", params={"year": 2024}).text
    bodies = set(re.findall(r'<tr class="[^"]*" data-body="([^"]+)">', section(html, "bodies")))
    assert bodies == {AGENCIES["henan"], AGENCIES["henan_city"]}
    assert AGENCIES["jiangsu"] not in html
    tree = section(html, "tree")
    assert tree.index(AGENCIES["henan_city"]) < tree.index(AGENCIES["henan"])  # 西峡县 under 南阳市
    assert "没有未通过或存疑的上下级核对结果" in section(html, "hierarchy")

    ran = session.client.post("/regions/hierarchy", data={"csrf": session.csrf, "region": "河南", "year": "2024"},
                              follow_redirects=False)
    assert ran.status_code == 303
    action, target, detail = last_audit(app)
    assert (action, target, detail["year"]) == ("hierarchy.check", "region:河南", 2024) and detail["failed"] > 0
    hierarchy = section(session.client.get("/regions", params={"year": 2024}).text, "hierarchy")
    assert 'data-rule="H-sum"' in hierarchy and AGENCIES["henan_city"] in hierarchy


def test_region_downloads_the_letter_and_the_summary(sqlite_app):
    import openpyxl

    from gongkai.review.letter import read_letter

    session = signed_in(sqlite_app, "rev_henan")
    report_id = report_of(sqlite_app, AGENCIES["henan"], 2024)
    with sqlite_app.state.engine.connect() as conn:
        outcome_id, rule = conn.execute(select(outcomes.c.id, outcomes.c.rule).where(
            outcomes.c.report_id == report_id, outcomes.c.status == "failed").order_by(outcomes.c.id).limit(1)).one()
    session.client.post(f"/reports/{report_id}/outcomes/{outcome_id}/decision",
                        data={"csrf": session.csrf, "decision": "confirm", "reason": "属实"})
    letter = session.client.get("/regions/letter.docx", params={"region": "南阳市", "year": 2024})
    assert letter.status_code == 200 and "attachment" in letter.headers["content-disposition"]
    assert [row["规则"] for row in read_letter(letter.content)] == [rule]
    xlsx = session.client.get("/regions/summary.xlsx", params={"region": "南阳市", "year": 2024})
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "单位" and {r[0] for r in rows[1:]} == {AGENCIES["henan"], AGENCIES["henan_city"]}
    assert session.client.get("/api/regions/summary", params={"year": 2024}).json()["counts"]["bodies"] == 2


def test_regions_are_refused_outside_the_scope_and_to_authors(sqlite_app):
    other = signed_in(sqlite_app, "rev_jiangsu")
    for url in ("/regions", "/regions/letter.docx", "/regions/summary.xlsx", "/api/regions/summary"):
        assert other.client.get(url, params={"region": "河南", "year": 2024}).status_code == 403, url
        assert other.client.get(url, params={"region": AGENCIES["henan_city"], "year": 2024}).status_code == 403, url
    assert other.client.post("/regions/hierarchy", data={"csrf": other.csrf, "region": "南阳市", "year": "2024"}).status_code == 403
    author = signed_in(sqlite_app, "author_xixia")
    assert author.client.get("/regions").status_code == 403
    assert author.client.post("/regions/hierarchy", data={"csrf": author.csrf, "region": "", "year": "2024"}).status_code == 403
    mine = signed_in(sqlite_app, "rev_henan")
    assert mine.client.post("/regions/hierarchy", data={"region": "", "year": "2024"}).status_code == 403  # no CSRF
    assert audited(sqlite_app, "hierarchy.check") == 0
    from fastapi.testclient import TestClient

    assert TestClient(sqlite_app).get("/api/regions/summary").status_code == 401


# ---- 工作台 -----------------------------------------------------------------------------------------


def counts_of(html: str) -> dict[str, int]:
    block = re.search(r'<p class="counts" id="filing-counts">.*?</p>', html, re.S).group(0)
    found = dict(re.findall(r'data-state="([^"]+)">[^<]*<b>(\d+)</b>', block))
    return {k: int(v) for k, v in found.items()}


def test_the_dashboard_shows_every_body_in_scope_by_state_and_lateness(sqlite_app):
    client = signed_in(sqlite_app, "rev_henan").client
    html = client.get("/", params={"year": 2024}).text
    # Stored in this session, after 2025's deadlines (1月31日 / 3月31日): both late, both drafts.
    assert counts_of(html) == {"未报送": 0, "草稿": 2, "已报送": 0, "已退回": 0, "已通过": 0, "逾期": 2}
    rows = re.findall(r'<tr class="(late)?" data-body="([^"]+)">', html)
    assert {body for _, body in rows} == {AGENCIES["henan"], AGENCIES["henan_city"]} and all(late for late, _ in rows)
    assert "2025-03-31" in html  # a government's date
    # This year's reports are not due yet: nothing reported, nothing late.
    this_year = counts_of(client.get("/", params={"year": date.today().year}).text)
    assert this_year["未报送"] == 2 and this_year["逾期"] == 0
    admin = counts_of(signed_in(sqlite_app, "admin").client.get("/", params={"year": 2024}).text)
    assert admin["草稿"] == 3
    author = signed_in(sqlite_app, "author_xixia").client.get("/", params={"year": 2024}).text
    assert re.findall(r'data-body="([^"]+)"', author) == [AGENCIES["henan"]]


def test_a_filled_report_that_passes_the_gate_is_submitted_and_cannot_be_filled_again_until_returned(sqlite_app):
    from gongkai.synth import synth_report
    from test_web import form_fields

    author = signed_in(sqlite_app, "author_xixia")
    complete = synth_report(5, year=2022)  # no 2021 report: no cross-year rule applies
    fields = form_fields(author.client.get("/fill?year=2022").text) | {"csrf": author.csrf}
    fields.update({f"cell:{key}": str(cell.value) for key, cell in complete.cells.items()})
    fields.update({f"section:{s.number}": s.text for s in complete.sections})
    submitted = author.client.post("/fill/submit", data=fields, follow_redirects=False)
    assert submitted.status_code == 303 and "#" not in submitted.headers["location"]
    report_id = int(submitted.headers["location"].rsplit("/", 1)[1])
    assert author.client.get(f"/api/reports/{report_id}/filing").json()["state"] == "submitted"
    assert last_audit(sqlite_app)[:2] == ("filing.submit", f"report:{report_id}")
    again = author.client.post("/fill/submit", data=fields | {"section:一": "改过的正文"}, follow_redirects=False)
    assert again.status_code == 422 and "已报送" in again.text
