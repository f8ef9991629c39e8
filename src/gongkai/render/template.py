"""Fill-in templates of a report (YAML and xlsx), and report data read back from them.

The YAML form is the nested cell-key form `gongkai parse --format json` prints, plus `title` and
`sections` {一: text, …}, with the official labels as comments. The xlsx lays every table out as
render/layout.py draws it (merged header cells included) and names each figure by hidden markers:
column A holds a row's key, a hidden row above holds each column's key. A filled workbook is read by
those markers wherever rows and columns have moved, never by fixed coordinates.

Everything here names the file and the problem in Chinese when data cannot be used (DataError).
"""

from __future__ import annotations

import difflib
import io
import json
import math
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from gongkai.document import LoadError
from gongkai.formats import DEFAULT_FORMAT, CellDef, Format, Table, load_format
from gongkai.model import Cell, Number, Provenance, Report, RowSeen, Section, TableSeen
from gongkai.read import limits
from gongkai.render.layout import Grid, GridCell, anchors, table_grid
from gongkai.text import FORMULA_START, MAX_FIGURE_DIGITS, PLACEHOLDERS, figure_text, in_range, nfkc, parse_number, printable

META_KEYS = ("agency", "year", "format", "title")
SECTIONS = "sections"

# Markers in the xlsx template's hidden column A and hidden marker rows.
MARK = "gongkai:"
ROW_MARK = MARK + "row:"
COL_MARK = MARK + "col:"
NO_COLUMN = "-"  # a column marker saying: no figure in this column below
TEMPLATE_MARK = MARK + "template"

# People's names for the metadata a report carries beside its format (not format labels).
META_LABELS = {"agency": "单位名称", "year": "报告年度", "title": "标题（可留空，默认为“单位名称+年度+年政府信息公开工作年度报告”）",
               "format": "报告格式"}
_FIGURES_HINT = "报告未载明的数字留空，不要填 0（0 表示报告印的是 0）。件数为非负整数，金额按表中单位填写，可有小数。"
XLSX_HINT = "黄色单元格填写数字和文字。" + _FIGURES_HINT + "隐藏的 A 列和标记行是单元格标记，请勿删除。"
YAML_HINT = "数字填在冒号后（null 为空）。" + _FIGURES_HINT


class DataError(LoadError):
    """Report data (YAML, JSON, xlsx) that cannot be used; the message names the file and the problem."""


# ---- what the rendered document prints ---------------------------------------------------------


def grids(report: Report, fmt: Format | None = None) -> dict[str, Grid]:
    fmt = fmt or load_format(report.format)
    return {table.key: table_grid(table, report, fmt) for table in fmt.tables}


def printed_keys(report: Report, fmt: Format | None = None) -> set[str]:
    return {cell.key for grid in grids(report, fmt).values() for row in grid for cell in row if cell.key}


def printed_layout(report: Report, fmt: Format | None = None) -> dict[str, TableSeen]:
    """The tables as the renderers print them: every table found, every column, each row the grid draws.

    The checker's completeness rules read this, so a report to be rendered is checked as the document
    it will become (a column its source lacked is printed, blank, and reported as blank cells)."""
    fmt = fmt or load_format(report.format)
    printed = printed_keys(report, fmt)
    out: dict[str, TableSeen] = {}
    for table in fmt.tables:
        layout = TableSeen(found=True)
        for block in table.blocks:
            for col in block.columns:
                if col.key not in layout.column_labels:
                    layout.columns.append(col.key)
                    layout.column_labels[col.key] = col.label
            for row in block.rows:
                keys = [f"{table.key}.{row.key}.{col.key}" for col in block.columns]
                if any(key in printed for key in keys):
                    layout.rows[row.key] = RowSeen(label=row.label, expected=len(keys),
                                                     printed=sum(report.value(key) is not None for key in keys))
        out[table.key] = layout
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
    out.tables = printed_layout(out, fmt)
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


# ---- reading data: YAML / JSON / xlsx -> Report ------------------------------------------------


