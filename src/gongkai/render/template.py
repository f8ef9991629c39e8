"""Fill-in templates of a report (YAML and xlsx); read/data.py reads them back.

The YAML form is the nested cell-key form `gongkai parse --format json` prints, plus `title` and
`sections` {一: text, …}, with the official labels as comments. The xlsx lays every table out as
render/layout.py draws it (merged header cells included) and names each figure by hidden markers:
column A holds a row's key, a hidden row above holds each column's key (the markers read/data.py
reads them by). A report that cannot be printed as it is raises DataError.
"""

from __future__ import annotations

import io
import json
import math
import re
from typing import Any

from gongkai.formats import DEFAULT_FORMAT, CellDef, Format, Table, load_format
from gongkai.model import Cell, Number, Report, RowSeen, Section, TableSeen
from gongkai.read.data import COL_MARK, META_KEYS, NO_COLUMN, ROW_MARK, SECTIONS, TEMPLATE_MARK, DataError
from gongkai.render.layout import Grid, GridCell, anchors, table_grid
from gongkai.text import FORMULA_START, figure_text, printable

# People's names for the metadata a report carries beside its format (not format labels).
META_LABELS = {"agency": "单位名称", "year": "报告年度", "title": "标题（可留空，默认为“单位名称+年度+年政府信息公开工作年度报告”）",
               "format": "报告格式"}
_FIGURES_HINT = "报告未载明的数字留空，不要填 0（0 表示报告印的是 0）。件数为非负整数，金额按表中单位填写，可有小数。"
XLSX_HINT = "黄色单元格填写数字和文字。" + _FIGURES_HINT + "隐藏的 A 列和标记行是单元格标记，请勿删除。"
YAML_HINT = "数字填在冒号后（null 为空）。" + _FIGURES_HINT


# ---- what the rendered document prints ---------------------------------------------------------


def grids(report: Report, fmt: Format | None = None) -> dict[str, Grid]:
    fmt = fmt or load_format(report.format)
    return {table.key: table_grid(table, report, fmt) for table in fmt.tables}


def printed_keys(report: Report, fmt: Format | None = None) -> set[str]:
    return {cell.key for grid in grids(report, fmt).values() for row in grid for cell in row if cell.key}


def tables_as_printed(report: Report, fmt: Format | None = None) -> dict[str, TableSeen]:
    """The tables as the renderers print them: every table found, every column, each row the grid draws.

    The checker's completeness rules read this, so a report to be rendered is checked as the document
    it will become (a column its source lacked is printed, blank, and reported as blank cells)."""
    fmt = fmt or load_format(report.format)
    printed = printed_keys(report, fmt)
    out: dict[str, TableSeen] = {}
    for table in fmt.tables:
        seen = TableSeen(found=True)
        for block in table.blocks:
            for col in block.columns:
                if col.key not in seen.column_labels:
                    seen.columns.append(col.key)
                    seen.column_labels[col.key] = col.label
            for row in block.rows:
                keys = [f"{table.key}.{row.key}.{col.key}" for col in block.columns]
                if any(key in printed for key in keys):
                    seen.rows[row.key] = RowSeen(label=row.label, expected=len(keys),
                                                     printed=sum(report.value(key) is not None for key in keys))
        out[table.key] = seen
    return out


def for_rendering(report: Report, name: str) -> Report:
    """The report with the layout it will be printed in; refuses figures the layout cannot print
    (a row printed instead of its sub-rows, given together with them), which would be lost."""
    fmt = load_format(report.format)
    printed = printed_keys(report, fmt)
    lost = [key for key, cell in report.cells.items() if cell.value is not None and key not in printed]
    if lost:
        raise DataError(name, "以下数字在报告的表格中没有位置，生成时会丢失（例如同时填了“（六）其他处理”合计行和它的分项）："
                        + "；".join(_cell_label(fmt, key) for key in lost))
    out = report.model_copy(deep=True)
    out.tables = tables_as_printed(out, fmt)
    return out


def _cell_label(fmt: Format, key: str) -> str:
    cell = fmt.all_cells.get(key)
    return f"{cell.label}（{key}）" if cell else key


def blank_report(format_id: str = DEFAULT_FORMAT) -> Report:
    """A report of the format with every canonical cell blank: what a template starts from."""
    fmt = load_format(format_id)
    return Report(format=fmt.id, cells={key: Cell(key=key) for key in fmt.keys},
                  sections=[Section(number=s.number, title=s.title, text="") for s in fmt.sections])


