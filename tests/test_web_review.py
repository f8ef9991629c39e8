"""The report page's review through the workbench's HTTP interface on a real database: every stored
rule outcome with confirm/dismiss and a reason, a cell corrected with its history, the review letter.
Given the web corpus (tests/web_helpers.py), the 2024 reports fail the X- rules against 2023."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from gongkai.formats import load_format
from gongkai.store.schema import audit, outcomes, reports
from web_helpers import AGENCIES, signed_in

fastapi = pytest.importorskip("fastapi")

pytestmark = pytest.mark.usefixtures("cheap_hashes")  # app, sqlite_app: tests/conftest.py


def henan_2024(app) -> int:
    with app.state.engine.connect() as conn:
        return conn.scalar(select(reports.c.id).where(reports.c.agency == AGENCIES["henan"], reports.c.year == 2024))


def a_failed_outcome(app, report_id: int) -> int:
    with app.state.engine.connect() as conn:
        return conn.scalar(select(outcomes.c.id).where(outcomes.c.report_id == report_id, outcomes.c.status == "failed")
                           .order_by(outcomes.c.id).limit(1))


def audit_actions(app) -> list[tuple[str, str, dict]]:
    with app.state.engine.connect() as conn:
        return [(a.action, a.target, a.detail) for a in conn.execute(select(audit).order_by(audit.c.id))]


def row_of(html: str, outcome_id: int) -> str:
    return re.search(rf'<tr id="outcome-{outcome_id}".*?</tr>', html, re.S).group(0)


# ---- the outcomes on the report page --------------------------------------------------------------


def test_report_page_counts_every_stored_outcome_and_lists_the_failed_ones(sqlite_app):
    report_id = henan_2024(sqlite_app)
    with sqlite_app.state.engine.connect() as conn:
        stored = conn.execute(select(outcomes.c.id, outcomes.c.status).where(outcomes.c.report_id == report_id)).all()
    failed = [i for i, s in stored if s == "failed"]
    passed = sum(s == "passed" for _, s in stored)
    assert failed and passed
    page = signed_in(sqlite_app, "rev_henan").client.get(f"/reports/{report_id}").text
    assert f"核查 {len(stored)} 项：通过 {passed}，不通过 {len(failed)}" in page
    for outcome_id in failed:
        row = row_of(page, outcome_id)
        assert "待审" in row and 'value="confirm"' in row and 'value="dismiss"' in row


def test_dismiss_with_a_reason_is_stored_shown_and_audited(app):
    report_id, session = henan_2024(app), signed_in(app, "rev_henan")
    outcome_id = a_failed_outcome(app, report_id)
    response = session.client.post(f"/reports/{report_id}/outcomes/{outcome_id}/decision",
                                    data={"csrf": session.csrf, "decision": "dismiss", "reason": "上年报告为追溯更正前版本"},
                                    follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].endswith(f"#outcome-{outcome_id}")
    row = row_of(session.client.get(f"/reports/{report_id}").text, outcome_id)
    assert "已驳回" in row and "上年报告为追溯更正前版本" in row and "rev_henan" in row
    action, target, detail = audit_actions(app)[-1]
    assert (action, target) == ("outcome.dismiss", f"report:{report_id}")
    assert detail["outcome"] == outcome_id and detail["reason"] == "上年报告为追溯更正前版本"


def test_a_confirmed_outcome_goes_into_the_letter(sqlite_app):
    from gongkai.review.letter import read_letter

    report_id, session = henan_2024(sqlite_app), signed_in(sqlite_app, "rev_henan")
    outcome_id = a_failed_outcome(sqlite_app, report_id)
    with sqlite_app.state.engine.connect() as conn:
        rule = conn.scalar(select(outcomes.c.rule).where(outcomes.c.id == outcome_id))
    session.client.post(f"/reports/{report_id}/outcomes/{outcome_id}/decision",
                        data={"csrf": session.csrf, "decision": "confirm", "reason": "结转数与上年不符"})
    assert "已确认" in row_of(session.client.get(f"/reports/{report_id}").text, outcome_id)
    letter = session.client.get(f"/reports/{report_id}/letter.docx")
    assert letter.status_code == 200
    assert letter.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")
    assert letter.content[:2] == b"PK" and "attachment" in letter.headers["content-disposition"]
    assert [row["规则"] for row in read_letter(letter.content)] == [rule]


def test_a_decision_needs_a_reason_and_a_known_decision(sqlite_app):
    report_id, session = henan_2024(sqlite_app), signed_in(sqlite_app, "rev_henan")
    outcome_id = a_failed_outcome(sqlite_app, report_id)
    url = f"/reports/{report_id}/outcomes/{outcome_id}/decision"
    blank = session.client.post(url, data={"csrf": session.csrf, "decision": "confirm", "reason": "  "})
    assert blank.status_code == 400 and "理由" in blank.text
    unknown = session.client.post(url, data={"csrf": session.csrf, "decision": "approve", "reason": "x"})
    assert unknown.status_code == 400
    assert "待审" in row_of(session.client.get(f"/reports/{report_id}").text, outcome_id)


def test_decision_without_csrf_is_rejected(sqlite_app):
    report_id, session = henan_2024(sqlite_app), signed_in(sqlite_app, "rev_henan")
    outcome_id = a_failed_outcome(sqlite_app, report_id)
    response = session.client.post(f"/reports/{report_id}/outcomes/{outcome_id}/decision",
                                   data={"decision": "dismiss", "reason": "无令牌"})
    assert response.status_code == 403
    assert "待审" in row_of(session.client.get(f"/reports/{report_id}").text, outcome_id)


def test_an_author_may_not_decide_and_sees_no_decision_buttons(sqlite_app):
    report_id, session = henan_2024(sqlite_app), signed_in(sqlite_app, "author_xixia")
    outcome_id = a_failed_outcome(sqlite_app, report_id)
    assert 'value="dismiss"' not in session.client.get(f"/reports/{report_id}").text  # the author's own report
    response = session.client.post(f"/reports/{report_id}/outcomes/{outcome_id}/decision",
                                   data={"csrf": session.csrf, "decision": "dismiss", "reason": "我认为没问题"})
    assert response.status_code == 403


def test_a_reviewer_of_another_region_may_not_decide_correct_or_read_the_letter(sqlite_app):
    report_id, session = henan_2024(sqlite_app), signed_in(sqlite_app, "rev_jiangsu")
    outcome_id = a_failed_outcome(sqlite_app, report_id)
    decided = session.client.post(f"/reports/{report_id}/outcomes/{outcome_id}/decision",
                                  data={"csrf": session.csrf, "decision": "confirm", "reason": "越权"})
    key = next(iter(load_format("2021").all_cells))
    corrected = session.client.post(f"/reports/{report_id}/cells/{key}/correction",
                                    data={"csrf": session.csrf, "value": "1", "reason": "越权"})
    assert decided.status_code == corrected.status_code == 403
    assert session.client.get(f"/reports/{report_id}/letter.docx").status_code == 403
    assert not [a for a in audit_actions(sqlite_app) if a[0] in ("outcome.confirm", "cell.correct")]


# ---- corrections --------------------------------------------------------------------------------


def applications_key() -> str:
    """The cell the 收到申请 figure of the stats is the sum of (the format's `metrics:` says)."""
    metric = next(m for m in load_format("2021").metrics if m.id == "applications")
    return metric.numerator[0]


def test_a_correction_changes_the_page_the_api_the_stats_and_keeps_the_history(app):
    report_id, session = henan_2024(app), signed_in(app, "rev_henan")
    client, key = session.client, applications_key()
    parsed = client.get(f"/api/reports/{report_id}").json()["cells"][key]["value"]
    stats_before = next(r for r in client.get("/api/stats", params={"by": "year"}).json() if r["year"] == 2024)
    new = parsed + 7

    response = client.post(f"/reports/{report_id}/cells/{key}/correction",
                           data={"csrf": session.csrf, "value": str(new), "reason": "原文第3页印刷错误"},
                           follow_redirects=False)
    assert response.status_code == 303

    assert client.get(f"/api/reports/{report_id}").json()["cells"][key]["value"] == new
    stats_after = next(r for r in client.get("/api/stats", params={"by": "year"}).json() if r["year"] == 2024)
    assert stats_after["applications"] == stats_before["applications"] + 7
    page = client.get(f"/reports/{report_id}").text
    # Coloured as corrected, or as failing a rule (the changed total breaks a sum) and marked corrected too.
    cell = re.search(rf'<td class="fig ([\w -]+)"[^>]*data-key="{re.escape(key)}"[^>]*>([^<]*)</td>', page)
    assert cell.group(2) == str(new)
    assert cell.group(1) in ("cell-corrected", "cell-failed cell-also-corrected")
    history = re.search(rf'<tr data-key="{re.escape(key)}">.*?</tr>', page, re.S).group(0)
    assert f"原文解析：<b>{parsed}</b>" in history and f"当前：<b>{new}</b>" in history and "原文第3页印刷错误" in history
    panel = client.get(f"/reports/{report_id}/cells/{key}").text
    assert f"<b>{parsed}</b>" in panel and f"<b>{new}</b>" in panel
    action, target, detail = audit_actions(app)[-1]
    assert (action, target) == ("cell.correct", f"report:{report_id}")
    assert (detail["key"], detail["old"], detail["new"]) == (key, parsed, new)


def test_a_correction_to_blank_and_bad_input(sqlite_app):
    report_id, session = henan_2024(sqlite_app), signed_in(sqlite_app, "author_xixia")  # the author's own body
    client, key = session.client, applications_key()
    url = f"/reports/{report_id}/cells/{key}/correction"
    assert client.post(url, data={"csrf": session.csrf, "value": "十二", "reason": "x"}).status_code == 400
    assert client.post(url, data={"csrf": session.csrf, "value": "", "reason": "x"}).status_code == 400
    assert client.post(url, data={"csrf": session.csrf, "value": "5", "reason": ""}).status_code == 400
    assert client.post(url, data={"value": "5", "reason": "无令牌"}).status_code == 403
    assert client.get(f"/api/reports/{report_id}").json()["cells"][key]["value"] is not None
    assert client.post(url, data={"csrf": session.csrf, "value": "空", "reason": "原文未填报"}, follow_redirects=False).status_code == 303
    assert client.get(f"/api/reports/{report_id}").json()["cells"][key]["value"] is None


def test_the_letter_of_a_report_without_confirmed_problems_still_downloads(sqlite_app):
    from docx import Document

    report_id, session = henan_2024(sqlite_app), signed_in(sqlite_app, "author_xixia")
    letter = session.client.get(f"/reports/{report_id}/letter.docx")
    assert letter.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(letter.content)).paragraphs)
    assert AGENCIES["henan"] in text