def load_data(path: str | Path) -> Report:
    """A Report from a data file, by its content: the xlsx template, or YAML / JSON."""
    name = str(path)
    p = Path(path)
    if p.is_dir():
        raise DataError(name, "是目录而不是文件 (is a directory)")
    try:
        size = p.stat().st_size
        if size > limits.MAX_DATA_BYTES:
            raise DataError(name, f"数据文件过大：{size} 字节，上限 {limits.MAX_DATA_BYTES} 字节 "
                                  "(data file larger than GONGKAI_MAX_DATA_BYTES)")
        data = p.read_bytes()
    except OSError as exc:
        raise DataError(name, f"无法读取文件 (cannot read: {exc.strerror or exc})") from exc
    return read_data(data, name)


def read_data(data: bytes, name: str) -> Report:
    if not data.strip():
        raise DataError(name, "文件为空 (empty file)")
    if data.startswith(b"PK\x03\x04"):
        return read_xlsx(data, name)
    from gongkai.read.text import decode

    try:
        text = decode(data, name)
    except LoadError as exc:
        raise DataError(name, exc.problem) from exc
    try:
        obj, root = limits.load_yaml(text)
    except limits.DataLimit as exc:
        raise DataError(name, str(exc)) from exc
    except ValueError as exc:  # Python refuses to read an integer of thousands of digits
        raise DataError(name, f"数据中有无法读取的数字 (unreadable number: {str(exc)[:120]})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列：" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise DataError(name, f"YAML/JSON 格式错误，{where}{problem} (invalid YAML/JSON)") from exc
    if not isinstance(obj, dict):
        raise DataError(name, "不是报告数据：应为 YAML/JSON 对象（agency、year 与各单元格键），或填好的 xlsx 模板；"
                              "报告原文请先用 gongkai parse --format full 转为数据，或入库后用 --report (not report data)")
    if isinstance(obj.get("cells"), dict) and all(isinstance(v, dict) for v in obj["cells"].values()):
        return _full_report(obj, name)
    # Line numbers help in a file written one key a line, not in JSON printed on one line.
    lines = _key_lines(root) if text.strip().count("\n") else {}
    return report_from_flat(flatten(obj), name, {key: f"第{line}行 {key}" for key, line in lines.items()}, lines)


def _key_lines(node: yaml.Node | None, prefix: str = "") -> dict[str, int]:
    """The line each dotted key is written on: findings and errors point into the file."""
    out: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            path = f"{prefix}{key.value}"
            if isinstance(value, yaml.MappingNode) and value.value:
                out.update(_key_lines(value, path + "."))
            else:
                out[path] = key.start_mark.line + 1
    return out


def _full_report(obj: dict[str, Any], name: str) -> Report:
    """The `gongkai parse --format full` form: a whole Report, provenance and all."""
    from pydantic import ValidationError

    try:
        report = Report.model_validate(obj)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DataError(name, f"完整报告数据无效：{where}：{first['msg']} (invalid report)") from exc
    try:
        fmt = load_format(report.format)
    except KeyError as exc:
        raise DataError(name, f"未知的报告格式「{report.format}」(unknown format)") from exc
    unknown = [key for key in report.cells if key not in fmt.all_cells]
    if unknown:
        raise DataError(name, "；".join(_unknown(key, fmt) for key in unknown))
    problems = [f"单元格 {key} 的值超出范围（数字不超过 {MAX_FIGURE_DIGITS} 位）"
                for key, cell in report.cells.items() if cell.value is not None and not in_range(cell.value)]
    if report.year is not None and (problem := _year(report.year)[1]):
        problems.append(problem)
    if problems:
        raise DataError(name, "；".join(problems))
    return report


def flatten(obj: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings to dotted keys; keys that are dotted already stay as they are. An empty
    mapping (`appeals: {}`) states nothing."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


def report_from_mapping(obj: Mapping[str, Any], name: str) -> Report:
    return report_from_flat(flatten(obj), name)


def report_from_flat(flat: dict[str, Any], name: str, where: Mapping[str, str] | None = None,
                     lines: Mapping[str, int] | None = None) -> Report:
    """A Report from dotted keys (cells, agency, year, format, title, sections.一 …).

    A key that is not a cell of the format, or a value that is no number, is an error naming the cell
    and where it is (`where`); every problem is reported at once. A missing or empty cell is null,
    never 0. `lines` gives the cells the lines of the file they were read from."""
    where = where or {}
    lines = lines or {}
    format_id = flat.get("format")
    format_id = DEFAULT_FORMAT if format_id in (None, "") else str(format_id).strip()
    try:
        fmt = load_format(format_id)
    except KeyError as exc:
        raise DataError(name, f"未知的报告格式「{format_id}」(unknown report format)") from exc
    problems: list[str] = []
    sections: dict[str, str] = {}
    values: dict[str, Number | None] = {}
    section_numbers = {s.number for s in fmt.sections}
    for key, value in flat.items():
        place = where.get(key, key)
        if key in ("format", "agency", "title"):
            if value is not None and not isinstance(value, str | int):
                problems.append(f"{place}：{key} 应为文字")
        elif key in ("year", "file") or (key == SECTIONS and value is None):
            continue  # file: the document `parse --to json` read the data from
        elif key.startswith(SECTIONS + ".") or key == SECTIONS:
            number = key.partition(".")[2]
            if number not in section_numbers:
                problems.append(f"{place}：没有第「{number}」部分（正文部分为 {'、'.join(s.number for s in fmt.sections)}）")
            elif value is not None and not isinstance(value, str | int | float):
                problems.append(f"{place}：第{number}部分的正文应为文字")
            else:
                sections[number] = "" if value is None else str(value).strip()
        elif key in fmt.all_cells:
            number, problem = _number(value, fmt.all_cells[key])
            if problem:
                problems.append(f"{fmt.all_cells[key].label}（{place}）{problem}")
            values[key] = number
        else:
            problems.append(_unknown(key, fmt, place))
    year, problem = _year(flat.get("year"))
    if problem:
        problems.append(f"{where.get('year', 'year')}：{problem}")
    if problems:
        raise DataError(name, "；".join(problems))
    report = Report(source=name, agency=_text(flat.get("agency")), year=year, format=fmt.id, title=_text(flat.get("title")))
    canonical = set(fmt.keys)
    for key in fmt.all_cells:  # the format's order; optional rows only when given
        if key in values or key in canonical:
            line = lines.get(key)
            report.cells[key] = Cell(key=key, value=values.get(key), provenance=Provenance(line=line) if line else None)
    report.sections = [Section(number=s.number, title=s.title, text=sections.get(s.number, "")) for s in fmt.sections]
    return report


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _unknown(key: str, fmt: Format, place: str | None = None) -> str:
    known = [*fmt.all_cells, *META_KEYS]
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
    hint = f"（是否为 {close[0]}？）" if close else "（单元格键见 docs/cells.md）"
    at = f"（{place}）" if place and place != key else ""
    return f"未知的单元格键 {key}{at}{hint}"


def _number(value: Any, cell: CellDef) -> tuple[Number | None, str | None]:
    """A figure as data gives it: a number, a numeric text ("1,234"), or blank / a placeholder (null)."""
    if value is None:
        return None, None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None, f"的值「{_shown(value)}」不是数字"
    if isinstance(value, str):
        text = nfkc(value).strip().replace(" ", "")
        if text in PLACEHOLDERS:
            return None, None
        number = parse_number(text)
        if number is None:
            return None, f"的值「{_shown(value)}」不是数字（或超过 {MAX_FIGURE_DIGITS} 位）"
        value = number
    if not in_range(value):
        return None, f"的值超出范围（数字不超过 {MAX_FIGURE_DIGITS} 位）" if isinstance(value, int) or math.isfinite(value) \
            else f"的值「{value}」不是数字"
    if isinstance(value, float) and cell.column.type != "decimal" and value.is_integer():
        value = int(value)  # 3.0 from a spreadsheet is the count 3
    return value, None


def _shown(value: Any, width: int = 30) -> str:
    text = str(value)
    return text if len(text) <= width else text[:width] + "…"


def _year(value: Any) -> tuple[int | None, str | None]:
    if value is None or value == "":
        return None, None
    if isinstance(value, float) and value.is_integer() and 1900 < value < 2200:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return (value, None) if 1900 < value < 2200 else (None, f"报告年度「{_shown(value)}」不是年份")
    if isinstance(value, str):
        m = re.fullmatch(r"(\d{4})\s*年?(?:度)?", nfkc(value).strip())
        if m:
            return int(m.group(1)), None
    return None, f"报告年度「{_shown(value)}」不是年份"


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
    text), then one sheet per table in the official layout."""
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


def _markers(ws) -> tuple[dict[int, str], dict[int, list[tuple[int, str]]], bool]:
    """Row markers by sheet row, column markers by sheet column (with the rows they sit in), and
    whether the sheet carries the template mark."""
    rows: dict[int, str] = {}
    cols: dict[int, list[tuple[int, str]]] = {}
    template = False
    for line in ws.iter_rows():
        for cell in line:
            value = cell.value
            if not isinstance(value, str) or not value.startswith(MARK):
                continue
            if value.startswith(ROW_MARK):
                rows[cell.row] = value[len(ROW_MARK):]
            elif value.startswith(COL_MARK):
                cols.setdefault(cell.column, []).append((cell.row, value[len(COL_MARK):]))
            elif value == TEMPLATE_MARK:
                template = True
    return rows, cols, template


def _marked_cells(ws) -> Iterator[tuple[str, Any]]:
    """(key, cell) of every marked figure: the row's marker joined to the nearest column marker above."""
    rows, cols, _ = _markers(ws)
    for r, row_mark in sorted(rows.items()):
        for c, marks in sorted(cols.items()):
            above = [mark for at, mark in marks if at < r]
            if not above or above[-1] == NO_COLUMN:
                continue
            col_mark = above[-1]
            yield (f"{row_mark}.{col_mark}" if col_mark else row_mark), ws.cell(r, c)


def read_xlsx(data: bytes, name: str) -> Report:
    """A filled xlsx template back as a Report, each figure found by its row and column markers."""
    from openpyxl import load_workbook

    try:
        limits.check_zip(data, name, "xlsx", limits.MAX_DATA_BYTES)
    except LoadError as exc:
        raise DataError(name, exc.problem) from exc
    try:
        values = load_workbook(io.BytesIO(data), data_only=True)
        formulas = load_workbook(io.BytesIO(data), data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a zip that is no workbook
        raise DataError(name, "不是 xlsx 工作簿，或文件已损坏（DOCX 等其他 Office 文件不能作为数据）(not an xlsx workbook)") from exc
    for ws in values.worksheets:  # every cell of the used area is visited below
        if ws.max_row * ws.max_column > limits.MAX_SHEET_CELLS:
            raise DataError(name, f"工作表「{ws.title}」过大：{ws.max_row} 行 × {ws.max_column} 列，上限 {limits.MAX_SHEET_CELLS} 格 "
                                  f"(sheet larger than GONGKAI_MAX_SHEET_CELLS={limits.MAX_SHEET_CELLS})")
    flat: dict[str, Any] = {}
    where: dict[str, str] = {}
    cells_at: dict[str, Provenance] = {}
    problems: list[str] = []
    template = False
    for ws in values.worksheets:
        template = template or _markers(ws)[2]
        for key, cell in _marked_cells(ws):
            place = f"工作表「{ws.title}」{cell.coordinate}"
            cells_at[key] = Provenance(sheet=ws.title, cell=cell.coordinate)
            if key in flat:
                problems.append(f"单元格 {key} 出现两次（{where[key]} 与 {place}）")
                continue
            value = cell.value
            if value is None:
                formula = formulas[ws.title][cell.coordinate].value
                if isinstance(formula, str) and formula.startswith("="):
                    problems.append(f"{place} 的公式 {formula} 没有计算结果（请在 Excel/WPS/LibreOffice 中打开并保存后再读取）")
            if hasattr(value, "isoformat"):  # a spreadsheet turned the figure into a date
                value = value.isoformat()
            flat[key] = value
            where[key] = place
    if not template or not flat:
        raise DataError(name, "不是 gongkai 的 xlsx 模板：未找到单元格标记（请用 gongkai template --to xlsx 生成模板后填写）"
                              " (not a gongkai template)")
    if problems:
        raise DataError(name, "；".join(problems))
    report = report_from_flat(flat, name, where)
    for key, cell in report.cells.items():  # findings point at the sheet and cell it was filled in
        cell.provenance = cells_at.get(key, cell.provenance)
    return report
