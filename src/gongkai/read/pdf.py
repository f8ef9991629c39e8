"""PDF → Document: tables by their ruling lines, the text around them in reading order.

- Tables are the grids pdfplumber finds from ruling lines. Every character goes to the grid cell
  that holds its centre, so a figure is never split or glued across a cell border. A merged cell's
  text is at its top-left position and repeated, flagged span_copy, at each position it covers:
  every table's rows are as wide as its grid.
- A table drawn without ruling lines: a line with wide gaps ending in figures is a row; columns
  come from where the figures stand (and the header above), so an empty cell is still a blank.
- Text outside tables: characters grouped into lines, lines wrapped from one paragraph joined
  (also over a page break), page numbers and repeated headers and footers dropped; tables and
  paragraphs in the order they stand on the page.
- A table that runs onto the next page goes on emitting rows there (the parser reads rows in
  order); a header repeated on the new page is a row of labels the parser passes over.
- A page without a text layer (a scan, or text drawn without Unicode) is rendered with pypdfium2
  and read by OCR (gongkai.read.ocr), keeping its page number; so is a large picture among the
  text of a page (a table pasted as an image).
- Encrypted files are opened with the empty password (owner-only restrictions do not stop
  reading); damaged, truncated, password-protected or over-long files are a LoadError.

Boxes are (x0, top, x1, bottom) in PDF points from the page's top-left corner. The geometry
here (Glyph, Grid, page_items) is shared with the OCR reader, which feeds it recognised text.
"""
from __future__ import annotations

import bisect
import io
import os
import re
import statistics
from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import dataclass, field

from gongkai.document import Document, Item, LoadError, Paragraph, TableRow, TextCell
from gongkai.model import Provenance
from gongkai.read import limits
from gongkai.text import is_value, parse_number

BBox = tuple[float, float, float, float]

MAX_PAGES = int(os.environ.get("GONGKAI_MAX_PDF_PAGES", 300))
# A page with more drawn objects than this is a drawing or a map, not a report page.
MAX_OBJECTS_PER_PAGE = 300_000
MAX_EDGES_PER_PAGE = 4_000
OCR_DPI = int(os.environ.get("GONGKAI_OCR_DPI", 150))
# Larger pages are rendered for OCR at a lower resolution (a poster-sized page at 150 dpi would
# not fit in memory).
MAX_RENDER_PIXELS = 40_000_000
# Characters a PDF prints for glyphs it has no Unicode for: such a page is read by OCR.
_UNMAPPED = re.compile(r"^\(cid:\d+\)$|^[\ufffd\x00-\x08]$")
_TABLE_SETTINGS = {
    "vertical_strategy": "lines",
    "horizontal_strategy": "lines",
    # Borders drawn as thin rectangles or double lines: within 3 pt they are one line.
    "snap_tolerance": 3,
    "join_tolerance": 3,
    "intersection_tolerance": 3,
    "edge_min_length": 3,
}
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


class Grid:
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


def usable(grid: Grid) -> bool:
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


def page_items(page: int, glyphs: Iterable[Glyph], grids: list[Grid], first_table: int, page_height: float,
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
        rows = _borderless_rows(run, header, page, first_table + n, scale)
        for i, row in zip(zone, rows, strict=True):
            out[i] = _Block(blocks[i].top, rows=[row])
    return [b for b in out if b is not None], len(zones)


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
                     scale: float) -> list[TableRow]:
    """(line, its cells, label lines wrapped around it) of each row → TableRows with blank cells
    where a row printed nothing in a column."""

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
    return rows


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


# --- reading the file ---------------------------------------------------------------------------


