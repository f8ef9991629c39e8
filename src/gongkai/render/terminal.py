"""The three tables, readable in a terminal (rich), drawn from the same grid as every other output.

A terminal has no merged cells: a label merged down several rows (三、本年度办理结果, （三）不予公开)
prints once as a heading line above the rows it covers, which are indented under it; a header
merged across columns prints above each column it covers. Every text from the document is a rich
Text, never markup: a title holding `[/]` or `[link=…]` prints as it is written.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from gongkai.formats import load_format
from gongkai.model import Report
from gongkai.render.layout import Grid, GridCell, anchors, table_grid

_BLANK = Text("·", style="dim")


def console_for_output(stderr: bool = False) -> Console:
    """A console that never cuts a line when the output goes to a file or a pipe."""
    console = Console(stderr=stderr, highlight=False)
    if not console.is_terminal:
        console.width = 240
    return console


def _sections(grid: Grid) -> list[tuple[list[tuple[int, int, GridCell]], list[int]]]:
    """The grid cut where a run of header rows begins: (anchors of the section, its figure rows)."""
    placed = anchors(grid)
    figure_rows = {r for r, _, cell in placed if cell.key}
    out: list[tuple[list[tuple[int, int, GridCell]], list[int]]] = []
    start = 0
    for r in range(1, len(grid) + 1):
        if r == len(grid) or (r not in figure_rows and r - 1 in figure_rows):
            rows = set(range(start, r))
            out.append(([a for a in placed if a[0] in rows], sorted(rows & figure_rows)))
            start = r
    return out


def _covers(anchor: tuple[int, int, GridCell], row: int | None = None, column: int | None = None) -> bool:
    r, c, cell = anchor
    return ((row is None or r <= row < r + cell.rowspan)
            and (column is None or c <= column < c + cell.colspan))


def section_table(placed: list[tuple[int, int, GridCell]], figure_rows: list[int], title: str) -> tuple[Text, RichTable]:
    """One run of header rows and the figure rows under them: its title and a rich table."""
    columns = sorted({c for r, c, cell in placed if cell.key and r in figure_rows})
    first_figure = columns[0] if columns else 0
    headers = [a for a in placed if a[0] < (figure_rows[0] if figure_rows else len(placed)) and a[2].header]
    # A banner heads the whole section (申请人情况, a 第二十条 block's heading): it joins the title.
    banners = [a for a in headers if columns and all(_covers(a, column=c) for c in columns)
               and (len(columns) > 1 or a[1] < first_figure)]
    label_header = next((a[2].text for a in headers if a[1] < first_figure and a[2].text and a not in banners), "")
    for _, _, cell in banners:
        title = f"{title} · {cell.text}" if cell.text else title
    table = RichTable(show_lines=False)
    has_labels = any(c < first_figure for r, c, cell in placed if r in figure_rows)
    if has_labels:
        table.add_column(Text(label_header), overflow="fold")
    for column in columns:
        lines = [a[2].text for a in headers if a not in banners and _covers(a, column=column) and a[2].text]
        table.add_column(Text("\n".join(dict.fromkeys(lines))), justify="right", overflow="fold")
    for r in figure_rows:
        labels = [a for a in placed if a[1] < first_figure and _covers(a, row=r)]
        own = " ".join(a[2].text for a in labels if a[0] == r and a[2].rowspan == 1 and a[2].text)
        for a in labels:
            if a[0] == r and a[2].rowspan > 1:  # a label merged down: a heading over its rows
                depth = sum(1 for b in labels if b[2].rowspan > 1 and b[0] < r)
                table.add_row(Text("  " * depth + a[2].text), *([""] * len(columns)))
        depth = sum(1 for a in labels if a[2].rowspan > 1)
        figures = {c: cell for row, c, cell in placed if row == r and cell.key}
        cells = [Text(figures[c].text) if c in figures and figures[c].text else _BLANK for c in columns]
        table.add_row(*([Text("  " * depth + own)] if has_labels else []), *cells)
    return Text(title), table


def print_report(report: Report, console: Console | None = None) -> None:
    console = console or console_for_output()
    fmt = load_format(report.format)
    heading = f"{report.agency or '（单位不详）'} {report.year or ''} 年 · 格式 {fmt.id} · {report.source or ''}"
    console.rule(Text(heading))
    for table in fmt.tables:
        seen = report.tables.get(table.key)
        found = "" if seen is None or seen.found else "（未找到）"
        for placed, figure_rows in _sections(table_grid(table, report, fmt)):
            console.print(*section_table(placed, figure_rows, f"表{table.number} {table.title}{found}"), sep="\n")
    for note in report.notes:
        console.print(Text.assemble(("注意", "yellow"), " ", note))
