"""A page's geometry, shared by the PDF reader (text layers) and the OCR reader (recognised text):
glyphs grouped into lines and paragraphs, tables by their ruling lines or by where the figures
stand, page furniture dropped, and the items of each page appended to a document in reading order.

Boxes are (x0, top, x1, bottom) in PDF points from the page's top-left corner.
"""
from __future__ import annotations

import bisect
import os
import re
import statistics
from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import dataclass, field
from itertools import pairwise

from gongkai.document import Item, PageImage, Paragraph, TableRow, TextCell
from gongkai.model import Provenance
from gongkai.text import is_value, parse_number

BBox = tuple[float, float, float, float]

# Pages (PDF pages, image frames) a document may have.
MAX_PAGES = int(os.environ.get("GONGKAI_MAX_PDF_PAGES", 300))
# A line continues the paragraph above when the gap between them is less than this share of its height.
_PARAGRAPH_GAP = 0.8
# A gap wider than this share of the glyph height is a space between words.
_SPACE_GAP = 0.25
_PAGE_NUMBER = re.compile(r"^[-—–\s]*\d{1,4}[-—–\s]*$|^第\s*\d+\s*页(\s*[,，]?\s*共\s*\d+\s*页)?$|^\d+\s*/\s*\d+$")
# Page furniture lives in the top and bottom margins.
_MARGIN_SHARE = 0.1
# Outline markers start a new paragraph: 一、 （二） 3. — numbering, not any format's labels.
_OUTLINE = re.compile(r"^\s*(?:[一二三四五六七八九十]+\s*[、.．]|[（(]\s*[一二三四五六七八九十\d]+\s*[）)]|\d+\s*[、.．](?!\d))")


