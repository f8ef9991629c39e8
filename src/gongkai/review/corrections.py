"""Corrections with an audit trail: who changed which cell of a 单位@年度, from what to what, and why.

The parsed value is never overwritten (it stays in `cells`); the current correction is what checks,
stats and exports read (gongkai.store.query.cell_values, load_report) and they say so. After a
correction the report is checked again: its findings and outcomes follow the corrected figures.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select, update

from gongkai.formats import load_format
from gongkai.review import outcomes as outcome_store
from gongkai.review.common import ReviewError, filing_of, now, report_meta, require_reason, require_user
from gongkai.store.query import label_for, load_report
from gongkai.store.records import finding_rows, typed_value
from gongkai.store.schema import cells, corrections, findings, report_versions


def _parsed(conn: Connection, report_id: int, key: str) -> Any:
    row = conn.execute(select(cells.c.value, cells.c.raw).where(cells.c.report_id == report_id, cells.c.key == key)).one_or_none()
    return None if row is None else typed_value(row.value, row.raw)


def correct(conn: Connection, report_id: int, key: str, value: float | None, reason: str | None,
            user: str | None) -> dict[str, Any]:
    """Set a cell of the report's 单位@年度 to value (None: blank, not stated) and check it again."""
    user = require_user(user)
    reason = require_reason(reason, "更正")
    meta = report_meta(conn, report_id)
    if key not in load_format(meta.format).all_cells:
        raise ReviewError(f"{key}：不是 {meta.format} 格式的单元格（见 docs/cells.md）")
    if value is not None and value < 0:
        raise ReviewError(f"{key}：数值不能为负 ({value})")
    filing_id = filing_of(conn, report_id)
    previous = conn.execute(select(corrections.c.new).where(
        corrections.c.filing_id == filing_id, corrections.c.key == key, corrections.c.current)).one_or_none()
    old = typed_value(previous.new) if previous is not None else _parsed(conn, report_id, key)
    if old == value:
        raise ReviewError(f"{label_for(key)}：已是 {value}，无需更正")
    conn.execute(update(corrections).where(corrections.c.filing_id == filing_id, corrections.c.key == key)
                 .values(current=False))
    at = now()
    conn.execute(insert(corrections).values(filing_id=filing_id, key=key, old=old, new=value, reason=reason,
                                            user=user, at=at, current=True))
    recheck(conn, filing_id)
    return {"report_id": report_id, "key": key, "label": label_for(key), "old": old, "new": value, "reason": reason,
            "user": user, "at": at.isoformat()}


def recheck(conn: Connection, filing_id: int) -> None:
    """Check every version of the filing again with its corrected figures: the checker's findings and
    the report's outcomes replaced; cross-year pairs with the neighbouring years run again."""
    from gongkai.check import check_report
    from gongkai.review.crossyear import pair_years

    own = and_(*(~findings.c.rule.startswith(prefix) for prefix in outcome_store.SCOPE_PREFIXES.values()))
    for report_id in conn.scalars(select(report_versions.c.report_id).where(report_versions.c.filing_id == filing_id)).all():
        report = load_report(conn, report_id).report
        conn.execute(delete(findings).where(findings.c.report_id == report_id, own))
        rows = finding_rows(check_report(report))
        if rows:
            conn.execute(insert(findings), [{"report_id": report_id, **row} for row in rows])
        outcome_rows = outcome_store.evaluate_rows(report)
        if outcome_rows is not None:
            outcome_store.store(conn, report_id, "report", outcome_rows)
    pair_years(conn, {filing_id})


def history(conn: Connection, report_id: int, key: str | None = None) -> list[dict[str, Any]]:
    """Each corrected cell's story, oldest first: the parsed value, then every correction."""
    filing_id = filing_of(conn, report_id)
    query = select(corrections).where(corrections.c.filing_id == filing_id).order_by(corrections.c.key, corrections.c.id)
    if key:
        query = query.where(corrections.c.key == key)
    rows = conn.execute(query).all()
    out: list[dict[str, Any]] = []
    for k in dict.fromkeys(r.key for r in rows):
        entries = [{"value": _parsed(conn, report_id, k), "what": "parsed", "user": None, "at": None, "reason": None}]
        entries += [{"value": typed_value(r.new), "old": typed_value(r.old), "what": "corrected", "user": r.user,
                     "at": r.at.isoformat(), "reason": r.reason, "current": r.current} for r in rows if r.key == k]
        out.append({"key": k, "label": label_for(k), "history": entries})
    if key and not out:
        out.append({"key": key, "label": label_for(key),
                    "history": [{"value": _parsed(conn, report_id, key), "what": "parsed", "user": None, "at": None,
                                 "reason": None}]})
    return out
