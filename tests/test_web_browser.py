"""The workbench in a real browser: Debian's Chromium driven by Playwright (nothing downloaded),
against a server this test starts on 127.0.0.1 over a fresh SQLite corpus. Screenshots of the main
pages go to docs/images/ (the README shows them) when GONGKAI_SCREENSHOTS=1 asks for them, so that a
test run leaves the tree as it found it."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from pathlib import Path

import pytest

from web_helpers import PASSWORD, add_users, zip_of

CHROMIUM = Path("/usr/bin/chromium")
IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]

playwright_api = pytest.importorskip("playwright.sync_api")
uvicorn = pytest.importorskip("uvicorn")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path, monkeypatch):
    """The app served by uvicorn in a thread; yields its base URL and the app."""
    from argon2 import PasswordHasher, profiles

    from gongkai.web import auth, create_app

    monkeypatch.setattr(auth, "_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST))
    app = create_app(str(tmp_path / "gongkai.db"), upload_workers=1)
    add_users(app.state.engine)
    with app.state.engine.begin() as conn:
        auth.add_user(conn, "rev_nanyang", PASSWORD, "reviewer", "南阳市")
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", app
    srv.should_exit = True
    thread.join(timeout=30)
    app.state.engine.dispose()


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed")
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def shot(page, name: str) -> None:
    if os.environ.get("GONGKAI_SCREENSHOTS") != "1":
        return
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / f"web-{name}.png"), full_page=False)


def test_reviewer_uploads_sees_a_cells_source_reviews_corrects_sees_the_stats_and_gets_the_letter(server, browser, shared, tmp_path):
    base, _app = server
    archive = tmp_path / "报告.zip"
    archive.write_bytes(zip_of({f"seeds/{p.name}": p.read_bytes() for p in sorted((shared / "seeds").glob("*.txt"))}))
    page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page.goto(f"{base}/login")
    shot(page, "login")
    log_in(page, base, "admin")

    page.click("text=上传")
    page.set_input_files("input[type=file]", str(archive))
    page.click("form.upload button[type=submit]")
    page.wait_for_url(f"{base}/jobs/*")
    # htmx polls the job until it is done; every file has its outcome.
    page.wait_for_selector("#job-state:text('已完成')", timeout=120_000)
    outcomes = page.locator("#job tbody tr").all_inner_texts()
    assert len(outcomes) == 5 and all("已入库" in row for row in outcomes)
    shot(page, "job")

    page.click("text=报告列表")
    page.fill("input[name=agency]", "西峡")
    playwright_api.expect(page.locator("#report-list tbody tr")).to_have_count(1)
    shot(page, "reports")
    page.click("#report-list a:text('西峡县人民政府')")
    page.wait_for_selector("table.official")
    assert page.locator("td.cell-failed").count() > 0  # the report has an error: its cells are marked
    cell = page.locator("td[data-key='applications.new.total']")
    printed = cell.inner_text()
    cell.click()
    page.wait_for_selector("#source mark.line")
    assert printed in page.locator("#source mark.line b").inner_text()
    assert "本年新收政府信息公开申请数量" in page.locator("#source").inner_text() or "新收" in page.locator("#source h3").inner_text()
    shot(page, "report")
    report_url, year = page.url, page.request.get(page.url.replace("/reports/", "/api/reports/")).json()["year"]

    # Dismiss one finding and confirm another, each with a reason (htmx redraws the list in place).
    rows = page.locator("#review tr[id^=outcome-]")
    assert rows.count() >= 2
    dismissed, confirmed = rows.nth(0).get_attribute("id"), rows.nth(1).get_attribute("id")
    confirmed_rule = rows.nth(1).locator("td").nth(1).inner_text()
    for row_id, button, reason in ((dismissed, "驳回", "原文表格另附，此列不缺"), (confirmed, "确认", "属实，请更正")):
        page.fill(f"#{row_id} input[name=reason]", reason)
        page.click(f"#{row_id} button:text('{button}')")
        playwright_api.expect(page.locator(f"#{row_id} .review-state")).to_have_text("已驳回" if button == "驳回" else "已确认")
    assert "原文表格另附" in page.locator(f"#{dismissed}").inner_text()

    # Correct the figure clicked above, in the source panel: the table shows it, the stats count it.
    from gongkai.formats import load_format

    applications = next(m for m in load_format("2021").metrics if m.id == "applications")
    assert applications.numerator[0] == "applications.new.total"  # the cell corrected is one the metric adds up
    stats_before = next(r for r in page.request.get(f"{base}/api/stats?by=year").json() if r["year"] == year)
    page.fill("#source form.correct input[name=value]", str(int(printed) + 7))
    page.fill("#source form.correct input[name=reason]", "原文第 2 页印刷错误")
    page.click("#source form.correct button")
    page.wait_for_url(f"{report_url}#corrections")
    assert cell.inner_text() == str(int(printed) + 7)
    assert "原文第 2 页印刷错误" in page.inner_text("#corrections")

    page.click("text=统计")
    page.wait_for_selector(".chart canvas")
    assert page.locator(".chart canvas").count() >= 5
    headings = page.locator("#stats-by-year thead th").all_inner_texts()
    row = page.locator("#stats-by-year tbody tr", has=page.locator(f"td:text-is('{year}')"))
    shown = row.locator("td").nth(headings.index(applications.label)).inner_text()
    assert int(shown.replace(",", "")) == stats_before["applications"] + 7
    shot(page, "stats")

    # The letter lists the confirmed finding, not the dismissed one.
    from gongkai.review.letter import read_letter

    page.goto(report_url)
    with page.expect_download() as download:
        page.click("text=审核意见（DOCX）")
    assert [r["规则"] for r in read_letter(Path(download.value.path()).read_bytes())] == [confirmed_rule]

    # 地区汇总: the region's bodies with the report's state.
    page.click("text=地区汇总")
    page.fill("form.filters input[name=region]", "南阳市")
    page.fill("form.filters input[name=year]", str(year))
    page.click("form.filters button")
    assert page.locator("#bodies tr[data-body='西峡县人民政府'] td.state").inner_text() == "草稿"
    shot(page, "region")

    # 管理: users, formats in use, the audit log with the upload in it.
    page.click("text=管理")
    assert "rev_nanyang" in page.locator("#users").inner_text()
    assert "upload" in page.inner_text("main")
    shot(page, "admin")


def test_a_reviewer_of_another_region_cannot_open_the_report_in_the_browser(server, browser, shared, tmp_path):
    base, app = server
    from gongkai.review.hook import after_write
    from gongkai.store.ingest import ingest

    ingest(app.state.engine, [shared / "seeds"], workers=1, after_write=after_write)
    from sqlalchemy import select

    from gongkai.store.query import Filters, list_reports
    from gongkai.store.schema import reports

    with app.state.engine.connect() as conn:
        nanyang = conn.scalar(select(reports.c.id).where(reports.c.city == "南阳市"))
        elsewhere = conn.scalar(select(reports.c.id).where(reports.c.agency == "中阳县"))
        # The seeds of bodies under 南阳市 (placed by GB/T 2260 from their names: 西峡县, 宛城区 …).
        in_scope = len(list_reports(conn, Filters(region="南阳市")))
    page = browser.new_page(locale="zh-CN")
    log_in(page, base, "rev_nanyang")
    page.goto(f"{base}/reports")
    assert 1 < in_scope < 5 and page.locator("#report-list tbody tr").count() == in_scope
    assert "中阳县" not in page.inner_text("#report-list")
    assert page.goto(f"{base}/reports/{nanyang}").status == 200
    response = page.goto(f"{base}/reports/{elsewhere}")
    assert response.status == 403 and "不在您的权限范围内" in page.inner_text("main")
    api = page.request.get(f"{base}/api/reports/{elsewhere}")
    assert api.status == 403


NO_ERRORS = re.compile(r"^(全部规则通过|0 项错误)")


def test_an_author_fills_sees_the_checks_change_submits_and_is_returned_it_with_the_letter(server, browser, tmp_path):
    from gongkai.review.hook import after_write
    from gongkai.store.ingest import ingest
    from web_helpers import AGENCIES, report_text

    base, app = server
    last = tmp_path / "last.txt"
    last.write_text(report_text(3, AGENCIES["henan"], 2024), encoding="utf-8")
    ingest(app.state.engine, [last], workers=1, after_write=after_write)
    page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    log_in(page, base, "author_xixia")
    page.click("text=填报")
    page.goto(f"{base}/fill?year=2024")  # this year's stored report, to revise
    summary = page.locator("#check-summary")
    playwright_api.expect(summary).to_have_text(NO_ERRORS, timeout=60_000)
    total = page.locator("input[name='cell:applications.new.total']")
    stated = total.input_value()
    total.fill(str(int(stated) + 7))
    playwright_api.expect(summary).to_have_text(re.compile(r"^[1-9]\d* 项错误"), timeout=60_000)
    assert "本年新收" in page.inner_text("#checks")
    shot(page, "fill")
    total.fill(stated)
    playwright_api.expect(summary).to_have_text(NO_ERRORS, timeout=60_000)
    page.click("#submit-report")
    page.wait_for_url(f"{base}/reports/*")
    assert AGENCIES["henan"] in page.inner_text("#agency")
    assert page.inner_text("#filing-state") == "已报送"
    report_url = page.url

    # The reviewer of the region returns it, with the letter; the author sees it returned.
    reviewer = browser.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    log_in(reviewer, base, "rev_henan")
    assert AGENCIES["henan"] in reviewer.inner_text("#filings")  # on the reviewer's 工作台
    shot(reviewer, "dashboard")
    reviewer.goto(report_url)
    reviewer.fill("#submission input[name=reason]", "第五部分未写明存在的问题")
    reviewer.click("#filing-return")
    reviewer.wait_for_url(f"{report_url}#submission")
    assert reviewer.inner_text("#filing-state") == "已退回"

    page.goto(f"{base}/")
    mine = page.locator(f"#filings tr[data-body='{AGENCIES['henan']}'] td.state")
    assert mine.inner_text() == "已退回"
    page.goto(report_url)
    assert page.inner_text("#filing-state") == "已退回" and "第五部分未写明存在的问题" in page.inner_text("#submission")
    with page.expect_download() as download:
        page.click("text=退回时的审核意见（DOCX）")
    assert Path(download.value.path()).read_bytes()[:2] == b"PK"
    assert page.locator("#filing-submit").count() == 1  # it may be submitted again
