"""The documents the law requires (补正告知书, 征求意见书, 延期答复告知书, 答复书 for each outcome),
filled from an application and rendered as DOCX (python-docx, in the report renderer's fonts) or PDF
(LibreOffice, gongkai.render.pdf). The wording is data: data/documents.yaml, or a body's own file."""

from __future__ import annotations

import datetime as dt
import io
import string
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from docx import Document as new_document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt

from gongkai.ledger.deadlines import THIRD_PARTY_DAYS, count_working_days, reply_deadline
from gongkai.ledger.models import Application, EventKind
from gongkai.ledger.roles import LedgerError
from gongkai.render.docx import BODY_FONT, TITLE_FONT, run_fonts, style_fonts

DOCUMENT_KINDS = {"correction_notice": "补正告知书", "consultation": "征求意见书", "extension": "延期答复告知书",
                  "reply": "答复书"}
UNFILLED = "＿＿＿＿"  # what a blank in the form prints as: the author fills it in by hand


@lru_cache
def shipped_templates() -> dict[str, Any]:
    return yaml.safe_load((resources.files(__package__) / "data" / "documents.yaml").read_text(encoding="utf-8"))


def load_templates(path: str | Path | None = None) -> dict[str, Any]:
    """The shipped templates, with a body's own file (same form) laid over them."""
    templates = {k: dict(v) for k, v in shipped_templates().items()}
    if path is None:
        return templates
    try:
        own = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise LedgerError(f"{path}: 无法读取文书模板 ({exc})") from exc
    for part in ("remedies", "documents", "outcomes"):
        templates[part].update(own.get(part) or {})
    return templates


class _Blanks(dict):
    def __missing__(self, key: str) -> str:
        return UNFILLED


def _fill(text: str, values: dict[str, Any]) -> str:
    return string.Formatter().vformat(text, (), _Blanks({k: v for k, v in values.items() if v not in (None, "")}))


def _date(day: dt.date | None) -> str | None:
    return f"{day.year}年{day.month}月{day.day}日" if day else None


def document_text(app: Application, kind: str, templates: dict[str, Any] | None = None,
                  extra: dict[str, Any] | None = None) -> tuple[str, list[str]]:
    """(title, paragraphs) of one document for the application; blanks the record cannot fill print
    as ＿＿＿＿ for the author."""
    templates = templates or load_templates()
    if kind not in templates["documents"]:
        raise LedgerError(f"没有文书模板 {kind}，可用：" + "、".join(templates["documents"]))
    template = templates["documents"][kind]
    values: dict[str, Any] = {"body": app.body, "number": app.number or app.id, "applicant_name": app.applicant_name,
                              "received_on": _date(app.received_on), "content": app.content}
    events = {e.kind: e for e in sorted(app.events, key=lambda e: e.on)}
    if notice := events.get(EventKind.correction_notice):
        if notice.days:
            values["correction_until"] = _date(count_working_days(notice.on, notice.days).end)
        values["correction_items"] = notice.note
    if sent := events.get(EventKind.consultation_sent):
        values["consultation_until"] = _date(count_working_days(sent.on, THIRD_PARTY_DAYS).end)
        values["third_party"] = sent.note
    if EventKind.extension in events:
        values["extension_days"] = sum(e.days or 0 for e in app.events if e.kind is EventKind.extension)
        values["new_due_on"] = _date(reply_deadline(app).due_on)
    values |= extra or {}
    if kind == "reply":
        outcome = _reply_outcome(app)
        wording = templates["outcomes"].get(outcome)
        if wording is None:
            raise LedgerError(f"答复结果 {outcome} 没有答复书模板")
        values["decision"] = _fill(wording["decision"], values)
        values["remedy"] = _fill(templates["remedies"][wording["remedy"]], values)
        values["reply_on"] = _date(app.closed_on())
    paragraphs = [_fill(p, values) for p in template["paragraphs"]]
    return template["title"], paragraphs


def _reply_outcome(app: Application) -> str:
    from gongkai.ledger.roles import current_roles

    closing = app.closing_event()
    if closing is None:
        raise LedgerError("该申请尚未答复或办结，无法生成答复书")
    if closing.kind is EventKind.reply:
        return closing.outcome or ""
    return current_roles().closing_outcomes[closing.kind.value]


def render_document_docx(app: Application, kind: str, templates: dict[str, Any] | None = None,
                         extra: dict[str, Any] | None = None, signed_on: dt.date | None = None) -> bytes:
    title, paragraphs = document_text(app, kind, templates, extra)
    document = new_document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(37)
    section.left_margin = section.right_margin = Mm(27)
    style_fonts(document.styles["Normal"], BODY_FONT, Pt(16))
    heading = document.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = run_fonts(heading.add_run(title), TITLE_FONT)
    run.font.size, run.font.bold = Pt(22), True
    if app.number:
        numbered = document.add_paragraph()
        numbered.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run_fonts(numbered.add_run(f"（{app.number}）"), BODY_FONT)
    for i, text in enumerate(paragraphs):
        paragraph = document.add_paragraph()
        if i:  # the first line is the addressee, flush left
            paragraph.paragraph_format.first_line_indent = Pt(32)
        run_fonts(paragraph.add_run(text), BODY_FONT)
    for line in (app.body, _date(signed_on or dt.date.today())):
        closing = document.add_paragraph()
        closing.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        run_fonts(closing.add_run(line or ""), BODY_FONT)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def render_document_pdf(app: Application, kind: str, templates: dict[str, Any] | None = None,
                        extra: dict[str, Any] | None = None, signed_on: dt.date | None = None) -> bytes:
    from gongkai.render.pdf import convert_to_pdf

    return convert_to_pdf([(f"{kind}.docx", render_document_docx(app, kind, templates, extra, signed_on))])[0]
