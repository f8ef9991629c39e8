"""依申请公开台账 in the workbench, through its HTTP interface on a real database: an author registers an
application of their body and records its events; the statutory date, its explanation and the days
overdue show on the application's page, in the list and on the front page; reviewers read their
region only and write nothing; every write needs the CSRF token and lands in the audit log."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from gongkai.store.schema import audit, ledger_events
from store_helpers import database
from web_helpers import AGENCIES, add_users, log_in

fastapi = pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from gongkai.web import create_app  # noqa: E402

XIXIA = AGENCIES["henan"]
TODAY = dt.date(2026, 6, 1)  # a Monday; the dates below are counted to it


@pytest.fixture(autouse=True)
def cheap_hashes_and_a_fixed_today(monkeypatch):
    from argon2 import PasswordHasher, profiles

    from gongkai.web import auth, ledger

    monkeypatch.setattr(auth, "_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST))
    monkeypatch.setattr(ledger, "today", lambda: TODAY)


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request, tmp_path):
    web = create_app(database(request.param, tmp_path), upload_workers=1)
    add_users(web.state.engine)
    yield web
    web.state.engine.dispose()


def client_for(app, username: str):
    client = TestClient(app)
    client.__enter__()
    log_in(client, username)
    return client


def csrf_of(client, path: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).text).group(1)


def register(client, **fields) -> int:
    data = {"csrf": csrf_of(client, "/ledger/new"), "applicant_type": "natural_person", "channel": "in_person",
            "applicant_name": "张三", "content": "某路段拆迁补偿方案"} | fields
    response = client.post("/ledger", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def record(client, application_id: int, **fields):
    data = {"csrf": csrf_of(client, f"/ledger/{application_id}")} | fields
    return client.post(f"/ledger/{application_id}/events", data=data, follow_redirects=False)


def test_an_author_registers_an_application_records_an_extension_and_sees_it_overdue(app):
    author = client_for(app, "author_xixia")
    # Handed in on Monday 2026-03-02: the 20th working day after it is Monday 2026-03-30; extended
    # by 10 working days (approved) → the 30th: 03-31…04-03 are the 21st–24th, 清明节 04-04—04-06
    # (Saturday–Monday) is not counted, 04-07…04-10 are the 25th–28th, 04-13 the 29th, 04-14 the
    # 30th. Counted to 2026-06-01 it is long overdue.
    overdue = register(author, submitted_on="2026-03-02", number="依申请〔2026〕1号")
    fresh = register(author, submitted_on="2026-05-29", applicant_name="李四")  # due late June: not yet due soon
    assert record(author, overdue, kind="extension", on="2026-03-25", days="10", approver="办公室主任").status_code == 303
    page = author.get(f"/ledger/{overdue}").text
    assert "延期" in page and "办公室主任" in page
    due_on = re.search(r'id="due-on">([\d-]+)<', page).group(1)
    assert due_on == "2026-04-14"
    assert "已逾期" in page and "清明节" in page and "第 30 个工作日 2026-04-14" in page

    listing = author.get("/ledger").text
    rows = re.findall(r'<tr class="(overdue)?">(.*?)</tr>', listing, re.S)
    marked = {("依申请〔2026〕1号" in row): flag for flag, row in rows}
    assert marked == {True: "overdue", False: ""}
    assert "2026-04-14" in listing and "李四" in listing

    # The front page's fragment lists the overdue one, not the fresh one.
    due = author.get("/ledger/due").text
    assert f"/ledger/{overdue}" in due and f"/ledger/{fresh}\"" not in due and "已逾期" in due
    assert 'hx-get="/ledger/due"' in author.get("/").text

    with app.state.engine.connect() as conn:
        actions = [(r.action, r.target) for r in conn.execute(select(audit).where(audit.c.action.like("ledger.%"))
                                                              .order_by(audit.c.id))]
    assert actions == [("ledger.register", f"application:{overdue}"), ("ledger.register", f"application:{fresh}"),
                       ("ledger.event", f"application:{overdue}")]


def test_a_reply_takes_its_outcome_from_table_three_and_closes_the_application(app):
    author = client_for(app, "author_xixia")
    application = register(author, channel="post", confirmed_on="2026-05-20")
    page = author.get(f"/ledger/{application}").text
    assert "1.属于国家秘密" in page  # table 三's result rows, from the format definition
    refused = record(author, application, kind="reply", on="2026-05-25", outcome="no_such_row")
    assert refused.status_code == 422 and "不是" in refused.text
    assert record(author, application, kind="reply", on="2026-05-25", outcome="withheld.state_secret").status_code == 303
    listing = author.get("/ledger").text
    assert "已办结" in listing and "属于国家秘密" in listing and "overdue" not in re.sub(r"<head>.*?</head>", "", listing, flags=re.S)
    assert f"/ledger/{application}" not in author.get("/ledger/due").text
    late = record(author, application, kind="correction_notice", on="2026-05-26")
    assert late.status_code == 422 and "办结" in late.text


def test_a_bad_form_is_refused_with_a_message_and_nothing_stored(app):
    author = client_for(app, "author_xixia")
    csrf = csrf_of(author, "/ledger/new")
    response = author.post("/ledger", data={"csrf": csrf, "applicant_type": "natural_person", "channel": "post",
                                            "submitted_on": "2026-05-20"})
    assert response.status_code == 422 and "签收日期" in response.text
    response = author.post("/ledger", data={"csrf": csrf, "applicant_type": "natural_person", "channel": "in_person",
                                            "submitted_on": "2026-13-40"})
    assert response.status_code == 422 and "不是日期" in response.text
    application = register(author, submitted_on="2026-05-20")
    response = record(author, application, kind="extension", on="2026-05-22", days="10")
    assert response.status_code == 422 and "批准人" in response.text
    with app.state.engine.connect() as conn:
        assert conn.scalar(select(ledger_events.c.id).limit(1)) is None


def test_reviewers_read_their_region_only_and_write_nothing(app):
    author = client_for(app, "author_xixia")
    application = register(author, submitted_on="2026-03-02")
    henan = client_for(app, "rev_henan")
    assert henan.get(f"/ledger/{application}").status_code == 200
    assert XIXIA in henan.get("/ledger").text and f"/ledger/{application}" in henan.get("/ledger/due").text
    assert 'id="event-form"' not in henan.get(f"/ledger/{application}").text
    refused = record(henan, application, kind="extension", on="2026-03-25", days="5", approver="主任")
    assert refused.status_code == 403
    assert henan.post("/ledger", data={"csrf": csrf_of(henan, "/ledger"), "body": XIXIA, "applicant_type": "natural_person",
                                       "channel": "in_person", "submitted_on": "2026-05-20"}).status_code == 403

    jiangsu = client_for(app, "rev_jiangsu")
    assert jiangsu.get(f"/ledger/{application}").status_code == 403
    assert jiangsu.get(f"/ledger?body={XIXIA}").status_code == 403
    assert XIXIA not in jiangsu.get("/ledger").text and f"/ledger/{application}" not in jiangsu.get("/ledger/due").text


def test_an_author_keeps_only_their_own_bodys_ledger(app):
    admin = client_for(app, "admin")
    other = register(admin, body=AGENCIES["jiangsu"], submitted_on="2026-03-02")
    author = client_for(app, "author_xixia")
    assert author.get(f"/ledger/{other}").status_code == 403
    assert record(author, other, kind="reply", on="2026-03-10", outcome="granted").status_code == 403
    # The author's registration goes to their own body whatever the form says.
    mine = register(author, body=AGENCIES["jiangsu"], submitted_on="2026-05-20")
    assert XIXIA in admin.get(f"/ledger/{mine}").text
    assert record(admin, other, kind="reply", on="2026-03-10", outcome="granted").status_code == 303


def test_writes_without_the_csrf_token_are_refused(app):
    author = client_for(app, "author_xixia")
    application = register(author, submitted_on="2026-05-20")
    for headers in ({}, {"X-CSRF-Token": "forged"}):
        response = author.post("/ledger", headers=headers, data={"applicant_type": "natural_person", "channel": "in_person",
                                                                  "submitted_on": "2026-05-20"})
        assert response.status_code == 403
        response = author.post(f"/ledger/{application}/events", headers=headers,
                               data={"kind": "reply", "on": "2026-05-25", "outcome": "granted"})
        assert response.status_code == 403
    with app.state.engine.connect() as conn:
        assert conn.scalar(select(ledger_events.c.id).limit(1)) is None
    assert TestClient(app).get("/ledger", follow_redirects=False).status_code == 303  # to the log-in


def test_a_correction_stops_the_clock_and_the_completed_application_restarts_it(app):
    author = client_for(app, "author_xixia")
    application = register(author, submitted_on="2026-03-09")
    assert record(author, application, kind="correction_notice", on="2026-03-11", days="10").status_code == 303
    listing = author.get("/ledger").text
    assert "待申请人补正" in listing
    # The completed application arrives Monday 03-16: the 20 working days run from it — 03-17…03-20
    # are the 1st–4th, 03-23…03-27 5th–9th, 03-30…04-03 10th–14th, 清明节 04-04—04-06 not counted,
    # 04-07…04-10 15th–18th, 04-13 the 19th, 04-14 the 20th.
    assert record(author, application, kind="correction_received", on="2026-03-16").status_code == 303
    page = author.get(f"/ledger/{application}").text
    assert re.search(r'id="due-on">([\d-]+)<', page).group(1) == "2026-04-14"
    assert "补正" in re.search(r'class="explanation">(.*?)</p>', page, re.S).group(1)


def test_a_date_in_a_year_without_calendar_data_says_so_rather_than_guessing(app):
    author = client_for(app, "author_xixia")
    application = register(author, submitted_on="2018-03-01")  # calendar files start with 2019
    row = re.search(r"<tr class=\"\">(.*?)</tr>", author.get("/ledger").text, re.S).group(1)
    assert "无法计算" in row and "2018" in row and "已逾期" not in row
    page = author.get(f"/ledger/{application}").text
    assert 'id="due-on"' not in page and "2018" in re.search(r'id="deadline"(.*?)</section>', page, re.S).group(1)


def test_the_list_narrows_to_one_handler(app):
    author = client_for(app, "author_xixia")
    register(author, submitted_on="2026-05-20", handler="王五", applicant_name="甲申请人")
    register(author, submitted_on="2026-05-21", handler="赵六", applicant_name="乙申请人")
    listing = author.get("/ledger", params={"handler": "王五"}).text
    assert "甲申请人" in listing and "乙申请人" not in listing
    assert "乙申请人" in author.get("/ledger", params={"handler": ""}).text


def test_the_reply_letter_is_downloaded_as_docx_from_the_record(app):
    import io

    from docx import Document

    author = client_for(app, "author_xixia")
    application = register(author, submitted_on="2026-05-20", number="依申请〔2026〕7号")
    early = author.get(f"/ledger/{application}/documents/reply.docx")
    assert early.status_code == 422 and "尚未答复" in early.text
    assert record(author, application, kind="reply", on="2026-05-25", outcome="withheld.state_secret").status_code == 303
    letter = author.get(f"/ledger/{application}/documents/reply.docx")
    assert letter.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(letter.content)).paragraphs)
    assert "依申请〔2026〕7号" in text and "国家秘密" in text and "行政复议" in text
    assert client_for(app, "rev_jiangsu").get(f"/ledger/{application}/documents/reply.docx").status_code == 403
