"""The report's tables from the records: table 三 from the applications, table 二 from the register
and the year's decision counts, table 四 from the appeals — and the Report they make.

Counting rules (one year Y):
- 一、本年新收: received in Y.  二、上年结转: received before Y, not closed before Y.
- 三、办理结果: closed in Y, by the outcome of its reply (or of the lapse that ended it).
- 四、结转下年度: received by 31 December Y and not closed by then.
So 一 + 二 = 三（七） + 四 in every column by construction, and 二 equals last year's 四.
- Table 四: cases filed in Y, by kind, under their outcome if decided by 31 December Y, else pending.
- Table 二: published items issued / repealed in Y, in force on 31 December Y (blank for a category
  the register holds nothing of); the year's decision counts and fee amounts as entered (a count
  nobody entered stays blank, never 0).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable

from gongkai.formats import load_format
from gongkai.ledger.models import Appeal, Application, DecisionCount, EventKind, RegisterItem, ReviewState
from gongkai.ledger.roles import LedgerError, Roles, roles_for_year
from gongkai.model import Cell, Finding, Number, Report
from gongkai.render.template import tables_as_printed
from gongkai.text import figure_text

LEDGER_NOTE = "由台账记录生成"
NOT_ON_RECORD = "台账中没有这一项的记录，留空（不是 0）"


def outcome_of(app: Application, roles: Roles) -> str | None:
    """The result row a closed application counts in (None: still open)."""
    event = app.closing_event()
    if event is None:
        return None
    if event.kind is EventKind.reply:
        if not event.outcome:
            raise LedgerError(f"申请 {app.number or app.id}：{event.on} 的答复没有填写答复结果 (reply without outcome)")
        return roles.fold_outcome(event.outcome)
    return roles.fold_outcome(roles.closing_outcomes[event.kind.value])


def application_counts(apps: Iterable[tuple[str, dt.date, dt.date | None, str | None, int]], year: int,
                       roles: Roles) -> dict[str, int]:
    """Table 三's cells from (applicant type, received, closed, outcome, how many) tuples: every cell, zeros included."""
    role = roles.applications
    types = roles.applicant_types
    total = roles.total_column
    counts: Counter[tuple[str, str]] = Counter()
    for applicant_type, received, closed, outcome, n in apps:
        if applicant_type not in types:
            raise LedgerError(f"申请人类型 {applicant_type!r} 不是表三的列 (unknown applicant type)")
        if received.year > year:
            continue
        rows = []
        if received.year == year:
            rows.append(role["new"])
        elif closed is None or closed.year >= year:
            rows.append(role["carried_over"])
        if closed is not None and closed.year == year:
            rows += (outcome, role["processed_total"])
        elif closed is None or closed.year > year:
            rows.append(role["carried_forward"])
        for row in rows:
            counts[row, applicant_type] += n
            counts[row, total] += n
    return {key: counts[row, column] for key, row, column in roles.application_cells}


def applications_table(apps: Iterable[Application], year: int, roles: Roles | None = None) -> dict[str, int]:
    roles = roles or roles_for_year(year)
    rows = []
    for app in apps:
        closed = app.closed_on()
        if closed is not None and closed < app.received_on:
            raise LedgerError(f"申请 {app.number or app.id}：办结日期 {closed} 早于收到日期 {app.received_on}")
        rows.append((app.applicant_type, app.received_on, closed, outcome_of(app, roles), 1))
    return application_counts(rows, year, roles)


def appeal_column(appeal: Appeal, year: int, roles: Roles | None = None) -> str | None:
    """The table 四 column a case counts in for the year: its outcome if decided by 31 December, else
    尚未审结; None when it was not filed in that year (it is counted in its own year's table)."""
    if appeal.filed_on.year != year:
        return None
    roles = roles or roles_for_year(year)
    if appeal.kind not in roles.appeal_kinds:
        raise LedgerError(f"复议诉讼类别 {appeal.kind!r} 不是表四的行 (unknown appeal kind)")
    decided = appeal.outcome is not None and appeal.decided_on is not None and appeal.decided_on.year <= year
    if decided and appeal.outcome not in roles.appeal_outcomes:
        raise LedgerError(f"复议诉讼结果 {appeal.outcome!r} 不是表四的列 (unknown appeal outcome)")
    return appeal.outcome if decided else roles.appeals["pending"]


def appeals_table(appeals: Iterable[Appeal], year: int, roles: Roles | None = None) -> dict[str, int]:
    roles = roles or roles_for_year(year)
    table = roles.appeals_table
    counts: Counter[tuple[str, str]] = Counter()
    for appeal in appeals:
        column = appeal_column(appeal, year, roles)
        if column is not None:
            counts[appeal.kind, column] += 1
    total = next(c.key for c in table.columns if c.role == "total")
    cells = {}
    for row in table.rows:
        for column in table.columns:
            key = f"{table.key}.{row.key}.{column.key}"
            cells[key] = (sum(n for (k, _), n in counts.items() if k == row.key) if column.key == total
                          else counts[row.key, column.key])
    return cells


ITEM_MEASURES = ("issued", "repealed", "in_force")  # what table 二 counts of the register's items


def _published(item: RegisterItem) -> bool:
    return item.state is ReviewState.published and item.issued_on is not None


