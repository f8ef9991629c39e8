"""The review letter (审核意见) to a body: its confirmed problems in the official tables' terms (table,
row, column, expected, found, where in the document), as DOCX in the fonts of the rendered reports
(gongkai.render.docx) or PDF (LibreOffice); read back from its table; and a region's summary
(who has reported, who is late, how many problems each) as xlsx."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from typing import Any

from docx import Document as new_document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt
from sqlalchemy import Connection, func, select

from gongkai.formats import load_format
from gongkai.model import Finding
from gongkai.render.docx import BODY_FONT, HEADING_FONT, TITLE_FONT, declare_alternate_fonts, run_fonts, style_fonts
from gongkai.review.bodies import descendants
from gongkai.review.common import STATE_NAMES, ReviewError, report_meta
from gongkai.review.outcomes import confirmed_findings, report_outcomes
from gongkai.store.region import full_name, region_prefix
from gongkai.store.schema import bodies, documents, filings, outcomes, report_versions, submission_events

LETTER_COLUMNS = ("序号", "规则", "表格", "行", "列", "应为", "实为", "位置", "说明")
# Widths in mm on an A4 page with 25 mm margins (160 mm): rule ids must not wrap.
_WIDTHS = (9, 25, 11, 28, 18, 12, 12, 18, 27)


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float | str):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def finding_cells(finding: Finding, format_id: str) -> tuple[str, str, str]:
    """Table, row and column of the cells a finding names, as the official tables print them."""
    defs = load_format(format_id).all_cells
    named = [defs[k] for k in finding.cells if k in defs]
    if not named:
        return "—", "—", "—"

    def join(items: list[str]) -> str:
        return "；".join(dict.fromkeys(items))

    return (join([f"表{c.table.number}" for c in named]), join([c.row_label for c in named]),
            join([c.column_label for c in named]))


def letter_rows(conn: Connection, report_id: int) -> list[tuple[str, ...]]:
    """The letter's table rows for one report: one per confirmed finding."""
    meta = report_meta(conn, report_id)
    rows = []
    for number, (_, finding) in enumerate(confirmed_findings(conn, report_id), start=1):
        table, row, column = finding_cells(finding, meta.format)
        where = "；".join(dict.fromkeys(p.describe() for p in finding.locations)) or "位置不详"
        rows.append((str(number), finding.rule, table, row, column, _text(finding.expected), _text(finding.found),
                     where, finding.message))
    return rows


def letter_docx(conn: Connection, report_ids: list[int], sender: str = "政务公开办公室") -> bytes:
    """One letter section per report (a page each): salutation, the count of problems, the table."""
    if not report_ids:
        raise ReviewError("没有要发送审核意见的报告")
    document = new_document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(25)
    style_fonts(document.styles["Normal"], BODY_FONT, Pt(12))
    style_fonts(document.styles["Title"], TITLE_FONT, Pt(18), bold=True)
    style_fonts(document.styles["Heading 1"], HEADING_FONT, Pt(14))
    declare_alternate_fonts(document)
    document.core_properties.title = "政府信息公开工作年度报告审核意见"
    for index, report_id in enumerate(report_ids):
        meta = report_meta(conn, report_id)
        rows = letter_rows(conn, report_id)
        if index:
            document.add_page_break()
        title = document.add_paragraph(style="Title")
        title.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run_fonts(title.add_run(f"关于{meta.agency}{meta.year}年政府信息公开工作年度报告的审核意见"), TITLE_FONT)
        run_fonts(document.add_paragraph().add_run(f"{meta.agency}："), BODY_FONT)
        body = document.add_paragraph()
        body.paragraph_format.first_line_indent = Pt(24)
        intro = (f"经审核，你单位{meta.year}年政府信息公开工作年度报告存在以下 {len(rows)} 处问题，请对照《中华人民共和国政府信息"
                 "公开工作年度报告格式》逐项核实更正后重新报送。" if rows else
                 f"经审核，你单位{meta.year}年政府信息公开工作年度报告未发现需要更正的问题。")
        run_fonts(body.add_run(intro), BODY_FONT)
        if rows:
            table = document.add_table(rows=1, cols=len(LETTER_COLUMNS))
            table.style = "Table Grid"
            table.autofit = False
            for values, font in ((LETTER_COLUMNS, HEADING_FONT), *((r, BODY_FONT) for r in rows)):
                cells = table.rows[0].cells if values is LETTER_COLUMNS else table.add_row().cells
                for cell, value, width in zip(cells, values, _WIDTHS, strict=True):
                    cell.width = Mm(width)
                    run = run_fonts(cell.paragraphs[0].add_run(value), font)
                    run.font.size = Pt(9)
        closing = document.add_paragraph()
        closing.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        run_fonts(closing.add_run(f"{sender}\n{date.today():%Y年%m月%d日}"), BODY_FONT)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def letter_pdf(conn: Connection, report_ids: list[int], sender: str = "政务公开办公室") -> bytes:
    from gongkai.render.pdf import convert_to_pdf

    return convert_to_pdf([("letter.docx", letter_docx(conn, report_ids, sender))])[0]


