"""The 主动公开 register, the appeals register, the year's tables, the import preview and the ledgers'
JSON API in the workbench, through HTTP on a real database: given these records, these table 二 and
四 cells; reviewers read their region and write nothing; every write needs the CSRF token and lands
in the audit log; an import stores nothing before it is confirmed."""
# ruff: noqa: F811  (the fixtures app, client_for … are test_web_ledger's, taken as arguments)

from __future__ import annotations

import io
import re

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from gongkai.store.schema import audit, ledger_appeals, ledger_applications, ledger_register_items
from test_web_ledger import app, cheap_hashes_and_a_fixed_today, client_for  # noqa: F401 (fixtures)
from web_helpers import AGENCIES

fastapi = pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

XIXIA = AGENCIES["henan"]


def csrf_of(client) -> str:
    return client.get("/api/me").json()["csrf"]


def post(client, path: str, **fields):
    return client.post(path, data={"csrf": csrf_of(client)} | fields, follow_redirects=False)


def audited(app, prefix: str) -> list[tuple[str, str]]:
    with app.state.engine.connect() as conn:
        return [(r.action, r.target) for r in conn.execute(select(audit).where(audit.c.action.like(f"{prefix}%"))
                                                           .order_by(audit.c.id))]


def count_rows(app, table) -> int:
    with app.state.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(table))


def cell(page: str, key: str) -> str:
    return re.search(rf'data-key="{re.escape(key)}">([^<]*)<', page).group(1)


def add_item(client, **fields) -> int:
    response = post(client, "/ledger/register", **{"category": "normative_documents", "title": "某县城市管理办法"} | fields)
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def publish(client, item_id: int, on: str = "2026-03-10") -> None:
    for by in ("初审人", "复审人", "终审人", "发布人"):
        assert post(client, f"/ledger/register/{item_id}/reviews", by=by, on=on).status_code == 303


# ---- 主动公开 ----------------------------------------------------------------------------------


def test_a_published_item_counts_in_table_2_after_its_three_reviews(app):
    author = client_for(app, "author_xixia")
    item = add_item(author, number="西政〔2026〕3号", issued_on="2026-03-10")
    old = add_item(author, title="某县旧办法", issued_on="2019-05-01", repealed_on="2026-04-01")
    page = author.get("/ledger/register").text
    # Drafts count in nothing: the category is blank in the preview, not 0.
    assert cell(page, "proactive.normative_documents.issued") == "" and "草稿" in page
    assert post(author, f"/ledger/register/{item}/reviews", by="初审人", on="2026-03-09").status_code == 303
    same = post(author, f"/ledger/register/{item}/reviews", by="初审人", on="2026-03-09")
    assert same.status_code == 422 and "另一人" in same.text  # 三审: each review by another person
    for by in ("复审人", "终审人", "发布人"):
        assert post(author, f"/ledger/register/{item}/reviews", by=by, on="2026-03-10").status_code == 303
    publish(author, old, "2019-05-01")
    page = author.get(f"/ledger/register/{item}").text
    assert re.search(r'id="item-state">([^<]+)<', page).group(1) == "已发布"
    counted = re.search(r'id="item-counted">(.*?)</dd>', page, re.S).group(1)
    assert counted == "2026 年：行政规范性文件 / 本年制发件数；行政规范性文件 / 现行有效件数"
    assert [s for s in re.findall(r"<td>(初审|复审|终审|已发布)</td>", page)] == ["初审", "复审", "终审", "已发布"]

    page = author.get("/ledger/register", params={"year": "2026"}).text
    # 2026: one issued, one repealed, one in force at the year's end; 规章 nothing on record: blank.
    assert (cell(page, "proactive.normative_documents.issued"), cell(page, "proactive.normative_documents.repealed"),
            cell(page, "proactive.normative_documents.in_force")) == ("1", "1", "1")
    assert cell(page, "proactive.rules.issued") == ""
    in_force = author.get("/ledger/register", params={"year": "2026", "current": "true"}).text
    assert "某县城市管理办法" in in_force and "某县旧办法" not in in_force
    assert "某县旧办法" in author.get("/ledger/register", params={"year": "2019", "current": "true"}).text
    assert "某县城市管理办法" not in author.get("/ledger/register", params={"category": "rules"}).text

    # After the reviews the title cannot change; a repeal date can be added.
    changed = post(author, f"/ledger/register/{item}", category="normative_documents", title="改过的标题",
                   number="西政〔2026〕3号", issued_on="2026-03-10")
    assert changed.status_code == 422 and "三审" in changed.text
    assert post(author, f"/ledger/register/{item}", category="normative_documents", title="某县城市管理办法",
                number="西政〔2026〕3号", issued_on="2026-03-10", repealed_on="2026-05-20").status_code == 303
    page = author.get("/ledger/register", params={"year": "2026"}).text
    assert (cell(page, "proactive.normative_documents.repealed"), cell(page, "proactive.normative_documents.in_force")) == ("2", "0")
    assert audited(app, "ledger.item") == (
        [("ledger.item.create", f"item:{item}"), ("ledger.item.create", f"item:{old}")]
        + [("ledger.item.review", f"item:{item}")] * 4 + [("ledger.item.review", f"item:{old}")] * 4
        + [("ledger.item.update", f"item:{item}")])


