"""Read the format's tables out of a section's rows, by their labels.

Cells are located by row label and column header, never by counting figures through the
document: a row is a label followed by its figures, wherever the layout broke it.

1. Rows become *logical rows*: the label cells, then the value cells after the last label.
   A line of figures with no label continues the row above it (one figure per line, a row
   wrapped by PDF extraction); a label with no figures is kept as context for the next row
   (a label broken across lines, a group header such as （三）不予公开).
2. Each logical row is matched to the format's rows by its label's best pattern.
3. Its values are set against the columns the table's header prints (a report may lack one).
   When a row prints fewer figures than columns, the first goes to the first column and the last
   to 总计; the ones between are placed only when the row's own figures force them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import takewhile

from gongkai.document import Item, Paragraph, TextCell
from gongkai.formats import Column, Row, Table
from gongkai.model import Cell, Provenance, RowSeen, TableSeen
from gongkai.parse.align import (
    LABEL_CONFIDENCE,
    ORDER_CONFIDENCE,
    Official,
    Placement,
    Printed,
    align,
    in_order,
    official,
)
from gongkai.text import PLACEHOLDERS, is_value, nfkc, normalize_label, parse_number, printed_as

# A paragraph longer than this in a table's section is prose, not a broken label.
_MAX_LABEL_PARAGRAPH = 60
_DEDUCED_CONFIDENCE = 0.9


@dataclass
class LogicalRow:
    labels: list[TextCell]
    values: list[TextCell]
    source: Provenance
    has_value_cells: bool = False  # the row printed value cells (possibly blank)

    @cached_property  # the labels are set when the row is made; only its values grow
    def label(self) -> str:
        return " ".join(c.text.replace("\n", "") for c in self.labels)

    @property
    def printed(self) -> list[TextCell]:
        return [v for v in self.values if not _blank(v)]


@dataclass
class TableRead:
    cells: dict[str, Cell] = field(default_factory=dict)
    seen: TableSeen = field(default_factory=TableSeen)
    notes: list[str] = field(default_factory=list)


def _blank(cell: TextCell) -> bool:
    return cell.span_copy or _placeholder(cell.text)


@lru_cache(maxsize=4096)
def _placeholder(text: str) -> bool:
    """Whether a cell's text states nothing ("", "—", "/"); cell texts recur across reports."""
    return nfkc(text).strip().replace(" ", "") in PLACEHOLDERS


def logical_rows(items: list[Item], width: Callable[[LogicalRow], int] | None = None) -> list[LogicalRow]:
    """Items as labelled rows. With `width` (how many figures a row holds), figures with no label
    continue the row above only while the two together fit in it: a bare figure row after a full
    row is a row of its own (a converter printed its label apart, or lost it)."""
    out: list[LogicalRow] = []
    for item in items:
        if isinstance(item, Paragraph):
            text = item.text.strip()
            if text and len(text) <= _MAX_LABEL_PARAGRAPH:
                out.append(LogicalRow([TextCell(text, item.source)], [], item.source))
            continue
        cells = item.cells
        if not any(c.text.strip() for c in cells):
            continue
        last_label = max((i for i, c in enumerate(cells) if c.text.strip() and not is_value(c.text)), default=-1)
        if last_label < 0:  # figures only: they continue the row above
            if out and (width is None or len(out[-1].printed) + _printed_count(cells) <= width(out[-1])):
                out[-1].values.extend(cells)
                out[-1].has_value_cells = True
            else:
                out.append(LogicalRow([], list(cells), item.source, True))
            continue
        labels = [c for c in cells[: last_label + 1] if c.text.strip() and not is_value(c.text)]
        values = list(cells[last_label + 1:])
        out.append(LogicalRow(labels, values, item.source, bool(values)))
    return out


def _printed_count(cells: list[TextCell]) -> int:
    return sum(1 for c in cells if not _blank(c))


# Row lists by the identities of their rows: hashing frozen rows field by field costs more than
# matching. Holding each list keeps its rows alive, so an identity is never reused for another row.
_ROW_LISTS: dict[tuple[int, ...], tuple[Row, ...]] = {}


