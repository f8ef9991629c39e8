"""A report as a web page in the official layout: title, the six sections, the three tables with
their merged header and label cells drawn as real rowspan/colspan."""

from __future__ import annotations

from html import escape

from gongkai.formats import load_format
from gongkai.model import Report
from gongkai.render.layout import Grid, table_grid

_CSS = """
body { font-family: "Noto Serif CJK SC", "SimSun", "宋体", "Songti SC", serif; font-size: 16px;
       line-height: 1.8; max-width: 960px; margin: 2em auto; padding: 0 1em; color: #000; }
h1 { font-family: "Noto Serif CJK SC", "SimSun", serif; font-size: 24px; text-align: center; }
h2 { font-family: "Noto Sans CJK SC", "SimHei", "黑体", sans-serif; font-size: 18px; margin-top: 1.5em; }
p { text-indent: 2em; margin: 0.4em 0; }
table { border-collapse: collapse; width: 100%; margin: 1em 0; font-size: 13px; line-height: 1.4; }
th, td { border: 1px solid #000; padding: 4px 6px; vertical-align: middle; }
th { font-weight: normal; text-align: left; }
th.column { text-align: center; }
td { text-align: center; }
"""


def _paragraphs(text: str) -> list[str]:
    return [f"<p>{escape(line.strip())}</p>" for line in text.splitlines() if line.strip()]


def grid_html(grid: Grid, table_key: str) -> str:
    """One <table>: header cells as <th>, figures as <td>, spans as the grid draws them."""
    # Border attributes as well as CSS: Word and LibreOffice open HTML without applying the CSS borders.
    out = [f'<table class="{escape(table_key)}" border="1" cellspacing="0" cellpadding="4">']
    for row in grid:
        cells = []
        for cell in row:
            tag = "th" if cell.header else "td"
            attrs = ""
            if cell.rowspan > 1:
                attrs += f' rowspan="{cell.rowspan}"'
            if cell.colspan > 1:
                attrs += f' colspan="{cell.colspan}"'
            if cell.header and all(c.header for c in row):
                attrs += ' class="column"'  # a header row's labels are centred, row labels are not
            if cell.key:
                attrs += f' data-key="{escape(cell.key)}"'
            cells.append(f"<{tag}{attrs}>{escape(cell.text)}</{tag}>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def render_html(report: Report) -> str:
    fmt = load_format(report.format)
    title = report.title or fmt.default_title(report.agency, report.year)
    texts = {s.number: s.text for s in report.sections}
    by_section = {t.section: t for t in fmt.tables}
    body = [f"<h1>{escape(title)}</h1>"]
    for section in fmt.sections:
        body.append(f"<h2>{escape(section.number)}、{escape(section.title)}</h2>")
        body += _paragraphs(texts.get(section.number, ""))
        table = by_section.get(section.number)
        if table is not None:
            body.append(grid_html(table_grid(table, report, fmt), table.key))
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{escape(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        *body,
        "</body>",
        "</html>",
        "",
    ])