def test_the_years_counts_and_fees_fill_their_table_2_cells(app):
    author = client_for(app, "author_xixia")
    assert post(author, "/ledger/register/counts", year="2026", category="licensing", value="1204", source="审批系统").status_code == 303
    assert post(author, "/ledger/register/counts", year="2026", category="fees", value="123456").status_code == 303
    bad = post(author, "/ledger/register/counts", year="2026", category="licensing", value="十二")
    assert bad.status_code == 422 and "不是整数" in bad.text
    page = author.get("/ledger/register", params={"year": "2026"}).text
    assert cell(page, "proactive.licensing.decisions") == "1204"
    assert cell(page, "proactive.fees.amount_10k_yuan") == "12.3456"  # 元 → 万元
    assert cell(page, "proactive.punishment.decisions") == ""  # nobody entered it: blank, not 0
    assert audited(app, "ledger.count") == [("ledger.count", f"body:{XIXIA}")] * 2


def test_a_bad_item_is_refused_with_its_reason_and_nothing_stored(app):
    author = client_for(app, "author_xixia")
    response = post(author, "/ledger/register", category="licensing", title="某许可")
    assert response.status_code == 422 and "表二中登记文件的行" in response.text
    response = post(author, "/ledger/register", category="rules", title="某规章", issued_on="2026-05-01", repealed_on="2026-04-01")
    assert response.status_code == 422 and "早于制发日期" in response.text
    response = post(author, "/ledger/register", category="rules", title="某规章", amended_on="2026-02-30")
    assert response.status_code == 422 and "不是日期" in response.text
    assert count_rows(app, ledger_register_items) == 0 and audited(app, "ledger.item") == []


# ---- 复议诉讼 ----------------------------------------------------------------------------------


