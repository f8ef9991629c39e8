"""Workbooks (.xlsx; .xls and WPS .et through LibreOffice): the tables a body attaches to its report.

Every sheet is read as a person sees it: hidden rows and columns are left out, a merged range's
value stands at its top-left cell and its other cells are marked as copies (a header merged over two
columns covers both), a row with one piece of text is a paragraph (a title, a section heading, a
table's caption). The sheets follow each other, one table each, in the workbook's order.
"""

from __future__ import annotations

import datetime
import io
import zipfile
from decimal import Decimal

from gongkai.document import Document, Item, LoadError, Paragraph, TableRow, TextCell
from gongkai.model import Provenance
from gongkai.text import is_number

# A cell holding this much text beside a name is a form's value, not a table's.
_LONG_TEXT = 30


def is_workbook(data: bytes) -> bool:
    """Whether a zip holds a spreadsheet (xl/workbook.xml) rather than a word-processing document."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return False


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # 12.0 is the 12 a person typed; 0.30000000000000004 is 0.3.
        return format(Decimal(repr(value)).normalize(), "f") if value != int(value) else str(int(value))
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value).strip()


def read_xlsx(data: bytes, path: str | None = None) -> Document:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=False, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        raise LoadError(path, f"不是可读取的 xlsx 工作簿，或文件已损坏 (unreadable workbook: {exc})") from exc
    items: list[Item] = []
    table = 0
    for sheet in workbook.worksheets:
        if sheet.sheet_state != "visible":
            continue
        rows = _sheet_rows(sheet, table)
        if not rows:
            continue
        items.append(Paragraph(text=sheet.title, source=Provenance(table=table)))
        items += rows
        table += 1
    if not any(isinstance(item, TableRow) for item in items):
        raise LoadError(path, "工作簿中没有表格内容 (no cells in the workbook)")
    return Document(path=path, kind="xlsx", items=items)


def _sheet_rows(sheet, table: int) -> list[Item]:
    hidden_rows = {r for r, dim in sheet.row_dimensions.items() if dim.hidden}
    hidden_cols = set()
    for letter, dim in sheet.column_dimensions.items():
        if dim.hidden:
            from openpyxl.utils import column_index_from_string

            start = column_index_from_string(letter)
            hidden_cols.update(range(min(dim.min or start, start), max(dim.max or start, start) + 1))
    copies: dict[tuple[int, int], tuple[int, int]] = {}  # cell covered by a merge → its top-left cell
    for merged in sheet.merged_cells.ranges:
        for r in range(merged.min_row, merged.max_row + 1):
            for c in range(merged.min_col, merged.max_col + 1):
                if (r, c) != (merged.min_row, merged.min_col):
                    copies[(r, c)] = (merged.min_row, merged.min_col)
    columns = [c for c in range(1, sheet.max_column + 1) if c not in hidden_cols]
    out: list[Item] = []
    for r in range(1, sheet.max_row + 1):
        if r in hidden_rows:
            continue
        cells: list[TextCell] = []
        for n, c in enumerate(columns):
            anchor = copies.get((r, c))
            value = sheet.cell(*anchor).value if anchor else sheet.cell(r, c).value
            cells.append(TextCell(_text(value), Provenance(table=table, row=r - 1, col=n), span_copy=anchor is not None))
        texts = [cell for cell in cells if cell.text and not cell.span_copy]
        if not texts:
            continue
        if len(texts) == 1 and not is_number(texts[0].text):
            out.append(Paragraph(text=texts[0].text, source=texts[0].source))
            continue
        if len(texts) == 2 and not is_number(texts[1].text) and (
                len(texts[1].text) > _LONG_TEXT or "。" in texts[1].text):
            # A form's row: a name and its text (标题 | …, 一、总体情况 | …), read as the document prints them.
            out += [Paragraph(text=t.text, source=t.source) for t in texts]
            continue
        out.append(TableRow(cells=cells, table=table, source=Provenance(table=table, row=r - 1)))
    return out