def template_keys(report: Report, fmt: Format) -> list[str]:
    """The cells a template of this report lists: the format's, and rows it prints instead of others."""
    printed = printed_keys(report, fmt)
    return [key for key in fmt.all_cells if key in printed]


# ---- YAML template -------------------------------------------------------------------------------

# Characters a YAML reader refuses, or reads as line breaks, inside a quoted scalar.
_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
# And what a literal block cannot hold, since nothing in it is escaped (tabs and CR included).
_LITERAL_UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")


def _quote(text: str) -> str:
    """A one-line YAML scalar for any text: JSON's double-quoted form is YAML's too."""
    return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text, ensure_ascii=False))


def _yaml_text(text: str | None, indent: str = "", block: bool = False) -> list[str]:
    """A value's lines after `key:`: null, a quoted line, or (block) a literal block for paragraphs."""
    if text is None:
        return [" null"]
    lines = text.split("\n")
    literal = block and len(lines) > 1 and text == text.strip() and not _LITERAL_UNSAFE.search(text) and \
        all(line == line.rstrip() for line in lines)
    if not literal:
        return [" " + _quote(text)]
    return [" |-", *[(indent + line) if line else "" for line in lines]]


def _yaml_value(value: Number | None) -> str:
    # Plain decimals (0.00001, not 1e-05, which YAML 1.1 reads as a string).
    return figure_text(value) or "null"


def _comment(label: str | None) -> str:
    return f"  # {label}" if label else ""


def template_yaml(report: Report) -> str:
    """The report (or a blank one) as fill-in YAML: nested cell keys, labels as comments."""
    fmt = load_format(report.format)
    keys = template_keys(report, fmt)
    out = [f"# {fmt.name}（{fmt.basis}）数据", f"# {YAML_HINT}",
           "# 单元格键的含义见 docs/cells.md；填好后：gongkai render 本文件 --to docx", ""]
    out.append(f"agency:{_yaml_text(report.agency)[0]}{_comment(META_LABELS['agency'])}")
    out.append(f"year: {_yaml_value(report.year)}{_comment(META_LABELS['year'])}")
    out.append(f"format: {_quote(fmt.id)}{_comment(META_LABELS['format'])}")
    out.append(f"title:{_yaml_text(report.title)[0]}{_comment(META_LABELS['title'])}")
    for table in fmt.tables:
        out.append(f"{table.key}:{_comment(f'表{table.number} {table.title}')}")
        cells = [fmt.all_cells[key] for key in keys if key.startswith(table.key + ".")]
        out += _yaml_tree(table, cells, report)
    out.append(f"{SECTIONS}:")
    texts = {s.number: s.text for s in report.sections}
    for section in fmt.sections:
        first, *rest = _yaml_text(texts.get(section.number) or "", "    ", block=True)
        out.append(f"  {section.number}:{first}{_comment(f'{section.number}、{section.title}')}")
        out += rest
    return "\n".join(out) + "\n"


def _yaml_tree(table: Table, cells: list[CellDef], report: Report) -> list[str]:
    """Nested lines for a table's cells; each mapping commented with its row or group label."""
    out: list[str] = []
    opened: list[str] = []  # the path of mappings currently open
    for cell in cells:
        path = [*cell.row.key.split("."), cell.column.key]
        common = 0
        while common < min(len(opened), len(path) - 1) and opened[common] == path[common]:
            common += 1
        opened = opened[:common]
        for depth in range(common, len(path) - 1):
            opened.append(path[depth])
            out.append(f"{'  ' * (depth + 1)}{path[depth]}:{_comment(_node_label(table, cell, depth, len(path) - 2))}")
        depth = len(path) - 1
        out.append(f"{'  ' * (depth + 1)}{path[-1]}: {_yaml_value(report.value(cell.key))}{_comment(cell.column_label)}")
    return out


def _node_label(table: Table, cell: CellDef, depth: int, row_depth: int) -> str | None:
    row = cell.row
    if depth < row_depth:  # a group of rows (withheld, unable …): the label they share
        return row.group
    label = row.label
    if row.group and row_depth == 0:  # the group is no mapping of its own: say it here
        label = f"{row.group} {label}"
    block = next((b for b in table.blocks if row in b.rows), None)
    if block is not None and block.heading:
        label = f"{block.heading} {label}"
    return label


# ---- xlsx template -------------------------------------------------------------------------------




