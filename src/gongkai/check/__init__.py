"""Report (+ last year's) → the outcome of every rule instance of the report's format, and the
findings (the failed outcomes) people read."""

from __future__ import annotations

from collections.abc import Callable, Collection

from gongkai.check import engine, narrative, sections
from gongkai.check.engine import Context, confidence_threshold, infer_blanks
from gongkai.formats import Format, Rule, load_format
from gongkai.model import Finding, Outcome, Report

CHECKS: dict[str, Callable[[Rule, Context], list[Outcome]]] = {
    "sum": engine.check_sum,
    "table_missing": engine.check_table_missing,
    "column_missing": engine.check_column_missing,
    "row_missing": engine.check_row_missing,
    "blank_cells": engine.check_blank_cells,
    "total_only_rows": engine.check_total_only_rows,
    "nonstandard_labels": engine.check_nonstandard_labels,
    "value_type": engine.check_value_type,
    "low_confidence": engine.check_low_confidence,
    "format_year": engine.check_format_year,
    "narrative": narrative.check_narrative,
    "narrative_parts": narrative.check_narrative_parts,
    "narrative_ratio": narrative.check_narrative_ratio,
    "narrative_conflict": narrative.check_narrative_conflict,
    "section_order": sections.check_section_order,
    "section_content": sections.check_section_content,
}

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
# Kinds whose outcome is about a figure's reading itself: a doubtful figure does not make them uncertain.
_ABOUT_CONFIDENCE = {"low_confidence"}


def evaluate(report: Report, previous: Report | None = None, fmt: Format | None = None, *,
             kinds: Collection[str] | None = None, rules: Collection[str] | None = None,
             doubt_low_confidence: bool = True) -> list[Outcome]:
    """Every rule instance of the report's format with its outcome, in the format's rule order.

    Cross-year rules are evaluated only with last year's report. A failure that hangs on a figure
    read with low confidence is uncertain, not failed — unless `doubt_low_confidence` is False (a
    reader checking its own reading wants the figures' verdict). `kinds`, `rules`: only rules of these
    kinds, only the rules of these ids.
    """
    fmt = fmt or load_format(report.format)
    ctx = Context(report=report, previous=previous, fmt=fmt)
    infer_blanks([r for r in fmt.rules if r.kind == "sum"], ctx)  # the blank-cell rules report what they infer
    threshold = confidence_threshold(fmt)
    outcomes: list[Outcome] = []
    for rule in fmt.rules:
        if (kinds is not None and rule.kind not in kinds) or (rules is not None and rule.id not in rules):
            continue
        check = CHECKS.get(rule.kind)
        if check is None:
            raise ValueError(f"format {fmt.id}: rule {rule.id} has unknown kind {rule.kind!r}")
        for result in check(rule, ctx):
            if result.status == "failed" and doubt_low_confidence and rule.kind not in _ABOUT_CONFIDENCE:
                _doubt_low_confidence(result, report, threshold)
            outcomes.append(result)
    return outcomes


def _doubt_low_confidence(result: Outcome, report: Report, threshold: float) -> None:
    doubtful = [report.cells[k] for k in result.cells
                if k in report.cells and report.cells[k].value is not None and report.cells[k].confidence < threshold]
    if doubtful:
        result.status = "uncertain"
        figures = "、".join(f"「{c.raw or c.value}」" for c in doubtful)
        result.message = f"{result.message or ''}（所涉数字{figures}为图像识别所得、置信度低，请核对原件）"


def rank(outcomes: list[Outcome], fmt: Format) -> list[Outcome]:
    """Errors first, then warnings and notes; within each, by table order, then by rule order."""
    rule_rank = {r.id: i for i, r in enumerate(fmt.rules)}
    table_rank = {t.key: i for i, t in enumerate(fmt.tables)}

    def table_of(o: Outcome) -> int:
        # An outcome's cells lie in one table (a cross-table rule is placed by its first cell).
        return table_rank.get(o.cells[0].split(".", 1)[0], len(table_rank)) if o.cells else len(table_rank)

    return sorted(outcomes, key=lambda o: (SEVERITY_ORDER[o.severity], table_of(o), rule_rank.get(o.rule, 0)))


def check_report(report: Report, previous: Report | None = None, fmt: Format | None = None) -> list[Finding]:
    """The findings people read: the failed outcomes, errors first, then in table order."""
    fmt = fmt or load_format(report.format)
    return [o.finding() for o in rank([o for o in evaluate(report, previous, fmt) if o.status == "failed"], fmt)]


__all__ = ["CHECKS", "SEVERITY_ORDER", "check_report", "evaluate", "rank"]