@dataclass(slots=True)
class Glyph:
    """A piece of text with its box: a PDF character, or a recognised word/segment from OCR."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    confidence: float = 1.0

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2


@dataclass
class Line:
    glyphs: list[Glyph]
    text: str
    bbox: BBox
    confidence: float

    @property
    def height(self) -> float:
        return self.bbox[3] - self.bbox[1]


def text_lines(glyphs: Iterable[Glyph]) -> list[Line]:
    """Glyphs grouped into lines by their vertical centres, each line read left to right."""
    ordered = sorted(glyphs, key=lambda g: g.cy)
    groups: list[list[Glyph]] = []
    bottom = height = float("-inf")
    for g in ordered:
        if groups and g.cy <= bottom:
            groups[-1].append(g)
            if g.height <= 2 * height:  # a tall glyph (a bracket, a vertical label) does not stretch the line
                bottom = max(bottom, g.bottom)
        else:
            groups.append([g])
            bottom, height = g.bottom, g.height
    return [_line(group) for group in groups]


def _line(group: list[Glyph]) -> Line:
    group.sort(key=lambda g: g.x0)
    parts: list[str] = []
    prev: Glyph | None = None
    for g in group:
        if prev is not None and g.x0 - prev.x1 > _SPACE_GAP * min(g.height, prev.height) and parts[-1] != " ":
            parts.append(" ")
        parts.append(g.text)
        prev = g
    bbox = (min(g.x0 for g in group), min(g.top for g in group), max(g.x1 for g in group), max(g.bottom for g in group))
    return Line(group, "".join(parts).strip(), bbox, min(g.confidence for g in group))


def cell_text(glyphs: list[Glyph]) -> tuple[str, float]:
    """A cell's text (its lines joined by newlines) and its lowest confidence.

    A figure wrapped in a narrow column ('16,085.1' over '00735') is one figure again."""
    if not glyphs:
        return "", 1.0
    lines = [line for line in text_lines(glyphs) if line.text]
    texts = [line.text for line in lines]
    confidence = min((line.confidence for line in lines), default=1.0)
    if len(texts) > 1 and is_value("".join(texts)) and not any(t.strip() in ("", "-", "—") for t in texts):
        return "".join(texts), confidence
    return "\n".join(texts), confidence


def _cluster(values: Iterable[float], tolerance: float) -> list[float]:
    """Sorted values with those within tolerance of their neighbour merged into their mean."""
    out: list[list[float]] = []
    for v in sorted(values):
        if out and v - out[-1][-1] <= tolerance:
            out[-1].append(v)
        else:
            out.append([v])
    return [sum(group) / len(group) for group in out]


def _nearest(edges: list[float], value: float) -> int:
    i = bisect.bisect_left(edges, value)
    if i == 0:
        return 0
    if i == len(edges):
        return len(edges) - 1
    return i if edges[i] - value < value - edges[i - 1] else i - 1


@dataclass(eq=False)
class _Anchor:
    """A cell as drawn (possibly merged): its box, top-left grid position and its glyphs."""

    bbox: BBox
    row: int
    col: int
    glyphs: list[Glyph] = field(default_factory=list)


class RuledGrid:
    """A table's cells (boxes from ruling lines) as a rectangular grid of positions.

    Column and row boundaries are every distinct cell edge; a merged cell covers the positions
    between its edges.
    """

    def __init__(self, cells: Sequence[BBox], tolerance: float):
        self.xs = _cluster([c[0] for c in cells] + [c[2] for c in cells], tolerance)
        self.ys = _cluster([c[1] for c in cells] + [c[3] for c in cells], tolerance)
        self.bbox: BBox = (self.xs[0], self.ys[0], self.xs[-1], self.ys[-1])
        self.pos: list[list[_Anchor | None]] = [[None] * (len(self.xs) - 1) for _ in range(len(self.ys) - 1)]
        for box in sorted(cells, key=lambda c: (c[1], c[0])):
            c0, c1 = _nearest(self.xs, box[0]), _nearest(self.xs, box[2])
            r0, r1 = _nearest(self.ys, box[1]), _nearest(self.ys, box[3])
            if c1 <= c0 or r1 <= r0:
                continue
            anchor = _Anchor(box, r0, c0)
            for r in range(r0, r1):
                for c in range(c0, c1):
                    if self.pos[r][c] is None:
                        self.pos[r][c] = anchor

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.ys) - 1, len(self.xs) - 1

    def contains(self, x: float, y: float) -> bool:
        x0, top, x1, bottom = self.bbox
        return x0 <= x <= x1 and top <= y <= bottom

    def locate(self, x: float, y: float) -> _Anchor | None:
        """The cell holding the point, or None outside the grid or in a hole of an irregular table."""
        if not self.contains(x, y):
            return None
        r = min(max(bisect.bisect_right(self.ys, y) - 1, 0), len(self.ys) - 2)
        c = min(max(bisect.bisect_right(self.xs, x) - 1, 0), len(self.xs) - 2)
        return self.pos[r][c]

    def rows(self, page: int, table: int, scale: float = 1.0,
             value_text: Callable[[str], str] | None = None) -> list[TableRow]:
        """The grid's rows of TextCells; boxes multiplied by scale (pixels → points)."""

        def box(b: BBox) -> BBox:
            return scaled(b, scale)

        texts: dict[int, tuple[str, float]] = {}
        out = []
        for r, positions in enumerate(self.pos):
            cells = []
            for c, anchor in enumerate(positions):
                where = box((self.xs[c], self.ys[r], self.xs[c + 1], self.ys[r + 1]))
                if anchor is None:
                    cells.append(TextCell("", Provenance(page=page, bbox=where, table=table, row=r, col=c)))
                    continue
                if id(anchor) not in texts:
                    text, confidence = cell_text(anchor.glyphs)
                    if value_text is not None:
                        text = value_text(text)
                    texts[id(anchor)] = (text, confidence)
                text, confidence = texts[id(anchor)]
                if (anchor.row, anchor.col) == (r, c):
                    cells.append(TextCell(text, Provenance(page=page, bbox=box(anchor.bbox), table=table, row=r, col=c),
                                          confidence=confidence))
                else:
                    cells.append(TextCell(text, Provenance(page=page, bbox=where, table=table, row=r, col=c),
                                          span_copy=True, confidence=confidence))
            row_box = box((self.xs[0], self.ys[r], self.xs[-1], self.ys[r + 1]))
            out.append(TableRow(cells=cells, table=table, source=Provenance(page=page, bbox=row_box, table=table, row=r)))
        return out


