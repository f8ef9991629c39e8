"""Report data read into a Report: YAML or JSON (the nested cell-key form `gongkai parse --to json`
prints, with `title` and `sections`), a whole Report (`--to full`), or a filled xlsx template.

The xlsx template (written by render/template.py) names every figure by hidden markers: column A
holds a row's key, a hidden row above holds each column's key. A filled workbook is read by those
markers wherever rows and columns have moved, never by fixed coordinates. Everything here names the
file and the problem in Chinese when data cannot be used (DataError).
"""

from __future__ import annotations

import difflib
import io
import math
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from gongkai.document import LoadError
from gongkai.formats import DEFAULT_FORMAT, CellDef, Format, load_format
from gongkai.model import Cell, Number, Provenance, Report, Section
from gongkai.read import limits
from gongkai.text import MAX_FIGURE_DIGITS, PLACEHOLDERS, in_range, nfkc, parse_number

META_KEYS = ("agency", "year", "format", "title")
SECTIONS = "sections"

# Markers in the xlsx template's hidden column A and hidden marker rows.
MARK = "gongkai:"
ROW_MARK = MARK + "row:"
COL_MARK = MARK + "col:"
NO_COLUMN = "-"  # a column marker saying: no figure in this column below
TEMPLATE_MARK = MARK + "template"


class DataError(LoadError):
    """Report data (YAML, JSON, xlsx) that cannot be used; the message names the file and the problem."""


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
        return read_template_xlsx(data, name)
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


# ---- the xlsx template ------------------------------------------------------------------------


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


def read_template_xlsx(data: bytes, name: str) -> Report:
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