def _width(text: str) -> float:
    """Display width in spreadsheet character units: a CJK character is two."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def template_xlsx(report: Report) -> bytes:
    """The report (or a blank one) as a fill-in workbook: 基本信息 (metadata and the six sections'
    text), then one sheet per table in the official seen."""
    from openpyxl import Workbook

    fmt = load_format(report.format)
    workbook = Workbook()
    _meta_sheet(workbook.active, report, fmt)
    for table in fmt.tables:
        _table_sheet(workbook.create_sheet(f"表{table.number}"), table, report, fmt)
    workbook.properties.title = f"{fmt.name} 填写模板"
    workbook.properties.creator = "gongkai"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _styles() -> dict[str, Any]:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    thin = Side(style="thin", color="000000")
    return {
        "border": Border(left=thin, right=thin, top=thin, bottom=thin),
        "input": PatternFill("solid", fgColor="FFF2CC"),
        "header": PatternFill("solid", fgColor="EDEDED"),
        "title": Font(bold=True, size=14),
        "center": Alignment(horizontal="center", vertical="center", wrap_text=True),
        "left": Alignment(horizontal="left", vertical="center", wrap_text=True),
        "top": Alignment(horizontal="left", vertical="top", wrap_text=True),
        "vertical": Alignment(horizontal="center", vertical="center", wrap_text=True, text_rotation=255),
    }


def text_cell(cell, value: Any) -> None:
    """A value in a workbook cell; text from a document stays text, never a formula (a title
    `=HYPERLINK(…)` is shown as written, not run): a string cell with Excel's quote prefix."""
    if not isinstance(value, str):
        cell.value = value
        return
    cell.value = printable(value)
    cell.data_type = "s"
    if value.startswith(FORMULA_START):
        cell.quotePrefix = True