def scaled(b: BBox, scale: float) -> BBox:
    """A box multiplied by scale, as plain floats rounded to 0.01 (OpenCV's numbers are numpy's)."""
    return (round(float(b[0]) * scale, 2), round(float(b[1]) * scale, 2), round(float(b[2]) * scale, 2),
            round(float(b[3]) * scale, 2))


def usable(grid: RuledGrid) -> bool:
    """A table has at least two columns: a box around text is a frame, not a table. One row is
    enough (the last row of a table that ran onto the next page)."""
    return grid.shape[1] >= 2


@dataclass
class _Block:
    top: float
    line: Line | None = None
    rows: list[TableRow] | None = None


@dataclass
class PageContent:
    """A page's items, and what is needed to join a paragraph the page break cut in two: the
    first and last text lines when nothing (a table) stands before or after them, and the page's
    text margins."""

    items: list[Item]
    tables: int = 0
    first: Line | None = None
    last: Line | None = None
    left: float = 0.0
    right: float = 0.0
    # The lines in the page's top and bottom margins, as furniture_key gives them: a line the next
    # pages print in their margins again is a running header or footer.
    margins: set[str] = field(default_factory=set)
    # The paragraphs of the bottom margin kept on this page: dropped later if a later page repeats them.
    footers: list[tuple[str, Paragraph]] = field(default_factory=list)
    first_paragraph: Paragraph | None = None  # the paragraphs of `first` and `last`
    last_paragraph: Paragraph | None = None
    image: PageImage | None = None  # the page as OCR read it, when it holds tables


def page_items(page: int, glyphs: Iterable[Glyph], grids: list[RuledGrid], first_table: int, page_height: float,
               scale: float = 1.0, value_text: Callable[[str], str] | None = None,
               furniture: Set[str] = frozenset()) -> PageContent:
    """One page's paragraphs and table rows in reading order.

    Each glyph goes to the table cell holding its centre, else to the running text. Tables are
    numbered from first_table; boxes are multiplied by scale for the provenance. Page numbers, and
    lines in the margins whose furniture_key is in `furniture` (seen in the margins of earlier
    pages), are dropped.
    """
    text: list[Glyph] = []
    for g in glyphs:
        cx, cy = g.cx, g.cy
        for grid in grids:
            if grid.contains(cx, cy):
                anchor = grid.locate(cx, cy)
                if anchor is not None:
                    anchor.glyphs.append(g)
                    break
        else:
            text.append(g)
    for grid in grids:
        _lift_overflow(grid)
    blocks = [_Block(grid.bbox[1], rows=grid.rows(page, first_table + i, scale, value_text)) for i, grid in enumerate(grids)]
    lines = [line for line in text_lines(text) if line.text]
    margins = {furniture_key(line.text) for line in lines if _in_margin(line, page_height)}
    lines = [line for line in lines if not (_in_margin(line, page_height) and (
        _PAGE_NUMBER.match(line.text) or furniture_key(line.text) in furniture))]
    blocks += [_Block(line.bbox[1], line=line) for line in lines]
    blocks.sort(key=lambda b: b.top)
    blocks, borderless = _borderless(blocks, page, first_table + len(grids), scale, value_text)
    left, right = _margins(lines)
    items, paragraph_of = _paragraphs(blocks, page, scale, left, right)
    content = PageContent(items, len(grids) + borderless, left=left, right=right, margins=margins)
    in_footer = [b.line is not None and b.line.bbox[1] > page_height * (1 - _MARGIN_SHARE) for b in blocks]
    content.footers = [(furniture_key(b.line.text), paragraph_of[id(b.line)]) for b, f in zip(blocks, in_footer, strict=True)
                       if f and b.line is not None]
    # The lines a paragraph cut by the page break would end and go on with (not a footer).
    body = [b for b, f in zip(blocks, in_footer, strict=True) if not f]
    if body and body[0].line is not None:
        content.first, content.first_paragraph = body[0].line, paragraph_of[id(body[0].line)]
    if body and body[-1].line is not None:
        content.last, content.last_paragraph = body[-1].line, paragraph_of[id(body[-1].line)]
    return content