def test_appeals_are_registered_decided_and_counted_in_table_4(app):
    author = client_for(app, "author_xixia")
    assert post(author, "/ledger/appeals", kind="review", filed_on="2026-02-01", case_number="复〔2026〕1号").status_code == 303
    assert post(author, "/ledger/appeals", kind="litigation_direct", filed_on="2026-03-01", outcome="upheld",
                decided_on="2026-05-01").status_code == 303
    half = post(author, "/ledger/appeals", kind="review", filed_on="2026-03-01", outcome="upheld")
    assert half.status_code == 422 and "同时填写" in half.text
    page = author.get("/ledger/appeals").text
    assert (cell(page, "appeals.review.pending"), cell(page, "appeals.litigation_direct.upheld"),
            cell(page, "appeals.review.total")) == ("1", "1", "1")
    [review] = [a for a in author.get("/api/ledger/appeals").json() if a["kind"] == "review"]
    early = post(author, f"/ledger/appeals/{review['id']}/outcome", outcome="corrected", decided_on="2026-01-15")
    assert early.status_code == 422 and "早于立案日期" in early.text
    assert post(author, f"/ledger/appeals/{review['id']}/outcome", outcome="corrected", decided_on="2026-04-15").status_code == 303
    page = author.get("/ledger/appeals").text
    assert (cell(page, "appeals.review.pending"), cell(page, "appeals.review.corrected")) == ("0", "1")
    assert "2026 年表四 行政复议 / 结果纠正" in page
    assert audited(app, "ledger.appeal") == [("ledger.appeal.create", f"appeal:{review['id']}"),
                                             ("ledger.appeal.create", f"appeal:{review['id'] + 1}"),
                                             ("ledger.appeal.decide", f"appeal:{review['id']}")]


# ---- who may do what ---------------------------------------------------------------------------


def test_reviewers_read_their_regions_registers_and_write_nothing(app):
    author = client_for(app, "author_xixia")
    item = add_item(author, issued_on="2026-03-10")
    assert post(author, "/ledger/appeals", kind="review", filed_on="2026-02-01").status_code == 303
    [appeal] = author.get("/api/ledger/appeals").json()
    henan = client_for(app, "rev_henan")
    assert "某县城市管理办法" in henan.get("/ledger/register").text
    assert henan.get(f"/ledger/register/{item}").status_code == 200 and 'id="review-form"' not in henan.get(f"/ledger/register/{item}").text
    assert XIXIA in henan.get("/ledger/appeals").text and 'id="appeal-form"' not in henan.get("/ledger/appeals").text
    assert henan.get("/ledger/tables", params={"body": XIXIA}).status_code == 200
    for path, fields in ((f"/ledger/register/{item}/reviews", {"by": "某", "on": "2026-03-10"}),
                         (f"/ledger/register/{item}", {"category": "rules", "title": "x"}),
                         ("/ledger/register", {"body": XIXIA, "category": "rules", "title": "x"}),
                         ("/ledger/register/counts", {"body": XIXIA, "year": "2026", "category": "licensing", "value": "1"}),
                         ("/ledger/appeals", {"body": XIXIA, "kind": "review", "filed_on": "2026-02-01"}),
                         (f"/ledger/appeals/{appeal['id']}/outcome", {"outcome": "upheld", "decided_on": "2026-03-01"})):
        assert post(henan, path, **fields).status_code == 403, path

    jiangsu = client_for(app, "rev_jiangsu")
    assert jiangsu.get(f"/ledger/register/{item}").status_code == 403
    assert jiangsu.get("/ledger/register", params={"body": XIXIA}).status_code == 403
    assert jiangsu.get("/ledger/tables", params={"body": XIXIA}).status_code == 403
    assert "某县城市管理办法" not in jiangsu.get("/ledger/register").text and XIXIA not in jiangsu.get("/ledger/appeals").text
    # An author's records go to their own body; another body's are not theirs to change.
    admin = client_for(app, "admin")
    other = add_item(admin, body=AGENCIES["jiangsu"])
    assert author.get(f"/ledger/register/{other}").status_code == 403
    assert post(author, f"/ledger/register/{other}/reviews", by="某", on="2026-03-10").status_code == 403
    assert audited(app, "ledger.item.review") == []