def read_letter(data: bytes, name: str = "letter.docx") -> list[dict[str, str]]:
    """The findings a letter lists (DOCX or PDF), read back from its tables with gongkai.read:
    one dict per row, keyed by the letter's column headings."""
    from gongkai.read import read_bytes

    document = read_bytes(data, name)
    out: list[dict[str, str]] = []
    header: list[str] | None = None
    for row in document.rows:
        texts = ["".join(t.split()) for t in row.texts]  # a PDF cell's text wraps: its lines are one value
        if tuple(texts[:len(LETTER_COLUMNS)]) == LETTER_COLUMNS:
            header = texts
            continue
        if header and texts and texts[0].isdigit():
            out.append(dict(zip(header, ("".join(t.split("\n")).strip() for t in row.texts), strict=False)))
    return out


def region_reports(conn: Connection, region_text: str, year: int) -> list[int]:
    """The counted reports of a year of the bodies in a region (a division, or a body and its tree)."""
    return [r["report_id"] for r in region_summary(conn, region_text, year) if r["report_id"] is not None]


def _bodies_in(conn: Connection, region_text: str | None) -> list[Any]:
    ordered = select(bodies).order_by(bodies.c.region_code, bodies.c.name)
    if region_text is None:  # every body (an administrator's whole corpus)
        return conn.execute(ordered).all()
    named = conn.scalar(select(bodies.c.id).where(bodies.c.name == region_text))
    if named is not None:
        inside = set(descendants(conn, named))
        return [r for r in conn.execute(ordered).all() if r.id in inside]
    prefix = region_prefix(region_text)
    if prefix is None:
        raise ReviewError(f"{region_text}：既不是库中的单位，也不是可识别的地区")
    return conn.execute(ordered.where(bodies.c.region_code.startswith(prefix, autoescape=True))).all()


def deadline(kind: str, year: int) -> date:
    """Departments by 1月31日, governments by 3月31日 of the next year."""
    return date(year + 1, 3, 31) if kind == "government" else date(year + 1, 1, 31)


def region_summary(conn: Connection, region_text: str | None, year: int, today: date | None = None) -> list[dict[str, Any]]:
    """Per body of the region (None: every body): reported or not, when, late or not, and its problems (failed outcomes:
    confirmed, open, dismissed). A few queries for the whole region, whatever its size (a province has thousands
    of bodies); the review state of a report's failures is read only for the reports that have any."""
    today = today or datetime.now(UTC).date()
    of_year = select(filings.c.id).where(filings.c.year == year)
    filed = {row.body_id: row for row in conn.execute(select(filings.c.id, filings.c.body_id, filings.c.state)
                                                      .where(filings.c.year == year))}
    counted = dict(conn.execute(select(report_versions.c.filing_id, report_versions.c.report_id)
                                .where(report_versions.c.counted, report_versions.c.filing_id.in_(of_year))).all())
    submitted = dict(conn.execute(select(submission_events.c.filing_id, func.min(submission_events.c.at))
                                  .where(submission_events.c.to_state == "submitted", submission_events.c.filing_id.in_(of_year))
                                  .group_by(submission_events.c.filing_id)).all())
    ingested = dict(conn.execute(select(report_versions.c.filing_id, func.min(documents.c.ingested_at))
                                 .join(documents, documents.c.id == report_versions.c.document_id)
                                 .where(report_versions.c.filing_id.in_(of_year)).group_by(report_versions.c.filing_id)).all())
    members = _bodies_in(conn, region_text)
    # Only the region's reports are looked into (a report's outcomes are many: scan no others).
    ids = [counted[filed[b.id].id] for b in members if b.id in filed and filed[b.id].id in counted]
    with_failures: set[int] = set()
    for chunk in range(0, len(ids), 500):
        with_failures.update(conn.scalars(select(outcomes.c.report_id).distinct().where(
            outcomes.c.status == "failed", outcomes.c.report_id.in_(ids[chunk:chunk + 500]))))
    out = []
    for body in members:
        filing = filed.get(body.id)
        report_id = counted.get(filing.id) if filing is not None else None
        reported = (submitted.get(filing.id) or ingested.get(filing.id)) if filing is not None else None
        due = deadline(body.kind, year)
        late = (reported.date() > due) if reported else today > due
        failed = report_outcomes(conn, report_id, {"failed"}) if report_id in with_failures else []
        out.append({"body": body.name, "region": full_name(body.region_code) if body.region_code else None,
                    "kind": body.kind, "report_id": report_id, "reported": reported.isoformat() if reported else None,
                    "deadline": due.isoformat(), "late": late,
                    "state": STATE_NAMES[filing.state] if filing is not None else "未报送",
                    "confirmed": sum(i["review"] == "confirmed" for i in failed),
                    "open": sum(i["review"] in ("open", "reopened") for i in failed),
                    "errors": sum(i["severity"] == "error" for i in failed)})
    return out


SUMMARY_COLUMNS = {"body": "单位", "region": "地区", "kind": "类型", "state": "状态", "reported": "报送时间",
                   "deadline": "截止日期", "late": "逾期", "confirmed": "已确认问题", "open": "待审问题", "errors": "错误"}


def region_summary_xlsx(conn: Connection, region_text: str, year: int, today: date | None = None) -> bytes:
    import openpyxl

    from gongkai.review.bodies import KINDS

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = f"{year}年度报送情况"
    sheet.append(list(SUMMARY_COLUMNS.values()))
    for row in region_summary(conn, region_text, year, today):
        values = {**row, "kind": KINDS.get(row["kind"], row["kind"]), "late": "是" if row["late"] else "否",
                  "reported": row["reported"][:10] if row["reported"] else "未报送"}
        sheet.append([values[k] for k in SUMMARY_COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
