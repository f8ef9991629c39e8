"""A report as Markdown (or plain text with tab-separated tables): the official sections and tables."""

from __future__ import annotations

from gongkai.formats import load_format
from gongkai.model import Report
from gongkai.render.layout import Grid, anchors, dense, table_grid


def joined_labels(grid: Grid) -> list[list[str]]:
    """The grid's rows with its label columns (those no figure sits in) joined into one.

    Markdown has no merged cells: a label merged across three columns would leave two blank cells
    before the figures, which a reader cannot tell from blank figures (a row whose 总计 is not stated)."""
    figure_columns = {c + dc for _, c, cell in anchors(grid) if cell.key for dc in range(cell.colspan)}
    rows = dense(grid)
    labels = [c for c in range(len(rows[0])) if c not in figure_columns]
    if len(labels) < 2:
        return rows
    out = []
    for row in rows:
        joined = " ".join(row[c] for c in labels if row[c])
        out.append([joined if c == labels[0] else text for c, text in enumerate(row) if c == labels[0] or c not in labels])
    return out


def _pipe(rows: list[list[str]]) -> list[str]:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "｜").replace("\n", "") for c in cells) + " |"

    return [line(rows[0]), "|" + "---|" * len(rows[0])] + [line(r) for r in rows[1:]]


def render_markdown(report: Report, tables: str = "pipe") -> str:
    """tables: 'pipe' (Markdown pipe tables, label columns joined into one) or 'tabs' (tab-separated
    rows with every column of the official grid, as pasted from Word)."""
    fmt = load_format(report.format)
    title = report.title or fmt.default_title(report.agency, report.year)
    out = [f"# {title}", ""]
    texts = {s.number: s.text for s in report.sections}
    by_section = {t.section: t for t in fmt.tables}
    for section in fmt.sections:
        out += [f"## {section.number}、{section.title}", ""]
        if texts.get(section.number):
            out += [texts[section.number], ""]
        table = by_section.get(section.number)
        if table is not None:
            grid = table_grid(table, report, fmt)
            out += _pipe(joined_labels(grid)) if tables == "pipe" else ["\t".join(r) for r in dense(grid)]
            out.append("")
    return "\n".join(out)
