"""Government web pages: paragraphs in reading order and every <tr> as a row of a rectangular grid.

Pages come from many site builders: GBK pages that declare gb2312, tables split across several
<table> elements, labels broken into <span>s, `&nbsp;` for an empty cell, whole pages laid out
inside one big table. The walk over the tree is iterative, and libxml2's depth limit (256) is
kept: a page nested deeper is refused with a clear error instead of being read in part.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

from lxml import etree

from gongkai.document import Document, Item, LoadError, Paragraph, TableRow, TextCell
from gongkai.model import Provenance
from gongkai.read import limits
from gongkai.read.text import decode

# Elements that break a line of text (a browser starts a new block for them).
_BLOCKS = frozenset({
    "address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dialog", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
    "html", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "ul", "caption",
    # row and cell elements met outside a table (broken markup) still separate their text
    "tr", "td", "th", "thead", "tbody", "tfoot",
})
# Elements whose text is not part of the page a reader sees.
_SKIP = frozenset({"head", "script", "style", "noscript", "template", "title", "iframe", "object", "embed",
                   "svg", "math", "select", "textarea", "button", "map"})
_SECTIONS = frozenset({"thead", "tbody", "tfoot"})
_CELLS = frozenset({"td", "th"})

# The HTML standard's limits on spans; a larger rowspan is cut at the end of the table.
_MAX_COLSPAN = 1000
# A table with more positions than this is not a report table: refuse it rather than fill memory.
_MAX_GRID_POSITIONS = 2_000_000
_SNIFF_BYTES = 8192
_BINARY_SHARE = 0.05
_MAX_BAD_CHARACTERS = 16
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "gb_2312-80", "x-gbk", "cp936", "euc-cn", "csgb2312", "hz-gb-2312"}

_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACE = re.compile(r"\s+")
# Between two CJK characters a space only comes from the markup's line breaks, never from the text.
_CJK = "\u2e80-\u2fff\u3001-\u303f\u3040-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
_CJK_GAP = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}])")


def read_html(data: bytes, path: str | None = None) -> Document:
    text = decode_html(data, path)
    root = _parse(text, path)
    reader = _Reader(path)
    body = root.find("body")
    reader.emit_flow(_flow(body if body is not None else root))
    if not reader.items:
        raise LoadError(path, "网页中没有正文文字 (no text in the HTML page)")
    title = root.find(".//title")
    headers = [Paragraph(text=clean(title.text), source=Provenance())] if title is not None and title.text else []
    return Document(path=path, kind="html", items=reader.items, headers=headers)


def decode_html(data: bytes, path: str | None) -> str:
    """The page's text: BOM, then the declared charset (GBK and GB2312 read as GB18030), then a guess."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                break
    head = data[:_SNIFF_BYTES]
    declared = _CHARSET.search(head) or _XML_ENCODING.search(head)
    if declared:
        name = declared.group(1).decode("ascii", "replace").lower()
        encoding = "gb18030" if name in _GB_FAMILY else name
        try:
            codecs.lookup(encoding)
            return data.decode(encoding)
        except LookupError:
            pass
        except UnicodeDecodeError:
            # Sites declare one charset and serve another (UTF-8 under a gb2312 label), or cut a
            # character in two: a handful of bad bytes in the declared charset is still that charset.
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                text = data.decode(encoding, errors="replace")
                if text.count("\ufffd") <= _MAX_BAD_CHARACTERS:
                    return text
    return decode(data, path)


def _parse(text: str, path: str | None) -> etree._Element:
    sample = text[:65536]
    if sample and (len(_CONTROL.findall(sample)) + sample.count("\ufffd")) > _BINARY_SHARE * len(sample):
        raise LoadError(path, "不是网页文件：内容为二进制数据 (binary data, not HTML)")
    parser = etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True)
    try:
        root = etree.fromstring(_CONTROL.sub("", text).encode("utf-8"), parser)
    except (etree.LxmlError, ValueError) as exc:
        raise LoadError(path, f"无法解析网页 (cannot parse HTML: {exc})") from exc
    fatal = [e for e in parser.error_log if e.level_name == "FATAL"]
    if fatal:
        # libxml2 stops at a resource limit (nesting deeper than 256, a huge text node) and
        # returns what it had read: a report read in part is worse than none.
        if "depth" in fatal[0].message:
            raise LoadError(path, f"网页标签嵌套过深，超过 256 层 (HTML nested too deeply, line {fatal[0].line})")
        raise LoadError(path, f"网页结构异常，无法完整读取 (malformed HTML, line {fatal[0].line}: {fatal[0].message.strip()})")
    if root is None:
        raise LoadError(path, "网页为空 (empty HTML document)")
    return root


def clean(text: str) -> str:
    """Collapse white space as a browser does, without splitting CJK words the markup broke."""
    text = _INVISIBLE.sub("", text)
    text = _SPACE.sub(" ", text).strip()
    return _CJK_GAP.sub("", text)


def _tag(element: etree._Element) -> str:
    tag = element.tag
    return tag.lower() if isinstance(tag, str) else ""


