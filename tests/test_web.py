"""The workbench's rules, through its HTTP interface on a real database: who may see and change
what, CSRF on every write, escaping of report text, uploads that cannot escape or explode."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from gongkai.store.schema import audit, cells, reports, sessions, users
from web_helpers import AGENCIES, PASSWORD, add_users, log_in, report_text, wait_for_job, zip_of

fastapi = pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from gongkai.web import create_app  # noqa: E402

pytestmark = pytest.mark.usefixtures("cheap_hashes")  # app, sqlite_app: tests/conftest.py


def client_for(app, username: str | None = None):
    client = TestClient(app)
    client.__enter__()
    if username:
        log_in(client, username)
    return client


def report_id(app, agency: str, year: int = 2024) -> int:
    with app.state.engine.connect() as conn:
        return conn.scalar(select(reports.c.id).where(reports.c.agency == agency, reports.c.year == year))


def write_routes(app) -> list[tuple[str, str]]:
    """Every route that changes something (each method other than GET/HEAD), path parameters filled."""
    out = []
    for route in app.routes:
        for method in sorted(getattr(route, "methods", None) or ()):
            if method not in ("GET", "HEAD"):
                out.append((method, re.sub(r"\{[^}]+\}", "1", route.path)))
    return out


# ---- log-in, sessions -----------------------------------------------------------------------


def test_passwords_are_stored_as_argon2_hashes_and_sessions_by_digest(app):
    client = client_for(app, "admin")
    with app.state.engine.connect() as conn:
        hashes = list(conn.scalars(select(users.c.password_hash)))
        tokens = list(conn.scalars(select(sessions.c.token_hash)))
    assert hashes and all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)
    cookie = client.cookies.get("gongkai_session")
    assert cookie and cookie not in tokens and len(tokens) == 1


def test_session_cookie_is_http_only_and_same_site_strict(sqlite_app):
    client = client_for(sqlite_app)
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    response = client.post("/login", data={"csrf": token, "username": "admin", "password": PASSWORD},
                           follow_redirects=False)
    header = response.headers["set-cookie"]
    assert "gongkai_session=" in header and "HttpOnly" in header and "SameSite=strict" in header


def test_secure_cookie_when_served_over_https(tmp_path):
    web = create_app(str(tmp_path / "g.db"), upload_workers=1, secure_cookies=True)
    add_users(web.state.engine)
    with TestClient(web) as client:
        response = client.post("/api/session", json={"username": "admin", "password": PASSWORD})
        assert "Secure" in response.headers["set-cookie"]


def test_wrong_password_is_refused_and_repeated_failures_are_throttled(sqlite_app):
    client = client_for(sqlite_app)
    for _ in range(5):
        assert client.post("/api/session", json={"username": "admin", "password": "wrong"}).status_code == 401
    # Now even the right password waits out the window.
    response = client.post("/api/session", json={"username": "admin", "password": PASSWORD})
    assert response.status_code == 429 and "15 分钟" in response.json()["detail"]
    with sqlite_app.state.engine.connect() as conn:
        assert conn.scalar(select(audit.c.id).where(audit.c.action == "login.failed").limit(1)) is not None


def test_login_form_needs_its_csrf_token(sqlite_app):
    client = client_for(sqlite_app)
    client.get("/login")
    response = client.post("/login", data={"username": "admin", "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 403 and "gongkai_session" not in client.cookies


def test_log_out_ends_the_session(app):
    client = client_for(app, "admin")
    csrf = client.get("/api/me").json()["csrf"]
    assert client.delete("/api/session", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert client.get("/api/me").status_code == 401


# ---- every write needs a session, the right role and the CSRF token --------------------------


def test_every_write_route_without_a_session_is_refused(app):
    client = client_for(app)
    routes = write_routes(app)
    assert ("POST", "/upload") in routes and ("POST", "/api/uploads") in routes and ("POST", "/admin/users") in routes
    for method, path in routes:
        if path in ("/login", "/api/session") and method == "POST":
            continue  # logging in is how a session starts
        response = client.request(method, path, data={"csrf": "x"}, follow_redirects=False)
        assert response.status_code in (401, 403), (method, path, response.status_code)


def test_every_write_route_without_the_csrf_token_is_refused(app):
    client = client_for(app, "admin")
    for method, path in write_routes(app):
        if path in ("/login", "/api/session") and method == "POST":
            continue
        for headers in ({}, {"X-CSRF-Token": "forged"}):
            response = client.request(method, path, headers=headers, data={"username": "x"}, follow_redirects=False)
            assert response.status_code == 403, (method, path, headers, response.status_code)
    with app.state.engine.connect() as conn:
        assert conn.scalar(select(users.c.id).where(users.c.username == "x")) is None


def test_admin_creates_a_user_with_the_token_and_the_audit_log_records_it(app):
    client = client_for(app, "admin")
    page = client.get("/admin").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    response = client.post("/admin/users", data={"csrf": csrf, "username": "新审核员", "password": "long-enough-1",
                                                 "role": "reviewer", "scope": "南阳市"}, follow_redirects=False)
    assert response.status_code == 303
    with app.state.engine.connect() as conn:
        entry = conn.execute(select(audit).where(audit.c.action == "user.create", audit.c.username == "admin")
                             .order_by(audit.c.id.desc())).first()
    assert entry.detail["username"] == "新审核员" and entry.detail["scope"] == "南阳市"
    assert "新审核员" in client.get("/admin").text
    # The new reviewer of 南阳市 sees the two 南阳 bodies and not 淮安.
    reviewer = TestClient(app).__enter__()
    log_in(reviewer, "新审核员", "long-enough-1")
    agencies = {r["agency"] for r in reviewer.get("/api/reports").json()["reports"]}
    assert agencies == {AGENCIES["henan"], AGENCIES["henan_city"]}


def test_wrong_role_is_refused_on_page_and_api(app):
    reviewer = client_for(app, "rev_henan")
    csrf = reviewer.get("/api/me").json()["csrf"]
    assert reviewer.get("/admin").status_code == 403
    assert reviewer.get("/api/users").status_code == 403
    assert reviewer.post("/api/users", json={"username": "x", "password": "12345678", "role": "admin"},
                         headers={"X-CSRF-Token": csrf}).status_code == 403
    author = client_for(app, "author_xixia")
    csrf = author.get("/api/me").json()["csrf"]
    assert author.get("/upload").status_code == 403
    files = {"files": ("a.txt", report_text(1, AGENCIES["henan"], 2022).encode(), "text/plain")}
    assert author.post("/api/uploads", files=files, headers={"X-CSRF-Token": csrf}).status_code == 403


# ---- scope --------------------------------------------------------------------------------------


def test_reviewer_of_another_region_cannot_see_a_report_on_any_page_or_api(app):
    henan = report_id(app, AGENCIES["henan"])
    other = client_for(app, "rev_jiangsu")
    listed = {r["agency"] for r in other.get("/api/reports").json()["reports"]}
    assert listed == {AGENCIES["jiangsu"]}
    assert AGENCIES["henan"] not in other.get("/reports").text
    key = "applications.new.total"
    for path in (f"/reports/{henan}", f"/reports/{henan}/cells/{key}", f"/reports/{henan}/original",
                 f"/reports/{henan}/data.json", f"/reports/{henan}/data.xlsx", f"/reports/{henan}/pages/1.png",
                 f"/api/reports/{henan}", f"/api/reports/{henan}/cells/{key}"):
        response = other.get(path)
        assert response.status_code == 403, path
        assert "西峡" not in response.text
    # The stats of the other region do not count it.
    assert [r["reports"] for r in other.get("/api/stats").json()] == [1, 1]
    own = client_for(app, "rev_henan")
    assert own.get(f"/reports/{henan}").status_code == 200
    assert own.get(f"/api/reports/{henan}").json()["agency"] == AGENCIES["henan"]


def test_author_sees_only_their_own_body(app):
    author = client_for(app, "author_xixia")
    listed = author.get("/api/reports").json()["reports"]
    assert {r["agency"] for r in listed} == {AGENCIES["henan"]} and len(listed) == 2
    city = report_id(app, AGENCIES["henan_city"])
    assert author.get(f"/api/reports/{city}").status_code == 403


def test_pages_without_a_session_send_to_the_login_and_the_api_answers_401(app):
    client = client_for(app)
    for path in ("/", "/reports", "/reports/1", "/stats", "/upload", "/admin"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), path
    for path in ("/api/me", "/api/reports", "/api/reports/1", "/api/stats", "/api/jobs/1", "/api/users", "/api/audit"):
        assert client.get(path).status_code == 401, path


# ---- escaping -------------------------------------------------------------------------------

XSS = "<script>alert('x')</script><img src=x onerror=alert(1)>"


def test_a_script_in_title_agency_section_and_cell_text_stays_text_on_every_page(app):
    from gongkai.review.bodies import ensure_bodies

    target = report_id(app, AGENCIES["henan"])
    key = "applications.new.total"
    with app.state.engine.begin() as conn:
        row = conn.execute(select(reports.c.sections).where(reports.c.id == target)).one()
        sections = [{**s, "text": s["text"] + XSS} for s in row.sections]
        conn.execute(update(reports).where(reports.c.id == target).values(
            title="标题" + XSS, agency=AGENCIES["henan"] + XSS, sections=sections))
        conn.execute(update(cells).where(cells.c.report_id == target, cells.c.key == key).values(raw="12" + XSS))
        ensure_bodies(conn, {AGENCIES["henan"] + XSS})  # a body so named, in the region's tree
    client = client_for(app, "admin")
    pages = [f"/reports/{target}", f"/reports/{target}/cells/{key}", "/reports", f"/reports?agency={XSS}", "/", "/stats",
             "/admin", f"/reports/{target}/compare", "/regions?region=河南&year=2024", "/?year=2024"]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert "<script>alert" not in response.text and "<img src=x" not in response.text, path
    assert "西峡县人民政府&lt;script&gt;" in client.get("/regions?region=河南&year=2024").text
    refused = client.get("/regions", params={"region": "<script>alert(1)</script>"})  # no region: the message repeats it
    assert refused.status_code == 400 and "<script>alert" not in refused.text
    report_page = client.get(f"/reports/{target}").text
    assert "&lt;script&gt;alert(" in report_page and report_page.count("&lt;img src=x onerror=alert(1)&gt;") >= 3
    assert "12&lt;script&gt;" in client.get(f"/reports/{target}/cells/{key}").text
    # And the pages allow no inline script to run at all.
    assert "script-src 'self'" in client.get(f"/reports/{target}").headers["content-security-policy"]


# ---- uploads ----------------------------------------------------------------------------------


def test_a_zip_upload_stores_good_reports_and_says_why_each_bad_file_was_refused(app, tmp_path):
    client = client_for(app, "rev_henan")
    csrf = client.get("/api/me").json()["csrf"]
    good = report_text(101, "河南省南阳市淅川县人民政府", 2024).encode()
    archive = zip_of({
        "报告/淅川县2024.txt": good,
        "../../etc/evil.txt": good,
        "/abs/path.txt": good,
        "bomb.txt": b"0" * (30 * 1024 * 1024),
        "inner.zip": zip_of({"a.txt": good}),
        "junk.bin": bytes(range(256)) * 40,
        "empty.txt": b"",
    })
    response = client.post("/api/uploads", files=[("files", ("批量.zip", archive, "application/zip")),
                                                  ("files", ("单个.txt", report_text(7, "河南省郑州市人民政府", 2024).encode(),
                                                             "text/plain"))],
                           headers={"X-CSRF-Token": csrf})
    assert response.status_code == 202, response.text
    job = wait_for_job(client, response.json()["job"])
    assert job["state"] == "done"
    outcome = {f["name"]: (f["outcome"], f["message"] or "") for f in job["files"]}
    assert outcome["批量.zip/报告/淅川县2024.txt"][0] == "stored"
    assert outcome["单个.txt"][0] == "stored"
    assert outcome["批量.zip/../../etc/evil.txt"] == ("unreadable", "文件名含有上级目录或绝对路径，已拒绝")
    assert outcome["批量.zip//abs/path.txt"][0] == "unreadable"
    assert "压缩炸弹" in outcome["批量.zip/bomb.txt"][1]
    assert "压缩包内还有压缩包" in outcome["批量.zip/inner.zip"][1]
    assert "不是可识别的报告文件" in outcome["批量.zip/junk.bin"][1]
    assert outcome["批量.zip/empty.txt"] == ("unreadable", "文件为空")
    assert job["done"] == job["total"] == len(outcome)
    single = next(f for f in job["files"] if f["name"] == "单个.txt")
    stored = client.get(f"/api/reports/{single['report_id']}").json()
    assert stored["agency"] == "河南省郑州市人民政府"
    # The job page shows every file's outcome; the upload is in the audit log.
    assert "文件名含有上级目录或绝对路径" in client.get(f"/jobs/{job['id']}").text
    with app.state.engine.connect() as conn:
        assert conn.scalar(select(audit.c.target).where(audit.c.action == "upload")) == f"job:{job['id']}"
    # Someone else's job is not theirs to watch.
    assert client_for(app, "rev_jiangsu").get(f"/api/jobs/{job['id']}").status_code == 403


def test_upload_limits_refuse_the_whole_upload_or_the_file(sqlite_app, tmp_path):
    from gongkai.web.uploads import Limits, UploadError, upload_entries

    limits = Limits(file_bytes=1000, upload_bytes=5000, files=3)
    with pytest.raises(UploadError, match="上传总量超过上限"):
        upload_entries([("a.txt", b"x" * 6000)], limits)
    with pytest.raises(UploadError, match="文件过多"):
        upload_entries([(f"{i}.txt", b"abc") for i in range(4)], limits)
    (entry,) = upload_entries([("big.txt", b"x" * 1001)], limits)
    assert entry.data is None and "文件过大" in entry.problem
    # A member whose headers understate its size (10 bytes, holding 5,000) is never read whole.
    archive = bytearray(zip_of({"a.txt": b"y" * 5000}))
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = archive.index(signature) + offset
        archive[at:at + 4] = (10).to_bytes(4, "little")
    (entry,) = upload_entries([("z.zip", bytes(archive))], Limits(file_bytes=1000, ratio=10**9))
    assert entry.data is None and "无法从压缩包读取" in entry.problem


# ---- the API document -------------------------------------------------------------------------


def test_openapi_document_lists_the_api_and_its_cookie_security(sqlite_app):
    client = client_for(sqlite_app)
    doc = client.get("/api/openapi.json").json()
    assert {"/api/reports", "/api/reports/{report_id}", "/api/uploads", "/api/jobs/{job_id}", "/api/stats",
            "/api/users", "/api/session"} <= set(doc["paths"])
    assert not any(not p.startswith("/api/") for p in doc["paths"])  # the pages are not API
    assert doc["components"]["securitySchemes"]["APIKeyCookie"]["name"] == "gongkai_session"


def test_stats_are_the_figures_gongkai_stats_gives(sqlite_app):
    import gongkai

    client = client_for(sqlite_app, "admin")
    api = client.get("/api/stats?by=year").json()
    expected = gongkai.load(sqlite_app.state.engine.url.database).stats(("year",)).to_dict("records")
    assert [r["applications"] for r in api] == [r["applications"] for r in expected]
    assert [round(r["disclosure_rate"], 9) for r in api] == [round(r["disclosure_rate"], 9) for r in expected]
    csv_text = client.get("/stats/data.csv?by=year").content.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("年度,报告数,收到申请,公开率")


# ---- 填报 ----------------------------------------------------------------------------------------


def form_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input[^>]*name="([^"]+)" value="([^"]*)"', html))


def test_author_fills_sees_the_checks_live_and_submits_through_the_gate(app):
    from gongkai.store.query import load_report

    author = client_for(app, "author_xixia")
    csrf = author.get("/api/me").json()["csrf"]
    page = author.get("/fill?year=2025")
    assert page.status_code == 200
    fields = form_fields(page.text)
    # Last year's 结转下年度继续办理 is pre-filled as this year's 上年结转, column by column.
    with app.state.engine.connect() as conn:
        last = load_report(conn, report_id(app, AGENCIES["henan"], 2024)).report
    assert "已按 2024 年报告预填上年结转的数字" in page.text
    assert fields["cell:applications.carried_over.total"] == str(last.value("applications.carried_forward.total"))
    assert fields["cell:applications.new.total"] == ""  # nothing else is guessed

    # Filled from a consistent report but for one 总计 that is not the sum of its row: the live check
    # names the rule and the gate refuses it.
    from gongkai.synth import synth_report

    complete = synth_report(5, year=2025)
    fields.update({f"cell:{key}": str(cell.value) for key, cell in complete.cells.items()})
    fields.update({f"section:{section.number}": section.text for section in complete.sections})
    wrong = fields | {"cell:applications.new.total": str(complete.value("applications.new.total") + 1)}
    checks = author.post("/fill/check", data=wrong, headers={"X-CSRF-Token": csrf}).text
    assert re.search(r"[1-9]\d* 项错误", checks) and "本年新收" in checks
    refused = author.post("/fill/submit", data=wrong, follow_redirects=False)
    assert refused.status_code == 422 and "未提交" in refused.text
    with app.state.engine.connect() as conn:
        assert conn.scalar(select(reports.c.id).where(reports.c.agency == AGENCIES["henan"], reports.c.year == 2025)) is None

    # Corrected, it passes the gate and is stored.
    checks = author.post("/fill/check", data=fields, headers={"X-CSRF-Token": csrf}).text
    assert "全部规则通过" in checks or re.search(r"\b0 项错误", checks)
    submitted = author.post("/fill/submit", data=fields, follow_redirects=False)
    assert submitted.status_code == 303, submitted.text[:500]
    new_id = int(re.search(r"/reports/(\d+)", submitted.headers["location"]).group(1))
    stored = author.get(f"/api/reports/{new_id}").json()
    assert stored["agency"] == AGENCIES["henan"] and stored["year"] == 2025
    assert {k: stored["cells"][k]["value"] for k in complete.cells} == complete.values()
    # This year's rules all pass; the cross-year ones (X-…) compare with last year's stored report,
    # which this generated report does not continue.
    assert not [f for f in stored["findings"] if f["severity"] == "error" and not f["rule"].startswith("X-")]
    # Those block the submission itself: the report is stored as a draft, the page says what blocks it.
    assert submitted.headers["location"].endswith("#submission")
    assert author.get(f"/api/reports/{new_id}/filing").json()["state"] == "draft"
    assert client_for(app, "rev_henan").get(f"/api/reports/{new_id}").status_code == 200
    assert client_for(app, "rev_jiangsu").get(f"/api/reports/{new_id}").status_code == 403
    with app.state.engine.connect() as conn:
        entry = conn.execute(select(audit).where(audit.c.action == "report.submit")).one()
    assert entry.username == "author_xixia" and entry.target == f"report:{new_id}"


def test_an_author_cannot_fill_for_another_body(app):
    author = client_for(app, "author_xixia")
    page = author.get(f"/fill?agency={AGENCIES['jiangsu']}&year=2025")
    assert AGENCIES["jiangsu"] not in page.text and AGENCIES["henan"] in page.text  # the scope decides the body
    fields = form_fields(page.text) | {"agency": AGENCIES["jiangsu"]}
    author.post("/fill/submit", data=fields, follow_redirects=False)
    with app.state.engine.connect() as conn:
        assert conn.scalar(select(reports.c.id).where(reports.c.agency == AGENCIES["jiangsu"], reports.c.year == 2025)) is None
    assert client_for(app, "rev_henan").get("/fill").status_code == 403