def read_pdf(data: bytes, path: str | None = None) -> Document:
    import pdfplumber

    document = _open_pdfium(data, path)
    reader = _PdfReader(path, document)
    try:
        try:
            pdf = pdfplumber.open(io.BytesIO(data), password="")
            pages = pdf.pages
        except Exception as exc:  # pdfminer raises many kinds on a damaged file
            problem = _problem(path, exc)
            if "加密" in problem.problem:
                raise problem from exc
            # PDFium repaired what pdfminer could not parse: its pages can still be seen, and read by OCR.
            for number in range(1, len(document) + 1):
                reader.read_by_ocr(number, exc)
        else:
            with pdf:
                limits_checked(path, document, pages)
                for number, page in enumerate(pages, 1):
                    try:
                        reader.read_page(page, number)
                    except LoadError:
                        raise
                    except Exception as exc:  # a page pdfminer cannot parse: what PDFium renders of it
                        reader.read_by_ocr(number, exc)
                    finally:
                        page.close()
    finally:
        document.close()
    if not reader.items:
        raise LoadError(path, "PDF 中没有可读的文字 (no text in the PDF)")
    return Document(path=path, kind=reader.kind, items=reader.items, text=_text(reader.items))


def _open_pdfium(data: bytes, path: str | None):
    """The document opened by PDFium: the page count and, for scans, the renderer."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data, password="")
    except pdfium.PdfiumError as exc:
        raise _problem(path, exc) from exc
    if len(document) == 0:
        document.close()
        raise LoadError(path, "PDF 没有页面 (no pages)")
    if len(document) > MAX_PAGES:
        count = len(document)
        document.close()
        raise LoadError(path, f"PDF 页数过多：{count} 页，上限 {MAX_PAGES} 页 (too many pages)")
    return document


def limits_checked(path: str | None, document, pages) -> None:
    """Refuse, before any page is parsed, a PDF whose drawing instructions inflate beyond the limits
    (a Flate bomb, millions of text objects) or with more pages to OCR than the limit."""
    total = 0
    for number, page in enumerate(pages, 1):
        size = sum(_inflated(stream, limits.MAX_PAGE_CONTENT_BYTES) for stream in _content_streams(page.page_obj))
        if size > limits.MAX_PAGE_CONTENT_BYTES:
            raise LoadError(path, f"第{number}页的绘制指令过大：解压后超过 {limits.MAX_PAGE_CONTENT_BYTES} 字节 "
                                  f"(page content beyond GONGKAI_MAX_PAGE_CONTENT_BYTES)")
        total += size
        if total > limits.MAX_PDF_CONTENT_BYTES:
            raise LoadError(path, f"PDF 的绘制指令过大：解压后超过 {limits.MAX_PDF_CONTENT_BYTES} 字节 "
                                  f"(content beyond GONGKAI_MAX_PDF_CONTENT_BYTES)")
    # Pages without a character are read by OCR: counted before the first is read.
    blank = 0
    for index in range(len(document)):
        page = document[index]
        try:
            text = page.get_textpage()
            blank += text.count_chars() == 0
            text.close()
        finally:
            page.close()
    limits.check_ocr_pages(path, blank)


def _content_streams(page) -> list:
    """A page's content streams and those of the forms it draws (each once)."""
    from pdfminer.pdftypes import PDFStream, resolve1

    streams, seen = [], set()
    todo = [resolve1(s) for s in page.contents]
    resources = [resolve1(page.resources)]
    while resources:
        found = resolve1(resources.pop())
        xobjects = resolve1(found.get("XObject")) if isinstance(found, dict) else None
        for ref in (xobjects or {}).values() if isinstance(xobjects, dict) else ():
            stream = resolve1(ref)
            if isinstance(stream, PDFStream) and getattr(stream.get("Subtype"), "name", None) == "Form":
                todo.append(stream)
        while todo:
            stream = todo.pop()
            if not isinstance(stream, PDFStream) or id(stream) in seen:
                continue
            seen.add(id(stream))
            streams.append(stream)
            if stream.get("Resources") is not None:
                resources.append(stream.get("Resources"))
    return streams


