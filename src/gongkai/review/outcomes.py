"""Every rule instance's outcome, stored per report, and reviewers' decisions on them.

Outcomes come in scopes: `report` (the format's rules on the report alone, from gongkai.check.evaluate),
`cross_year` (the X- rules against last year's report of the same body), `versions` (cells on which
the versions of one filing disagree) and `hierarchy` (a parent's figures against its children's).
A decision (confirm or dismiss, with a reason) is kept on the filing by the outcome's fingerprint
(rule + cells + values): it survives re-parsing and re-checking, and is reopened when a value changes.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from gongkai.model import Finding, Outcome, Provenance, Report
from gongkai.review.common import ReviewError, filing_of, now, require_reason, require_user
from gongkai.store.bulk import insert_rows
from gongkai.store.records import outcome_rows, provenance_from
from gongkai.store.schema import decisions, findings, outcomes

STATUS_NAMES = {"passed": "通过", "failed": "不通过", "uncertain": "存疑", "not_assessable": "无法判断"}
DECISION_NAMES = {"open": "待审", "confirmed": "已确认", "dismissed": "已驳回", "reopened": "数值已变，重新待审"}
# Findings the review writes into the store's findings table (so list, show, --has-errors and export
# see them), told apart from the checker's own by their rule ids. Hierarchy outcomes are not copied:
# a large tree has tens of thousands, and they belong to the tree, read with `review` and the letter.
SCOPE_PREFIXES = {"cross_year": "X-", "versions": "V-"}


def evaluator() -> Any:
    """gongkai.check.evaluate(report, previous=None) -> list[Outcome], or None where it is not installed."""
    try:
        from gongkai.check import evaluate
    except ImportError:
        return None
    return evaluate


def evaluate_rows(report: Report) -> list[dict[str, Any]] | None:
    """The report's own outcomes as rows (run where the report is parsed); None without evaluate."""
    evaluate = evaluator()
    return None if evaluate is None else outcome_rows(evaluate(report), "report")


def store(conn: Connection, report_id: int, scope: str, rows: list[dict[str, Any]]) -> None:
    """Replace a report's outcomes of one scope; failed ones of the review's own scopes become findings."""
    store_many(conn, scope, {report_id: rows})


def store_many(conn: Connection, scope: str, by_report: dict[int, list[dict[str, Any]]]) -> None:
    """store() for many reports at once (a statement per table, not per report)."""
    ids = list(by_report)
    if not ids:
        return
    conn.execute(delete(outcomes).where(outcomes.c.report_id.in_(ids), outcomes.c.scope == scope))
    rows = [row for items in by_report.values() for row in items]
    report_ids = [report_id for report_id, items in by_report.items() for _ in items]
    insert_rows(conn, outcomes, rows, report_id=report_ids)
    prefix = SCOPE_PREFIXES.get(scope)
    if prefix:
        conn.execute(delete(findings).where(findings.c.report_id.in_(ids), findings.c.rule.startswith(prefix)))
        insert_rows(conn, findings, [{**row, "report_id": report_id, "message": row["message"] or "", "inferred": None}
                                     for report_id, row in zip(report_ids, rows, strict=True)
                                     if row["status"] == "failed"])


def as_outcome(row: Any) -> Outcome:
    m = row if isinstance(row, dict) else row._mapping
    return Outcome(rule=m["rule"], status=m["status"], severity=m["severity"], message=m["message"],
                   cells=m["cells"] or [], values=m["values"] or {}, expected=m["expected"], found=m["found"],
                   reading=m["reading"],
                   locations=[p for p in (provenance_from(x) for x in m["locations"] or []) if p is not None])


def cells_key(cells: list[str] | None) -> str:
    return json.dumps(sorted(cells or []), ensure_ascii=False)


def _where(locations: list[Provenance]) -> str:
    return "；".join(dict.fromkeys(p.describe() for p in locations)) or "位置不详"


def _decisions(conn: Connection, filing_id: int) -> list[Any]:
    return conn.execute(select(decisions).where(decisions.c.filing_id == filing_id).order_by(decisions.c.id)).all()


def _decision_json(row: Any) -> dict[str, Any]:
    return {"decision": row.decision, "reason": row.reason, "user": row.user, "at": row.at.isoformat(),
            "fingerprint": row.fingerprint}


