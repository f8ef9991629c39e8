"""The hierarchy rules (hierarchy.yaml): a parent body's figures against the sum over its direct
children for the same year, and the children whose reports are missing, stored as outcomes of the
parent's report (scope `hierarchy`)."""

from __future__ import annotations

import fnmatch
import re
from functools import cache
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import Connection, select

from gongkai.formats import all_formats
from gongkai.model import Outcome
from gongkai.review import outcomes as outcome_store
from gongkai.store.query import cell_values, label_for
from gongkai.store.records import typed_value
from gongkai.store.schema import bodies, filings, report_versions, reports


@cache
def hierarchy_rules() -> dict[str, Any]:
    return yaml.safe_load(resources.files(__package__).joinpath("hierarchy.yaml").read_text(encoding="utf-8"))


def _rule(rule_id: str) -> dict[str, Any]:
    return next(r for r in hierarchy_rules()["rules"] if r["id"] == rule_id)


@cache
def metric_keys() -> tuple[str, ...]:
    """The H-sum metrics as cell keys of the formats, in the formats' order."""
    keys = list(dict.fromkeys(k for fmt in all_formats() for k in fmt.all_cells))
    out: list[str] = []
    for pattern in _rule("H-sum")["metrics"]:
        regex = fnmatch.translate(pattern).replace(".*", "[^.]*")
        out += [k for k in keys if re.fullmatch(regex, k) and k not in out]
    return tuple(out)


def _close(a: float, b: float) -> bool:
    return abs(a - b) < 1e-6 * max(1.0, abs(a), abs(b))


def evaluate_parent(parent: str, metrics: tuple[str, ...], own: dict[str, Any], children: list[str],
                    reports_of: dict[str, dict[str, Any] | None]) -> list[Outcome]:
    """The outcomes of one parent for one year: H-missing, then H-sum per metric.

    own: the parent's figures; reports_of: each child's figures, None when its report is missing."""
    missing = [c for c in children if reports_of.get(c) is None]
    reported = [c for c in children if reports_of.get(c) is not None]
    rule = _rule("H-missing")
    out = [Outcome(rule="H-missing", status="failed" if missing else "passed", severity=rule["severity"],
                   message=(f"{parent}的下级单位中 {len(missing)} 家未报送：{'、'.join(missing)}" if missing
                            else f"{parent}的 {len(children)} 家下级单位均已报送"),
                   values={f"{c}": None for c in missing}, expected=len(children), found=len(reported))]
    rule = _rule("H-sum")
    for key in metrics:
        if key not in own:
            continue  # a metric the parent's format does not have
        left = own[key]
        child_values = {c: reports_of[c].get(key) for c in reported}  # type: ignore[union-attr]
        values = {key: left, **{f"{c}:{key}": v for c, v in child_values.items()}}
        unstated = [c for c, v in child_values.items() if v is None]
        label = label_for(key)
        if left is None or unstated:
            who = "本单位" if left is None else "、".join(unstated)
            out.append(Outcome(rule="H-sum", status="not_assessable", severity=rule["severity"], cells=[key], values=values,
                               message=f"{label}：{who}未填报，无法与下级合计比对"))
            continue
        right = sum(v for v in child_values.values() if v is not None)
        right = typed_value(right)
        delta = typed_value(left - right)
        detail = "＋".join(f"{c} {v}" for c, v in child_values.items()) or "无"
        if _close(left, right):
            status, message = "passed", f"{label}：{parent} {left} 等于下级合计 {right}"
        elif missing:
            status = "uncertain"
            message = (f"{label}：{parent} {left}，已报送下级合计 {right}（{detail}），相差 {delta}；"
                       f"未报送的下级单位：{'、'.join(missing)}")
        else:
            status = "failed"
            message = f"{label}：{parent} {left} 不等于下级合计 {right}（{detail}），相差 {delta}"
        out.append(Outcome(rule="H-sum", status=status, severity=rule["severity"], cells=[key], values=values,
                           expected=right, found=left, message=message))
    return out


def check_hierarchy(conn: Connection, year: int | None = None, every_parent: bool = False) -> list[dict[str, Any]]:
    """Run the hierarchy rules for a year (or every year) and store their outcomes on each parent's
    counted report. Returns one dict per outcome: parent, year, report_id, and the outcome's fields
    (left, right and delta for a sum, missing children listed)."""
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
    for row in conn.execute(select(source.report_id, source.key, source.value)
                            .where(source.key.in_(metrics), source.report_id.in_(ids))):
        figures.setdefault(row.report_id, {})[row.key] = typed_value(row.value)
    formats = dict(conn.execute(select(reports.c.id, reports.c.format).where(reports.c.id.in_(ids))).all())
    years = sorted({y for _, y in report_of})
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
            reports_of = {names[c]: (figures.get(report_of[(c, y)], {}) if (c, y) in report_of else None)
                          for c in children[parent]}
            items = evaluate_parent(names[parent], metrics, own, kids, reports_of)
            missing = [k for k in kids if reports_of[k] is None]
            rows = outcome_store.outcome_rows(items, "hierarchy", related={"children": kids, "missing": missing})
            by_report[report_id] = rows
            for o in items:
                item = {"parent": names[parent], "year": y, "report_id": report_id, "rule": o.rule, "status": o.status,
                        "severity": o.severity, "cells": o.cells, "message": o.message, "missing": missing}
                if o.rule == "H-sum" and o.status in ("passed", "failed", "uncertain"):
                    item.update(left=o.found, right=o.expected, delta=typed_value(o.found - o.expected))
                out.append(item)
    outcome_store.store_many(conn, "hierarchy", by_report)
    return out


@cache
def _format_keys(format_id: str | None) -> frozenset[str]:
    return frozenset(k for fmt in all_formats() if fmt.id == format_id for k in fmt.all_cells)
