"""A report as Markdown (or plain text with tab-separated tables): the official sections and tables."""

from __future__ import annotations

from gongkai.formats import load_format
from gongkai.model import Report
from gongkai.render.layout import dense, table_grid


def _pipe(rows: list[list[str]]) -> list[str]:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "｜").replace("\n", "") for c in cells) + " |"

    return [line(rows[0]), "|" + "---|" * len(rows[0])] + [line(r) for r in rows[1:]]


def render_markdown(report: Report, tables: str = "pipe") -> str:
    """tables: 'pipe' (Markdown pipe tables) or 'tabs' (tab-separated rows, as pasted from Word)."""
    fmt = load_format(report.format)
    title = report.title or f"{report.agency or ''}{report.year or ''}年政府信息公开工作年度报告"
    out = [f"# {title}", ""]
    texts = {s.number: s.text for s in report.sections}
    by_section = {t.section: t for t in fmt.tables}
    for section in fmt.sections:
        out += [f"## {section.number}、{section.title}", ""]
        if texts.get(section.number):
            out += [texts[section.number], ""]
        table = by_section.get(section.number)
        if table is not None:
            rows = dense(table_grid(table, report, fmt))
            out += _pipe(rows) if tables == "pipe" else ["\t".join(r) for r in rows]
            out.append("")
    return "\n".join(out)