def test_writes_without_the_csrf_token_are_refused(app):
    author = client_for(app, "author_xixia")
    item = add_item(author)
    for path in ("/ledger/register", f"/ledger/register/{item}", f"/ledger/register/{item}/reviews", "/ledger/register/counts",
                 "/ledger/appeals", "/ledger/appeals/1/outcome", "/ledger/import/preview", "/ledger/import"):
        for headers in ({}, {"X-CSRF-Token": "forged"}):
            response = author.post(path, headers=headers, data={"category": "rules", "title": "x", "by": "某", "on": "2026-03-10",
                                                                 "kind": "review", "filed_on": "2026-02-01"})
            assert response.status_code == 403, path
    assert count_rows(app, ledger_register_items) == 1 and count_rows(app, ledger_appeals) == 0
    assert TestClient(app).get("/ledger/register", follow_redirects=False).status_code == 303  # to the log-in


# ---- the year's tables -------------------------------------------------------------------------


def test_the_years_tables_come_from_all_three_ledgers(app):
    author = client_for(app, "author_xixia")
    publish(author, add_item(author, issued_on="2026-03-10"))
    post(author, "/ledger/appeals", kind="review", filed_on="2026-02-01")
    # Two applications through the API, one answered.
    api = author.post("/api/ledger/applications", headers={"X-CSRF-Token": csrf_of(author)},
                      json={"applicant_type": "natural_person", "channel": "当面", "submitted_on": "2026-03-02"})
    assert api.status_code == 201, api.text
    reply = author.post(f"/api/ledger/applications/{api.json()['id']}/events", headers={"X-CSRF-Token": csrf_of(author)},
                        json={"kind": "reply", "on": "2026-03-20", "outcome": "granted"})
    assert reply.status_code == 201, reply.text
    author.post("/api/ledger/applications", headers={"X-CSRF-Token": csrf_of(author)},
                json={"applicant_type": "commercial_enterprise", "channel": "in_person", "submitted_on": "2026-05-06"})
    page = author.get("/ledger/tables", params={"year": "2026"}).text
    assert cell(page, "proactive.normative_documents.issued") == "1"
    assert (cell(page, "applications.new.total"), cell(page, "applications.granted.natural_person"),
            cell(page, "applications.carried_forward.commercial_enterprise")) == ("2", "1", "1")
    assert cell(page, "appeals.review.pending") == "1"
    assert "未比对" in page  # no published report of that year in the corpus
    tables = author.get("/api/ledger/tables", params={"year": "2026"}).json()
    assert tables["tables"]["applications"]["applications.new.total"] == 2
    assert tables["tables"]["proactive"]["proactive.rules.issued"] is None  # nothing on record: null, not 0
    assert tables["differences"] is None and all(f["severity"] != "error" for f in tables["findings"])


# ---- the import --------------------------------------------------------------------------------

HEADERS = ["序号", "申请人", "申请人类型", "申请方式", "申请时间", "申请内容", "答复时间", "答复结果"]
ROWS = [["1", "张某", "自然人", "网络", "2026-03-02", "某批复", "2026-03-20", "予以公开"],
        ["2", "某星人", "外星人", "网络", "2026-03-03", "某事", "", ""],
        ["3", "李某", "个人", "当面", "2026-13-45", "某事", "", ""],
        ["4", "某公司", "商业企业", "邮寄", "2026/4/1", "规划许可", "", ""]]


def xlsx_bytes() -> bytes:
    workbook = Workbook()
    workbook.active.append(HEADERS)
    for row in ROWS:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def preview(client, data: bytes, name: str):
    return client.post("/ledger/import/preview", data={"csrf": csrf_of(client)}, files={"file": (name, data)})


def confirm_fields(page: str) -> dict[str, str]:
    form = re.search(r'<form[^>]*id="confirm-form".*?</form>', page, re.S).group(0)
    return dict(re.findall(r'name="([a-z0-9]+)" value="([^"]*)"', form))


