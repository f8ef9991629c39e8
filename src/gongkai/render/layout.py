"""The official layout of the three tables as grids of text, for every renderer.

Each table becomes a list of rows of GridCells (text, rowspan, colspan) drawn the way the format
draws it: table 三 with its three-row header and merged group labels, table 四 with its two-level
header. Renderers (Markdown, HTML, DOCX, PDF) only decide how to print a grid.
"""

from __future__ import annotations

from dataclasses import dataclass

from gongkai.formats import Format, Table
from gongkai.model import Report
from gongkai.text import figure_text


@dataclass
class GridCell:
    text: str
    rowspan: int = 1
    colspan: int = 1
    header: bool = False
    key: str | None = None  # the cell key for a figure


Grid = list[list[GridCell]]


def figure(value) -> str:
    return figure_text(value)


def _value_cell(report: Report, key: str) -> GridCell:
    return GridCell(figure(report.value(key)), key=key)


def blocks_grid(table: Table, report: Report) -> Grid:
    """Table 二: for each 第二十条 block a heading row, a column-label row and its rows."""
    width = 1 + max(len(b.columns) for b in table.blocks)
    grid: Grid = []
    for block in table.blocks:
        grid.append([GridCell(block.heading or "", colspan=width, header=True)])
        header = [GridCell(table.row_header or "", header=True)] + [GridCell(c.label, header=True) for c in block.columns]
        if len(block.columns) < width - 1:
            header[-1].colspan = width - len(block.columns)
        grid.append(header)
        for row in block.rows:
            cells = [GridCell(row.label, header=True)]
            cells += [_value_cell(report, f"{table.key}.{row.key}.{c.key}") for c in block.columns]
            if len(block.columns) < width - 1:
                cells[-1].colspan = width - len(block.columns)
            grid.append(cells)
    return grid


def applications_grid(table: Table, report: Report, fmt: Format) -> Grid:
    """Table 三: three header rows, then a row per format row with its group labels merged."""
    columns = table.blocks[0].columns
    rows = [r for r in table.all_rows if not r.optional or _has_row(report, table, r.key)]
    if any(r.optional for r in rows):  # a report printing （六） as one row has no sub-rows
        rows = [r for r in rows if not r.key.startswith("other.") or r.optional]
    org = [c for c in columns if c.group]
    grid: Grid = [
        [GridCell(table.note or "", rowspan=3, colspan=3, header=True),
         GridCell(table.column_header or "", colspan=len(columns), header=True)],
        [GridCell(columns[0].label, rowspan=2, header=True),
         GridCell(org[0].group or "", colspan=len(org), header=True),
         GridCell(columns[-1].label, rowspan=2, header=True)],
        [GridCell(c.label, header=True) for c in org],
    ]
    # Group labels: 三、本年度办理结果 spans every outcome row; （三）不予公开 its sub-rows.
    outcome = [r for r in rows if r.group or r.key.startswith("other")]
    outcome_start = rows.index(outcome[0]) if outcome else None
    i = 0
    while i < len(rows):
        row = rows[i]
        line: list[GridCell] = []
        if outcome and i == outcome_start:
            # The outcome rows' common group label (三、本年度办理结果), merged down their side.
            line.append(GridCell(outcome[0].group or "", rowspan=len(outcome), header=True))
        in_outcome = outcome and outcome_start is not None and outcome_start <= i < outcome_start + len(outcome)
        if not in_outcome:
            line.append(GridCell(row.label, colspan=3, header=True))
        elif row.group and row.group.startswith("（") and "." in row.label[:3]:
            first_of_group = i == 0 or rows[i - 1].group != row.group
            if first_of_group:
                span = sum(1 for r in rows if r.group == row.group)
                line.append(GridCell(row.group, rowspan=span, header=True))
            line.append(GridCell(row.label, header=True))
        else:
            line.append(GridCell(row.label, colspan=2, header=True))
        line += [_value_cell(report, f"{table.key}.{row.key}.{c.key}") for c in columns]
        grid.append(line)
        i += 1
    return grid


def _has_row(report: Report, table: Table, row_key: str) -> bool:
    return any(k.startswith(f"{table.key}.{row_key}.") for k in report.cells)


def appeals_grid(table: Table, report: Report) -> Grid:
    """Table 四: 行政复议 | 行政诉讼 (未经复议直接起诉 | 复议后起诉), each over its five columns, one line of figures."""
    columns = table.blocks[0].columns
    rows = table.all_rows
    k = len(columns)
    top = [GridCell(rows[0].label, colspan=k, header=True)]
    litigation = [r for r in rows if r.group]
    if litigation:
        top.append(GridCell(litigation[0].group or "", colspan=k * len(litigation), header=True))
    second = [GridCell(c.label, rowspan=2, header=True) for c in columns]
    second += [GridCell(r.label, colspan=k, header=True) for r in litigation]
    third = [GridCell(c.label, header=True) for _ in litigation for c in columns]
    figures = [_value_cell(report, f"{table.key}.{r.key}.{c.key}") for r in rows for c in columns]
    return [top, second, third, figures]


def table_grid(table: Table, report: Report, fmt: Format) -> Grid:
    if table.layout == "blocks":
        return blocks_grid(table, report)
    if table.layout == "grid":
        return applications_grid(table, report, fmt)
    return appeals_grid(table, report)


def anchors(grid: Grid) -> list[tuple[int, int, GridCell]]:
    """(row, column, cell) of each grid cell's top-left corner, skipping positions spans cover."""
    taken: set[tuple[int, int]] = set()
    out = []
    for r, row in enumerate(grid):
        c = 0
        for cell in row:
            while (r, c) in taken:
                c += 1
            out.append((r, c, cell))
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    taken.add((r + dr, c + dc))
            c += cell.colspan
    return out


def dense(grid: Grid) -> list[list[str]]:
    """The grid with spans expanded: a merged cell's text at its top-left, blanks where it spans."""
    placed = anchors(grid)
    height = max(r + cell.rowspan for r, _, cell in placed)
    width = max(c + cell.colspan for _, c, cell in placed)
    out = [[""] * width for _ in range(height)]
    for r, c, cell in placed:
        out[r][c] = cell.text
    return out