@dataclass
class _Line:
    text: str
    line: int | None


@dataclass
class _Flow:
    """An element's content in reading order: lines of text and the tables met among them."""

    blocks: list[_Line | etree._Element] = field(default_factory=list)

    @property
    def has_table(self) -> bool:
        return any(not isinstance(b, _Line) for b in self.blocks)

    def text(self) -> str:
        return "\n".join(b.text for b in self.blocks if isinstance(b, _Line))


def _flow(root: etree._Element) -> _Flow:
    """Walk an element without recursion; text is cut into lines at block elements and <br>."""
    flow = _Flow()
    parts: list[str] = []
    line: list[int | None] = [None]

    def add(text: str | None, source: int | None) -> None:
        if text:
            if line[0] is None and text.strip():
                line[0] = source
            parts.append(text)

    def flush() -> None:
        text = clean("".join(parts))
        if text:
            flow.blocks.append(_Line(text, line[0]))
        parts.clear()
        line[0] = None

    # (element, entering) pairs; on leaving, an element's tail continues its parent's text.
    stack: list[tuple[etree._Element, bool]] = [(root, True)]
    while stack:
        element, entering = stack.pop()
        tag = _tag(element)
        if not entering:
            if tag in _BLOCKS:
                flush()
            if element is not root:
                parent = element.getparent()
                add(element.tail, parent.sourceline if parent is not None else None)
            continue
        stack.append((element, False))
        if not tag or tag in _SKIP:
            continue
        if tag == "br":
            flush()
            continue
        if tag == "table" and element is not root:
            flush()
            flow.blocks.append(element)
            continue
        if tag in _BLOCKS:
            flush()
        add(element.text, element.sourceline)
        stack.extend((child, True) for child in reversed(element))
    flush()
    return flow


def _span(element: etree._Element, name: str, default: int, limit: int) -> int:
    try:
        value = int(re.sub(r"[^\d].*$", "", (element.get(name) or "").strip()) or default)
    except ValueError:
        return default
    if value <= 0:  # rowspan="0": to the end of the table
        return limit
    return min(value, limit)


def _table_rows(table: etree._Element) -> list[etree._Element]:
    """The table's own <tr>s (in thead/tbody/tfoot or bare), not those of tables inside its cells."""
    rows = []
    for child in table:
        tag = _tag(child)
        if tag == "tr":
            rows.append(child)
        elif tag in _SECTIONS:
            rows.extend(c for c in child if _tag(c) == "tr")
    return rows


class _Reader:
    def __init__(self, path: str | None) -> None:
        self.path = path
        self.items: list[Item] = []
        self.tables = 0

    def emit_flow(self, flow: _Flow) -> None:
        for block in flow.blocks:
            if isinstance(block, _Line):
                self.items.append(Paragraph(text=block.text, source=Provenance(line=block.line)))
            else:
                self.emit_table(block)

    def emit_table(self, table: etree._Element) -> None:
        """The table's rows as a rectangular grid; a merged cell's text is copied to every position
        it covers, flagged span_copy. A cell holding a table is a container: its content follows
        its row as paragraphs and rows of their own (nesting depth is bounded by the parser's 256)."""
        index = self.tables
        self.tables += 1
        for caption in table.findall("caption"):
            self.emit_flow(_flow(caption))
        rows = _table_rows(table)
        grid: list[dict[int, TextCell]] = [{} for _ in rows]
        containers: list[list[_Flow]] = [[] for _ in rows]
        positions = 0
        for r, tr in enumerate(rows):
            c = 0
            for td in tr:
                if _tag(td) not in _CELLS:
                    continue
                while c in grid[r]:
                    c += 1
                rowspan = _span(td, "rowspan", 1, len(rows) - r)
                colspan = _span(td, "colspan", 1, _MAX_COLSPAN)
                content = _flow(td)
                text = "" if content.has_table else content.text()
                if content.has_table:
                    containers[r].append(content)
                limits.check_table(self.path, len(rows), c + colspan, "网页表格")
                positions += rowspan * colspan
                if positions > _MAX_GRID_POSITIONS:
                    raise LoadError(self.path, f"网页表格过大（超过 {_MAX_GRID_POSITIONS} 格）(table too large)")
                for dr in range(rowspan):
                    for dc in range(colspan):
                        if c + dc in grid[r + dr]:
                            continue  # overlapping spans: the cell placed first keeps the position
                        grid[r + dr][c + dc] = TextCell(
                            text, Provenance(line=td.sourceline, table=index, row=r + dr, col=c + dc),
                            span_copy=bool(dr or dc))
                c += colspan
        width = max((max(cells) + 1 for cells in grid if cells), default=0)
        for r, (tr, cells) in enumerate(zip(rows, grid, strict=True)):
            if cells:
                row = [cells.get(c) or TextCell("", Provenance(line=tr.sourceline, table=index, row=r, col=c))
                       for c in range(width)]
                self.items.append(TableRow(cells=row, table=index,
                                           source=Provenance(line=tr.sourceline, table=index, row=r)))
            for content in containers[r]:
                self.emit_flow(content)