def in_force(item: RegisterItem, on: dt.date) -> bool:
    """现行有效 on that day: published, issued by then and not repealed by then (a 修订 keeps it in force)."""
    return _published(item) and item.issued_on <= on and not (item.repealed_on and item.repealed_on <= on)


def item_measures(item: RegisterItem, year: int) -> set[str]:
    """What a register item counts as in the year's table 二 (of ITEM_MEASURES): issued and repealed
    in the year, in force on 31 December. Nothing for one not yet published."""
    if not _published(item):
        return set()
    measures = {"in_force"} if in_force(item, dt.date(year, 12, 31)) else set()
    if item.issued_on.year == year:
        measures.add("issued")
    if item.repealed_on and item.repealed_on.year == year:
        measures.add("repealed")
    return measures


def proactive_table(items: Iterable[RegisterItem], decisions: Iterable[DecisionCount], year: int,
                    roles: Roles | None = None) -> dict[str, Number | None]:
    """Table 二's cells the register can count; cells of measures it does not keep are left out."""
    roles = roles or roles_for_year(year)
    table = roles.fmt.table("proactive")
    counted = [(i.category, item_measures(i, year)) for i in items if _published(i)]
    year_counts = [d for d in decisions if d.year == year]
    cells: dict[str, Number | None] = {}
    for cell in table.cells():
        measure = roles.proactive.get(cell.column.key)
        category = cell.row.key
        mine = [measures for c, measures in counted if c == category]
        if measure in ITEM_MEASURES:
            # A category the register keeps nothing of: not known to be 0.
            cells[cell.key] = sum(measure in m for m in mine) if mine else None
        elif measure == "decisions":
            entered = [d.count for d in year_counts if d.category == category and d.count is not None]
            cells[cell.key] = sum(entered) if entered else None
        elif measure == "amount_10k_yuan":
            entered = [d.amount_yuan for d in year_counts if d.category == category and d.amount_yuan is not None]
            cells[cell.key] = round(sum(entered) / 10000, 4) if entered else None
    return cells


def proactive_categories(roles: Roles, measures: tuple[str, ...] = ITEM_MEASURES) -> dict[str, str]:
    """Table 二 rows (key → label) with a cell of one of these measures: by default the rows the
    register keeps items of (规章, 行政规范性文件); with ("decisions", "amount_10k_yuan") the rows of
    a year's count or fee amount."""
    table = roles.fmt.table("proactive")
    return {cell.row.key: cell.row.label for cell in table.cells() if roles.proactive.get(cell.column.key) in measures}


def item_cells(item: RegisterItem, year: int, roles: Roles | None = None) -> list[str]:
    """The table 二 cell keys the item counts one in, for the year (what the register page shows)."""
    roles = roles or roles_for_year(year)
    measures = item_measures(item, year)
    return [cell.key for cell in roles.fmt.table("proactive").cells()
            if cell.row.key == item.category and roles.proactive.get(cell.column.key) in measures]


def _raw(value: Number) -> str:
    return figure_text(value)  # 1234567.89, not 1.23457e+06


def report_from_cells(body: str, year: int, values: dict[str, Number | None], roles: Roles | None = None) -> Report:
    roles = roles or roles_for_year(year)
    report = Report(agency=body, year=year, format=roles.fmt.id, title=f"{body}{year}年政府信息公开工作年度报告",
                    notes=[f"表二、表三、表四{LEDGER_NOTE}（{dt.date.today().isoformat()}）"])
    for key in roles.fmt.keys:
        value = values.get(key)
        note = None if key not in values else (LEDGER_NOTE if value is not None else NOT_ON_RECORD)
        report.cells[key] = Cell(key=key, value=value, raw=None if value is None else _raw(value), note=note)
    report.tables = tables_as_printed(report, roles.fmt)  # checked as the document it will print
    return report


def build_report(body: str, year: int, applications: Iterable[Application] = (), items: Iterable[RegisterItem] = (),
                 decisions: Iterable[DecisionCount] = (), appeals: Iterable[Appeal] = ()) -> Report:
    """The year's report from the records: tables 二, 三 and 四 filled, the sections for the author."""
    roles = roles_for_year(year)
    values: dict[str, Number | None] = {}
    values |= proactive_table(items, decisions, year, roles)
    values |= applications_table(applications, year, roles)
    values |= appeals_table(appeals, year, roles)
    return report_from_cells(body, year, values, roles)


def differences(ledger: Report, published: Report) -> list[Finding]:
    """Cells where the published report states another figure than the records give."""
    fmt = load_format(ledger.format)
    out = []
    for key, cell in ledger.cells.items():
        mine, theirs = cell.value, published.value(key)
        if mine is None or theirs is None or abs(float(mine) - float(theirs)) < 1e-9:
            continue
        definition = fmt.all_cells.get(key)
        label = definition.label if definition else key
        out.append(Finding(rule="L-ledger", severity="warning", cells=[key], expected=mine, found=theirs,
                           message=f"{label}：台账记录为 {_raw(mine)}，已发布的报告为 {_raw(theirs)}",
                           locations=[published.cells[key].provenance] if published.cells[key].provenance else []))
    if published.format != ledger.format:
        out.insert(0, Finding(rule="L-ledger", severity="info", cells=[],
                              message=f"已发布的报告使用 {published.format} 格式，台账按 {ledger.format} 格式生成，只比较两者共有的单元格"))
    return out