def match_row(label: str, rows: list[Row], taken: set[str]) -> Row | None:
    """The format row whose pattern recognises most of the label; an untaken one wins a tie."""
    best, best_score = None, (0, False)
    identity = tuple(map(id, rows))
    _ROW_LISTS.setdefault(identity, tuple(rows))
    for length, row in _candidates(normalize_label(label), identity):
        score = (length, row.key not in taken)
        if score > best_score:
            best, best_score = row, score
    return best


@lru_cache(maxsize=8192)
def _candidates(normalized: str, rows: tuple[int, ...]) -> list[tuple[int, Row]]:
    """(match length, row) for every row that recognises the label; labels recur across reports."""
    if not normalized:
        return []
    return [(n, row) for row in _ROW_LISTS[rows] if (n := row.match_length(normalized))]


# Money is stored in its column's unit; a figure printed in another is converted.
UNITS = {"亿元": 100_000_000, "万元": 10_000, "元": 1}
_UNIT = re.compile("|".join(UNITS))


def printed_unit(text: str) -> str | None:
    m = _UNIT.search(text)
    return m.group(0) if m else None


def _cell(key: str, text_cell: TextCell | None, column: Column, header_unit: str | None = None) -> Cell:
    if text_cell is None or _blank(text_cell):
        return Cell(key=key, value=None, raw=text_cell.text if text_cell else None,
                    provenance=text_cell.source if text_cell else None,
                    confidence=text_cell.confidence if text_cell else 1.0)
    value = parse_number(text_cell.text)
    note = None if value is not None else f"「{text_cell.text.strip()[:40]}」不是可读的数字，留空"
    unit = printed_unit(text_cell.text) or header_unit
    if value is not None and column.unit in UNITS and unit and unit != column.unit:
        value = round(value * UNITS[unit] / UNITS[column.unit], 6)
        note = f"原文单位为{unit}，已换算为{column.unit}"
    return Cell(key=key, value=value, raw=text_cell.text, provenance=text_cell.source,
                confidence=text_cell.confidence, note=note)


def _header_units(columns: list[Column], headers: list[LogicalRow]) -> dict[str, str]:
    """The unit a header prints beside a money column's label: 采购总金额（万元） → 万元."""
    out = {}
    for col in columns:
        if col.unit not in UNITS:
            continue
        base = normalize_label(re.split(r"[（(]", col.label)[0])
        for lrow in headers:
            for cell in lrow.labels:
                if base in normalize_label(cell.text) and (unit := printed_unit(cell.text)):
                    out[col.key] = unit
    return out


def _trim(values: list[TextCell], k: int, span: tuple[int, int] | None = None) -> list[TextCell]:
    """Drop blank cells at the ends that a merged label or a trailing tab added.

    With the grid columns the header spans, blanks outside them go first: a blank 总计 beside a
    merged label's blank is then kept in its place.
    """
    values = list(values)
    if span is not None:
        first, last = span
        while len(values) > k and _blank(values[0]) and values[0].source.col is not None and values[0].source.col < first:
            values.pop(0)
        while len(values) > k and _blank(values[-1]) and values[-1].source.col is not None and values[-1].source.col > last:
            values.pop()
    while len(values) > k and _blank(values[-1]):
        values.pop()
    while len(values) > k and _blank(values[0]):
        values.pop(0)
    return values


def _place(values: list[TextCell], columns: list[Column]) -> tuple[list[TextCell | None], str | None, set[int]]:
    """Set a row's values against its columns; returns (cells, note, indexes deduced as 0)."""
    k = len(columns)
    if len(values) == k:
        return list(values), None, set()
    if len(values) > k:
        explained = _extra_figures(values, columns)
        if explained is None:
            return [None] * k, f"本行印有 {len(values)} 个数，多于 {k} 列，多出的数无法确定，本行未采用", set()
        kept, why = explained
        return kept, f"本行印有 {len(values)} 个数，多于 {k} 列，{why}", set()
    if not values:
        return [None] * k, None, set()
    placed: list[TextCell | None] = [None] * k
    note = f"本行只印有 {len(values)} 个数，少于 {k} 列"
    if len(values) == 1 or columns[-1].role != "total":
        if columns[-1].role == "total":
            placed[-1] = values[0]
            return placed, note + "，视为总计", set()
        return placed, note + "，无法确定各数所在列", set()
    placed[0], placed[-1] = values[0], values[-1]
    first, last = parse_number(values[0].text), parse_number(values[-1].text)
    middle = [parse_number(v.text) for v in values[1:-1]]
    if first is not None and first == last and all(m == 0 for m in middle):
        # The first column already makes up the total: every cell between is forced to 0.
        return placed, note + "，首列等于总计，其余各列推定为 0", set(range(1, k - 1))
    return placed, note + "，中间各列无法确定", set()


