"""Reading the corpus: find reports, load one back as a Report, compare two, aggregate."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Select, and_, case, exists, func, or_, select

from gongkai.formats import DEFAULT_FORMAT, Metric, all_formats, format_dirs, load_format, match_keys, split_term
from gongkai.model import Finding, Number, Report
from gongkai.store.records import build_finding, build_report, typed_value
from gongkai.store.region import level, region_prefix
from gongkai.store.schema import bodies, cells, corrections, documents, findings, report_versions, reports


class NotFound(LookupError):
    """A report reference that names no report (or several); the message is for people."""


def label_for(key: str) -> str:
    """How the format names a cell (表三 … / 自然人); the key itself for a cell no format defines."""
    return _labels(format_dirs()).get(key, key)


def key_order() -> dict[str, int]:
    """Every format's cells in print order (newest format first, shared keys where they first appear)."""
    return _key_order(format_dirs())


# Cached per set of format folders: formats added from outside bring their own cells.
@lru_cache(maxsize=8)
def _labels(dirs: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for fmt in all_formats():
        for key, cell in fmt.all_cells.items():
            out.setdefault(key, cell.label)
    return out


@lru_cache(maxsize=8)
def _key_order(dirs: tuple[str, ...]) -> dict[str, int]:
    order: dict[str, int] = {}
    for fmt in all_formats():
        for key in fmt.all_cells:
            order.setdefault(key, len(order))
    return order


# ---- filters -------------------------------------------------------------------------------


@dataclass
class Filters:
    agency: str | None = None  # part of the agency's name
    year: int | None = None
    region: str | None = None  # GB/T 2260 code (41, 4113), province (河南 / 河南省), city (南阳市) or county (西峡县)
    has_errors: bool | None = None  # reports with (True) or without (False) error findings
    counted: bool = False  # only the version of each 单位@年度 that counts (stats, export)

    @property
    def active(self) -> bool:
        return any(v is not None and v != "" for v in (self.agency, self.year, self.region, self.has_errors))

    def apply(self, query: Select[Any]) -> Select[Any]:
        if self.agency:
            query = query.where(reports.c.agency.contains(self.agency, autoescape=True))
        if self.year is not None:
            query = query.where(reports.c.year == self.year)
        if self.region:
            query = query.where(region_condition(self.region))
        if self.counted:
            query = query.where(counted_condition())
        if self.has_errors is not None:
            has = exists().where(findings.c.report_id == reports.c.id, findings.c.severity == "error")
            query = query.where(has if self.has_errors else ~has)
        return query


def counted_condition() -> Any:
    """Reports that count: the version of each 单位@年度 a reviewer chose, or the newest."""
    return reports.c.id.not_in(select(report_versions.c.report_id).where(~report_versions.c.counted))


def region_condition(text: str) -> Any:
    """Reports in a region at any level: by their body's GB/T 2260 division (placed from its name,
    imported or edited), or by the province and city columns."""
    text = text.strip()
    prefix = region_prefix(text)
    terms = [reports.c.province == text, reports.c.city == text]
    if prefix:
        terms.append(reports.c.agency.in_(select(bodies.c.name).where(bodies.c.region_code.startswith(prefix))))
        if len(prefix) == 2 or level(prefix.ljust(6, "0")) == "province":
            terms.append(reports.c.province_code == prefix[:2])
    return or_(*terms)


def cell_values(conn: Connection) -> Any:
    """The cells as checks, stats and exports read them: with reviewers' current corrections applied
    (the parsed value stays in `cells`). The plain table while nothing is corrected."""
    if conn.scalar(select(corrections.c.id).limit(1)) is None:
        return cells
    current = (select(report_versions.c.report_id, corrections.c.key, corrections.c.new)
               .join(corrections, corrections.c.filing_id == report_versions.c.filing_id)
               .where(corrections.c.current).subquery("corrected"))
    return (select(cells.c.report_id, cells.c.key,
                   case((current.c.key.isnot(None), current.c.new), else_=cells.c.value).label("value"))
            .select_from(cells.outerjoin(current, and_(current.c.report_id == cells.c.report_id, current.c.key == cells.c.key)))
            .subquery("cell_values"))


def corrections_of(conn: Connection, report_id: int) -> list[Any]:
    """The current corrections of the report's 单位@年度: key, old, new, reason, user, at."""
    return conn.execute(select(corrections).join(report_versions, report_versions.c.filing_id == corrections.c.filing_id)
                        .where(report_versions.c.report_id == report_id, corrections.c.current)).all()


def _count(severity: str) -> Any:
    return (select(func.count()).select_from(findings)
            .where(findings.c.report_id == reports.c.id, findings.c.severity == severity).scalar_subquery())


def list_reports(conn: Connection, filters: Filters | None = None, limit: int | None = None) -> list[Any]:
    """Report rows with their document's name and counts of error and warning findings."""
    query = (select(reports.c.id, reports.c.agency, reports.c.year, reports.c.province_code, reports.c.province,
                    reports.c.city, reports.c.format, reports.c.checked, documents.c.name, documents.c.sha256,
                    _count("error").label("errors"), _count("warning").label("warnings"))
             .join(documents, documents.c.id == reports.c.document_id)
             .order_by(reports.c.agency, reports.c.year, reports.c.id))
    query = (filters or Filters()).apply(query)
    if limit:
        query = query.limit(limit)
    return list(conn.execute(query))


def failed_documents(conn: Connection) -> list[Any]:
    return list(conn.execute(select(documents.c.id, documents.c.name, documents.c.error)
                             .where(documents.c.status == "failed").order_by(documents.c.id)))


# ---- one report ----------------------------------------------------------------------------

_HEX = re.compile(r"^[0-9a-f]{6,64}$")


def _small_number(text: str) -> bool:
    """ASCII digits a database integer holds (not ², not 20 digits)."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def resolve(conn: Connection, ref: str) -> int:
    """A report id from: its id, a prefix of its content hash (6+ hex digits), 单位@年度, or its file
    name (the path as ingested, or its last part)."""
    ref = ref.strip()
    if _small_number(ref) and conn.scalar(select(reports.c.id).where(reports.c.id == int(ref))) is not None:
        return int(ref)
    candidates: list[int] = []
    if _HEX.match(ref.lower()):
        candidates = list(conn.scalars(select(reports.c.id).join(documents, documents.c.id == reports.c.document_id)
                                       .where(documents.c.sha256.startswith(ref.lower())).limit(3)))
    if not candidates and "@" in ref:
        agency, _, year = ref.rpartition("@")
        if _small_number(year.strip()):
            candidates = list(conn.scalars(select(reports.c.id).where(
                reports.c.agency == agency.strip(), reports.c.year == int(year)).limit(3)))
    if not candidates:
        candidates = list(conn.scalars(select(reports.c.id).join(documents, documents.c.id == reports.c.document_id)
                                       .where(or_(documents.c.name == ref, documents.c.name.endswith("/" + ref,
                                                                                                       autoescape=True)))
                                       .limit(3)))
    if not candidates:
        failed = conn.scalar(select(documents.c.error).where(or_(documents.c.name == ref,
                                                                 documents.c.name.endswith("/" + ref, autoescape=True))))
        if failed:
            raise NotFound(f"{ref}: 该文件入库时解析失败：{failed}")
        raise NotFound(f"{ref}: 库中没有这份报告（可用编号、内容哈希前缀、单位@年度或文件名）")
    if len(candidates) > 1:
        raise NotFound(f"{ref}: 对应多份报告（编号 {', '.join(map(str, candidates))}…），请用编号指定")
    return candidates[0]


@dataclass
class Stored:
    """One stored report: the Report, its findings and where it came from."""

    id: int
    report: Report
    findings: list[Finding]
    document: str
    sha256: str
    ingested_at: Any
    province_code: str | None
    province: str | None
    city: str | None
    checked: bool


def load_report(conn: Connection, report_id: int) -> Stored:
    row = conn.execute(select(reports, documents.c.name, documents.c.sha256, documents.c.ingested_at)
                       .join(documents, documents.c.id == reports.c.document_id)
                       .where(reports.c.id == report_id)).one()
    cell_rows = conn.execute(select(cells).where(cells.c.report_id == report_id)).all()
    finding_rows = conn.execute(select(findings).where(findings.c.report_id == report_id).order_by(findings.c.id)).all()
    report = build_report(row, cell_rows, source=row.name)
    _apply_corrections(report, corrections_of(conn, report_id))
    return Stored(id=report_id, report=report,
                  findings=[build_finding(f) for f in finding_rows], document=row.name, sha256=row.sha256,
                  ingested_at=row.ingested_at, province_code=row.province_code, province=row.province, city=row.city,
                  checked=row.checked)


def load_reports(conn: Connection, report_ids: Collection[int]) -> dict[int, Report]:
    """load_report(…).report for many reports, in three queries (the writer pairs a batch's years)."""
    ids = sorted(set(report_ids))
    if not ids:
        return {}
    rows = conn.execute(select(reports, documents.c.name).join(documents, documents.c.id == reports.c.document_id)
                        .where(reports.c.id.in_(ids))).all()
    cells_of: dict[int, list[Any]] = {i: [] for i in ids}
    for c in conn.execute(select(cells).where(cells.c.report_id.in_(ids))):
        cells_of[c.report_id].append(c)
    corrections_by: dict[int, list[Any]] = {i: [] for i in ids}
    for c in conn.execute(select(corrections, report_versions.c.report_id.label("version_of"))
                          .join(report_versions, report_versions.c.filing_id == corrections.c.filing_id)
                          .where(report_versions.c.report_id.in_(ids), corrections.c.current)):
        corrections_by[c.version_of].append(c)
    loaded = {}
    for row in rows:
        loaded[row.id] = report = build_report(row, cells_of[row.id], source=row.name)
        _apply_corrections(report, corrections_by[row.id])
    return loaded


def _apply_corrections(report: Report, rows: list[Any]) -> None:
    """What checks and people read is the corrected value; the parsed value stays stored."""
    for c in rows:
        cell = report.cells.get(c.key)
        if cell is not None:
            cell.value = typed_value(c.new)
            old = "空" if c.old is None else f"{typed_value(c.old)}"
            cell.note = f"已更正（原为 {old}；{c.user}，{c.at:%Y-%m-%d}：{c.reason}）"


# ---- compare -------------------------------------------------------------------------------


@dataclass
class Change:
    key: str
    label: str
    a: Number | None
    b: Number | None

    @property
    def delta(self) -> Number | None:
        return None if self.a is None or self.b is None else self.b - self.a


@dataclass
class Comparison:
    a: Stored
    b: Stored
    changes: list[Change]  # cells whose values differ (a value against none counts)
    same: int  # cells with equal values
    cross_year: list[Finding] | None  # None: the cross-year rules do not apply (see note)
    note: str | None = None
    unchanged: list[Change] = field(default_factory=list)


def compare(conn: Connection, a_id: int, b_id: int) -> Comparison:
    """Cell-by-cell changes from A to B; for one agency in consecutive years, the cross-year rules
    (rule ids starting with X) on the later report against the earlier."""
    a, b = load_report(conn, a_id), load_report(conn, b_id)
    order = key_order()
    keys = sorted(set(a.report.cells) | set(b.report.cells), key=lambda k: order.get(k, len(order)))
    changes, unchanged = [], []
    for key in keys:
        change = Change(key, label_for(key), a.report.value(key), b.report.value(key))
        (unchanged if change.a == change.b else changes).append(change)
    cross_year, note = None, None
    ra, rb = a.report, b.report
    if not ra.agency or ra.agency != rb.agency:
        note = "两份报告不是同一单位，不适用跨年度规则"
    elif ra.year is None or rb.year is None or abs(ra.year - rb.year) != 1:
        note = "不是同一单位相邻两个年度的报告，不适用跨年度规则"
    else:
        from gongkai.store.worker import checker

        check_report = checker()
        if check_report is None:
            note = "核查模块未安装，未运行跨年度规则"
        else:
            earlier, later = (ra, rb) if ra.year < rb.year else (rb, ra)
            fmt = load_format(later.format)
            cross_year = [f for f in check_report(later, previous=earlier) if fmt.rule(f.rule).cross_year]
    return Comparison(a, b, changes, len(unchanged), cross_year, note, unchanged)


# ---- stats ---------------------------------------------------------------------------------


def metrics() -> list[Metric]:
    """The statistics every format defines (by id, as the default format defines them)."""
    return list(load_format(DEFAULT_FORMAT).metrics)


def _signed_keys(terms: tuple[str, ...]) -> list[tuple[str, int]]:
    """A metric's terms → (cell key, sign), wildcards expanded over every format that has the cells."""
    out: dict[tuple[str, int], None] = {}
    for term in terms:
        sign, _, pattern = split_term(term)
        for fmt in all_formats():
            for key in match_keys(fmt, pattern):
                if not fmt.all_cells[key].row.optional:
                    out[(key, sign)] = None
    return sorted(out, key=lambda ks: key_order().get(ks[0], 0))


# Column names of stats() beside the metrics', with their Chinese headings.
GROUP_COLUMNS = {"year": "年度", "region": "地区", "reports": "报告数"}


def stat_columns() -> dict[str, str]:
    """Every column stats() gives, with its Chinese heading (the metrics' labels from the format)."""
    return {**GROUP_COLUMNS, **{m.id: m.label for m in metrics()}}


def _measure(values: dict[str, Any], metric: Metric) -> list[Any]:
    """Σ numerator (and Σ denominator) over the reports that state every figure the metric reads."""
    numerator, denominator = _signed_keys(metric.numerator), _signed_keys(metric.denominator)
    every = and_(*(values[k].isnot(None) for k, _ in (*numerator, *denominator)))

    def total(terms: list[tuple[str, int]]) -> Any:
        return sum((values[k] * sign for k, sign in terms[1:]), values[terms[0][0]] * terms[0][1])

    out = [func.sum(case((every, total(numerator))))]
    if denominator:
        out.append(func.sum(case((every, total(denominator)))))
    return out


def stats(conn: Connection, by: tuple[str, ...] = ("year",), filters: Filters | None = None) -> list[dict[str, Any]]:
    """Aggregates per group (year, region or both): one column per metric of the format definition
    (收到申请, 公开率, 无法提供占比, 复议纠错率, 诉讼纠错率 …, see `metrics:` in formats/gov2021.yaml).

    A count is Σ over the reports that state it; a ratio is Σ numerators / Σ denominators over the
    reports that state every figure it needs (a blank is not 0). The database does the arithmetic:
    one pass over the few keys involved.
    """
    defined = metrics()
    keys = list(dict.fromkeys(k for m in defined for k, _ in (*_signed_keys(m.numerator), *_signed_keys(m.denominator))))
    source = cell_values(conn).c  # reviewers' corrections applied
    per_report = (select(source.report_id,
                         *(func.max(case((source.key == key, source.value))).label(f"k{i}") for i, key in enumerate(keys)))
                  .where(source.key.in_(keys)).group_by(source.report_id).subquery("per_report"))
    v = {key: per_report.c[f"k{i}"] for i, key in enumerate(keys)}
    measures = [column for metric in defined for column in _measure(v, metric)]
    groups = {"year": [reports.c.year], "region": [reports.c.province_code, reports.c.province]}
    group_columns = [c for g in by for c in groups[g]]
    query = (select(*group_columns, func.count(reports.c.id), *measures)
             .select_from(reports.outerjoin(per_report, per_report.c.report_id == reports.c.id))
             .group_by(*group_columns))
    query = (filters or Filters()).apply(query).where(counted_condition())  # each 单位@年度 once

    out = []
    for row in conn.execute(query):
        values = list(row)
        record: dict[str, Any] = {}
        for g in by:
            if g == "year":
                record["year"] = values.pop(0)
            else:
                record["province_code"], record["region"] = values.pop(0), values.pop(0)
        record["reports"] = values.pop(0)
        for metric in defined:
            numerator = values.pop(0)
            if metric.is_ratio:
                denominator = values.pop(0)
                record[metric.id] = numerator / denominator if numerator is not None and denominator else None
            else:
                record[metric.id] = typed_value(numerator)
        out.append(record)
    # Groups in order, the unknown (no year, no region) last.
    out.sort(key=lambda r: tuple((r.get(g) is None, r.get(g) if g == "year" else (r.get("province_code") or "")) for g in by))
    return out


# ---- wide ----------------------------------------------------------------------------------

META_COLUMNS = {
    "report_id": "报告编号",
    "agency": "单位",
    "year": "年度",
    "province_code": "省级行政区划代码",
    "province": "省份",
    "city": "城市",
    "format": "格式",
    "document": "文件",
    "sha256": "内容哈希",
    "parser_version": "解析器版本",
    "errors": "错误数",
    "warnings": "警告数",
    "corrected": "已更正单元格数",
}


def meta_query(filters: Filters | None = None) -> Select[Any]:
    query = (select(reports.c.id.label("report_id"), reports.c.agency, reports.c.year, reports.c.province_code,
                    reports.c.province, reports.c.city, reports.c.format, documents.c.name.label("document"),
                    documents.c.sha256, reports.c.parser_version, _count("error").label("errors"),
                    _count("warning").label("warnings"), _corrected().label("corrected"))
             .join(documents, documents.c.id == reports.c.document_id)
             .order_by(reports.c.agency, reports.c.year, reports.c.id))
    return (filters or Filters()).apply(query)


def _corrected() -> Any:
    """How many of the report's cells a reviewer corrected (its figures are the corrected ones)."""
    return (select(func.count()).select_from(corrections)
            .join(report_versions, report_versions.c.filing_id == corrections.c.filing_id)
            .where(report_versions.c.report_id == reports.c.id, corrections.c.current).scalar_subquery())


def cells_query(filters: Filters | None = None, source: Any = cells) -> Select[Any]:
    """source: `cell_values(conn)` for the corrected values."""
    query = select(source.c.report_id, source.c.key, source.c.value)
    if filters and (filters.active or filters.counted):
        # A semi-join, and none without filters: joining every cell to its report costs more than reading it.
        query = query.where(source.c.report_id.in_(filters.apply(select(reports.c.id))))
    return query


def findings_query(filters: Filters | None = None) -> Select[Any]:
    query = (select(findings.c.report_id, reports.c.agency, reports.c.year, findings.c.rule, findings.c.severity,
                    findings.c.message, findings.c.cells, findings.c.expected, findings.c.found, findings.c.locations)
             .join(reports, reports.c.id == findings.c.report_id).order_by(findings.c.report_id, findings.c.id))
    return (filters or Filters()).apply(query)


FINDING_COLUMNS = {
    "report_id": "报告编号",
    "agency": "单位",
    "year": "年度",
    "rule": "规则",
    "severity": "级别",
    "message": "说明",
    "cells": "单元格",
    "expected": "应为",
    "found": "实为",
    "where": "位置",  # the stored document's line or page (from the findings' locations)
}