def _chains(glyphs: list[Glyph]) -> list[list[Glyph]]:
    """A line's glyphs as runs set one after the other (each starting where the one before ends):
    two texts printed over each other are two runs."""
    runs: list[list[Glyph]] = []
    for g in sorted(glyphs, key=lambda g: g.x0):
        run = next((r for r in runs if abs(g.x0 - r[-1].x1) <= 0.1 * g.height), None)
        if run is None:
            runs.append([g])
        else:
            run.append(g)
    return runs


def _lift_overflow(grid: RuledGrid) -> None:
    """Text that overflowed its cell downwards goes back to that cell.

    LibreOffice repeating a header on the next page may draw only its first row, the rest of a
    taller header cell's text (the second line of the 勾稽关系 note) printed over the row below.
    Such a run of glyphs crosses a ruling line between two cells of that row, is printed over the
    row's own text, and fits in the cell above: it is that cell's text."""
    where: dict[int, _Anchor] = {}
    for row in grid.pos:
        for anchor in row:
            if anchor is not None:
                where.update((id(g), anchor) for g in anchor.glyphs)
    glyphs = [g for row in grid.pos for a in row if a is not None for g in a.glyphs]
    glyphs = list({id(g): g for g in glyphs}.values())
    inner = grid.xs[1:-1]
    for line in text_lines(glyphs):
        runs = _chains(line.glyphs)
        if len(runs) < 2:
            continue
        r = min(max(bisect.bisect_right(grid.ys, line.glyphs[0].cy) - 1, 0), len(grid.ys) - 2)
        if r == 0:
            continue
        for run in runs:
            x0, x1 = run[0].x0, run[-1].x1
            crosses = any(g.x0 + g.width / 3 < x < g.x1 - g.width / 3 for g in run for x in inner)
            over = any(o.x0 < g.x1 - g.width / 2 and g.x0 + g.width / 2 < o.x1
                       for other in runs if other is not run for o in other for g in run)
            above = grid.locate((x0 + x1) / 2, grid.ys[r] - 0.5)
            if (not crosses or not over or above is None or above.bbox[0] > x0 + 1 or x1 > above.bbox[2] + 1
                    or any(where[id(g)] is above for g in run)):
                continue
            for g in run:
                where[id(g)].glyphs.remove(g)
                above.glyphs.append(g)


def append_page(items: list[Item], previous: PageContent | None, content: PageContent) -> None:
    """Add a page's items; a paragraph that runs on from the page before is joined to it."""
    if (previous is not None and previous.last is not None and content.first is not None
            and items and items[-1] is previous.last_paragraph and content.items and content.items[0] is content.first_paragraph):
        last, first = previous.last, content.first
        size = _size(last)
        if (_same_size(_size(first), size) and not _OUTLINE.match(first.text)
                and last.bbox[2] >= previous.right - 2 * size and first.bbox[0] <= content.left + 0.5 * _size(first)):
            paragraph = items[-1]
            assert isinstance(paragraph, Paragraph)
            paragraph.text = _join([paragraph.text, content.items[0].text])
            items.extend(content.items[1:])
            return
    items.extend(content.items)


def _margins(lines: list[Line]) -> tuple[float, float]:
    """The text's left edge and its right edge: where most long lines end (punctuation may hang past it)."""
    if not lines:
        return 0.0, 0.0
    widest = max(line.bbox[2] - line.bbox[0] for line in lines)
    right = statistics.median(line.bbox[2] for line in lines if line.bbox[2] - line.bbox[0] >= 0.6 * widest)
    return min(line.bbox[0] for line in lines), right