def _extra_figures(values: list[TextCell], columns: list[Column]) -> tuple[list[TextCell], str] | None:
    """The row's own figures when it prints more than it has columns, and why the others are not
    its own: a row number or a year before them, a footnote or page number after them, or a
    subtotal among them (法人或其他组织 小计) — whichever way of setting them aside makes the row add up
    to its 总计, when every such way gives the same figures. None when none does, or the ways
    disagree, or the row has no 总计 to add up to: taking some k of them would be a guess."""
    k, extra = len(columns), len(values) - len(columns)
    numbers = [parse_number(v.text) for v in values]
    if columns[-1].role != "total" or any(n is None for n in numbers):
        return None
    ways: list[tuple[list[int], str]] = [
        (list(range(extra, len(values))), f"前 {extra} 个数（序号、年份等）不属本行"),
        (list(range(k)), f"后 {extra} 个数（注码、页码等）不属本行"),
    ]
    if extra == 1:  # a subtotal: a figure equal to the sum of two or more just before it
        for i in range(2, len(values) - 1):
            if any(numbers[i] == sum(numbers[j:i]) for j in range(i - 1)):  # type: ignore[arg-type]
                ways.append(([j for j in range(len(values)) if j != i], f"第 {i + 1} 个数为前几列的小计，不属本行"))
    holding = [(kept, why) for kept, why in ways
               if abs(sum(numbers[j] for j in kept[:-1]) - numbers[kept[-1]]) < 1e-6]  # type: ignore[misc, operator]
    if not holding or len({tuple(numbers[j] for j in kept) for kept, _ in holding}) != 1:
        return None
    kept, why = holding[0]
    return [values[j] for j in kept], why + "（其余各数之和等于总计）"


