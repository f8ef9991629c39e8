"""What the review modules share: the error for people, the clock, a report's filing, bulk work."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from gongkai.store.schema import bodies, documents, filings, report_versions, reports


class ReviewError(ValueError):
    """A request the review cannot carry out; the message (Chinese) says why."""


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while a bulk step builds tens of thousands of dicts and lists
    that all stay alive: each collection would walk them again and free nothing (a hierarchy check
    of a large tree spent a fifth of its time so). Resumed after only if it was running."""
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()


def now() -> datetime:
    return datetime.now(UTC)


def require_reason(reason: str | None, what: str) -> str:
    if not reason or not reason.strip():
        raise ReviewError(f"{what}须说明理由 (a reason is required)")
    return reason.strip()


def require_user(user: str | None) -> str:
    if not user or not user.strip():
        raise ReviewError("须注明操作人 (a user name is required)")
    return user.strip()


def filing_of(conn: Connection, report_id: int) -> int:
    """The filing (单位@年度) a report is a version of."""
    filing_id = conn.scalar(select(report_versions.c.filing_id).where(report_versions.c.report_id == report_id))
    if filing_id is None:
        raise ReviewError(f"报告 {report_id} 没有单位或年度，不能审核 (the report names no agency or year)")
    return filing_id


def report_meta(conn: Connection, report_id: int) -> Any:
    """agency, year, format, document name, filing and state of a report."""
    row = conn.execute(
        select(reports.c.id, reports.c.agency, reports.c.year, reports.c.format, documents.c.name.label("document"),
               report_versions.c.filing_id, report_versions.c.counted, filings.c.state, bodies.c.id.label("body_id"))
        .join(documents, documents.c.id == reports.c.document_id)
        .outerjoin(report_versions, report_versions.c.report_id == reports.c.id)
        .outerjoin(filings, filings.c.id == report_versions.c.filing_id)
        .outerjoin(bodies, bodies.c.id == filings.c.body_id)
        .where(reports.c.id == report_id)).one_or_none()
    if row is None:
        raise ReviewError(f"库中没有编号为 {report_id} 的报告 (no such report)")
    return row


def counted_report(conn: Connection, filing_id: int) -> int | None:
    return conn.scalar(select(report_versions.c.report_id)
                       .where(report_versions.c.filing_id == filing_id, report_versions.c.counted))


# A filing's submission states as people read them.
STATE_NAMES = {"draft": "草稿", "submitted": "已报送", "returned": "已退回", "accepted": "已通过"}
