"""Report ⇄ database rows. Plain dicts and tuples: they cross process boundaries cheaply."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

from gongkai.formats import all_formats
from gongkai.model import Cell, Finding, Outcome, Provenance, Report, Section, TableSeen, built
from gongkai.store.region import derive_region
from gongkai.text import nfkc

_PROVENANCE_FIELDS = tuple(f.name for f in fields(Provenance))


def provenance_json(p: Provenance | None) -> dict[str, Any] | None:
    if p is None:
        return None
    out = {}
    for name in _PROVENANCE_FIELDS:
        v = getattr(p, name)
        if v is not None:
            out[name] = list(v) if isinstance(v, tuple) else v
    return out or None


def provenance_from(data: dict[str, Any] | None) -> Provenance | None:
    if not data:
        return None
    known = {k: v for k, v in data.items() if k in _PROVENANCE_FIELDS}
    if "bbox" in known and known["bbox"] is not None:
        known["bbox"] = tuple(known["bbox"])
    return Provenance(**known)


def report_row(report: Report, checked: bool) -> dict[str, Any]:
    region = derive_region(report.agency)
    return {
        "agency": report.agency,
        "province_code": region.province_code,
        "province": region.province,
        "city": region.city,
        "year": report.year,
        "format": report.format,
        "parser_version": report.parser_version or "",
        "title": report.title,
        "checked": checked,
        "notes": list(report.notes) or None,
        "sections": [s.model_dump(mode="json", exclude_none=True) for s in report.sections] or None,
        "layout": {k: t.model_dump(mode="json", exclude_none=True) for k, t in report.tables.items()} or None,
    }


# The cells of one report as tuples in this order (report_id comes first when written): the bulk
# of every ingest, so they are compact to pickle and written without per-row type processing.
CELL_COLUMNS = ("key", "value", "raw", "provenance", "confidence", "note")


def json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def cell_rows(report: Report) -> list[tuple[Any, ...]]:
    """One row per cell; a value the report does not state stays None (SQL NULL), never 0.
    Provenance is JSON text already (see CELL_COLUMNS)."""
    return [
        (key, cell.value, cell.raw, json_text(provenance_json(cell.provenance)), cell.confidence, cell.note)
        for key, cell in report.cells.items()
    ]


def finding_rows(findings: list[Finding]) -> list[dict[str, Any]]:
    rows = []
    for f in findings:
        data = f.model_dump(mode="json")
        rows.append({
            "rule": f.rule, "severity": f.severity, "message": f.message,
            "cells": data.get("cells") or None, "expected": data.get("expected"), "found": data.get("found"),
            "locations": [provenance_json(p) for p in f.locations] or None, "inferred": data.get("inferred"),
        })
    return rows


def outcome_rows(items: list[Outcome], scope: str, related: Any = None) -> list[dict[str, Any]]:
    """Rows of the outcomes table (with every column but the report's id) for rule instances' outcomes."""
    rows = []
    for o in items:
        data = o.model_dump(mode="json")
        rows.append({"scope": scope, "rule": o.rule, "status": o.status, "severity": o.severity, "message": o.message,
                     "cells": data["cells"] or None, "values": data["values"] or None, "expected": data["expected"],
                     "found": data["found"], "reading": o.reading,
                     "locations": [provenance_json(p) for p in o.locations] or None, "related": related,
                     "fingerprint": o.fingerprint()})
    return rows


def typed_value(value: float | None, raw: str | None = None) -> int | float | None:
    """The stored float back as the parser read it: an integer unless the report printed decimals
    (the parser reads "12" as 12 and "12.0" as 12.0, and a check may care which)."""
    if value is None:
        return None
    if float(value).is_integer() and not (raw and "." in nfkc(raw)):
        return int(value)
    return float(value)


def _order(format_id: str) -> dict[str, int]:
    """Cells in the format's order, as the parser gives them."""
    fmt = next((f for f in all_formats() if f.id == format_id), None)
    return {key: i for i, key in enumerate(fmt.all_cells)} if fmt else {}


def build_report(row: Any, cell_rows: list[Any], source: str | None = None) -> Report:
    """A Report from its stored rows: every cell with its raw text, provenance, confidence and note."""
    report = Report(source=source, agency=row.agency, year=row.year, format=row.format, title=row.title,
                    parser_version=row.parser_version, notes=list(row.notes or []))
    report.sections = [Section.model_validate(s) for s in row.sections or []]
    report.tables = {k: TableSeen.model_validate(t) for k, t in (row.layout or {}).items()}
    order = _order(row.format)
    for c in sorted(cell_rows, key=lambda c: order.get(c.key, len(order))):
        report.cells[c.key] = built(Cell, key=c.key, value=typed_value(c.value, c.raw), raw=c.raw,
                                    provenance=provenance_from(c.provenance), confidence=c.confidence, note=c.note)
    return report


def build_finding(row: Any) -> Finding:
    return Finding(rule=row.rule, severity=row.severity, message=row.message, cells=row.cells or [],
                   expected=row.expected, found=row.found,
                   locations=[p for p in (provenance_from(x) for x in row.locations or []) if p is not None],
                   inferred=row.inferred)