def read_grid(table: Table, items: list[Item], anchored: bool = True) -> TableRead:
    """A table of rows × shared columns (table 三)."""
    read = TableRead()
    rows = [r for r in table.all_rows]
    columns = list(table.blocks[0].columns)
    logical = logical_rows(items, lambda lrow: len(columns))
    matched: dict[str, tuple[LogicalRow, Row]] = {}
    unmatched: list[LogicalRow] = []  # header rows, group labels, broken label fragments
    context: list[LogicalRow] = []  # the unmatched rows since the last matched one
    printed: list[tuple[LogicalRow, Row | None]] = []  # rows with figures, in the document's order
    for lrow in logical:
        row = match_row(lrow.label, rows, set(matched)) if lrow.has_value_cells else None
        if lrow.printed and context and (row is None or not printed_as(row.label, lrow.label)):
            # A label broken across lines: the fragments above complete it, and are what was printed.
            # Only lines without figures: a row that printed its own figures lends no label.
            fragments = list(takewhile(lambda lr: not lr.printed, reversed(context)))[:3][::-1]
            joined = LogicalRow([c for lr in fragments for c in lr.labels] + lrow.labels, lrow.values, lrow.source,
                                lrow.has_value_cells)
            joined_row = match_row(joined.label, rows, set(matched))
            if joined_row is not None and (row is None or printed_as(joined_row.label, joined.label)):
                row, lrow = joined_row, joined
        if row is None:
            if lrow.printed:
                printed.append((lrow, None))
            unmatched.append(lrow)
            context.append(lrow)
            continue
        matched.setdefault(row.key, (lrow, row))
        printed.append((lrow, row))
        context = []
    printed = _in_order(table, rows, printed, read)
    matched = {row.key: (lrow, row) for lrow, row in printed if row is not None}
    placed_by, unplaced = _align_rows(table, rows, printed, lambda r, width: width <= len(columns), read, anchored)
    matched.update({key: (lrow, next(r for r in rows if r.key == key)) for key, (lrow, _) in placed_by.items()})
    header = _header(columns, unmatched)
    present = header.columns
    span = (min(header.positions.values()), max(header.positions.values())) if len(header.positions) >= 2 else None
    read.seen = TableSeen(found=bool(matched), columns=[c.key for c in present], column_labels=header.labels,
                              missing_columns=[c.key for c in columns if c not in present],
                              provenance=next(iter(matched.values()))[0].source if matched else None)
    for row in rows:
        if row.key not in matched:
            if not row.optional:
                for col in columns:
                    read.cells[f"{table.key}.{row.key}.{col.key}"] = Cell(key=f"{table.key}.{row.key}.{col.key}",
                                                                          note=unplaced)
            continue
        lrow, _ = matched[row.key]
        use = present
        values = _trim(lrow.values, len(use), span)
        full = _trim(lrow.values, len(columns), span)
        if len(use) < len(columns) and len(full) == len(columns) and (
                len(values) == len(columns) or all(v.source.bbox for v in full)):
            # A full row under a header that lost a label: every figure printed, or a cell drawn
            # (a blank a page's layout shows, not a trailing tab) for every column.
            use, values = columns, full
        under = _under_labels(lrow.values, columns, header) if len(values) != len(use) or use != columns else None
        if under is not None:
            use, placed, note, deduced = columns, under, "按表头各列的位置取数", set()
            values = [v for v in under if v is not None]
        else:
            placed, note, deduced = _place(values, use)
        read.seen.rows[row.key] = RowSeen(label=lrow.label, printed=len(values), expected=len(use),
                                              provenance=lrow.source)
        by_key = {col.key: (tc, i) for i, (col, tc) in enumerate(zip(use, placed, strict=False))}
        for col in columns:
            key = f"{table.key}.{row.key}.{col.key}"
            if col.key not in by_key:
                read.cells[key] = Cell(key=key, note="表头无此列" if col.key in read.seen.missing_columns else None)
                continue
            tc, i = by_key[col.key]
            if i in deduced:
                read.cells[key] = Cell(key=key, value=0, raw=None, provenance=lrow.source,
                                       confidence=_DEDUCED_CONFIDENCE, note=note)
            else:
                cell = _cell(key, tc, col)
                if note and cell.note is None:
                    cell.note = note
                if tc is None:
                    cell.provenance = lrow.source
                _mark_placed(cell, placed_by[row.key][1] if row.key in placed_by else None)
                if cell.value is None and not lrow.printed:
                    cell.note = cell.note or unplaced
                read.cells[key] = cell
    return read


def _in_order(table: Table, rows: list[Row], printed: list[tuple[LogicalRow, Row | None]],
              read: TableRead) -> list[tuple[LogicalRow, Row | None]]:
    """Rows recognised by their labels, with those out of the format's order (a fragment that reads
    as another row's label, a row printed twice) set loose for the alignment to place or leave."""
    index = {row.key: i for i, row in enumerate(rows)}
    kept = in_order([index[row.key] if row else None for _, row in printed])
    out: list[tuple[LogicalRow, Row | None]] = []
    for (lrow, row), keep in zip(printed, kept, strict=True):
        if row is not None and keep is None:
            read.notes.append(f"表{table.number}：行「{lrow.label}」（{lrow.source.describe()}）"
                              f"像是「{row.label}」，但不在格式的行序中")
            out.append((lrow, None))
            continue
        out.append((lrow, row))
    return [(lrow, row) for lrow, row in out if row is not None or lrow.printed]


def _align_rows(table: Table, rows: list[Row], printed: list[tuple[LogicalRow, Row | None]], fits,
                read: TableRead, anchored: bool) -> tuple[dict[str, tuple[LogicalRow, Placement]], str | None]:
    """Place the printed rows no pattern recognised by the format's order (see parse.align).

    Returns the placed rows by format row key, and the note a missing row's cells carry when some
    printed figures could not be placed (their figures are not used; the parse notes each)."""
    if not anchored:  # outside the table's section: only the rows between its first and last known rows
        known = [i for i, (_, row) in enumerate(printed) if row is not None]
        printed = printed[known[0]:known[-1] + 1] if known else []
    loose = [i for i, (_, row) in enumerate(printed) if row is None]
    if not loose:
        return {}, None
    index = {row.key: i for i, row in enumerate(rows)}
    seq = [Printed(lrow.label, index[row.key] if row else None, len(lrow.printed)) for lrow, row in printed]
    placements = align(_officials(tuple(rows)), seq, lambda r, width: not rows[r].optional and fits(rows[r], width))
    placed: dict[str, tuple[LogicalRow, Placement]] = {}
    left: list[str] = []
    for i in loose:
        lrow = printed[i][0]
        if i in placements:
            placed[rows[placements[i].row].key] = (lrow, placements[i])
            continue
        where = f"「{lrow.label or '（无标签）'}」（{lrow.source.describe()}）"
        read.notes.append(f"表{table.number}：无法确定一行数字所在的行{where}，未采用")
        left.append(where)
    return placed, (f"未找到本行；表中有无法确定所在行的数字：{'、'.join(left)}" if left else None)