# Inside a line, a gap wider than this share of the text height separates two cells of a table
# drawn without ruling lines (a word space is a quarter of it).
_CELL_GAP = 0.8
# A row's label is short and not a sentence (as in the text reader).
_MAX_ROW_LABEL = 80
# Lines of labels above a table without ruling lines that may show where its columns are.
_HEADER_LINES = 4
# Rows of one table without ruling lines may have this many short lines (a wrapped label) between them.
_MAX_LINES_BETWEEN_ROWS = 3
_MAX_LABEL_LINE = 40


def _chunks(line: Line) -> list[Line]:
    """A line cut at its wide gaps."""
    out: list[list[Glyph]] = [[line.glyphs[0]]]
    for prev, g in zip(line.glyphs, line.glyphs[1:], strict=False):
        if g.x0 - prev.x1 > _CELL_GAP * min(g.height, prev.height):
            out.append([g])
        else:
            out[-1].append(g)
    return [_line(chunk) for chunk in out]


def _row_chunks(line: Line, value_text: Callable[[str], str] | None = None) -> list[Line] | None:
    """The cells of a line that is a row of a table without ruling lines: labels, then figures,
    apart by wide gaps ('一、本年新收政府信息公开申请数量   16   1   3'); None for any other line."""
    chunks = _chunks(line)
    if value_text is not None:
        for chunk in chunks:
            chunk.text = value_text(chunk.text)
    if len(chunks) < 2 or not is_value(chunks[-1].text):
        return None
    first_value = next(i for i, c in enumerate(chunks) if is_value(c.text))
    values, labels = chunks[first_value:], chunks[:first_value]
    if not all(is_value(c.text) for c in values) or not any(parse_number(c.text) is not None for c in values):
        return None
    label = "".join(c.text for c in labels)
    if len(label) > _MAX_ROW_LABEL or any(p in label for p in "。；;！？"):
        return None
    return chunks


def _borderless(blocks: list[_Block], page: int, first_table: int, scale: float,
                value_text: Callable[[str], str] | None) -> tuple[list[_Block], int]:
    """Lines that are rows of a table drawn without ruling lines become table rows.

    Rows separated only by a few short lines (a label wrapped around the row's figures) belong to
    one table. Its columns come from the figures' x-extents: figures of different rows that
    overlap share a column, so a row that leaves a column empty gets a blank cell there."""
    chunked = [_row_chunks(b.line, value_text) if b.line is not None else None for b in blocks]
    zones: list[list[int]] = []
    between = _MAX_LINES_BETWEEN_ROWS + 1
    for i, block in enumerate(blocks):
        if chunked[i] is not None:
            if zones and between <= _MAX_LINES_BETWEEN_ROWS:
                zones[-1].append(i)
            else:
                zones.append([i])
            between = 0
        elif block.line is not None and len(block.line.text) <= _MAX_LABEL_LINE:
            between += 1
        else:
            between = _MAX_LINES_BETWEEN_ROWS + 1  # a table or a paragraph of prose ends the table
    out: list[_Block | None] = list(blocks)
    for n, zone in enumerate(zones):
        header = []  # the lines of labels right above the first row
        for block in reversed(blocks[max(0, zone[0] - _HEADER_LINES):zone[0]]):
            if block.line is None:
                break
            header.append(block.line)
        extra = _wrapped_labels(blocks, chunked, zone)
        for i in (j for lines in extra.values() for j, _ in lines):
            out[i] = None  # part of a row's label now
        run = [(blocks[i].line, chunked[i], [line for _, line in extra.get(i, [])]) for i in zone]
        rows, columns = _borderless_rows(run, header, page, first_table + n, scale)
        for i, row in zip(zone, rows, strict=True):
            out[i] = _Block(blocks[i].top, rows=[row])
        # The column labels above the rows become the table's header rows, so that a label wrapped
        # in a narrow column (商业企 over 业) is read whole, and a header repeated above the rows
        # on a continuation page is read as the header again, not as prose before them.
        free = [out[j] is blocks[j] and chunked[j] is None for j in range(len(blocks))]  # not a row, not taken
        used, header_rows = _header_rows(blocks, free, zone, columns, page, first_table + n, scale)
        if header_rows:
            for row in rows:
                _shift_row(row, len(header_rows))
            for j in used:
                out[j] = None
            out[used[0]] = _Block(blocks[used[0]].top, rows=header_rows)
    return [b for b in out if b is not None], len(zones)


