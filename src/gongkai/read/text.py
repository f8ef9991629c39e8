"""Plain text and Markdown: the layouts reports take when copied or converted to text.

Rows are recognised line by line:
- tab-separated cells (a table pasted from Word or a web page);
- one cell per line, each line starting with a tab, a blank line between rows (DOCX converted to
  text); a line without the tab continues the cell above (a label broken across lines);
- Markdown pipe tables;
- a label followed by figures separated by spaces (PDF text extraction).
Everything else is a paragraph.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from gongkai.document import Document, Item, LoadError, Paragraph, TableRow, TextCell
from gongkai.model import Provenance
from gongkai.text import PLACEHOLDERS, is_value, nfkc

_PIPE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_PIPE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_ONE_CELL = re.compile(r"^\t[^\t]*$")
_PAGE_NUMBER = re.compile(r"^\s*[-—–]+\s*\d{1,3}\s*[-—–]+\s*$|^\s*第\s*\d+\s*页(\s*共\s*\d+\s*页)?\s*$")
_SECTION_HEADING = re.compile(r"^\s*#*\s*\**\s*[一二三四五六七八九十]+\s*[、.．]")
# A continuation line is a fragment of a label, not a sentence.
_MAX_CONTINUATION = 30
# A label in a space-separated row is short and is not a sentence.
_MAX_SPACED_LABEL = 80


# A text in UTF-8 or GB18030 but for this share of its characters (a byte flipped, a file cut inside
# its last character) is read in that encoding, the bad bytes replaced by U+FFFD and noted.
_BAD_SHARE = 0.001
_MAX_BAD = 64
_FEW_BAD = 8  # a flipped byte can spoil up to three characters around it


def decode(data: bytes, path: str | None = None) -> str:
    """Bytes to text: UTF-8 (with or without BOM), else the GB family, else what charset detection says."""
    return decode_noting(data, path)[0]


def decode_noting(data: bytes, path: str | None = None) -> tuple[str, list[str]]:
    """The text and, when some bytes could not be decoded, a note of the lines they were on."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding), []
        except UnicodeDecodeError:
            continue
    for encoding in ("utf-8-sig", "gb18030"):
        text = data.decode(encoding, errors="replace")
        bad = text.count("\ufffd")
        if bad <= min(_MAX_BAD, max(_FEW_BAD, _BAD_SHARE * len(text))):
            lines = sorted({text.count("\n", 0, i) + 1 for i, ch in enumerate(text) if ch == "\ufffd"})
            shown = "、".join(str(n) for n in lines[:10]) + ("等" if len(lines) > 10 else "")
            return text, [f"第{shown}行有 {bad} 处无法按 {encoding.removesuffix('-sig').upper()} 解码的字节，已以 \ufffd 代替"]
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise LoadError(path, "不是可识别编码的文本文件 (not text in a known encoding)")
    return str(best), []


def read_text(text: str, path: str | None = None, kind: str = "text") -> Document:
    lines = text.splitlines()
    offsets = _line_offsets(text)
    one_cell_mode = _is_one_cell_per_line(lines)
    items: list[Item] = []
    table = -1
    last_was_row = False

    def emit(item: Item) -> None:
        nonlocal table, last_was_row
        if isinstance(item, TableRow):
            if not last_was_row:
                table += 1
            item.table = table
            last_was_row = True
        else:
            last_was_row = False
        items.append(item)

    i = 0
    while i < len(lines):
        line = lines[i]
        if one_cell_mode and _ONE_CELL.match(line):
            row, i = _read_one_cell_row(lines, offsets, i)
            emit(row)
            continue
        if not line.strip():
            i += 1
            continue
        src = Provenance(line=i + 1, start=offsets[i], end=offsets[i] + len(line))
        if _PIPE_ROW.match(line):
            if not _PIPE_RULE.match(line):
                row = _pipe_row(line, i, offsets[i])
                if kind == "markdown":
                    for cell in row.cells:
                        cell.text = _unescape(cell.text)
                emit(row)
        elif "\t" in line:
            emit(_split_row(line, i, offsets[i], "\t"))
        elif _PAGE_NUMBER.match(line):
            pass  # page furniture from PDF conversion
        elif (row := _spaced_row(line, i, offsets[i])) is not None:
            emit(row)
        else:
            words = _strip_markdown(line)
            emit(Paragraph(text=_unescape(words) if kind == "markdown" else words, source=src))
        i += 1
    return Document(path=path, kind=kind, items=items, text=text)


