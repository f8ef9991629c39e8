"""Text layouts real reports arrive in, written from a Report: the tests' documents.

Each writer prints the same report the way one kind of conversion breaks it, so a test can parse
it back and compare every cell.
"""

from __future__ import annotations

from gongkai.formats import load_format
from gongkai.model import Report
from gongkai.render.layout import dense, table_grid
from gongkai.render.markdown import render_markdown
from gongkai.text import is_number


def _document(report: Report, table_lines) -> str:
    fmt = load_format(report.format)
    out = [f"{report.agency} {report.year} 年政府信息公开工作年度报告", ""]
    texts = {s.number: s.text for s in report.sections}
    by_section = {t.section: t for t in fmt.tables}
    for section in fmt.sections:
        out += [f"{section.number}、{section.title}", "", texts.get(section.number, ""), ""]
        if section.number in by_section:
            out += table_lines(dense(table_grid(by_section[section.number], report, fmt)))
            out.append("")
    return "\n".join(out)


def tabs(report: Report) -> str:
    """Tables pasted from Word or a web page: one row a line, cells between tabs."""
    return render_markdown(report, tables="tabs")


def pipes(report: Report) -> str:
    return render_markdown(report, tables="pipe")


def one_cell_per_line(report: Report) -> str:
    """DOCX converted to text: each cell on its own line behind a tab, a blank line between rows,
    long labels wrapped onto a second line without the tab."""

    def lines(rows: list[list[str]]) -> list[str]:
        out = []
        for row in rows:
            out.append("")
            for cell in row:
                if len(cell) > 12 and not cell.startswith("（本列"):
                    out += ["\t" + cell[:8], cell[8:]]
                else:
                    out.append("\t" + cell)
        return out

    return _document(report, lines)


def pdf_text(report: Report) -> str:
    """Text extracted from a PDF: cells separated by spaces, empty cells gone, long labels broken
    across lines, and the vertical 本年度办理结果 header split into fragments."""

    def lines(rows: list[list[str]]) -> list[str]:
        out = []
        fragments = iter(["三、", "本年", "度办", "理 结", "果"])
        for row in rows:
            cells = [c for c in row if c]
            if not cells:
                continue
            labels = [c for c in cells if not is_number(c)]
            figures = [c for c in cells if is_number(c)]
            label = " ".join(labels).replace("三、本年度办理结果", "").strip()
            if figures and len(label) > 16:
                out.append(label[:14])
                label = label[14:]
            if figures and len(figures) > 1 and label and not label.startswith(("一、", "二、", "四、")):
                label = (next(fragments, "") + " " + label).strip()
            out.append(" ".join([label, *figures]).strip())
        return out

    return _document(report, lines)