# Lines above a table without ruling lines that may be its header: a group label over the column
# labels, column labels wrapped over two lines and, beside them, a note in the labels' column.
_HEADER_SPAN = 6


def _header_rows(blocks: list[_Block], free: list[bool], zone: list[int], columns: list[list[float]], page: int, table: int,
                 scale: float) -> tuple[list[int], list[TableRow]]:
    """The header of a table without ruling lines, from the lines right above its first row: the
    indexes of the lines it takes (top to bottom) and its rows — a row of the labels spanning
    several columns (申请人情况, 法人或其他组织), if any, then a row of each column's label joined
    top to bottom (商业企 + 业 = 商业企业), with the labels' column first.

    A line belongs to the header when every piece of it stands either left of the figures or over
    them, and some piece stands over them; lines of the labels' column just above the first row
    (the first row's label wrapped above its figures) are passed over."""
    if len(columns) < 2:
        return [], []
    centres = [(x0 + x1) / 2 for x0, x1 in columns]
    bounds = [(a + b) / 2 for a, b in pairwise(centres)]
    left = centres[0] - (centres[1] - centres[0]) / 2  # the first column's left edge

    def slot(x: float) -> int:
        return bisect.bisect_left(bounds, x)

    used: list[tuple[int, list[Line]]] = []
    for j in range(zone[0] - 1, max(-1, zone[0] - 1 - _HEADER_SPAN), -1):
        line = blocks[j].line
        if line is None or not free[j]:
            break
        chunks = _chunks(line)
        over = [c for c in chunks if c.bbox[0] >= left - 1]
        if any(c.bbox[2] > left and c.bbox[0] < left - 1 for c in chunks):
            break  # a line across the labels' column and the figures': a caption, prose
        if not over:
            if used:
                break  # the labels' column only, above the header: not the header's
            continue  # the first row's label wrapped above its figures
        used.append((j, chunks))
    if not used or not any(c.bbox[0] >= left - 1 for _, chunks in used for c in chunks if len(chunks) > 1):
        return [], []  # a lone label over the figures (单位：件) is no header
    if len(used) < 2:
        return [], []  # a header on one line reads whole as a paragraph: its labels need no joining
    used.reverse()
    label: list[Line] = []
    spanning: list[Line] = []
    cells: list[list[Line]] = [[] for _ in columns]
    for _, chunks in used:
        for c in chunks:
            if c.bbox[0] < left - 1:
                label.append(c)
            elif slot(c.bbox[0] + 1) != slot(c.bbox[2] - 1):
                spanning.append(c)
            else:
                cells[slot((c.bbox[0] + c.bbox[2]) / 2)].append(c)
    top = min(c.bbox[1] for _, chunks in used for c in chunks)
    bottom = max(c.bbox[3] for _, chunks in used for c in chunks)
    x0, x1 = min(c.bbox[0] for _, chunks in used for c in chunks), max(c.bbox[2] for _, chunks in used for c in chunks)

    def row(r: int, pieces: list[list[Line]]) -> TableRow:
        out = []
        for c, part in enumerate(pieces):
            text = "\n".join(p.text for p in part)  # as a ruled cell's lines (商业企\n业)
            where = (min(p.bbox[0] for p in part), min(p.bbox[1] for p in part), max(p.bbox[2] for p in part),
                     max(p.bbox[3] for p in part)) if part else (x0, top, x1, bottom)
            out.append(TextCell(text, Provenance(page=page, bbox=scaled(where, scale), table=table, row=r, col=c)))
        return TableRow(cells=out, table=table, source=Provenance(page=page, bbox=scaled((x0, top, x1, bottom), scale),
                                                                 table=table, row=r))

    rows = []
    if spanning:
        groups: list[list[Line]] = [[] for _ in range(len(columns) + 1)]
        for c in spanning:
            groups[1 + slot(c.bbox[0] + 1)].append(c)
        rows.append(row(0, groups))
    rows.append(row(len(rows), [label, *cells]))
    return [j for j, _ in used], rows