def _line_offsets(text: str) -> list[int]:
    offsets, pos = [], 0
    for line in text.splitlines(keepends=True):
        offsets.append(pos)
        pos += len(line)
    return offsets


def _is_one_cell_per_line(lines: list[str]) -> bool:
    """DOCX-to-text puts each cell on its own line behind a tab; pasted tables put tabs between cells."""
    single = sum(1 for line in lines if _ONE_CELL.match(line))
    other = sum(1 for line in lines if "\t" in line and not _ONE_CELL.match(line))
    return single >= 3 and single >= 3 * other


def _read_one_cell_row(lines: list[str], offsets: list[int], i: int) -> tuple[TableRow, int]:
    """Cells from consecutive tab-led lines up to a blank line; untabbed lines continue a cell."""
    cells: list[TextCell] = []
    first = i
    while i < len(lines):
        line = lines[i]
        if _ONE_CELL.match(line):
            text = line[1:]
            start = offsets[i] + 1
            cells.append(TextCell(text.strip(), Provenance(line=i + 1, start=start, end=start + len(text),
                                                           col=len(cells))))
        elif not line.strip():
            break
        elif cells and len(line.strip()) <= _MAX_CONTINUATION and not _SECTION_HEADING.match(line):
            cell = cells[-1]
            cell.text = f"{cell.text}\n{line.strip()}" if cell.text else line.strip()
            cell.source.end = offsets[i] + len(line)
        else:
            break
        i += 1
    return TableRow(cells=cells, table=0, source=Provenance(line=first + 1, start=offsets[first],
                                                            end=offsets[i - 1] + len(lines[i - 1]))), i


def _split_row(line: str, i: int, offset: int, sep: str) -> TableRow:
    cells, pos, step = [], offset, len(sep)
    for col, part in enumerate(line.split(sep)):
        text = part.strip()
        start = pos + (part.index(text[0]) if text else 0)
        cells.append(TextCell(text, Provenance(line=i + 1, start=start, end=start + len(text), col=col)))
        pos += len(part) + step
    return TableRow(cells=cells, table=0, source=Provenance(line=i + 1, start=offset, end=offset + len(line)))


def _pipe_row(line: str, i: int, offset: int) -> TableRow:
    inner_start = line.index("|") + 1
    inner_end = line.rindex("|")
    row = _split_row(line[inner_start:inner_end], i, offset + inner_start, "|")
    row.source = Provenance(line=i + 1, start=offset, end=offset + len(line))
    return row


def _tokens(line: str) -> Iterator[tuple[int, int]]:
    for m in re.finditer(r"\S+", line):
        yield m.start(), m.end()


def _spaced_row(line: str, i: int, offset: int) -> TableRow | None:
    """'1.本机关不掌握相关政府信息 44 0 0 0 0 0 44': a label, then figures separated by spaces."""
    spans = list(_tokens(nfkc(line)))  # NFKC keeps the length of CJK text and turns U+3000 into a space
    values: list[tuple[int, int]] = []
    for start, end in reversed(spans):
        token = line[start:end]
        if is_value(token) and nfkc(token).strip() not in ("", "无"):
            values.insert(0, (start, end))
        else:
            break
    if not values or all(nfkc(line[s:e]) in PLACEHOLDERS for s, e in values):
        return None
    label_end = values[0][0]
    label = line[:label_end].strip()
    if len(label) > _MAX_SPACED_LABEL or any(p in label for p in "。；;！？"):
        return None
    if len(values) == 1 and label and any(p in label for p in "，,：:"):
        return None  # '…申请 18 件，…' style sentences end in a figure only by accident
    cells = []
    if label:
        lead = len(line) - len(line.lstrip())
        cells.append(TextCell(label, Provenance(line=i + 1, start=offset + lead, end=offset + label_end, col=0)))
    for start, end in values:
        cells.append(TextCell(line[start:end], Provenance(line=i + 1, start=offset + start, end=offset + end,
                                                          col=len(cells))))
    return TableRow(cells=cells, table=0, source=Provenance(line=i + 1, start=offset, end=offset + len(line)))


# Markdown's backslash escapes of ASCII punctuation (CommonMark): `西峡\[县\]` is 西峡[县].
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def _unescape(text: str) -> str:
    return _ESCAPED.sub(r"\1", text)


def _strip_markdown(line: str) -> str:
    text = line.strip()
    text = re.sub(r"^#{1,6}\s*", "", text)
    text = re.sub(r"^\*\*(.*)\*\*$", r"\1", text)
    return text.strip()