def test_an_import_is_previewed_with_every_bad_row_and_stored_only_when_confirmed(app):
    author = client_for(app, "author_xixia")
    shown = preview(author, xlsx_bytes(), "台账.xlsx")
    assert shown.status_code == 200
    assert "可导入 <b>2</b> 行，无法读取 <b>2</b> 行" in shown.text
    bad = re.search(r'id="bad-rows">(.*?)</table>', shown.text, re.S).group(1)
    assert "外星人" in bad and "不是表三的申请人类型" in bad and "日期不存在" in bad
    assert count_rows(app, ledger_applications) == 0 and audited(app, "ledger.import") == []  # nothing written yet

    fields = confirm_fields(shown.text)
    tampered = author.post("/ledger/import", data=fields | {"sha256": "0" * 64}, follow_redirects=False)
    assert tampered.status_code == 400 and count_rows(app, ledger_applications) == 0
    done = author.post("/ledger/import", data=fields, follow_redirects=False)
    assert done.status_code == 303 and "done=2&bad=2" in done.headers["location"]
    assert "已导入 2 件申请；2 行无法读取" in author.get(done.headers["location"]).text
    with app.state.engine.connect() as conn:
        stored = {r.number: (r.body, r.applicant_type, r.outcome) for r in conn.execute(select(ledger_applications))}
    assert stored == {"1": (XIXIA, "natural_person", "granted"), "4": (XIXIA, "commercial_enterprise", None)}
    assert audited(app, "ledger.import") == [("ledger.import", f"body:{XIXIA}")]


def test_a_csv_export_imports_as_well_and_a_file_that_is_no_ledger_says_why(app):
    admin = client_for(app, "admin")
    text = "\n".join(",".join(row) for row in [HEADERS, ROWS[0], ROWS[3]]).encode("gb18030")
    shown = admin.post("/ledger/import/preview", data={"csrf": csrf_of(admin), "body": XIXIA},
                       files={"file": ("台账.csv", text)})
    assert "可导入 <b>2</b> 行，无法读取 <b>0</b> 行" in shown.text
    assert admin.post("/ledger/import", data=confirm_fields(shown.text), follow_redirects=False).status_code == 303
    assert count_rows(app, ledger_applications) == 2
    refused = preview(admin, b"\xd0\xcf\x11\xe0" + bytes(100), "old.xls")
    assert refused.status_code == 400 and "请填写单位名称" in refused.text  # the administrator names the body
    refused = admin.post("/ledger/import/preview", data={"csrf": csrf_of(admin), "body": XIXIA},
                         files={"file": ("old.xls", b"\xd0\xcf\x11\xe0" + bytes(100))})
    assert refused.status_code == 422 and "旧版 Excel" in refused.text
    reviewer = client_for(app, "rev_henan")
    assert reviewer.get("/ledger/import").status_code == 403
    assert reviewer.post("/ledger/import/preview", data={"csrf": csrf_of(reviewer), "body": XIXIA},
                         files={"file": ("台账.csv", text)}).status_code == 403


# ---- the JSON API ------------------------------------------------------------------------------


def api_post(client, path: str, payload: dict, csrf: str | None = "own"):
    headers = {"X-CSRF-Token": csrf_of(client) if csrf == "own" else csrf} if csrf else {}
    return client.post(path, json=payload, headers=headers)