def _shift_row(row: TableRow, by: int) -> None:
    """A row numbered `by` further down its table (header rows were put above it)."""
    for p in (row.source, *(c.source for c in row.cells)):
        if p.row is not None:
            p.row += by


def _wrapped_labels(blocks: list[_Block], chunked: list[list[Line] | None], zone: list[int]) -> dict[int, list[tuple[int, Line]]]:
    """The short lines of labels between (and just below) a table's rows, each given to the row
    whose line is nearest: a label wrapped over several lines, its figures beside the middle one.

    Only lines left of every figure count (the labels' column), so no column header is taken."""
    figures_left = min(c.bbox[0] for i in zone for c in chunked[i] if is_value(c.text))
    rows = [(i, blocks[i].line) for i in zone]
    out: dict[int, list[tuple[int, Line]]] = {}
    for j in range(zone[0] + 1, min(len(blocks), zone[-1] + 1 + _MAX_LINES_BETWEEN_ROWS)):
        line = blocks[j].line
        if chunked[j] is not None:
            continue
        if line is None or len(line.text) > _MAX_LABEL_LINE:
            break
        if line.bbox[2] >= figures_left:
            continue
        i, row = min(rows, key=lambda r: abs(r[1].bbox[1] + r[1].bbox[3] - line.bbox[1] - line.bbox[3]))
        if j > zone[-1] and line.bbox[1] - row.bbox[3] > row.height:
            break  # below the table
        out.setdefault(i, []).append((j, line))
    return out


def _borderless_rows(run: list[tuple[Line, list[Line], list[Line]]], header: list[Line], page: int, table: int,
                     scale: float) -> tuple[list[TableRow], list[list[float]]]:
    """(line, its cells, label lines wrapped around it) of each row → TableRows with blank cells
    where a row printed nothing in a column, and the columns' x-extents."""

    def box(b: BBox) -> BBox:
        return scaled(b, scale)

    split = []
    for _, chunks, wrapped in run:
        first = next(i for i, c in enumerate(chunks) if is_value(c.text))
        labels = _by_column([*chunks[:first], *(c for line in wrapped for c in _chunks(line))])
        split.append((len(labels), [*labels, *chunks[first:]]))
    # Columns: the union of overlapping x-extents of the figures ...
    extents = sorted((c.bbox[0], c.bbox[2]) for first, chunks in split for c in chunks[first:])
    columns: list[list[float]] = []
    for x0, x1 in extents:
        if columns and x0 <= columns[-1][1]:
            columns[-1][1] = max(columns[-1][1], x1)
        else:
            columns.append([x0, x1])
    # ... and a header label standing between them over no figure: a column no row printed in.
    left, right = columns[0][0], columns[-1][1]
    for line in header:
        chunks = _chunks(line)
        if len(chunks) < 3:
            continue  # a caption over the table, not a row of column labels
        for chunk in chunks:
            x0, x1 = chunk.bbox[0], chunk.bbox[2]
            if left < x0 and x1 < right and not any(x0 <= c1 and c0 <= x1 for c0, c1 in columns):
                columns.append([x0, x1])
    columns.sort()
    rows = []
    for r, ((line, _, _), (first, chunks)) in enumerate(zip(run, split, strict=True)):
        labels, figures = chunks[:first], chunks[first:]
        slots: list[Line | None] = [None] * len(columns)
        for figure in figures:
            k = next(i for i, (x0, x1) in enumerate(columns) if x0 <= figure.bbox[0] <= x1)
            if slots[k] is not None:  # two figures in one column: the columns are not clear, keep the figures as printed
                slots = list(figures)
                break
            slots[k] = figure
        cells = []
        for c, chunk in enumerate([*labels, *slots]):
            if chunk is None:
                k = c - len(labels)
                where = (columns[k][0], line.bbox[1], columns[k][1], line.bbox[3])
                cells.append(TextCell("", Provenance(page=page, bbox=box(where), table=table, row=r, col=c)))
                continue
            cells.append(TextCell(chunk.text, Provenance(page=page, bbox=box(chunk.bbox), table=table, row=r, col=c),
                                  confidence=chunk.confidence))
        rows.append(TableRow(cells=cells, table=table, source=Provenance(page=page, bbox=box(line.bbox), table=table, row=r)))
    return rows, columns