def _inflated(stream, limit: int) -> int:
    """What a stream inflates to (no further than limit + 1): Flate is measured without inflating
    more; other filters grow their input a bounded number of times and are counted as stored."""
    names = [getattr(f, "name", f) for f, _ in stream.get_filters()]
    raw = stream.rawdata if stream.rawdata is not None else (stream.data or b"")
    if names and names[-1] in ("FlateDecode", "Fl") and len(names) == 1:
        return limits.inflated_size(raw, limit)
    return len(raw)


def _problem(path: str | None, exc: BaseException) -> LoadError:
    """A clear LoadError for what PDFium or pdfminer said about the file."""
    message = f"{type(exc).__name__} {exc} {type(exc.__cause__).__name__ if exc.__cause__ else ''}"
    for inner in (exc, exc.__cause__, exc.__context__, *(getattr(exc, "args", ()) or ())):
        if inner is not None:
            message += f" {type(inner).__name__} {inner}"
    if re.search(r"password|encrypt", message, re.IGNORECASE):
        return LoadError(path, "PDF 已加密，无法读取 (encrypted)")
    detail = str(exc).strip() or type(exc).__name__
    return LoadError(path, f"PDF 文件已损坏或不完整，无法读取 (corrupt or truncated PDF: {detail})")


class _PdfReader:
    def __init__(self, path: str | None, document):
        self.path = path
        self.document = document  # pypdfium2, for rendering pages that need OCR
        self.items: list[Item] = []
        self.previous: PageContent | None = None
        self.margins: set[str] = set()  # margin lines of the pages read so far
        self.footers: list[tuple[str, Paragraph]] = []
        self.tables = 0
        self.ocr_pages = 0
        self.ocr_runs = 0  # pages and pictures read by OCR
        self.text_pages = 0

    @property
    def kind(self) -> str:
        return "ocr" if self.ocr_pages and not self.text_pages else "pdf"

    def read_page(self, page, number: int) -> None:
        objects = page.objects
        if sum(len(v) for v in objects.values()) > MAX_OBJECTS_PER_PAGE:
            raise LoadError(self.path, f"第{number}页对象过多，无法读取 (page {number} has too many objects)")
        chars = [c for c in page.chars if c["text"].strip()]
        unmapped = sum(1 for c in chars if _UNMAPPED.match(c["text"]))
        if not chars or unmapped > len(chars) / 2:
            if chars or page.images or page.curves or page.rects or page.lines:
                self._ocr_page(number)
            return
        self.text_pages += 1
        glyphs = _dedupe([Glyph(c["text"], c["x0"], c["top"], c["x1"], c["bottom"]) for c in chars
                          if not _UNMAPPED.match(c["text"])])
        # Meeting every line with every other costs the square of their number: a page drawn with
        # tens of thousands of strokes (a map, a hatched chart) is not searched for ruled tables.
        tables = page.find_tables(_TABLE_SETTINGS) if len(page.edges) <= MAX_EDGES_PER_PAGE else []
        grids = [g for g in (Grid(t.cells, 1.0) for t in tables) if usable(g)]
        content = page_items(number, glyphs, grids, self.tables, float(page.height), furniture=self.margins)
        # A table pasted as a picture among the text: the picture is read by OCR, in its place.
        pictures = _pictures(page, glyphs)
        if pictures:
            scanned = self._ocr(number, self.tables + content.tables, pictures)
            content.items = _merge(content.items, scanned.items)
            content.tables += scanned.tables
        self._add(content)

    def _add(self, content: PageContent) -> None:
        # A footer met again: its copies on the pages before go too (a header on the first page
        # stays, it may be the title).
        repeated = content.margins & {key for key, _ in self.footers}
        if repeated:
            dropped = {id(p) for key, p in self.footers if key in repeated}
            self.items = [item for item in self.items if id(item) not in dropped]
        append_page(self.items, self.previous, content)
        self.previous = content
        self.tables += content.tables
        self.margins |= content.margins
        self.footers += content.footers

    def _ocr_page(self, number: int) -> None:
        self._add(self._ocr(number, self.tables))
        self.ocr_pages += 1

    def read_by_ocr(self, number: int, failure: Exception) -> None:
        """A page pdfminer failed on, read by OCR from PDFium's rendering of it."""
        try:
            self._ocr_page(number)
        except LoadError:
            raise
        except Exception as exc:
            raise LoadError(self.path, f"第{number}页无法解析 (cannot read page {number}: "
                                       f"{type(failure).__name__}: {failure}; {type(exc).__name__}: {exc})") from exc

    def _ocr(self, number: int, first_table: int, regions: list[BBox] | None = None) -> PageContent:
        """The page rendered and read by OCR; only the given regions (in points) when there are any."""
        self.ocr_runs += 1
        limits.check_ocr_pages(self.path, self.ocr_runs)
        import numpy as np

        from gongkai.read.ocr import ocr_image

        pdf_page = self.document[number - 1]
        try:
            width, height = pdf_page.get_size()
            scale = OCR_DPI / 72
            if width * height * scale * scale > MAX_RENDER_PIXELS:
                scale = (MAX_RENDER_PIXELS / (width * height)) ** 0.5
            bitmap = pdf_page.render(scale=scale, rev_byteorder=True)  # RGB, as the OCR reader takes it
            image = np.array(bitmap.to_pil().convert("RGB"))
            bitmap.close()
        finally:
            pdf_page.close()
        if regions:
            keep = np.zeros(image.shape[:2], dtype=bool)
            for x0, top, x1, bottom in regions:
                keep[max(0, int(top * scale)):int(bottom * scale) + 1, max(0, int(x0 * scale)):int(x1 * scale) + 1] = True
            image[~keep] = 255  # the text layer around the pictures is read already
        return ocr_image(image, number, first_table, scale=1 / scale, furniture=self.margins)


