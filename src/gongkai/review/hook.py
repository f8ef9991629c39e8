"""The hook the CLI and the web app give ingest and reparse (`after_write=`), called once a batch
of reports is written (in the batch's transaction): their own outcomes stored, each made a version
of its filing (单位@年度), the counted version and the versions' disagreements decided, and
consecutive years paired for the cross-year rules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from gongkai.review import outcomes as outcome_store
from gongkai.review.crossyear import pair_years
from gongkai.review.versions import attach, refresh


def after_write(conn: Connection, written: list[tuple[int, int, dict[str, Any]]]) -> None:
    """written: (report id, document id, the worker's result) for each report of the batch."""
    outcome_store.store_many(conn, "report", {report_id: result["outcomes"]
                                              for report_id, _, result in written if result.get("outcomes")})
    touched = attach(conn, [(report_id, document_id, result["report"]["agency"], result["report"]["year"])
                            for report_id, document_id, result in written])
    refresh(conn, touched)
    pair_years(conn, touched)