def report_outcomes(conn: Connection, report_id: int, statuses: set[str] | None = None) -> list[dict[str, Any]]:
    """The report's outcomes, each with its review state: open, confirmed, dismissed or reopened (a
    decision on the same rule and cells whose values have since changed); passed ones have none."""
    rows = conn.execute(select(outcomes).where(outcomes.c.report_id == report_id).order_by(outcomes.c.id)).all()
    try:
        made = _decisions(conn, filing_of(conn, report_id))
    except ReviewError:
        made = []
    by_fingerprint = {d.fingerprint: d for d in made}  # the latest wins
    by_cells = {(d.rule, d.cells_key): d for d in made}
    out = []
    for row in rows:
        if statuses and row.status not in statuses:
            continue
        o = as_outcome(row)
        item = {"id": row.id, "scope": row.scope, "rule": o.rule, "status": o.status, "severity": o.severity,
                "message": o.message, "cells": o.cells, "values": o.values, "expected": o.expected, "found": o.found,
                "reading": o.reading, "where": _where(o.locations), "related": row.related,
                "fingerprint": row.fingerprint, "review": None, "decision": None, "earlier_decision": None}
        if o.status in ("failed", "uncertain"):
            decision = by_fingerprint.get(row.fingerprint)
            earlier = by_cells.get((o.rule, cells_key(o.cells)))
            if decision is not None:
                item["review"], item["decision"] = decision.decision, _decision_json(decision)
            elif earlier is not None:
                item["review"], item["earlier_decision"] = "reopened", _decision_json(earlier)
            else:
                item["review"] = "open"
        out.append(item)
    return out


def summary(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts by status and by review state, and the line a reviewer reads first."""
    counts = Counter(i["status"] for i in items)
    reviews = Counter(i["review"] for i in items if i["review"])
    text = (f"{len(items)} checks: {counts['passed']} passed, {counts['failed']} failed, "
            f"{counts['uncertain']} uncertain, {counts['not_assessable']} not assessable")
    zh = (f"核查 {len(items)} 项：通过 {counts['passed']}，不通过 {counts['failed']}，存疑 {counts['uncertain']}，"
          f"无法判断 {counts['not_assessable']}")
    return {"total": len(items), **{s: counts[s] for s in STATUS_NAMES}, "reviews": dict(reviews), "text": text, "zh": zh}


def find_outcome(conn: Connection, report_id: int, ref: str) -> Any:
    """An outcome of the report by its id or a prefix of its fingerprint."""
    ref = ref.strip()
    query = select(outcomes).where(outcomes.c.report_id == report_id)
    if ref.isdigit():
        row = conn.execute(query.where(outcomes.c.id == int(ref))).one_or_none()
        if row is not None:
            return row
    rows = conn.execute(query.where(outcomes.c.fingerprint.startswith(ref.lower()))).all() if len(ref) >= 4 else []
    if len(rows) != 1:
        raise ReviewError(f"{ref}：报告 {report_id} 中{'没有' if not rows else '有多项'}对应的核查结果（用编号或指纹前缀）")
    return rows[0]


def decide(conn: Connection, report_id: int, ref: str, decision: str, reason: str | None, user: str | None) -> dict[str, Any]:
    """Confirm or dismiss a failed or uncertain outcome, with a reason; kept by its fingerprint."""
    if decision not in ("confirmed", "dismissed"):
        raise ReviewError(f"未知的审核决定 {decision!r}")
    user = require_user(user)
    reason = require_reason(reason, "确认或驳回")
    row = find_outcome(conn, report_id, ref)
    if row.status not in ("failed", "uncertain"):
        raise ReviewError(f"核查结果 {row.id}（{row.rule}）为「{STATUS_NAMES[row.status]}」，只有不通过或存疑的结果需要审核")
    values = {"filing_id": filing_of(conn, report_id), "fingerprint": row.fingerprint, "rule": row.rule,
              "cells_key": cells_key(row.cells), "decision": decision, "reason": reason, "user": user, "at": now()}
    conn.execute(insert(decisions).values(**values))
    return {"outcome": row.id, "rule": row.rule, **{k: v for k, v in values.items() if k != "cells_key"},
            "at": values["at"].isoformat()}


def confirmed_findings(conn: Connection, report_id: int) -> list[tuple[dict[str, Any], Finding]]:
    """The outcomes a reviewer confirmed (and whose values have not changed since), as findings."""
    items = [i for i in report_outcomes(conn, report_id) if i["review"] == "confirmed"]
    rows = {r.id: r for r in conn.execute(select(outcomes).where(outcomes.c.id.in_([i["id"] for i in items]))).all()}
    return [(i, as_outcome(rows[i["id"]]).finding()) for i in items]