@lru_cache(maxsize=16)
def _officials(rows: tuple[Row, ...]) -> list[Official]:
    return [official(row.label) for row in rows]


def _mark_placed(cell: Cell, placement: Placement | None) -> None:
    """A cell of a row placed by alignment says how, with a confidence below 1."""
    if placement is None or (cell.value is None and cell.raw is None):
        return
    if placement.by == "label":
        how, confidence = "行标签不完整或有误，按其余文字与行序定位", LABEL_CONFIDENCE
    else:
        how, confidence = "行标签缺失或无法辨认，按行序定位（前后行之间只余此一行）", ORDER_CONFIDENCE
    cell.note = f"{how}；{cell.note}" if cell.note else how
    cell.confidence = min(cell.confidence, confidence)


@dataclass
class Header:
    columns: list[Column]  # the columns the header prints, in the format's order
    labels: dict[str, str]  # the text printed for each
    positions: dict[str, int]  # the grid column each is printed in, where the layout has a grid
    cells: dict[str, TextCell] = field(default_factory=dict)  # the header cell each is printed in


def _header(columns: list[Column], rows: list[LogicalRow]) -> Header:
    """The table's header, from the rows that are not the format's rows (all columns when it prints none)."""
    seen: dict[str, str] = {}
    positions: dict[str, int] = {}
    where: dict[str, TextCell] = {}
    for lrow in rows:
        cells = [(c.text, c) for c in lrow.labels]
        cells += [(t, None) for c in lrow.labels for t in c.text.split()]
        for text, cell in cells:
            normalized = normalize_label(text)
            for col in columns:
                if col.key not in seen and col.pattern.fullmatch(normalized):
                    seen[col.key] = text.replace("\n", "")
                    if cell is not None:
                        where[col.key] = cell
                        if cell.source.col is not None:
                            positions[col.key] = cell.source.col
    present = [c for c in columns if c.key in seen]
    return Header(present, seen, positions, where) if len(present) >= 3 else Header(columns, {}, {})


def _under_labels(values: list[TextCell], columns: list[Column], header: Header) -> list[TextCell | None] | None:
    """A row's cells set under the header labels they stand beneath (by their boxes' x-extents on a
    page, else by the column of a table's grid). A column whose label was not read (wrapped, garbled) takes the cells
    between the labels around it in the format's order, where exactly as many stand there as
    columns are missing. None where the header or the row's layout does not settle every figure."""
    anchors = [(j, header.cells[c.key]) for j, c in enumerate(columns) if c.key in header.cells]
    cells = [v for v in values if not v.span_copy]
    if len(anchors) < 2 or not cells:
        return None
    pages = {c.source.page for c in [*(a for _, a in anchors), *cells]}
    if len(pages) == 1 and all(c.source.bbox for c in [*(a for _, a in anchors), *cells]):
        # Positions on one page only: another page (a scan, a photo) may stand shifted or scaled.
        def extent(c: TextCell) -> tuple[float, float]:
            return c.source.bbox[0], c.source.bbox[2]  # type: ignore[index]
    elif all(c.source.col is not None and c.source.table is not None for c in [*(a for _, a in anchors), *cells]):
        # A table's grid (HTML, DOCX, a workbook). A text line's tab-separated pieces are none: a
        # tab more or less shifts every piece after it.
        def extent(c: TextCell) -> tuple[float, float]:
            return c.source.col, c.source.col + 0.5  # type: ignore[operator, return-value]
    else:
        return None
    spans = [(j, *extent(a)) for j, a in anchors]
    if [j for j, *_ in sorted(spans, key=lambda s: s[1])] != [j for j, *_ in spans]:
        return None  # labels out of the format's order
    placed: list[TextCell | None] = [None] * len(columns)
    between: list[TextCell] = []  # cells under no label since the last one under a label
    last = -1  # the column of the last label a cell stood under

    def settle(upto: int) -> bool:
        gap = list(range(last + 1, upto))
        printed = [c for c in between if not _blank(c)]
        if len(between) == len(gap):
            for j, c in zip(gap, between, strict=True):
                placed[j] = c
            return True
        return not printed  # blanks only: the missing columns stay unknown

    for cell in sorted(cells, key=lambda c: extent(c)[0]):
        x0, x1 = extent(cell)
        under = [j for j, a0, a1 in spans if x0 < a1 and a0 < x1]
        if len(under) > 1:
            return None
        if not under:
            between.append(cell)
            continue
        j = under[0]
        if j <= last and not _blank(cell) and placed[j] is not None and not _blank(placed[j]):
            return None  # two figures under one label
        if j > last:
            if not settle(j):
                return None
            between, last = [], j
        if placed[j] is None or _blank(placed[j]):
            placed[j] = cell
    return placed if settle(len(columns)) else None