# A picture covering this share of the page may be a table pasted as an image.
_PICTURE_SHARE = 0.05


def _pictures(page, glyphs: list[Glyph]) -> list[BBox]:
    """Large pictures on a page with text that no text of the page lies on (a picture under an
    invisible OCR layer, or a logo behind the title, is not read again)."""
    area = float(page.width * page.height)
    out: list[BBox] = []
    for image in page.images:
        box = (max(float(image["x0"]), 0.0), max(float(image["top"]), 0.0),
               min(float(image["x1"]), float(page.width)), min(float(image["bottom"]), float(page.height)))
        if (box[2] - box[0]) * (box[3] - box[1]) < _PICTURE_SHARE * area:
            continue
        if any(box[0] <= g.cx <= box[2] and box[1] <= g.cy <= box[3] for g in glyphs):
            continue
        out.append(box)
    return out


def _merge(items: list[Item], inserted: list[Item]) -> list[Item]:
    """Insert a picture's items, as one block, before the first item that stands below its top."""
    if not inserted:
        return items
    top = _top(inserted[0])
    at = next((i for i, item in enumerate(items) if _top(item) > top), len(items))
    return items[:at] + inserted + items[at:]


def _top(item: Item) -> float:
    box = item.source.bbox
    return box[1] if box else 0.0


def _dedupe(glyphs: list[Glyph]) -> list[Glyph]:
    """Drop a character printed again on itself (fake bold: the same text, offset by a point or less).

    pdfplumber's dedupe_chars does this too, at a tenth of the whole read's time; sorting by
    character and line puts each copy next to its original."""
    ordered = sorted(glyphs, key=lambda g: (g.text, round(g.top), g.x0))
    kept: list[Glyph] = []
    for g in ordered:
        last = kept[-1] if kept else None
        if last is not None and last.text == g.text and abs(g.x0 - last.x0) <= 1 and abs(g.top - last.top) <= 1:
            continue
        kept.append(g)
    return kept


def _text(items: list[Item]) -> str:
    return "\n".join("\t".join(item.texts) if isinstance(item, TableRow) else item.text for item in items)