def _by_column(chunks: list[Line]) -> list[Line]:
    """Label pieces in reading order for a table: column by column (a piece starting within a
    character of another is in its column), top to bottom in each."""
    columns: list[list[Line]] = []
    for chunk in sorted(chunks, key=lambda c: c.bbox[0]):
        if columns and chunk.bbox[0] - columns[-1][0].bbox[0] <= columns[-1][0].height:
            columns[-1].append(chunk)
        else:
            columns.append([chunk])
    return [c for column in columns for c in sorted(column, key=lambda c: c.bbox[1])]


def _in_margin(line: Line, page_height: float) -> bool:
    return line.bbox[3] < page_height * _MARGIN_SHARE or line.bbox[1] > page_height * (1 - _MARGIN_SHARE)


def furniture_key(text: str) -> str:
    """A margin line as it repeats from page to page: without spaces, any number the same."""
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", text))


def _paragraphs(blocks: list[_Block], page: int, scale: float, left: float,
                right: float) -> tuple[list[Item], dict[int, Paragraph]]:
    """Join the lines a paragraph wrapped over; table rows pass through in their place. Returns
    the items and the paragraph each line went into (by the line's id)."""
    items: list[Item] = []
    paragraph_of: dict[int, Paragraph] = {}
    previous: Line | None = None
    parts: list[Line] = []

    def flush() -> None:
        if parts:
            x0 = min(p.bbox[0] for p in parts)
            x1 = max(p.bbox[2] for p in parts)
            bbox = scaled((x0, parts[0].bbox[1], x1, parts[-1].bbox[3]), scale)
            paragraph = Paragraph(text=_join([p.text for p in parts]), source=Provenance(page=page, bbox=bbox))
            items.append(paragraph)
            paragraph_of.update((id(p), paragraph) for p in parts)
            parts.clear()

    for block in blocks:
        if block.rows is not None:
            flush()
            items.extend(block.rows)
            previous = None
            continue
        line = block.line
        assert line is not None
        if previous is not None and _continues(previous, line, left, right):
            parts.append(line)
        else:
            flush()
            parts.append(line)
        previous = line
    flush()
    return items, paragraph_of


def _continues(above: Line, line: Line, left: float, right: float) -> bool:
    """The line is the next line of the paragraph above: same size, close below it, the one above
    filled to the right edge, and this one not indented as a new paragraph or numbered."""
    size, size_above = _size(line), _size(above)
    if not _same_size(size, size_above) or _OUTLINE.match(line.text):
        return False
    gap = line.bbox[1] - above.bbox[3]
    if gap < -0.3 * size or gap > _PARAGRAPH_GAP * size:
        return False
    if above.bbox[2] < right - 2 * size:
        return False  # the line above ended early: its paragraph ended with it
    if line.bbox[0] <= above.bbox[0] + 0.5 * size:
        return True
    # A centred title wrapped onto a second, shorter centred line.
    centred = abs((line.bbox[0] - left) - (right - line.bbox[2])) < 2 * size
    return centred and above.bbox[0] - left < 2 * size


def _same_size(a: float, b: float) -> bool:
    """Text of one size: a title (22 pt) is not body text (16 pt), but headings often are the size of
    the body, and an OCR box's height varies with its length, so the size only tells a title apart."""
    return abs(a - b) <= 0.35 * max(a, b)


def _size(line: Line) -> float:
    return statistics.median(g.height for g in line.glyphs)


def _join(texts: list[str]) -> str:
    """Lines of one paragraph: Chinese text and figures run on (a line can break inside a number);
    Latin words get their space back."""
    out = texts[0]
    for t in texts[1:]:
        if out and t and out[-1].isascii() and out[-1].isalpha() and t[0].isascii() and t[0].isalpha():
            out += " "
        out += t
    return out
