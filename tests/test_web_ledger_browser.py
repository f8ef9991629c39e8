"""依申请公开台账 in a real browser (Debian's Chromium through Playwright, the server on 127.0.0.1, as in
test_web_browser.py): an author registers an application received long ago, records an extension,
and sees it overdue with its statutory date on the front page and in the ledger; and one adds a
document to the 主动公开 register through its three reviews and an appeal with its outcome, and sees
both in the year's tables. Screenshots of the ledger, the application's page and the year's tables
go to docs/images/ when GONGKAI_SCREENSHOTS=1 asks for them."""

from __future__ import annotations

import datetime as dt

import pytest

from test_web_browser import browser, log_in, playwright_api, server, shot  # noqa: F401 (fixtures)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    from gongkai.web import ledger

    monkeypatch.setattr(ledger, "today", lambda: dt.date(2026, 6, 1))


def test_an_author_registers_an_application_records_an_extension_and_sees_it_overdue(server, browser):  # noqa: F811
    base, _app = server
    expect = playwright_api.expect
    page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    log_in(page, base, "author_xixia")

    page.click("header nav >> text=台账")
    page.click("text=登记申请")
    page.select_option("select[name=applicant_type]", "natural_person")
    page.select_option("select[name=channel]", "in_person")
    page.fill("input[name=submitted_on]", "2026-03-02")
    page.fill("input[name=applicant_name]", "张三")
    page.fill("input[name=number]", "依申请〔2026〕1号")
    page.fill("textarea[name=content]", "某路段拆迁补偿方案")
    page.click("#register-form button[type=submit]")
    page.wait_for_url(f"{base}/ledger/*")
    # Received Monday 2026-03-02: the 20th working day after it is 2026-03-30.
    expect(page.locator("#due-on")).to_have_text("2026-03-30")

    # 延期 by 10 working days: 03-31…04-03 are the 21st–24th, 清明节 04-04—04-06 is not counted,
    # 04-07…04-10 the 25th–28th, 04-13 the 29th, 04-14 the 30th.
    page.select_option("#event-form select[name=kind]", "extension")
    page.fill("#event-form input[name=on]", "2026-03-25")
    page.fill("#event-form input[name=days]", "10")
    page.fill("#event-form input[name=approver]", "办公室主任")
    page.click("#event-form button[type=submit]")
    expect(page.locator("#events tbody tr")).to_have_count(1)
    assert "延期" in page.inner_text("#events") and "办公室主任" in page.inner_text("#events")
    expect(page.locator("#due-on")).to_have_text("2026-04-14")
    assert "已逾期" in page.inner_text("#deadline") and "清明节" in page.inner_text("#deadline")
    shot(page, "ledger-application")

    page.click("header nav >> text=工作台")
    overdue = page.locator("#ledger-due tr.overdue")  # loaded into the front page by htmx
    expect(overdue).to_have_count(1)
    assert "张三" in overdue.inner_text() and "2026-04-14" in overdue.inner_text()

    page.click("header nav >> text=台账")
    row = page.locator("#ledger-list tbody tr.overdue")
    expect(row).to_have_count(1)
    assert "依申请〔2026〕1号" in row.inner_text() and "2026-04-14" in row.inner_text() and "已逾期" in row.inner_text()
    shot(page, "ledger")


def test_an_author_adds_a_published_document_and_an_appeal_and_sees_them_in_the_years_tables(server, browser):  # noqa: F811
    base, _app = server
    expect = playwright_api.expect
    page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    log_in(page, base, "author_xixia")

    page.click("header nav >> text=台账")
    page.click("#ledger-nav >> text=主动公开")
    page.click("text=登记文件")
    page.select_option("#item-form select[name=category]", "normative_documents")
    page.fill("#item-form input[name=title]", "西峡县城市管理办法")
    page.fill("#item-form input[name=number]", "西政〔2026〕3号")
    page.fill("#item-form input[name=issued_on]", "2026-03-10")
    page.click("#item-form button[type=submit]")
    page.wait_for_url(f"{base}/ledger/register/*")
    expect(page.locator("#item-state")).to_have_text("草稿")
    # 三审 by three people, then published.
    for by, state in (("初审人", "初审"), ("复审人", "复审"), ("终审人", "终审"), ("发布人", "已发布")):
        page.fill("#review-form input[name=by]", by)
        page.fill("#review-form input[name=on]", "2026-03-10")
        page.click("#review-form button[type=submit]")
        expect(page.locator("#item-state")).to_have_text(state)
    assert "行政规范性文件 / 本年制发件数" in page.inner_text("#item-counted")

    page.click("#ledger-nav >> text=复议诉讼")
    page.select_option("#appeal-form select[name=kind]", "review")
    page.fill("#appeal-form input[name=filed_on]", "2026-02-01")
    page.fill("#appeal-form input[name=case_number]", "复〔2026〕1号")
    page.click("#appeal-form button[type=submit]")
    expect(page.locator("#appeal-list tbody tr")).to_have_count(1)
    expect(page.locator("#appeals-table td[data-key='appeals.review.pending']")).to_have_text("1")
    decide = page.locator("#appeal-list form.decide-form")
    decide.locator("select[name=outcome]").select_option("corrected")
    decide.locator("input[name=decided_on]").fill("2026-04-15")
    decide.locator("button[type=submit]").click()
    expect(page.locator("#appeal-list td.outcome")).to_have_text("结果纠正")

    page.click("#ledger-nav >> text=年度表格")
    expect(page.locator("td[data-key='proactive.normative_documents.issued']")).to_have_text("1")
    expect(page.locator("td[data-key='proactive.normative_documents.in_force']")).to_have_text("1")
    expect(page.locator("td[data-key='appeals.review.corrected']")).to_have_text("1")
    expect(page.locator("td[data-key='appeals.review.pending']")).to_have_text("0")
    shot(page, "ledger-tables")
