"""The hierarchy rules (hierarchy.yaml): a parent body's figures against the sum over its direct
children for the same year, and the children whose reports are missing, stored as outcomes of the
parent's report (scope `hierarchy`)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import Connection, select

from gongkai.formats import all_formats, match_keys
from gongkai.model import outcome_fingerprint
from gongkai.review import outcomes as outcome_store
from gongkai.review.common import collector_paused
from gongkai.store.query import cell_values, label_for
from gongkai.store.records import typed_value
from gongkai.store.schema import bodies, filings, report_versions, reports


@cache
def hierarchy_rules() -> dict[str, Any]:
    return yaml.safe_load(resources.files(__package__).joinpath("hierarchy.yaml").read_text(encoding="utf-8"))


def _rule(rule_id: str) -> dict[str, Any]:
    return next(r for r in hierarchy_rules()["rules"] if r["id"] == rule_id)


@cache
def _severity(rule_id: str) -> str:
    return _rule(rule_id)["severity"]


@cache
def metric_keys() -> tuple[str, ...]:
    """The H-sum metrics as cell keys of the formats (`*` matching one part, as in the formats' rules)."""
    return tuple(dict.fromkeys(key for pattern in _rule("H-sum")["metrics"] for fmt in all_formats()
                               for key in match_keys(fmt, pattern)))


def _close(a: float, b: float) -> bool:
    return abs(a - b) < 1e-6 * max(1.0, abs(a), abs(b))


def outcome_row(rule: str, status: str, message: str, cells: list[str], values: dict[str, Any],
                expected: Any = None, found: Any = None, related: Any = None) -> dict[str, Any]:
    """An outcome as the row outcomes.store writes, built without a model per row (a check of a large
    tree makes tens of thousands); the fingerprint is Outcome's own."""
    fingerprint = outcome_fingerprint(rule, cells, values)
    return {"scope": "hierarchy", "rule": rule, "status": status, "severity": _severity(rule), "message": message,
            "cells": cells or None, "values": values or None, "expected": expected, "found": found, "reading": None,
            "locations": None, "related": related, "fingerprint": fingerprint}


def evaluate_parent(parent: str, metrics: tuple[str, ...], own: dict[str, Any], children: list[str],
                    reports_of: dict[str, dict[str, Any] | None],
                    labels: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The outcome rows of one parent for one year: H-missing, then H-sum per metric.

    own: the parent's figures; reports_of: each child's figures, None when its report is missing;
    labels: the metrics' labels (label_for), where the caller has looked them up once for every parent."""
    missing = [c for c in children if reports_of.get(c) is None]
    reported = [(c, figures) for c in children if (figures := reports_of.get(c)) is not None]
    out = [outcome_row("H-missing", "failed" if missing else "passed",
                       f"{parent}的下级单位中 {len(missing)} 家未报送：{'、'.join(missing)}" if missing
                       else f"{parent}的 {len(children)} 家下级单位均已报送",
                       [], dict.fromkeys(missing), expected=len(children), found=len(reported),
                       related={"children": children, "missing": missing})]
    for key in metrics:
        if key not in own:
            continue  # a metric the parent's format does not have
        left = own[key]
        child_values = [(c, figures.get(key)) for c, figures in reported]
        unstated = [c for c, v in child_values if v is None]
        label = labels[key] if labels is not None else label_for(key)
        if left is None or unstated:
            who = "本单位" if left is None else "、".join(unstated)
            out.append(outcome_row("H-sum", "not_assessable", f"{label}：{who}未填报，无法与下级合计比对", [key],
                                   {key: left, **{f"{c}:{key}": None for c in unstated}}))
            continue
        right = typed_value(sum(v for _, v in child_values))
        delta = typed_value(left - right)
        if _close(left, right):
            status, message = "passed", f"{label}：{parent} {left} 等于下级合计 {right}"
        else:
            detail = "＋".join(f"{c} {v}" for c, v in child_values) or "无"
            status = "uncertain" if missing else "failed"
            message = f"{label}：{parent} {left} {'≠' if missing else '不等于'}已报送下级合计 {right}（{detail}），相差 {delta}"
            if missing:
                message += f"；未报送的下级单位：{'、'.join(missing)}"
        # The values a decision rests on: the parent's figure and the children's sum (a child's new
        # figure that changes the sum reopens it).
        out.append(outcome_row("H-sum", status, message, [key], {key: left, f"Σ下级:{key}": right}, expected=right, found=left))
    return out


def check_hierarchy(conn: Connection, year: int | None = None, every_parent: bool = False) -> list[dict[str, Any]]:
    """Run the hierarchy rules for a year (or every year) and store their outcomes on each parent's
    counted report. Returns one dict per outcome: parent, year, report_id, and the outcome's fields
    (left, right and delta for a sum, missing children listed)."""
    with collector_paused():
        return _check_hierarchy(conn, year, every_parent)


def _check_hierarchy(conn: Connection, year: int | None, every_parent: bool) -> list[dict[str, Any]]:
    tree = conn.execute(select(bodies.c.id, bodies.c.name, bodies.c.parent_id, bodies.c.sums_children)).all()
    names = {b.id: b.name for b in tree}
    children: dict[int, list[int]] = {}
    for b in tree:
        if b.parent_id is not None:
            children.setdefault(b.parent_id, []).append(b.id)
    everyone = every_parent or hierarchy_rules().get("parents") == "all"
    parents = [b.id for b in tree if b.id in children and (everyone or b.sums_children)]
    counted = select(report_versions.c.report_id, filings.c.body_id, filings.c.year).join(
        filings, filings.c.id == report_versions.c.filing_id).where(report_versions.c.counted)
    if year is not None:
        counted = counted.where(filings.c.year == year)
    report_of = {(r.body_id, r.year): r.report_id for r in conn.execute(counted)}
    metrics = metric_keys()
    source = cell_values(conn).c
    figures: dict[int, dict[str, Any]] = {}
    ids = select(counted.subquery().c.report_id)
    for report_id, key, value in conn.execute(select(source.report_id, source.key, source.value)
                                              .where(source.key.in_(metrics), source.report_id.in_(ids))).all():
        figures.setdefault(report_id, {})[key] = typed_value(value)
    formats = dict(conn.execute(select(reports.c.id, reports.c.format).where(reports.c.id.in_(ids))).all())
    years = sorted({y for _, y in report_of})
    labels = {key: label_for(key) for key in metrics}
    by_report: dict[int, list[dict[str, Any]]] = {}
    out: list[dict[str, Any]] = []
    for y in years:
        for parent in parents:
            report_id = report_of.get((parent, y))
            if report_id is None:
                continue
            own = figures.get(report_id, {})
            keys = _format_keys(formats.get(report_id))
            own = {k: own.get(k) for k in metrics if k in keys}
            kids = [names[c] for c in children[parent]]
            reports_of = {names[c]: (None if (child := report_of.get((c, y))) is None else figures.get(child, {}))
                          for c in children[parent]}
            rows = by_report[report_id] = evaluate_parent(names[parent], metrics, own, kids, reports_of, labels)
            missing = rows[0]["related"]["missing"]
            for row in rows:
                item = {"parent": names[parent], "year": y, "report_id": report_id, "rule": row["rule"],
                        "status": row["status"], "severity": row["severity"], "cells": row["cells"] or [],
                        "message": row["message"], "missing": missing}
                if row["rule"] == "H-sum" and row["found"] is not None:
                    item.update(left=row["found"], right=row["expected"], delta=typed_value(row["found"] - row["expected"]))
                out.append(item)
    outcome_store.store_many(conn, "hierarchy", by_report)
    return out


@cache
def _format_keys(format_id: str | None) -> frozenset[str]:
    return frozenset(k for fmt in all_formats() if fmt.id == format_id for k in fmt.all_cells)
