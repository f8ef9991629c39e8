"""A report as Markdown (or plain text with tab-separated tables): the official sections and tables."""

from __future__ import annotations

import html
import re

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


_MARKUP = re.compile(r"([\\`*_\[\]{}~])")
_LINE_START = re.compile(r"^(\s*)(#|>|[-+](?=\s)|\d+(?=[.)]\s?))")


def markdown_text(text: str, inline: bool = False) -> str:
    """Text from a report as Markdown shows it, never as markup: HTML (<script>, <img onerror>)
    as entities, emphasis, links and code escaped, and (unless inline, as in a table cell) a line
    never read as a heading, quote or list."""
    text = html.escape(text, quote=False)
    text = _MARKUP.sub(r"\\\1", text)
    if inline:
        return text
    return _LINE_START.sub(lambda m: m[1] + "\\" + m[2] if not m[2][0].isdigit() else m[1] + m[2] + "\\", text)


def _pipe(rows: list[list[str]]) -> list[str]:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(markdown_text(c.replace("|", "｜").replace("\n", ""), inline=True) for c in cells) + " |"

    return [line(rows[0]), "|" + "---|" * len(rows[0])] + [line(r) for r in rows[1:]]


def render_markdown(report: Report, tables: str = "pipe") -> str:
    """tables: 'pipe' (Markdown pipe tables, label columns joined into one) or 'tabs' (tab-separated
    rows with every column of the official grid, as pasted from Word)."""
    fmt = load_format(report.format)
    title = report.title or fmt.default_title(report.agency, report.year)
    # Markdown escapes the report's text; plain text (tabs) prints it as it is.
    text = markdown_text if tables == "pipe" else (lambda t: t)
    out = [f"# {text(title)}", ""]
    texts = {s.number: s.text for s in report.sections}
    by_section = {t.section: t for t in fmt.tables}
    for section in fmt.sections:
        out += [f"## {section.number}、{section.title}", ""]
        for paragraph in (texts.get(section.number) or "").splitlines():  # a blank line between paragraphs
            if paragraph.strip():
                out += [text(paragraph.strip()), ""]
        table = by_section.get(section.number)
        if table is not None:
            grid = table_grid(table, report, fmt)
            out += _pipe(joined_labels(grid)) if tables == "pipe" else ["\t".join(r) for r in dense(grid)]
            out.append("")
    return "\n".join(out)