def test_the_api_lists_and_creates_in_each_register_under_the_same_rules(app):
    author = client_for(app, "author_xixia")
    created = api_post(author, "/api/ledger/applications", {"applicant_type": "natural_person", "channel": "邮寄",
                                                            "signed_for_on": "2026-05-20", "applicant_name": "张三"})
    assert created.status_code == 201, created.text
    assert created.json()["received_on"] == "2026-05-20" and "签收" in created.json()["receipt"]
    assert created.json()["deadline"]["due_on"] == "2026-06-17"  # 20 working days; 端午节 06-19 comes after
    [listed] = author.get("/api/ledger/applications").json()
    assert listed["applicant_name"] == "张三" and listed["body"] == XIXIA
    refused = api_post(author, f"/api/ledger/applications/{listed['id']}/events", {"kind": "reply", "on": "2026-05-25"})
    assert refused.status_code == 422 and "答复结果" in refused.json()["detail"]

    item = api_post(author, "/api/ledger/register", {"category": "rules", "title": "某规章", "issued_on": "2026-04-01"})
    assert item.status_code == 201, item.text
    for by in ("甲", "乙", "丙", "丁"):
        step = api_post(author, f"/api/ledger/register/{item.json()['id']}/reviews", {"by": by, "on": "2026-04-01"})
        assert step.status_code == 200, step.text
    assert step.json()["state"] == "已发布"
    [entry] = author.get("/api/ledger/register", params={"year": 2026}).json()
    assert entry["cells"] == ["proactive.rules.issued", "proactive.rules.in_force"]
    assert api_post(author, "/api/ledger/counts", {"year": 2026, "category": "punishment", "count": 37}).status_code == 200

    appeal = api_post(author, "/api/ledger/appeals", {"kind": "litigation_after_review", "filed_on": "2026-03-01"})
    assert appeal.status_code == 201, appeal.text
    decided = api_post(author, f"/api/ledger/appeals/{appeal.json()['id']}/outcome", {"outcome": "other", "decided_on": "2026-05-01"})
    assert decided.status_code == 200 and decided.json()["outcome"] == "other"
    assert author.get("/api/ledger/appeals").json()[0]["counted_in"] == "appeals.litigation_after_review.other"
    tables = author.get("/api/ledger/tables", params={"year": 2026}).json()["tables"]
    assert tables["proactive"]["proactive.punishment.decisions"] == 37 and tables["appeals"]["appeals.litigation_after_review.other"] == 1

    assert [a for a, _ in audited(app, "ledger.")] == (["ledger.register", "ledger.item.create"] + ["ledger.item.review"] * 4
                                                      + ["ledger.count", "ledger.appeal.create", "ledger.appeal.decide"])
    with app.state.engine.connect() as conn:
        assert all(d["via"] == "api" for d in conn.scalars(select(audit.c.detail).where(audit.c.action.like("ledger.%"))))


def test_the_api_refuses_what_the_pages_refuse(app):
    author = client_for(app, "author_xixia")
    application = {"applicant_type": "natural_person", "channel": "当面", "submitted_on": "2026-05-20"}
    for csrf in (None, "forged"):
        assert api_post(author, "/api/ledger/applications", application, csrf).status_code == 403
        assert api_post(author, "/api/ledger/appeals", {"kind": "review", "filed_on": "2026-03-01"}, csrf).status_code == 403
    assert api_post(author, "/api/ledger/applications", application | {"body": AGENCIES["jiangsu"]}).status_code == 403
    assert api_post(author, "/api/ledger/register", {"category": "fees", "title": "x"}).status_code == 422
    assert api_post(author, "/api/ledger/appeals", {"kind": "no_such_row", "filed_on": "2026-03-01"}).status_code == 422
    item = api_post(author, "/api/ledger/register", {"category": "rules", "title": "某规章"}).json()["id"]

    henan = client_for(app, "rev_henan")
    assert henan.get("/api/ledger/bodies").json() == [XIXIA]
    assert henan.get("/api/ledger/register", params={"body": XIXIA}).status_code == 200
    assert henan.get("/api/ledger/register").status_code == 422  # lists are per body
    assert api_post(henan, "/api/ledger/applications", application | {"body": XIXIA}).status_code == 403
    assert api_post(henan, f"/api/ledger/register/{item}/reviews", {"on": "2026-04-01"}).status_code == 403
    jiangsu = client_for(app, "rev_jiangsu")
    assert jiangsu.get("/api/ledger/bodies").json() == []
    assert jiangsu.get("/api/ledger/tables", params={"body": XIXIA, "year": 2026}).status_code == 403
    assert jiangsu.get("/api/ledger/appeals", params={"body": XIXIA}).status_code == 403
    assert TestClient(app).get("/api/ledger/applications", params={"body": XIXIA}).status_code == 401
    assert [a for a, _ in audited(app, "ledger.")] == ["ledger.item.create"]
