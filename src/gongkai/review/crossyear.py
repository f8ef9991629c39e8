"""Cross-year outcomes: consecutive years of one body paired in the corpus, the format's X- rules
run on the later report against the earlier, and stored (and listed, exported) like the others."""

from __future__ import annotations

from sqlalchemy import Connection, select

from gongkai.formats import load_format
from gongkai.review import outcomes as outcome_store
from gongkai.review.common import counted_report, report_meta
from gongkai.store.query import load_reports
from gongkai.store.schema import filings, report_versions


def cross_year_rules(format_id: str) -> set[str]:
    return {rule.id for rule in load_format(format_id).rules if rule.cross_year}


def earlier_report(conn: Connection, report_id: int) -> int | None:
    """The counted report of the same body for the year before (None: not in the corpus)."""
    meta = report_meta(conn, report_id)
    if meta.body_id is None or meta.year is None:
        return None
    filing_id = conn.scalar(select(filings.c.id).where(filings.c.body_id == meta.body_id, filings.c.year == meta.year - 1))
    return None if filing_id is None else counted_report(conn, filing_id)


def pair_years(conn: Connection, filing_ids: set[int]) -> int:
    """Run the cross-year rules for every consecutive pair a touched filing is part of (as the later
    or the earlier year). Returns the pairs checked; none where gongkai.check.evaluate is missing."""
    evaluate = outcome_store.evaluator()
    if evaluate is None or not filing_ids:
        return 0
    touched = conn.execute(select(filings.c.body_id, filings.c.year).where(filings.c.id.in_(filing_ids))).all()
    later_years = {(row.body_id, y) for row in touched for y in (row.year, row.year + 1)}
    bodies = {body for body, _ in later_years}
    # Every version of the bodies involved, in one query: which counts, and which filing it is.
    versions = conn.execute(select(report_versions.c.report_id, report_versions.c.counted, filings.c.body_id, filings.c.year)
                            .join(filings, filings.c.id == report_versions.c.filing_id)
                            .where(filings.c.body_id.in_(bodies))).all()
    counted = {(v.body_id, v.year): v.report_id for v in versions if v.counted}
    results: dict[int, list] = {v.report_id: [] for v in versions if (v.body_id, v.year) in later_years}
    pairs = [(counted[(body_id, year)], counted[(body_id, year - 1)]) for body_id, year in sorted(later_years)
             if (body_id, year) in counted and (body_id, year - 1) in counted]
    loaded = load_reports(conn, {report_id for pair in pairs for report_id in pair})
    for later_id, earlier_id in pairs:
        later = loaded[later_id]
        outcomes = evaluate(later, previous=loaded[earlier_id], rules=cross_year_rules(later.format))
        results[later_id] = outcome_store.outcome_rows(outcomes, "cross_year", related=[earlier_id])
    outcome_store.store_many(conn, "cross_year", results)  # only the counted version carries them
    return len(pairs)
