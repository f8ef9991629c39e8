"""Word documents (.docx): paragraphs and table rows in the order the body holds them.

Tables are expanded into their layout grid: a cell merged across columns (w:gridSpan) or down
rows (w:vMerge) puts its text at its top-left position and a span_copy of it at every position
it covers. A cell holding a table is a container: its paragraphs and the inner table's rows
follow its row, so the inner figures stay in cells of their own.

The zip is checked before python-docx opens it: a file that is not a DOCX, is cut short, or
would inflate far beyond any report (a zip bomb) is refused with a clear error.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from lxml import etree

from gongkai.document import Document, Item, LoadError, Paragraph, TableRow, TextCell
from gongkai.model import Provenance
from gongkai.read import limits
from gongkai.text import is_value

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_P, _TBL, _TR, _TC = f"{{{W}}}p", f"{{{W}}}tbl", f"{{{W}}}tr", f"{{{W}}}tc"
_SDT, _SDT_CONTENT, _CUSTOM_XML = f"{{{W}}}sdt", f"{{{W}}}sdtContent", f"{{{W}}}customXml"
_VAL = f"{{{W}}}val"
# Containers Word wraps around paragraphs, rows and cells without changing the layout.
_WRAPPERS = frozenset({_SDT, _SDT_CONTENT, _CUSTOM_XML})
# A paragraph's text: its runs' text, tabs and breaks, but not text-box content (drawn elsewhere,
# and stored twice: once for Word 2010+ and once as a VML fallback) nor deleted or field-code text.
_PARAGRAPH_TEXT = etree.XPath(
    ".//w:t[not(ancestor::w:txbxContent)] | .//w:tab[not(ancestor::w:txbxContent) and not(parent::w:tabs)]"
    " | .//w:br[not(ancestor::w:txbxContent)] | .//w:cr[not(ancestor::w:txbxContent)]",
    namespaces={"w": W})

MAIN_PART = "word/document.xml"
_MAX_GRID_SPAN = 1000  # Word allows 63 columns; more is a broken or hostile file
_SLIVER_TWIPS = 57  # 1 mm: narrower grid columns are rounding left-overs, not columns


def check_zip(data: bytes, path: str | None) -> None:
    """Refuse, before parsing, a file that is not a DOCX or would inflate beyond the limits."""
    members = limits.check_zip(data, path, "DOCX")
    if MAIN_PART not in {m.filename for m in members}:
        raise LoadError(path, "不是 DOCX 文件 (zip without word/document.xml)")


def read_docx(data: bytes, path: str | None = None) -> Document:
    check_zip(data, path)
    import docx

    try:
        body = docx.Document(io.BytesIO(data)).element.body
    except Exception as exc:  # python-docx raises KeyError, ValueError, XMLSyntaxError, BadZipFile, …
        raise LoadError(path, f"无法读取 DOCX 文件 (cannot open DOCX: {type(exc).__name__}: {exc})") from exc
    reader = _Reader(path)
    reader.emit_flow(_flow(body))
    if not reader.items:
        raise LoadError(path, "DOCX 文件中没有文字 (no text in the document)")
    return Document(path=path, kind="docx", items=reader.items)


def paragraph_lines(p: etree._Element) -> list[str]:
    """The paragraph's text, cut at line breaks; tabs between words kept (a table typed as tabbed
    paragraphs), tabs that only indent dropped."""
    parts: list[str] = []
    for node in _PARAGRAPH_TEXT(p):
        name = etree.QName(node).localname
        if name == "t":
            parts.append(node.text or "")
        elif name == "tab":
            parts.append("\t")
        else:
            parts.append("\n")
    return ["\t".join(" ".join(cell.split()) for cell in line.split("\t")).strip("\t ")
            for line in "".join(parts).split("\n")]


def _tabbed_row(line: str, where: Provenance) -> TableRow | None:
    """A line of tab-separated cells with a figure among them: a table row typed as a paragraph, as
    the same text reads from a .txt file."""
    cells = line.split("\t")
    if len(cells) < 2 or not any(is_value(cell) for cell in cells[1:] if cell):
        return None
    return TableRow(cells=[TextCell(cell.strip(), Provenance(line=where.line, col=c)) for c, cell in enumerate(cells)],
                    table=0, source=where)


@dataclass
class _Flow:
    """A body's or a cell's content: paragraphs (as lists of lines) and tables, in order."""

    blocks: list[list[str] | etree._Element] = field(default_factory=list)

    @property
    def has_table(self) -> bool:
        return any(not isinstance(b, list) for b in self.blocks)

    def text(self) -> str:
        lines = [line.replace("\t", " ") for b in self.blocks if isinstance(b, list) for line in b]
        return "\n".join(line for line in lines if line).strip()


def _flow(parent: etree._Element) -> _Flow:
    """Paragraphs and tables under a body or cell, looking through content controls (iteratively)."""
    flow = _Flow()
    stack = list(reversed(parent))
    while stack:
        element = stack.pop()
        if element.tag == _P:
            flow.blocks.append(paragraph_lines(element))
        elif element.tag == _TBL:
            flow.blocks.append(element)
        elif element.tag in _WRAPPERS:
            stack.extend(reversed(element))
    return flow


def _children(element: etree._Element, tag: str) -> list[etree._Element]:
    """Children with the tag, also those wrapped in content controls."""
    out, stack = [], list(reversed(element))
    while stack:
        child = stack.pop()
        if child.tag == tag:
            out.append(child)
        elif child.tag in _WRAPPERS:
            stack.extend(reversed(child))
    return out


def _visible_columns(table: etree._Element):
    """Grid column → column a reader sees. Where cell edges in different rows miss each other by a
    hair, Word's grid holds a sliver column (1 twip wide, say) that no reader sees as a column:
    such slivers are folded into their neighbours so a figure is not split into two cells."""
    widths = []
    for col in table.findall("w:tblGrid/w:gridCol", namespaces={"w": W}):
        try:
            widths.append(int(float(col.get(f"{{{W}}}w", ""))))
        except ValueError:
            widths.append(None)  # no width: a column like any other
    before = [0]
    for width in widths:
        before.append(before[-1] + (0 if width is not None and width < _SLIVER_TWIPS else 1))

    def column_at(grid_column: int) -> int:
        if grid_column < len(before):
            return before[grid_column]
        return before[-1] + grid_column - len(widths)  # rows wider than the declared grid

    return column_at


def _int_property(element: etree._Element, path: str, default: int) -> int:
    found = element.find(path, namespaces={"w": W})
    try:
        return int(found.get(_VAL)) if found is not None else default
    except (TypeError, ValueError):
        return default


class _Reader:
    def __init__(self, path: str | None) -> None:
        self.path = path
        self.items: list[Item] = []
        self.tables = 0
        self.paragraphs = 0

    def emit_flow(self, flow: _Flow) -> None:
        for block in flow.blocks:
            if isinstance(block, list):
                self.paragraphs += 1
                for line in block:
                    if line:
                        self.emit_line(line)
            else:
                self.emit_table(block)

    def emit_line(self, line: str) -> None:
        where = Provenance(line=self.paragraphs)
        row = _tabbed_row(line, where)
        if row is None:
            self.items.append(Paragraph(text=line.replace("\t", " "), source=where))
            return
        # Consecutive tabbed lines are one table, numbered among the document's tables.
        previous = self.items[-1] if self.items else None
        if isinstance(previous, TableRow) and previous.source.col is None and previous.source.table is None:
            row.table = previous.table
        else:
            row.table = self.tables
            self.tables += 1
        self.items.append(row)

    def emit_table(self, table: etree._Element) -> None:
        """Rows of the table's layout grid; recursion only through nested tables, whose depth the
        XML parser bounds (256 levels)."""
        index = self.tables
        self.tables += 1
        rows = _children(table, _TR)
        column_at = _visible_columns(table)
        grid: list[dict[int, TextCell]] = [{} for _ in rows]
        containers: list[list[_Flow]] = [[] for _ in rows]
        for r, tr in enumerate(rows):
            g = max(0, _int_property(tr, "w:trPr/w:gridBefore", 0))
            for tc in _children(tr, _TC):
                span = min(max(1, _int_property(tc, "w:tcPr/w:gridSpan", 1)), _MAX_GRID_SPAN)
                first, last = column_at(g), column_at(g + span)
                limits.check_table(self.path, len(rows), last, "DOCX 表格")
                g += span
                merge = tc.find("w:tcPr/w:vMerge", namespaces={"w": W})
                above = grid[r - 1].get(first) if r else None
                if merge is not None and merge.get(_VAL, "continue") == "continue" and above is not None:
                    # The continuation of a vertical merge: the text is the anchor's, above.
                    for c in range(first, last):
                        grid[r].setdefault(c, TextCell(above.text, Provenance(table=index, row=r, col=c), span_copy=True))
                    continue
                content = _flow(tc)
                text = "" if content.has_table else content.text()
                if content.has_table:
                    containers[r].append(content)
                if first == last and text and first not in grid[r]:
                    last = first + 1  # a cell only as wide as a sliver, yet with text: keep the text
                for c in range(first, last):
                    grid[r].setdefault(c, TextCell(text, Provenance(table=index, row=r, col=c), span_copy=c > first))
        width = max((max(cells) + 1 for cells in grid if cells), default=0)
        for r, cells in enumerate(grid):
            if cells:
                row = [cells.get(c) or TextCell("", Provenance(table=index, row=r, col=c)) for c in range(width)]
                self.items.append(TableRow(cells=row, table=index, source=Provenance(table=index, row=r)))
            for content in containers[r]:
                self.emit_flow(content)
