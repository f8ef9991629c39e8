"""The official layout of the three tables as grids of text, for every renderer.

Each table becomes a list of rows of GridCells (text, rowspan, colspan) drawn the way the format
definition says: headers from the columns' groups, row labels from the rows' groups, merged where
they are shared (table 三's three-row header and its nested outcome groups, table 四's two-level
header). Nothing here knows a row or a column by name, so a format with another column group or
another nested row is drawn without code. Renderers (terminal, Markdown, HTML, DOCX, PDF, the xlsx
template, the web pages) only decide how to print a grid.
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
    stated = table.stated_rows(report.cells)
    grid: Grid = []
    for block in table.blocks:
        grid.append([GridCell(block.heading or "", colspan=width, header=True)])
        header = [GridCell(table.row_header or "", header=True)] + [GridCell(c.label, header=True) for c in block.columns]
        if len(block.columns) < width - 1:
            header[-1].colspan = width - len(block.columns)
        grid.append(header)
        for row in table.printed_rows(block, stated):
            cells = [GridCell(row.label, header=True)]
            cells += [_value_cell(report, f"{table.key}.{row.key}.{c.key}") for c in block.columns]
            if len(block.columns) < width - 1:
                cells[-1].colspan = width - len(block.columns)
            grid.append(cells)
    return grid


@dataclass(frozen=True)
class Span:
    """One label of a header tree: it starts at leaf `start`, covers `count` leaves along the tree's
    axis and `depth` levels across it (a leaf shallower than the tree stretches to its bottom)."""

    start: int
    text: str
    count: int
    depth: int


def span_levels(paths: list[tuple[str, ...]], depth: int | None = None) -> list[list[Span]]:
    """The labels of a tree given by its leaves' paths (outermost label first), level by level.

    Consecutive leaves that share a path prefix share its labels: the columns 商业企业 … 其他 under one
    法人或其他组织, the rows 1. … 8. under one （三）不予公开 under one 三、本年度办理结果."""
    depth = depth or max(len(p) for p in paths)
    levels: list[list[Span]] = [[] for _ in range(depth)]
    for level in range(depth):
        i = 0
        while i < len(paths):
            path = paths[i]
            if level >= len(path):
                i += 1
            elif level == len(path) - 1:  # the leaf's own label, down to the bottom level
                levels[level].append(Span(i, path[level], 1, depth - level))
                i += 1
            else:
                j = i + 1
                while j < len(paths) and len(paths[j]) > level + 1 and paths[j][: level + 1] == path[: level + 1]:
                    j += 1
                levels[level].append(Span(i, path[level], j - i, 1))
                i = j
    return levels


def header_rows(paths: list[tuple[str, ...]], corner: GridCell | None = None) -> Grid:
    """Header rows over columns whose label paths are given: each level one grid row, spans merged."""
    levels = span_levels(paths)
    rows: Grid = [[GridCell(s.text, rowspan=s.depth, colspan=s.count, header=True) for s in level] for level in levels]
    if corner is not None:
        corner.rowspan = len(levels)
        rows[0].insert(0, corner)
    return rows


def row_labels(paths: list[tuple[str, ...]], depth: int) -> list[list[GridCell]]:
    """For each row, the label cells that start on it (group labels merged down the rows they cover),
    `depth` label columns wide."""
    out: list[list[GridCell]] = [[] for _ in paths]
    for level in span_levels(paths, depth):
        for s in level:
            out[s.start].append(GridCell(s.text, rowspan=s.count, colspan=s.depth, header=True))
    return out


def label_depth(table: Table) -> int:
    return max(len(row.groups) + 1 for row in table.all_rows)


def grid_table(table: Table, report: Report) -> Grid:
    """Rows × shared columns (table 三): the header from the columns' groups, the rows' labels from
    their groups, the note in the corner."""
    block = table.blocks[0]
    columns = block.columns
    rows = table.printed_rows(block, table.stated_rows(report.cells))
    top = (table.column_header,) if table.column_header else ()
    width = label_depth(table)
    grid = header_rows([(*top, *c.groups, c.label) for c in columns],
                       corner=GridCell(table.note or "", colspan=width, header=True))
    labels = row_labels([(*r.groups, r.label) for r in rows], width)
    for row, label_cells in zip(rows, labels, strict=True):
        grid.append(label_cells + [_value_cell(report, f"{table.key}.{row.key}.{c.key}") for c in columns])
    return grid


def line_table(table: Table, report: Report) -> Grid:
    """Rows side by side on one line of figures (table 四): each row a group of the header over its
    columns, the rows' own groups above them."""
    block = table.blocks[0]
    rows = table.printed_rows(block, table.stated_rows(report.cells))
    paths = [(*r.groups, r.label, *c.groups, c.label) for r in rows for c in block.columns]
    grid = header_rows(paths)
    grid.append([_value_cell(report, f"{table.key}.{r.key}.{c.key}") for r in rows for c in block.columns])
    return grid


def table_grid(table: Table, report: Report, fmt: Format | None = None) -> Grid:
    """A table of the format drawn as the official layout, for every renderer."""
    if table.layout == "blocks":
        return blocks_grid(table, report)
    if table.layout == "grid":
        return grid_table(table, report)
    return line_table(table, report)


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
