"""Submission states of a 单位@年度: draft → submitted → returned (with the letter) → submitted … →
accepted. The checks are the gate at submit: an open or confirmed failure at error level blocks it,
unless an administrator overrides with a reason (recorded with the event)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from gongkai.review.common import STATE_NAMES, ReviewError, counted_report, filing_of, now, require_reason, require_user
from gongkai.review.outcomes import report_outcomes
from gongkai.store.schema import filings, findings, submission_events

_MOVES = {"submit": ({"draft", "returned"}, "submitted"), "return": ({"submitted"}, "returned"),
          "accept": ({"submitted"}, "accepted")}


def blocking(conn: Connection, report_id: int, outcomes: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """What stops a submission: error-level failures not dismissed by a reviewer (the checker's
    findings where no outcomes are stored). outcomes: the report's report_outcomes, when read already."""
    items = [i for i in (report_outcomes(conn, report_id, {"failed"}) if outcomes is None else outcomes)
             if i["status"] == "failed"]
    if items:
        return [i for i in items if i["severity"] == "error" and i["review"] != "dismissed"]
    if conn.scalar(select(findings.c.id).where(findings.c.report_id == report_id).limit(1)) is None:
        return []
    return [{"rule": f.rule, "message": f.message, "severity": f.severity}
            for f in conn.execute(select(findings).where(findings.c.report_id == report_id, findings.c.severity == "error"))]


def _move(conn: Connection, report_id: int, action: str, user: str | None, reason: str | None = None,
          letter: bytes | None = None) -> dict[str, Any]:
    user = require_user(user)
    filing_id = filing_of(conn, report_id)
    state = conn.scalar(select(filings.c.state).where(filings.c.id == filing_id))
    allowed, target = _MOVES[action]
    if state not in allowed:
        raise ReviewError(f"报告当前状态为「{STATE_NAMES[state]}」，不能{ {'submit': '报送', 'return': '退回', 'accept': '通过'}[action] }")
    conn.execute(update(filings).where(filings.c.id == filing_id).values(state=target))
    at = now()
    conn.execute(insert(submission_events).values(filing_id=filing_id, from_state=state, to_state=target, user=user,
                                                  at=at, reason=reason, letter=letter))
    return {"report_id": report_id, "from": state, "to": target, "user": user, "at": at.isoformat(), "reason": reason}


def submit(conn: Connection, report_id: int, user: str | None, *, admin: bool = False,
           override: str | None = None) -> dict[str, Any]:
    """Submit the counted version of the report's 单位@年度; errors block unless an admin overrides."""
    counted = counted_report(conn, filing_of(conn, report_id)) or report_id
    blockers = blocking(conn, counted)
    if blockers:
        if override is None:
            listed = "；".join(f"[{b['rule']}] {b['message']}" for b in blockers[:5])
            raise ReviewError(f"有 {len(blockers)} 项错误未处理，不能报送：{listed}"
                              + ("…" if len(blockers) > 5 else "") + "（管理员可说明理由后强制报送）")
        if not admin:
            raise ReviewError("只有管理员可以强制报送 (only an administrator may override the checks)")
        override = require_reason(override, "强制报送")
    return {**_move(conn, report_id, "submit", user, override), "overridden": len(blockers)}


def return_report(conn: Connection, report_id: int, user: str | None, reason: str | None = None) -> dict[str, Any]:
    """Return a submitted report to its body with the review letter (its confirmed findings, DOCX)."""
    from gongkai.review.letter import letter_docx

    letter = letter_docx(conn, [report_id])
    return {**_move(conn, report_id, "return", user, reason, letter), "letter_bytes": len(letter)}


def accept(conn: Connection, report_id: int, user: str | None) -> dict[str, Any]:
    return _move(conn, report_id, "accept", user)


def events(conn: Connection, report_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(select(submission_events).where(submission_events.c.filing_id == filing_of(conn, report_id))
                        .order_by(submission_events.c.id)).all()
    return [{"from": r.from_state, "to": r.to_state, "user": r.user, "at": r.at.isoformat(), "reason": r.reason,
             "letter": r.letter is not None} for r in rows]


def state(conn: Connection, report_id: int) -> str:
    return conn.scalar(select(filings.c.state).where(filings.c.id == filing_of(conn, report_id)))


def returned_letter(conn: Connection, report_id: int) -> bytes | None:
    """The letter sent with the latest return of the report's 单位@年度 (None: never returned)."""
    return conn.scalar(select(submission_events.c.letter)
                       .where(submission_events.c.filing_id == filing_of(conn, report_id),
                              submission_events.c.to_state == "returned")
                       .order_by(submission_events.c.id.desc()).limit(1))
