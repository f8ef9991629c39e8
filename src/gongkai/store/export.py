"""The corpus as tables: one row per report, one column per cell key (pivoted from the long cells
table), and the findings; written to CSV, Excel or Parquet."""

from __future__ import annotations

import json
from copy import copy
from enum import StrEnum
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection

from gongkai.formats import all_formats
from gongkai.model import SEVERITY_NAMES
from gongkai.store.query import (
    FINDING_COLUMNS,
    META_COLUMNS,
    Filters,
    cell_values,
    cells_query,
    findings_query,
    key_order,
    label_for,
    meta_query,
)
from gongkai.store.records import provenance_from
from gongkai.text import FORMULA_START, printable, spreadsheet_text


class ExportFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    parquet = "parquet"


def _count_keys() -> set[str]:
    return {key for fmt in all_formats() for key, cell in fmt.all_cells.items() if cell.column.type == "count"}


def _typed(column: pd.Series, count: bool) -> pd.Series:
    """Counts as nullable integers (a blank stays <NA>, never 0); other figures as nullable floats."""
    values = column.astype("Float64")
    if count:
        present = values.dropna()
        if (present == present.round()).all():
            return values.astype("Int64")
    return values


def labelled(columns: list[str]) -> dict[str, str]:
    """Chinese headings from the format definitions, made unique if two cells share one."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for column in columns:
        label = META_COLUMNS.get(column) or label_for(column)
        if label in used:
            label = f"{label} ({column})"
        used.add(label)
        out[column] = label
    return out


def _records(conn: Connection, query: Any) -> list[tuple[Any, ...]]:
    """The rows as the driver returns them: plain tuples, which pandas reads several times faster
    than SQLAlchemy's Row objects (ids, keys and floats need no type processing)."""
    result = conn.execute(query)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def reports_frame(conn: Connection, filters: Filters | None = None, labels: bool = False) -> pd.DataFrame:
    """One row per report: its metadata, then one column per cell key in the formats' order."""
    meta = pd.DataFrame(conn.execute(meta_query(filters)).all(), columns=list(META_COLUMNS))
    meta["year"] = meta["year"].astype("Int64")
    meta["report_id"] = meta["report_id"].astype("int64")
    long = pd.DataFrame.from_records(_records(conn, cells_query(filters, cell_values(conn))), columns=["report_id", "key", "value"])
    if long.empty:
        frame = meta
    else:
        wide = long.pivot(index="report_id", columns="key", values="value")
        order = key_order()
        keys = sorted(wide.columns, key=lambda k: (order.get(k, len(order)), k))
        counts = _count_keys()
        wide = pd.DataFrame({k: _typed(wide[k], k in counts) for k in keys}, index=wide.index)
        frame = meta.join(wide, on="report_id")
    if labels:
        frame = frame.rename(columns=labelled(list(frame.columns)))
    return frame


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _where(locations: Any) -> str | None:
    """The stored document's lines or pages a finding points at, as people look them up."""
    places = [p.describe() for p in (provenance_from(x) for x in locations or []) if p is not None]
    return "；".join(dict.fromkeys(places)) or None


def findings_frame(conn: Connection, filters: Filters | None = None, labels: bool = False) -> pd.DataFrame:
    frame = pd.DataFrame(conn.execute(findings_query(filters)).all(), columns=list(FINDING_COLUMNS))
    # JSON values as text: a column of mixed numbers, lists and nulls fits neither Parquet nor Excel.
    for column in ("cells", "expected", "found"):
        frame[column] = frame[column].map(_json_text).astype("string")
    frame["where"] = frame["where"].map(_where).astype("string")
    frame["year"] = frame["year"].astype("Int64")
    if labels:
        frame["severity"] = frame["severity"].map(lambda s: SEVERITY_NAMES.get(s, s)).astype("string")
        frame = frame.rename(columns=FINDING_COLUMNS)
    return frame


def inert_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text cell as text a spreadsheet will not run: a report's agency or a finding's message
    written `=HYPERLINK(…)`, `+cmd|…` or `@SUM(…)` gets a leading apostrophe (CSV and Parquet; the
    workbook keeps the text as written in string cells, see write_xlsx)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or isinstance(out[column].dtype, pd.StringDtype):
            out[column] = out[column].map(lambda v: spreadsheet_text(v) if isinstance(v, str) else v)
    return out


def _xlsx_cell(ws: Any, value: Any, font: Any = None) -> Any:
    from openpyxl.cell import WriteOnlyCell

    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return WriteOnlyCell(ws, None)
    if isinstance(value, str):
        cell = WriteOnlyCell(ws, printable(value))
        cell.data_type = "s"  # openpyxl would store "=…" as a formula
        if value.startswith(FORMULA_START):
            cell.quotePrefix = True  # and Excel keeps it text when someone edits it
    else:
        cell = WriteOnlyCell(ws, value.item() if hasattr(value, "item") else value)
    if font is not None:
        cell.font = font
    return cell


def write_xlsx(out: Path, sheets: list[tuple[str, pd.DataFrame]]) -> None:
    """The frames as sheets of one workbook: a frozen header row with filters on it, every text a
    string cell (never a formula, whatever it starts with), blanks empty."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for name, frame in sheets:
        ws = workbook.create_sheet(name)
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(max(len(frame.columns), 1))}{len(frame) + 1}"
        ws.append([_xlsx_cell(ws, str(c), bold) for c in frame.columns])
        for row in frame.itertuples(index=False, name=None):
            ws.append([_xlsx_cell(ws, v) for v in row])
    workbook.save(out)


def findings_path(out: Path) -> Path:
    """reports.csv → reports.findings.csv (CSV and Parquet keep findings in a second file)."""
    return out.with_name(f"{out.stem}.findings{out.suffix}")


def export(conn: Connection, to: ExportFormat, out: Path, filters: Filters | None = None,
           labels: bool = False) -> list[Path]:
    """Write the reports table and the findings, one report per 单位@年度 (the version that counts) with
    reviewers' corrections applied; returns the files written."""
    filters = copy(filters) if filters is not None else Filters()  # a copy keeps a subclass's own scope
    filters.counted = True
    reports = reports_frame(conn, filters, labels)
    found = findings_frame(conn, filters, labels)
    if to is ExportFormat.xlsx:
        write_xlsx(out, [("报告" if labels else "reports", reports), ("核查结果" if labels else "findings", found)])
        return [out]
    reports, found = inert_text(reports), inert_text(found)
    second = findings_path(out)
    if to is ExportFormat.csv:
        # utf-8-sig: Excel needs the BOM to read Chinese; pandas skips it.
        reports.to_csv(out, index=False, encoding="utf-8-sig")
        found.to_csv(second, index=False, encoding="utf-8-sig")
    else:
        reports.to_parquet(out, index=False)
        found.to_parquet(second, index=False)
    return [out, second]
