"""填报: an author fills in the report in the browser — the official tables as a form, the sections
as text — sees the checks live, and submits it through the gate (errors block unless an
administrator overrides). The submitted report is stored in the corpus as its Markdown rendering,
which the parser reads back to the same cells, by the ingest's own writer."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Engine, select

from gongkai.formats import DEFAULT_FORMAT, Format, load_format, split_term
from gongkai.model import Finding, Report
from gongkai.read.data import DataError, report_from_flat
from gongkai.render.layout import table_grid
from gongkai.render.template import blank_report, for_rendering
from gongkai.store.query import load_report
from gongkai.store.schema import reports

CELL_FIELD = "cell:"
SECTION_FIELD = "section:"


def stored_report(engine: Engine, agency: str, year: int) -> Report | None:
    """The body's newest stored report for the year, if any."""
    with engine.connect() as conn:
        report_id = conn.scalar(select(reports.c.id).where(reports.c.agency == agency, reports.c.year == year)
                                .order_by(reports.c.id.desc()).limit(1))
        return load_report(conn, report_id).report if report_id else None


def filing_state(engine: Engine, agency: str, year: int) -> str | None:
    """The submission state of the body's report for the year (None: nothing stored yet)."""
    from gongkai.review.workflow import state

    with engine.connect() as conn:
        report_id = conn.scalar(select(reports.c.id).where(reports.c.agency == agency, reports.c.year == year).limit(1))
        return state(conn, report_id) if report_id else None


def carry_overs(fmt: Format, previous: Report) -> dict[str, Any]:
    """This year's cells that a cross-year rule sets equal to one of last year's (本年上年结转 =
    上年结转下年度继续办理), with last year's values: the figures to pre-fill."""
    out: dict[str, Any] = {}
    for rule in fmt.rules:
        lhs, rhs = getattr(rule, "lhs", ()), getattr(rule, "rhs", ())
        if rule.kind != "sum" or len(lhs) != 1 or len(rhs) != 1:
            continue
        (this_sign, this_prev, _), (prev_sign, prev_prev, _) = split_term(lhs[0]), split_term(rhs[0])
        if this_prev or not prev_prev or this_sign != prev_sign:
            continue
        for binding in rule.bindings(fmt):
            key, source = split_term(lhs[0], binding)[2], split_term(rhs[0], binding)[2]
            if key in fmt.all_cells and previous.value(source) is not None:
                out[key] = previous.value(source)
    return out


def draft(engine: Engine, agency: str, year: int, format_id: str | None = None) -> tuple[Report, list[str]]:
    """What the form starts from: this year's stored report, else a blank one with last year's
    carry-overs; and notes on where the figures came from."""
    existing = stored_report(engine, agency, year)
    if existing is not None:
        return existing, [f"已载入库中 {year} 年的报告，可修改后重新提交"]
    report = blank_report(format_id or DEFAULT_FORMAT)
    fmt = load_format(report.format)
    report.agency, report.year = agency, year
    report.title = fmt.default_title(agency, year)
    notes = []
    previous = stored_report(engine, agency, year - 1)
    if previous is not None:
        for key, value in carry_overs(fmt, previous).items():
            report.cells[key].value = value
        notes.append(f"已按 {year - 1} 年报告预填上年结转的数字")
    return report, notes


def form_grids(report: Report) -> list[tuple[str, Any]]:
    fmt = load_format(report.format)
    return [(table.title, table_grid(table, report, fmt)) for table in fmt.tables]


def report_from_form(form: Any, agency: str, year: int, format_id: str) -> Report:
    """The report the form describes, laid out as it will print (the checks see its tables);
    DataError names each field that is no number."""
    flat: dict[str, Any] = {"agency": agency, "year": year, "format": format_id, "title": form.get("title") or None}
    for name, value in form.multi_items():
        if name.startswith(CELL_FIELD):
            flat[name.removeprefix(CELL_FIELD)] = value.strip() if isinstance(value, str) and value.strip() else None
        elif name.startswith(SECTION_FIELD):
            flat[f"sections.{name.removeprefix(SECTION_FIELD)}"] = value if isinstance(value, str) else None
    return for_rendering(report_from_flat(flat, "填报"), "填报")


def check(report: Report) -> list[Finding]:
    from gongkai.check import check_report

    return check_report(report)


def document_bytes(report: Report) -> tuple[str, bytes]:
    """The submitted report as the document stored for it: its Markdown rendering."""
    from gongkai.render.markdown import render_markdown

    text = render_markdown(report, tables="tabs").encode("utf-8")
    return f"填报/{report.agency}-{report.year}-{hashlib.sha256(text).hexdigest()[:8]}.md", text


def store(engine: Engine, report: Report) -> int:
    """Store the submitted report through the ingest (parsed back from its rendering, then checked);
    returns the new report's id."""
    from gongkai.review.hook import after_write
    from gongkai.store.ingest import Job, run
    from gongkai.store.schema import documents

    name, data = document_bytes(report)
    digest = hashlib.sha256(data).hexdigest()
    run(engine, [Job(name, digest, len(data), data)], workers=1, after_write=after_write)
    with engine.connect() as conn:
        return conn.scalar(select(reports.c.id).join(documents, documents.c.id == reports.c.document_id)
                           .where(documents.c.sha256 == digest))


__all__ = ["DataError", "carry_overs", "check", "draft", "form_grids", "report_from_form", "store"]