# ---- the JSON API: the same review, the same checks ------------------------------------------------


def test_the_api_lists_decides_corrects_and_tells_the_history(sqlite_app):
    report_id, session = henan_2024(sqlite_app), signed_in(sqlite_app, "rev_henan")
    client, key, token = session.client, applications_key(), {"X-CSRF-Token": session.csrf}
    listed = client.get(f"/api/reports/{report_id}/outcomes").json()
    failed = [o for o in listed["outcomes"] if o["status"] == "failed"]
    assert listed["summary"]["failed"] == len(failed) > 0 and {o["review"] for o in failed} == {"open"}
    outcome_id = failed[0]["id"]

    url = f"/api/reports/{report_id}/outcomes/{outcome_id}/decision"
    assert client.post(url, json={"decision": "confirm", "reason": "无令牌"}).status_code == 403
    assert client.post(url, json={"decision": "confirm", "reason": ""}, headers=token).status_code == 422
    made = client.post(url, json={"decision": "confirm", "reason": "属实"}, headers=token)
    assert made.status_code == 200 and made.json()["decision"] == "confirmed"
    again = next(o for o in client.get(f"/api/reports/{report_id}/outcomes").json()["outcomes"] if o["id"] == outcome_id)
    assert again["review"] == "confirmed" and again["decision"]["reason"] == "属实"

    parsed = client.get(f"/api/reports/{report_id}").json()["cells"][key]["value"]
    corrected = client.post(f"/api/reports/{report_id}/cells/{key}/correction", json={"value": parsed + 1, "reason": "笔误"},
                            headers=token)
    assert corrected.status_code == 200 and (corrected.json()["old"], corrected.json()["new"]) == (parsed, parsed + 1)
    [history] = client.get(f"/api/reports/{report_id}/cells/{key}/history").json()
    assert [e["value"] for e in history["history"]] == [parsed, parsed + 1]

    author = signed_in(sqlite_app, "author_xixia")
    refused = author.client.post(url, json={"decision": "dismiss", "reason": "x"}, headers={"X-CSRF-Token": author.csrf})
    assert refused.status_code == 403
    other = signed_in(sqlite_app, "rev_jiangsu")
    assert other.client.get(f"/api/reports/{report_id}/outcomes").status_code == 403
    assert other.client.get(f"/api/reports/{report_id}/cells/{key}/history").status_code == 403


def test_htmx_decision_answers_the_refreshed_list_or_a_line_above_it(sqlite_app):
    report_id, session = henan_2024(sqlite_app), signed_in(sqlite_app, "rev_henan")
    outcome_id = a_failed_outcome(sqlite_app, report_id)
    url, htmx = f"/reports/{report_id}/outcomes/{outcome_id}/decision", {"HX-Request": "true"}
    wrong = session.client.post(url, data={"csrf": session.csrf, "decision": "confirm", "reason": " "}, headers=htmx)
    assert wrong.status_code == 200 and wrong.headers["HX-Retarget"] == "#review-message" and "理由" in wrong.text
    done = session.client.post(url, data={"csrf": session.csrf, "decision": "confirm", "reason": "属实"}, headers=htmx)
    assert done.status_code == 200 and 'id="review"' in done.text and "已确认" in row_of(done.text, outcome_id)
