"""Import the spreadsheet ledgers bodies keep today (xlsx, or CSV exports): columns found by their headers (in any
order and wording, data/import.yaml), a preview of the mapping, and every row that cannot be read
reported with its row, column and reason — never dropped silently."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from gongkai.ledger.models import Application, Channel, Event, EventKind
from gongkai.ledger.roles import Roles, current_roles
from gongkai.text import normalize_label

FIELD_LABELS = {"number": "序号", "applicant_name": "申请人", "applicant_type": "申请人类型", "channel": "申请方式",
                "received_on": "申请时间", "content": "申请内容", "replied_on": "答复时间", "outcome": "答复结果",
                "handler": "承办人", "contact": "联系方式"}
REQUIRED = ("received_on", "applicant_type")


class SheetError(ValueError):
    """The file as a whole cannot be imported (not a workbook, no header row)."""


@dataclass
class RowProblem:
    row: int  # the spreadsheet's own row number
    column: str  # the header as printed
    value: Any
    why: str

    def describe(self) -> str:
        shown = "" if self.value in (None, "") else f"「{self.value}」"
        return f"第 {self.row} 行「{self.column}」{shown}：{self.why}"


@dataclass
class ImportResult:
    sheet: str
    header_row: int
    mapping: dict[str, str]  # field → header as printed
    unmapped: list[str]  # headers no field claimed
    applications: list[tuple[int, Application]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def bad_rows(self) -> list[int]:
        return sorted({p.row for p in self.problems})


@lru_cache
def _settings() -> dict[str, Any]:
    return yaml.safe_load((resources.files(__package__) / "data" / "import.yaml").read_text(encoding="utf-8"))


def map_headers(headers: list[Any], overrides: dict[str, str] | None = None) -> tuple[dict[str, int], list[str]]:
    """field → column index, and the headers left unmapped. overrides: field → header text, from the user."""
    texts = [normalize_label(str(h)) if h is not None else "" for h in headers]
    mapping: dict[str, int] = {}
    for name, header in (overrides or {}).items():
        if name not in FIELD_LABELS:
            raise SheetError(f"未知字段 {name}，可用：" + "、".join(FIELD_LABELS))
        wanted = normalize_label(header)
        if wanted not in texts:
            raise SheetError(f"表头中没有「{header}」列")
        mapping[name] = texts.index(wanted)
    for name, patterns in _settings()["columns"].items():
        if name in mapping:
            continue
        for pattern in patterns:
            found = [i for i, t in enumerate(texts) if t and i not in mapping.values() and re.search(pattern, t)]
            if found:
                mapping[name] = found[0]
                break
    unmapped = [str(headers[i]) for i, t in enumerate(texts) if t and i not in mapping.values()]
    return mapping, unmapped


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    m = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(\s+[\d:]+)?", text)
    if not m:
        raise ValueError("不是可识别的日期（如 2026-03-05、2026/3/5、2026年3月5日）")
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError as exc:
        raise ValueError("日期不存在") from exc


def _applicant_type(value: Any, roles: Roles) -> str:
    text = normalize_label(str(value))
    for word, key in _settings()["applicant_types"].items():
        if word in text:
            return key
    columns = [c for c in roles.applications_table.columns if c.role == "value"]
    scored = sorted(((c.match_length(text), c.key) for c in columns), reverse=True)
    if scored and scored[0][0] and (len(scored) == 1 or scored[0][0] > scored[1][0]):
        return scored[0][1]
    raise ValueError("不是表三的申请人类型：" + "、".join(roles.applicant_types.values()))


def _outcome(value: Any, roles: Roles) -> str:
    text = normalize_label(str(value))
    rows = roles.outcome_rows
    scored = sorted(((row.match_length(text), key) for key, row in rows.items()), reverse=True)
    if scored and scored[0][0] and scored[0][0] > scored[1][0]:
        return scored[0][1]
    if scored and scored[0][0]:
        tied = [roles.outcome_label(k) for n, k in scored if n == scored[0][0]]
        raise ValueError("无法确定属于表三哪一结果行（" + "、".join(tied) + "），请写明具体情形")
    # "不予公开" alone names a group of rows (（三）不予公开 1–8), not one of them.
    for group in dict.fromkeys(row.group for row in rows.values() if row.group):
        name = re.sub(r"^\([一二三四五六七八九十]+\)", "", normalize_label(group))
        if name and name in text:
            under = [roles.outcome_label(k) for k, row in rows.items() if row.group == group]
            raise ValueError("无法确定属于表三哪一结果行（" + "、".join(under) + "），请写明具体情形")
    raise ValueError("不是表三的答复结果（如 予以公开、部分公开、不予公开 属于国家秘密、无法提供 本机关不掌握相关政府信息）")


def _channel(value: Any) -> Channel:
    text = normalize_label(str(value))
    for word, name in _settings()["channels"].items():
        if word in text:
            return Channel[name]
    raise ValueError("不是可识别的申请方式（当面、邮寄、网络、传真）")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _xlsx_rows(data: bytes, name: str) -> tuple[str, list[tuple]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise SheetError(f"{name}: 不是可读取的 xlsx 工作簿 ({type(exc).__name__}: {exc})") from exc
    sheet = workbook.worksheets[0]
    return sheet.title, list(sheet.iter_rows(values_only=True))


def _csv_rows(data: bytes, name: str) -> tuple[str, list[tuple]]:
    """A CSV export: UTF-8 (with or without the BOM Excel writes) or GB18030, comma, tab or semicolon."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SheetError(f"{name}: 不是 UTF-8 或 GBK 编码的 CSV 文件")
    if "\x00" in text:
        raise SheetError(f"{name}: 不是 CSV 文本文件（含二进制内容）")
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = [tuple(cell.strip() or None for cell in row) for row in csv.reader(io.StringIO(text), dialect)]
    except csv.Error as exc:
        raise SheetError(f"{name}: CSV 格式有误（{exc}）") from exc
    return name.rsplit("/", 1)[-1], rows