def _meta_sheet(ws, report: Report, fmt: Format) -> None:
    s = _styles()
    ws.title = "基本信息"
    ws["A1"] = TEMPLATE_MARK
    ws["C1"] = COL_MARK  # the value column: the key is the row's own
    ws.column_dimensions["A"].hidden = True
    ws.row_dimensions[1].hidden = True
    ws.column_dimensions["B"].width = 30
    ws.column_dimensions["C"].width = 100
    ws["B2"] = f"{fmt.name}（{fmt.basis}）"
    ws["B2"].font = s["title"]
    ws.merge_cells("B2:C2")
    ws["B3"] = XLSX_HINT
    ws["B3"].alignment = s["left"]
    ws.merge_cells("B3:C3")
    ws.row_dimensions[3].height = 36
    texts = {sec.number: sec.text for sec in report.sections}
    rows: list[tuple[str, str, Any]] = [(key, META_LABELS[key], getattr(report, key)) for key in META_KEYS]
    rows = [(k, label, fmt.id if k == "format" else value) for k, label, value in rows]
    rows += [(f"{SECTIONS}.{sec.number}", f"{sec.number}、{sec.title}", texts.get(sec.number) or None) for sec in fmt.sections]
    for i, (key, label, value) in enumerate(rows, start=4):
        ws.cell(i, 1, ROW_MARK + key)
        ws.cell(i, 2, label).alignment = s["top"]
        cell = ws.cell(i, 3)
        text_cell(cell, value)
        cell.alignment = s["top"]
        cell.fill = s["input"]
        cell.number_format = "@" if key != "year" else "0"  # text stays text: no 2024 → 2,024 or dates
        for col in (2, 3):
            ws.cell(i, col).border = s["border"]
        if key.startswith(SECTIONS):
            ws.row_dimensions[i].height = max(60, min(400, 15 * (1 + _width(value or "") // 180)))


def _split_key(keys: list[str]) -> tuple[str, list[str]]:
    """A grid row's figure keys as the row's marker and each figure's column marker: the marker is
    the longest dotted prefix they share short of the column ("applications.new"; table 四's "appeals")."""
    parts = [key.split(".")[:-1] for key in keys]
    common: list[str] = []
    for level in zip(*parts, strict=False):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    n = len(common)
    return ".".join(common), [".".join(key.split(".")[n:]) for key in keys]


def _table_sheet(ws, table: Table, report: Report, fmt: Format) -> None:
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    s = _styles()
    grid = table_grid(table, report, fmt)
    placed = anchors(grid)
    width = max(c + cell.colspan for _, c, cell in placed)
    # Sheet rows: row 1 hidden column markers, row 2 the title, the grid below from column B, with a
    # hidden marker row before any grid row whose figures sit in columns keyed differently (table 二's blocks).
    figures: dict[int, list[tuple[int, GridCell]]] = {}
    for r, c, cell in placed:
        if cell.key:
            figures.setdefault(r, []).append((c, cell))
    sheet_row: dict[int, int] = {}
    markers: dict[int, dict[int, str]] = {}  # sheet row → column markers
    row_marks: dict[int, str] = {}
    current: dict[int, str] | None = None
    next_row = 3
    for r in range(len(grid)):
        if r in figures:
            cells = sorted(figures[r], key=lambda item: item[0])
            row_mark, col_marks = _split_key([cell.key for _, cell in cells if cell.key])
            figure_marks = {c: mark for (c, _), mark in zip(cells, col_marks, strict=True)}
            wanted = {c: figure_marks.get(c, NO_COLUMN) for c in range(width)}
            if wanted != current:
                at = 1 if current is None else next_row
                if current is not None:
                    next_row += 1
                markers[at] = wanted
                current = wanted
            row_marks[next_row] = row_mark
        sheet_row[r] = next_row
        next_row += 1
    for at, marks in markers.items():
        ws.row_dimensions[at].hidden = True
        for c, mark in marks.items():
            ws.cell(at, c + 2, COL_MARK + mark)
    for at, mark in row_marks.items():
        ws.cell(at, 1, ROW_MARK + mark)
    ws.column_dimensions["A"].hidden = True
    ws.cell(2, 2, f"表{table.number} {table.title}").font = s["title"]
    ws.merge_cells(start_row=2, start_column=2, end_row=2, end_column=width + 1)

    counts = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                            showErrorMessage=True, errorTitle="应为非负整数", error="件数应为非负整数；报告未载明的请留空。")
    decimals = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                              showErrorMessage=True, errorTitle="应为非负数", error="金额应为非负数；报告未载明的请留空。")
    signed = DataValidation(type="whole", operator="between", formula1="-1000000000", formula2="1000000000", allow_blank=True,
                            showErrorMessage=True, errorTitle="应为整数", error="应为整数（可为负数）；报告未载明的请留空。")
    widths: dict[int, float] = {}
    for r, c, cell in placed:
        row, col = sheet_row[r], c + 2
        target = ws.cell(row, col)
        # Borders on every cell a merge covers: spreadsheets draw a merged cell's edges from them.
        for dr in range(cell.rowspan):
            for dc in range(cell.colspan):
                ws.cell(sheet_row[r + dr], col + dc).border = s["border"]
        if cell.key:
            definition = fmt.all_cells[cell.key]
            target.value = report.value(cell.key)
            target.fill = s["input"]
            target.alignment = s["center"]
            kind = definition.column.type
            target.number_format = "0" if kind != "decimal" else "General"
            {"count": counts, "decimal": decimals, "signed": signed}[kind].add(target.coordinate)
            widths[col] = max(widths.get(col, 0), 10)
        else:
            target.value = cell.text
            row_label = cell.header and not all(g.header for g in grid[r])
            tall = cell.rowspan >= 4 and cell.colspan == 1
            target.alignment = s["vertical"] if tall else s["left"] if row_label else s["center"]
            if all(g.header for g in grid[r]):
                target.fill = s["header"]
            if cell.colspan == 1 and not tall:
                widths[col] = max(widths.get(col, 0), min(36, _width(cell.text) + 2))
        if cell.rowspan > 1 or cell.colspan > 1:
            ws.merge_cells(start_row=row, start_column=col, end_row=sheet_row[r + cell.rowspan - 1],
                           end_column=col + cell.colspan - 1)
    for validation in (counts, decimals, signed):
        if validation.sqref:
            ws.add_data_validation(validation)
    final = {col: max(6, widths.get(col, 8)) for col in range(2, width + 2)}
    for col, col_width in final.items():
        ws.column_dimensions[get_column_letter(col)].width = col_width
    # Excel does not fit a row to wrapped text when it opens a file: give long labels their lines.
    heights: dict[int, int] = {}
    for r, c, cell in placed:
        if cell.key or cell.rowspan > 1 or not cell.text:
            continue
        room = sum(final[col] for col in range(c + 2, c + 2 + cell.colspan)) - 1
        lines = math.ceil(_width(cell.text) / max(room, 1))
        heights[sheet_row[r]] = max(heights.get(sheet_row[r], 1), lines)
    for row, lines in heights.items():
        if lines > 1:
            ws.row_dimensions[row].height = 15 * lines
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