def read_blocks(table: Table, items: list[Item], anchored: bool = True) -> TableRead:
    """Rows that each carry their block's columns (table 二)."""
    read = TableRead()
    rows = [(block, row) for block in table.blocks for row in block.rows]
    matched: dict[str, LogicalRow] = {}
    headers: list[LogicalRow] = []
    printed: list[tuple[LogicalRow, Row | None]] = []
    width = {row.key: len(block.columns) for block, row in rows}
    block_rows = [r for _, r in rows]

    def row_width(lrow: LogicalRow) -> int:
        row = match_row(lrow.label, block_rows, set())
        return width[row.key] if row else max(width.values())

    header_of: dict[int, LogicalRow] = {}  # id of a printed row → the header row above it
    for lrow in logical_rows(items, row_width):
        row = match_row(lrow.label, [r for _, r in rows], set(matched)) if lrow.has_value_cells else None
        if headers:
            header_of[id(lrow)] = headers[-1]
        if row is None or row.key in matched:
            headers.append(lrow)
            if row is None and lrow.printed:
                printed.append((lrow, None))
            continue
        matched[row.key] = lrow
        printed.append((lrow, row))
    printed = _in_order(table, block_rows, printed, read)
    matched = {row.key: lrow for lrow, row in printed if row is not None}
    placed_by, unplaced = _align_rows(table, block_rows, printed, lambda r, n: n <= width[r.key], read, anchored)
    matched.update({key: lrow for key, (lrow, _) in placed_by.items()})
    read.seen = TableSeen(found=bool(matched))
    for block, row in rows:
        columns = list(block.columns)
        units = _header_units(columns, headers)
        lrow = matched.get(row.key)
        # A merged cell is one value: the copies a grid spread over the columns it spans are not.
        values = _trim([v for v in lrow.values if not v.span_copy], len(columns)) if lrow else []
        note = None
        by_header = _under_header(lrow.values, columns, header_of.get(id(lrow))) if lrow else None
        if by_header is not None and len(values) != len(columns):
            placed, note = by_header
            values = [v for v in placed if v is not None]
        elif lrow and len(values) != len(columns):
            note = f"本行印有 {len(values)} 个数，应为 {len(columns)} 个"
            placed = values[: len(columns)] if len(values) > len(columns) else [None] * len(columns)
        else:
            placed = values or [None] * len(columns)
        if lrow:
            read.seen.rows[row.key] = RowSeen(label=lrow.label, printed=len(values), expected=len(columns),
                                                  provenance=lrow.source)
        for col, tc in zip(columns, placed, strict=False):
            key = f"{table.key}.{row.key}.{col.key}"
            cell = _cell(key, tc, col, units.get(col.key)) if lrow else Cell(key=key, note=unplaced)
            if lrow and tc is None:
                cell.provenance = lrow.source
            cell.note = cell.note or note or (unplaced if lrow and not lrow.printed else None)
            _mark_placed(cell, placed_by[row.key][1] if row.key in placed_by else None)
            read.cells[key] = cell
    return read