def is_xlsx(data: bytes) -> bool:
    return data.startswith(b"PK\x03\x04")


def read_ledger(data: bytes, body: str, name: str = "ledger.xlsx", overrides: dict[str, str] | None = None,
                default_channel: Channel | None = None, roles: Roles | None = None) -> ImportResult:
    """Every row of the first sheet of an xlsx workbook, or of a CSV file (told apart by content), below
    its header row, read into an Application or reported."""
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise SheetError(f"{name}: 是旧版 Excel（.xls）文件，请另存为 xlsx 或 CSV 后导入")
    sheet, rows = _xlsx_rows(data, name) if is_xlsx(data) else _csv_rows(data, name)
    return _read_rows(sheet, rows, body, name, overrides, default_channel, roles or current_roles())


def read_ledger_xlsx(data: bytes, body: str, name: str = "ledger.xlsx", overrides: dict[str, str] | None = None,
                     default_channel: Channel | None = None, roles: Roles | None = None) -> ImportResult:
    """Every row of the first sheet below its header row, read into an Application or reported."""
    sheet, rows = _xlsx_rows(data, name)
    return _read_rows(sheet, rows, body, name, overrides, default_channel, roles or current_roles())


def _read_rows(sheet: str, rows: list[tuple], body: str, name: str, overrides: dict[str, str] | None,
               default_channel: Channel | None, roles: Roles) -> ImportResult:
    # The header row: the first of the first ten rows where the required fields are recognised.
    found = None
    for index, headers in enumerate(rows[:10]):
        mapping, unmapped = map_headers(list(headers), overrides)
        if all(f in mapping for f in REQUIRED):
            found = index
            break
    if found is None:
        raise SheetError(f"{name}: 前 10 行中找不到含「申请时间」「申请人类型」等列的表头（可用 --map 字段=表头 指定）")
    header_texts = [str(h) if h is not None else "" for h in headers]
    result = ImportResult(sheet=sheet, header_row=found + 1,
                          mapping={f: header_texts[i] for f, i in mapping.items()}, unmapped=unmapped)
    if "channel" not in mapping and default_channel is None:
        raise SheetError(f"{name}: 没有「申请方式」列，请用 --channel 指定全部申请的提交方式")
    for offset, values in enumerate(rows[found + 1:]):
        row_number = found + 2 + offset
        if all(_blank(v) for v in values):
            continue
        result.applications += _read_row(row_number, values, mapping, header_texts, body, default_channel, roles, result)
    return result


def _read_row(row_number: int, values: tuple, mapping: dict[str, int], headers: list[str], body: str,
              default_channel: Channel | None, roles: Roles, result: ImportResult) -> list[tuple[int, Application]]:
    fields: dict[str, Any] = {}
    problems = []

    def cell(name: str) -> Any:
        i = mapping.get(name)
        return values[i] if i is not None and i < len(values) else None

    parsers = {"received_on": _date, "replied_on": _date, "applicant_type": lambda v: _applicant_type(v, roles),
               "outcome": lambda v: _outcome(v, roles), "channel": _channel}
    for name in mapping:
        value = cell(name)
        if _blank(value):
            if name in REQUIRED:
                problems.append(RowProblem(row_number, headers[mapping[name]], value, "为空（必填）"))
            continue
        try:
            fields[name] = parsers[name](value) if name in parsers else str(value).strip()
        except ValueError as exc:
            problems.append(RowProblem(row_number, headers[mapping[name]], value, str(exc)))
    replied, outcome = fields.get("replied_on"), fields.get("outcome")
    if "replied_on" in mapping and "outcome" in mapping and not problems:
        if (replied is None) != (outcome is None):
            column = "outcome" if outcome is None else "replied_on"
            problems.append(RowProblem(row_number, headers[mapping[column]], None,
                                       "有答复时间须有答复结果，反之亦然（未答复的两列都留空）"))
        elif replied is not None and replied < fields["received_on"]:
            problems.append(RowProblem(row_number, headers[mapping["replied_on"]], replied.isoformat(),
                                       f"答复时间早于申请时间 {fields['received_on']}"))
    if problems:
        result.problems += problems
        return []
    app = Application(body=body, applicant_type=fields["applicant_type"], channel=fields.get("channel") or default_channel,
                      received_on=fields["received_on"], applicant_name=fields.get("applicant_name"),
                      contact=fields.get("contact"), content=fields.get("content"), number=fields.get("number"),
                      handler=fields.get("handler"))
    if replied is not None:
        app.events.append(Event(kind=EventKind.reply, on=replied, outcome=outcome, note="导入"))
    return [(row_number, app)]
