"""One report per body and year: the documents of one 单位@年度 (a web page and its PDF, a revised
re-publication) are versions of one filing, and exactly one of them counts — the one a reviewer
chose, or the newest. The cells on which versions disagree are an outcome of their own (V-versions)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, and_, distinct, func, insert, or_, select, update

from gongkai.model import Outcome
from gongkai.review import outcomes as outcome_store
from gongkai.review.bodies import ensure_bodies
from gongkai.review.common import ReviewError, filing_of
from gongkai.store.query import label_for
from gongkai.store.records import typed_value
from gongkai.store.schema import cells, documents, filings, report_versions, reports


def attach(conn: Connection, items: list[tuple[int, int, str | None, int | None]]) -> set[int]:
    """Make each (report, document, agency, year) a version of its filing; returns the filings touched."""
    named = [i for i in items if i[2] and i[3] is not None]
    body_ids = ensure_bodies(conn, {agency for _, _, agency, _ in named})
    touched: set[int] = set()
    for report_id, document_id, agency, year in named:
        body_id = body_ids[agency]
        filing_id = conn.scalar(select(filings.c.id).where(filings.c.body_id == body_id, filings.c.year == year))
        if filing_id is None:
            filing_id = conn.execute(insert(filings).values(body_id=body_id, year=year, chosen_document_id=None,
                                                            state="draft")).inserted_primary_key[0]
        conn.execute(insert(report_versions).values(report_id=report_id, filing_id=filing_id, document_id=document_id,
                                                     counted=False))
        touched.add(filing_id)
    return touched


def _versions_of(conn: Connection, filing_ids: Collection[int]) -> dict[int, list[Any]]:
    """Each filing's versions, newest first: by when the document was ingested, then by its id."""
    by_filing: dict[int, list[Any]] = {}
    for row in conn.execute(
            select(report_versions.c.report_id, report_versions.c.document_id, report_versions.c.counted,
                   report_versions.c.filing_id, documents.c.name, documents.c.kind, documents.c.ingested_at,
                   reports.c.parser_version)
            .join(documents, documents.c.id == report_versions.c.document_id)
            .join(reports, reports.c.id == report_versions.c.report_id)
            .where(report_versions.c.filing_id.in_(sorted(filing_ids)))
            .order_by(documents.c.ingested_at.desc(), documents.c.id.desc())):
        by_filing.setdefault(row.filing_id, []).append(row)
    return by_filing


def refresh(conn: Connection, filing_ids: set[int]) -> None:
    """Which version counts, and the versions' disagreements, for each filing."""
    if not filing_ids:
        return
    by_filing = _versions_of(conn, filing_ids)
    chosen = dict(conn.execute(select(filings.c.id, filings.c.chosen_document_id).where(filings.c.id.in_(list(by_filing)))).all())
    differing = _differing_cells(conn, [f for f, versions in by_filing.items() if len(versions) > 1])
    results: dict[int, list[dict[str, Any]]] = {}
    flips: dict[bool, list[int]] = {True: [], False: []}  # versions whose flag changes, by their new flag
    for filing_id, versions in by_filing.items():
        counted = next((v for v in versions if v.document_id == chosen.get(filing_id)), versions[0])
        for v in versions:
            if v.counted != (v is counted):
                flips[v is counted].append(v.report_id)
            results[v.report_id] = []
        if len(versions) > 1:
            results[counted.report_id] = disagreements(counted.report_id, versions, differing.get(filing_id, {}))
    for flag, report_ids in flips.items():
        if report_ids:
            conn.execute(update(report_versions).where(report_versions.c.report_id.in_(report_ids)).values(counted=flag))
    outcome_store.store_many(conn, "versions", results)


def _differing_cells(conn: Connection, filing_ids: list[int]) -> dict[int, dict[str, dict[int, Any]]]:
    """filing → key → report → value, for the cells whose values differ between the filing's versions:
    two figures, a figure against a blank, or a cell one version lacks. The database finds the keys
    (a filing re-published often has many versions, a batch touches many filings)."""
    if not filing_ids:
        return {}
    filing = report_versions.c.filing_id
    of_filing = report_versions.alias("of_filing")
    version_count = select(func.count()).where(of_filing.c.filing_id == filing).scalar_subquery()
    stated = func.count(cells.c.value)
    differ = (select(filing, cells.c.key).join(report_versions, report_versions.c.report_id == cells.c.report_id)
              .where(filing.in_(filing_ids)).group_by(filing, cells.c.key)
              .having(or_(func.count(distinct(cells.c.value)) > 1, and_(stated > 0, stated < func.count()),
                          func.count() < version_count)))
    found: dict[int, dict[str, dict[int, Any]]] = {}
    for row in conn.execute(differ):
        found.setdefault(row.filing_id, {})[row.key] = {}
    if found:
        for row in conn.execute(select(filing, cells.c.report_id, cells.c.key, cells.c.value, cells.c.raw)
                                .join(report_versions, report_versions.c.report_id == cells.c.report_id)
                                .where(filing.in_(list(found)), cells.c.key.in_(set().union(*found.values())))):
            of_key = found[row.filing_id].get(row.key)
            if of_key is not None:
                of_key[row.report_id] = typed_value(row.value, row.raw)
    return found


def disagreements(counted_id: int, versions: list[Any], differing: dict[str, dict[int, Any]]) -> list[dict[str, Any]]:
    """One outcome per cell whose value differs between the versions (differing: key → version's report →
    value; a version without the key has a blank), or one passed outcome when every version agrees."""
    names = {v.report_id: f"{v.name}（编号 {v.report_id}）" for v in versions}
    items = []
    for key in sorted(differing):
        seen = {names[v.report_id]: differing[key].get(v.report_id) for v in versions}
        if len(set(seen.values())) > 1:
            items.append(Outcome(
                rule="V-versions", status="failed", severity="warning", cells=[key],
                values={key: differing[key].get(counted_id)}, expected=None, found=seen,
                message=f"同一单位同一年度的各版本「{label_for(key)}」不一致："
                        + "；".join(f"{n} 为 {'空' if v is None else v}" for n, v in seen.items())))
    if not items:
        items.append(Outcome(rule="V-versions", status="passed", severity="warning", cells=[],
                             message=f"{len(versions)} 个版本的数字一致"))
    return outcome_store.outcome_rows(items, "versions", related=[v.report_id for v in versions])


def versions(conn: Connection, report_id: int) -> list[dict[str, Any]]:
    """The versions of the report's filing, newest first, the counted one marked."""
    filing_id = filing_of(conn, report_id)
    return [{"report_id": v.report_id, "document_id": v.document_id, "document": v.name, "kind": v.kind,
             "ingested_at": v.ingested_at.isoformat(), "parser_version": v.parser_version, "counted": v.counted}
            for v in _versions_of(conn, [filing_id]).get(filing_id, [])]


def choose(conn: Connection, report_id: int, version_report_id: int | None) -> list[dict[str, Any]]:
    """Count that version of the filing (None: the newest again)."""
    filing_id = filing_of(conn, report_id)
    document_id = None
    if version_report_id is not None:
        document_id = conn.scalar(select(report_versions.c.document_id).where(
            report_versions.c.report_id == version_report_id, report_versions.c.filing_id == filing_id))
        if document_id is None:
            raise ReviewError(f"报告 {version_report_id} 不是报告 {report_id} 同一单位同一年度的版本")
    conn.execute(update(filings).where(filings.c.id == filing_id).values(chosen_document_id=document_id))
    refresh(conn, {filing_id})
    from gongkai.review.crossyear import pair_years

    pair_years(conn, {filing_id})
    return versions(conn, report_id)