def _under_header(values: list[TextCell], columns: list[Column],
                  header: LogicalRow | None) -> tuple[list[TextCell | None], str | None] | None:
    """A row's figures set under the header cells that span their grid columns (a header cell
    merged over two columns covers both); None when the grid or the header does not tell."""
    if header is None:
        return None
    covers: dict[int, int] = {}  # grid column → the format's column printed over it
    for cell in header.labels:
        if cell.source.col is None:
            continue
        printed = _base_label(cell.text)
        for j, col in enumerate(columns):
            if col.pattern.fullmatch(normalize_label(cell.text)) or printed == _base_label(col.label):
                covers[cell.source.col] = j
    if len(set(covers.values())) != len(columns):
        return None
    under: list[list[TextCell]] = [[] for _ in columns]
    for value in values:
        if _blank(value):
            continue
        if value.source.col not in covers:
            return None  # a figure under no header cell
        under[covers[value.source.col]].append(value)
    placed: list[TextCell | None] = []
    conflicts = []
    for col, cells in zip(columns, under, strict=True):
        distinct = {parse_number(c.text) for c in cells}
        if len(distinct) > 1:
            conflicts.append(f"{col.label}下印有 {'、'.join(c.text for c in cells)}")
        placed.append(cells[0] if len(distinct) == 1 else None)
    return placed, ("按表头所跨的列取数；" + "；".join(conflicts) + "，无法确定") if conflicts else "按表头所跨的列取数"


def _base_label(text: str) -> str:
    """A column label without what its brackets add (a unit): 采购总金额（万元） → 采购总金额."""
    return normalize_label(re.split(r"[（(]", text)[0])


def read_line(table: Table, items: list[Item], anchored: bool = True) -> TableRead:
    """Groups × columns printed side by side (table 四): one line of 15 figures, or a row per group.

    Figures without a label belong to the table only once its header is seen, unless the items are
    the table's own section (`anchored`).
    Grid and block tables find their rows by label and need no anchor.
    """
    read = TableRead()
    rows = list(table.blocks[0].rows)
    columns = list(table.blocks[0].columns)
    k = len(columns)
    by_group: dict[str, LogicalRow] = {}
    pool: list[TextCell] = []
    first_source = None
    header = rows  # its groups name table 四 alone; 总计 and the like head other tables too
    for lrow in logical_rows(items):
        if not anchored and lrow.labels:
            anchored = any(d.match_length(normalize_label(lrow.label)) for d in header)
        if not lrow.printed or not anchored:
            continue
        row = match_row(lrow.label, rows, set(by_group)) if lrow.labels else None
        values = _trim(lrow.values, k)
        if row is not None and len(values) <= k and row.key not in by_group:
            by_group[row.key] = lrow
        else:
            pool.extend(lrow.values)
        first_source = first_source or lrow.source
    pool_rows = [r for r in rows if r.key not in by_group]
    pool = _trim(pool, k * len(pool_rows))
    read.seen = TableSeen(found=bool(by_group or pool), provenance=first_source)
    if pool and len(pool) != k * len(pool_rows):
        read.notes.append(f"表{table.number}：印有 {len(pool)} 个数，应为 {k * len(pool_rows)} 个，无法逐格对应")
    for row in rows:
        if row.key in by_group:
            lrow = by_group[row.key]
            placed, note, deduced = _place(_trim(lrow.values, k), columns)
            read.seen.rows[row.key] = RowSeen(label=lrow.label, printed=len(_trim(lrow.values, k)),
                                                  expected=k, provenance=lrow.source)
        elif pool and len(pool) == k * len(pool_rows):
            i = pool_rows.index(row)
            placed, note, deduced = pool[i * k:(i + 1) * k], None, set()
            read.seen.rows[row.key] = RowSeen(label=row.label, printed=k, expected=k,
                                                  provenance=placed[0].source)
        else:
            placed, note, deduced = [None] * k, None, set()
        for j, (col, tc) in enumerate(zip(columns, placed, strict=False)):
            key = f"{table.key}.{row.key}.{col.key}"
            if j in deduced:
                read.cells[key] = Cell(key=key, value=0, provenance=tc.source if tc else None,
                                       confidence=_DEDUCED_CONFIDENCE, note=note)
                continue
            cell = _cell(key, tc, col) if tc is not None else Cell(key=key)
            cell.note = cell.note or note
            read.cells[key] = cell
    return read


# How each table layout of the format definition is read from a document.
TABLE_READERS = {"grid": read_grid, "blocks": read_blocks, "line": read_line}
