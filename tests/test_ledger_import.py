"""Given a body's own spreadsheet ledger (a title line, its columns in its own order and words, some
rows that cannot be read): the columns are mapped by their headers, every good row is stored, every
bad row is reported with its row, column and reason. And the documents the law requires, from data."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from docx import Document
from openpyxl import Workbook
from typer.testing import CliRunner

from gongkai.cli import app as cli
from gongkai.ledger import store
from gongkai.ledger.documents import document_text, load_templates, render_document_docx
from gongkai.ledger.importer import SheetError, read_ledger_xlsx
from gongkai.ledger.models import Application, Channel, Event, EventKind
from gongkai.ledger.roles import current_roles
from gongkai.store.db import connect

BODY = "某县自然资源局"
HEADERS = ["登记编号", "申请人姓名", "收到申请日期", "申请人类别", "提交方式", "申请事项", "办结日期", "答复结果", "备注"]
GOOD = [
    ["1", "张某", dt.datetime(2026, 3, 2), "自然人", "网上申请", "某地块征收批复", "2026-03-20", "予以公开", ""],
    ["2", "某公司", "2026/3/5", "商业企业", "邮寄", "规划许可", "2026年3月25日", "部分公开", ""],
    ["3", "某律所", "2026年4月1日", "律师事务所", "当面", "执法案卷", "2026-04-20", "不予公开（属于行政执法案卷）", ""],
    ["4", "李某", "2026.5.6", "个人", "传真", "补偿标准", "2026-05-30", "本机关不掌握相关政府信息", ""],
    ["5", "某协会", "2026-06-01", "社会公益组织", "网络", "年度预算", "", "", "办理中"],
]
BAD = [
    # row, column, why (part of it)
    (["6", "王某", "2026-13-45", "自然人", "网络", "某事", "", "", ""], "收到申请日期", "日期不存在"),
    (["7", "某星人", "2026-06-03", "外星人", "网络", "某事", "", "", ""], "申请人类别", "不是表三的申请人类型"),
    (["8", "赵某", "2026-06-04", "自然人", "网络", "某事", "2026-06-20", "不予公开", ""], "答复结果", "无法确定"),
    (["9", "钱某", "2026-06-05", "自然人", "网络", "某事", "2026-06-20", "", ""], "答复结果", "须有答复结果"),
    (["10", "孙某", "", "自然人", "网络", "某事", "", "", ""], "收到申请日期", "必填"),
    (["11", "周某", "2026-06-10", "自然人", "飞鸽传书", "某事", "", "", ""], "提交方式", "申请方式"),
    (["12", "吴某", "2026-06-10", "自然人", "网络", "某事", "2026-06-01", "予以公开", ""], "办结日期", "早于申请时间"),
]


def workbook() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "2026年依申请公开台账"
    ws.append(["某县自然资源局2026年政府信息公开申请登记台账"])  # a title line above the header
    ws.append(HEADERS)
    rows = GOOD[:2] + [b[0] for b in BAD[:3]] + GOOD[2:] + [b[0] for b in BAD[3:]]
    for row in rows:
        ws.append(row)
    ws.append([None] * len(HEADERS))  # an empty line is not a row
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_columns_are_mapped_by_their_headers_and_every_bad_row_is_reported():
    result = read_ledger_xlsx(workbook(), BODY, "台账.xlsx")
    assert result.header_row == 2
    assert result.mapping == {"number": "登记编号", "applicant_name": "申请人姓名", "applicant_type": "申请人类别",
                              "channel": "提交方式", "received_on": "收到申请日期", "content": "申请事项",
                              "replied_on": "办结日期", "outcome": "答复结果"}
    assert result.unmapped == ["备注"]
    read = {app.number: app for _, app in result.applications}
    assert sorted(read, key=int) == ["1", "2", "3", "4", "5"]
    assert read["1"].received_on == dt.date(2026, 3, 2) and read["1"].channel is Channel.online
    assert (read["3"].applicant_type, read["3"].events[0].outcome) == ("legal_service_org", "withheld.enforcement_case_file")
    assert (read["4"].applicant_type, read["4"].events[0].outcome) == ("natural_person", "unable.not_held")
    assert read["2"].events[0].on == dt.date(2026, 3, 25) and read["5"].events == []
    # Sheet rows: title 1, header 2, good 3–4, bad 5–7, good 8–10, bad 11–14.
    reported = [(p.row, p.column) for p in result.problems]
    assert reported == [(5, "收到申请日期"), (6, "申请人类别"), (7, "答复结果"), (11, "答复结果"), (12, "收到申请日期"),
                        (13, "提交方式"), (14, "办结日期")]
    for problem, (_, column, why) in zip(result.problems, BAD, strict=True):
        assert problem.column == column and why in problem.why, problem.describe()
    assert len(result.applications) + len(result.bad_rows) == len(GOOD) + len(BAD)


def test_a_file_that_is_not_a_ledger_is_one_clear_error():
    with pytest.raises(SheetError, match="不是可读取的 xlsx"):
        read_ledger_xlsx(b"not a workbook", BODY, "x.xlsx")
    wb = Workbook()
    wb.active.append(["甲", "乙"])
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(SheetError, match="找不到"):
        read_ledger_xlsx(out.getvalue(), BODY, "x.xlsx")


def test_import_command_stores_the_good_rows_and_reports_the_bad(tmp_path):
    path = tmp_path / "台账.xlsx"
    path.write_bytes(workbook())
    db = str(tmp_path / "l.db")
    preview = CliRunner().invoke(cli, ["ledger", "import", str(path), "--body", BODY, "--db", db, "--preview"])
    assert preview.exit_code == 0 and "申请时间（received_on）← 「收到申请日期」" in preview.stdout
    assert "可读取 5 行，无法读取 7 行" in preview.stdout
    run = CliRunner().invoke(cli, ["ledger", "import", str(path), "--body", BODY, "--db", db])
    assert run.exit_code == 1 and "已入库 5 件申请" in run.stdout
    assert "第 6 行「申请人类别」「外星人」" in run.stderr
    engine = connect(db)
    with engine.connect() as conn:
        stored = store.list_applications(conn, body=BODY)
        assert len(stored) == 5
        table = store.application_tables(conn, 2026)[BODY]
    assert table["applications.new.total"] == 5 and table["applications.carried_forward.total"] == 1
    engine.dispose()


# ---- the documents ------------------------------------------------------------------------------


def replied(outcome: str) -> Application:
    return Application(body=BODY, applicant_type="natural_person", channel=Channel.post, received_on=dt.date(2026, 3, 2),
                       applicant_name="张某", number="2026-001", content="某地块征收批复",
                       events=[Event(kind=EventKind.reply, on=dt.date(2026, 3, 20), outcome=outcome)])


@pytest.mark.parametrize("outcome", list(current_roles().outcome_rows))
def test_every_outcome_has_a_reply_with_its_legal_basis_and_remedy(outcome):
    title, paragraphs = document_text(replied(outcome), "reply")
    text = "".join(paragraphs)
    assert title == "政府信息公开申请答复书"
    assert "2026年3月2日" in text and "《中华人民共和国行政复议法》第二十条" in text
    withholds = outcome.startswith("withheld.") or outcome == "partially_granted"
    if withholds:  # 不予公开 (in part): review first (行政复议法第二十三条第一款第（四）项)
        assert "应当先申请行政复议" in text and "六个月内" not in text
    else:
        assert "六个月内" in text and "应当先申请行政复议" not in text
    if outcome.startswith("withheld."):
        assert "第三十六条第（三）项" in text or "第三十六条第（七）项" in text


def test_notices_fill_their_dates_and_leave_unknowns_blank():
    app = replied("granted")
    app.events = [Event(kind=EventKind.correction_notice, on=dt.date(2026, 3, 4), days=10, note="申请公开的文件名称")]
    _, paragraphs = document_text(app, "correction_notice")
    # 10 working days after 03-04: 03-05, 06, 09–13, 16, 17, 18.
    assert "请于2026年3月18日前提交补正材料" in "".join(paragraphs) and "申请公开的文件名称" in "".join(paragraphs)
    app.events = [Event(kind=EventKind.extension, on=dt.date(2026, 3, 20), days=10, approver="主任")]
    _, paragraphs = document_text(app, "extension")
    # 20 working days after Mon 03-02 → 03-30; +10: 03-31…04-03 (21–24), 清明节 04-04—06 not counted,
    # 04-07…10 (25–28), 04-13 (29), 04-14 (30).
    assert "延长10个工作日" in "".join(paragraphs) and "2026年4月14日前作出答复" in "".join(paragraphs)
    _, paragraphs = document_text(app, "consultation")
    assert paragraphs[0].startswith("＿＿＿＿")  # the third party is not on record: a blank to fill in


def test_a_body_replaces_a_template(tmp_path):
    own = tmp_path / "our.yaml"
    own.write_text("outcomes:\n  granted:\n    decision: 本局同意公开。\n    remedy: review_or_suit\n", encoding="utf-8")
    docx = render_document_docx(replied("granted"), "reply", load_templates(own), {"review_body": "某县人民政府"})
    text = "\n".join(p.text for p in Document(io.BytesIO(docx)).paragraphs)
    assert "本局同意公开。" in text and "向某县人民政府申请行政复议" in text


def test_a_document_as_pdf_carries_its_text():
    import pdfplumber

    from gongkai.ledger.documents import render_document_pdf

    pdf = render_document_pdf(replied("withheld.third_party_rights"), "reply", extra={"review_body": "某县人民政府"})
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        text = "".join(page.extract_text() or "" for page in document.pages).replace("\n", "").replace(" ", "")
    assert "政府信息公开申请答复书" in text and "第十五条" in text and "向某县人民政府申请行政复议" in text


@pytest.mark.parametrize(("encoding", "delimiter"), [("utf-8-sig", ","), ("gb18030", "\t")])
def test_a_csv_export_reads_as_the_workbook_does(encoding, delimiter):
    from gongkai.ledger.importer import read_ledger

    rows = [HEADERS] + GOOD + [b[0] for b in BAD]
    text = "\n".join(delimiter.join(str(v.date() if isinstance(v, dt.datetime) else v) for v in row) for row in rows)
    result = read_ledger(text.encode(encoding), BODY, "台账.csv")
    assert result.header_row == 1 and result.mapping["received_on"] == "收到申请日期"
    assert [app.number for _, app in result.applications] == ["1", "2", "3", "4", "5"]
    assert [(p.row, p.column) for p in result.problems] == [(7 + i, column) for i, (_, column, _) in enumerate(BAD)]
    from_workbook = read_ledger(workbook(), BODY, "台账.xlsx")  # the same reader picks the workbook by its content
    assert [a.model_dump() for _, a in from_workbook.applications] == [a.model_dump() for _, a in result.applications]
    with pytest.raises(SheetError, match="旧版 Excel"):
        read_ledger(b"\xd0\xcf\x11\xe0" + bytes(600), BODY, "old.xls")
