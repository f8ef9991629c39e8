"""The ledgers in the corpus database (tables ledger_* of gongkai.store.schema), as plain functions a
CLI command or a web page calls with an Engine: create an application, add an event, list what is
due or overdue, count table 三 for every body, build a body's report, keep the register and appeals.

Each application row carries what its events imply (closed_on, outcome, due_on, waiting …),
recomputed on every write, so that the counts and lists are aggregate queries."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, case, func, or_, select

from gongkai.ledger.deadlines import MAX_EXTENSION_DAYS, count_working_days, current_deadline
from gongkai.ledger.models import (
    REVIEW_ORDER,
    Appeal,
    Application,
    Channel,
    DecisionCount,
    Event,
    EventKind,
    RegisterItem,
    ReviewState,
    ReviewStep,
)
from gongkai.ledger.roles import LedgerError, current_roles, roles_for_year
from gongkai.ledger.tables import (
    appeals_table,
    application_counts,
    differences,
    outcome_of,
    proactive_categories,
    proactive_table,
    report_from_cells,
)
from gongkai.ledger.workdays import Calendar, CalendarError, national_calendar, working_days_between
from gongkai.model import Finding, Report
from gongkai.store.schema import (
    ledger_appeals,
    ledger_applications,
    ledger_decision_counts,
    ledger_events,
    ledger_register_items,
    ledger_reviews,
)

AFTER_CLOSE = frozenset({EventKind.delivery, EventKind.archive})
# An event that answers an earlier one, and the one it needs.
NEEDS = {EventKind.correction_received: EventKind.correction_notice, EventKind.correction_lapsed: EventKind.correction_notice,
         EventKind.consultation_answered: EventKind.consultation_sent, EventKind.fee_paid: EventKind.fee_notice,
         EventKind.fee_lapsed: EventKind.fee_notice}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# ---- applications ------------------------------------------------------------------------------


def validate_application(app: Application) -> None:
    roles = current_roles()
    if app.applicant_type not in roles.applicant_types:
        raise LedgerError(f"申请人类型 {app.applicant_type!r} 不是表三的列，应为：" + "、".join(
            f"{k}（{v}）" for k, v in roles.applicant_types.items()))
    if app.submitted_on and app.received_on < app.submitted_on:
        raise LedgerError(f"收到日期 {app.received_on} 早于提交日期 {app.submitted_on}")


def validate_event(app: Application, event: Event) -> None:
    """An event the application can take now (checked before it is stored)."""
    if event.on < app.received_on:
        raise LedgerError(f"{event.kind.value}日期 {event.on} 早于收到申请之日 {app.received_on}")
    closed = app.closing_event()
    if closed is not None and event.kind not in AFTER_CLOSE:
        raise LedgerError(f"该申请已于 {closed.on} {closed.kind.value}办结，不能再记录{event.kind.value}")
    if event.kind in AFTER_CLOSE and closed is None:
        raise LedgerError(f"尚未答复或办结，不能记录{event.kind.value}")
    if event.kind is EventKind.reply:
        outcomes = current_roles().outcome_rows
        if event.outcome not in outcomes:
            raise LedgerError(f"答复须填写答复结果（表三的结果行），{event.outcome!r} 不是，应为：" + "、".join(outcomes))
        roles_for_year(event.on.year).fold_outcome(event.outcome)  # countable in the format of its year
    if event.kind is EventKind.extension:
        if not event.days or event.days <= 0:
            raise LedgerError("延期须填写延长的工作日数")
        if not event.approver:
            raise LedgerError("延期须经政府信息公开工作机构负责人同意，请填写批准人（第三十三条）")
        used = sum(e.days or 0 for e in app.events if e.kind is EventKind.extension)
        if used + event.days > MAX_EXTENSION_DAYS:
            raise LedgerError(f"延期共 {used + event.days} 个工作日，超过第三十三条规定的最长 {MAX_EXTENSION_DAYS} 个工作日")
    needed = NEEDS.get(event.kind)
    if needed and not any(e.kind is needed and e.on <= event.on for e in app.events):
        raise LedgerError(f"记录{event.kind.value}之前须先有{needed.value}")


def _derived(app: Application, calendar: Calendar) -> dict[str, Any]:
    closed = app.closing_event()
    out: dict[str, Any] = {"closed_on": closed.on if closed else None, "outcome": None, "due_on": None,
                           "waiting": None, "waiting_until": None, "deadline_error": None}
    if closed is not None:
        out["outcome"] = outcome_of(app, roles_for_year(closed.on.year))
        return out
    try:
        deadline = current_deadline(app, calendar)
    except (CalendarError, LedgerError) as exc:
        out["deadline_error"] = str(exc)
        return out
    if deadline is not None:
        out |= {"due_on": deadline.due_on, "waiting": deadline.waiting, "waiting_until": deadline.waiting_until}
    return out


def _event_row(application_id: int, event: Event, by: str | None) -> dict[str, Any]:
    return {"application_id": application_id, "kind": event.kind.name, "on_date": event.on, "outcome": event.outcome,
            "days": event.days, "approver": event.approver, "by": event.by or by, "note": event.note,
            "recorded_at": _now()}


def _application_row(app: Application, calendar: Calendar) -> dict[str, Any]:
    return {"body": app.body, "number": app.number, "applicant_type": app.applicant_type,
            "applicant_name": app.applicant_name, "contact": app.contact, "channel": app.channel.name,
            "submitted_on": app.submitted_on, "received_on": app.received_on, "content": app.content,
            "handler": app.handler, **_derived(app, calendar)}


def create_application(engine: Engine, app: Application, by: str | None = None,
                       calendar: Calendar | None = None) -> int:
    """Register an application (with any events it already has); returns its id."""
    return create_applications(engine, [app], by, calendar)[0]


def create_applications(engine: Engine, apps: list[Application], by: str | None = None,
                        calendar: Calendar | None = None) -> list[int]:
    """Register many applications in one transaction (an import): all or none."""
    calendar = calendar or national_calendar()
    checked = []
    for app in apps:
        validate_application(app)
        replay = app.model_copy(update={"events": []})
        for event in sorted(app.events, key=lambda e: e.on):
            validate_event(replay, event)
            replay.events.append(event)
        checked.append(replay)
    now = _now()
    rows = [_application_row(app, calendar) | {"created_at": now, "created_by": by} for app in checked]
    with engine.begin() as conn:
        # One multi-row INSERT … RETURNING (ids in the order given), then the events in one go.
        ids = list(conn.scalars(ledger_applications.insert().returning(ledger_applications.c.id, sort_by_parameter_order=True),
                                rows)) if rows else []
        events = [_event_row(app_id, e, by) for app_id, app in zip(ids, checked, strict=True) for e in app.events]
        if events:
            conn.execute(ledger_events.insert(), events)
    return ids


def _application_from(row: Any, events: list[Any]) -> Application:
    return Application(id=row.id, body=row.body, number=row.number, applicant_type=row.applicant_type,
                       applicant_name=row.applicant_name, contact=row.contact, channel=Channel[row.channel],
                       submitted_on=row.submitted_on, received_on=row.received_on, content=row.content,
                       handler=row.handler,
                       events=[Event(id=e.id, kind=EventKind[e.kind], on=e.on_date, outcome=e.outcome, days=e.days,
                                     approver=e.approver, by=e.by, note=e.note) for e in events])


def get_application(conn: Connection, application_id: int) -> Application:
    row = conn.execute(select(ledger_applications).where(ledger_applications.c.id == application_id)).first()
    if row is None:
        raise LedgerError(f"没有编号为 {application_id} 的申请 (no such application)")
    events = conn.execute(select(ledger_events).where(ledger_events.c.application_id == application_id)
                          .order_by(ledger_events.c.on_date, ledger_events.c.id)).all()
    return _application_from(row, events)


def add_event(engine: Engine, application_id: int, event: Event, by: str | None = None,
              calendar: Calendar | None = None) -> Application:
    """Record an event (补正, 征求意见, 延期, 收费, 答复 …); returns the application as it now stands."""
    calendar = calendar or national_calendar()
    with engine.begin() as conn:
        app = get_application(conn, application_id)
        validate_event(app, event)
        conn.execute(ledger_events.insert().values(_event_row(application_id, event, by)))
        app.events.append(event)
        conn.execute(ledger_applications.update().where(ledger_applications.c.id == application_id)
                     .values(_derived(app, calendar)))
    return app


def list_applications(conn: Connection, body: str | None = None, year: int | None = None,
                      open_only: bool = False) -> list[Application]:
    query = select(ledger_applications).order_by(ledger_applications.c.received_on, ledger_applications.c.id)
    if body:
        query = query.where(ledger_applications.c.body == body)
    if year:
        query = query.where(ledger_applications.c.received_on <= dt.date(year, 12, 31),
                            or_(ledger_applications.c.closed_on.is_(None), ledger_applications.c.closed_on >= dt.date(year, 1, 1)))
    if open_only:
        query = query.where(ledger_applications.c.closed_on.is_(None))
    rows = conn.execute(query).all()
    events: dict[int, list[Any]] = defaultdict(list)
    ids = [r.id for r in rows]
    for start in range(0, len(ids), 5000):
        for e in conn.execute(select(ledger_events).where(ledger_events.c.application_id.in_(ids[start:start + 5000]))
                              .order_by(ledger_events.c.on_date, ledger_events.c.id)):
            events[e.application_id].append(e)
    return [_application_from(r, events[r.id]) for r in rows]


def refresh_deadlines(engine: Engine, calendar: Calendar | None = None) -> int:
    """Recompute every open application's dates (after a calendar file was added or changed)."""
    calendar = calendar or national_calendar()
    with engine.begin() as conn:
        apps = list_applications(conn, open_only=True)
        for app in apps:
            conn.execute(ledger_applications.update().where(ledger_applications.c.id == app.id).values(_derived(app, calendar)))
    return len(apps)


# ---- due and overdue ---------------------------------------------------------------------------


@dataclass
class DueItem:
    id: int
    body: str
    number: str | None
    handler: str | None
    applicant_name: str | None
    received_on: dt.date
    what: str  # 答复期限 / 待申请人补正 / 待申请人缴费 / 无法计算
    due_on: dt.date | None
    working_days_left: int | None  # negative: overdue by that many working days
    problem: str | None = None

    @property
    def overdue(self) -> bool:
        return self.working_days_left is not None and self.working_days_left < 0


def due_list(conn: Connection, today: dt.date, within: int = 5, body: str | None = None, handler: str | None = None,
             calendar: Calendar | None = None) -> list[DueItem]:
    """Open applications whose statutory date has passed or falls within `within` working days,
    most urgent first. An application waiting for the applicant is listed when its period ends (so
    the body can close it as 逾期不补正 / 逾期未缴费); one whose date cannot be computed is always listed."""
    calendar = calendar or national_calendar()
    t = ledger_applications
    # Past this day a date is more than `within` working days away: the database leaves those out.
    query = select(t).where(t.c.closed_on.is_(None))
    try:
        horizon = count_working_days(today, within, calendar).end
        date = func.coalesce(t.c.due_on, t.c.waiting_until)
        query = query.where(or_(date.is_(None), date <= horizon))
    except CalendarError:
        pass  # the horizon runs into a year without data: every row is looked at (and says so)
    if body:
        query = query.where(t.c.body == body)
    if handler:
        query = query.where(t.c.handler == handler)
    out = []
    days_left: dict[dt.date, int] = {}
    for row in conn.execute(query):
        date = row.due_on or row.waiting_until
        what = "答复期限" if row.due_on else (row.waiting or "无法计算")
        if date is None:
            if row.deadline_error or not row.waiting:
                out.append(DueItem(row.id, row.body, row.number, row.handler, row.applicant_name, row.received_on,
                                   "无法计算", None, None, row.deadline_error))
            continue
        try:
            if date not in days_left:  # many applications share a date
                days_left[date] = working_days_between(today, date, calendar)
            left = days_left[date]
        except CalendarError as exc:
            out.append(DueItem(row.id, row.body, row.number, row.handler, row.applicant_name, row.received_on,
                               what, date, None, str(exc)))
            continue
        if left <= within:
            out.append(DueItem(row.id, row.body, row.number, row.handler, row.applicant_name, row.received_on,
                               what, date, left))
    return sorted(out, key=lambda d: (d.working_days_left is not None, d.working_days_left or 0, d.id))


# ---- table 三 and the report -------------------------------------------------------------------


def application_tables(conn: Connection, year: int, body: str | None = None) -> dict[str, dict[str, int]]:
    """Table 三 of every body (or one) for the year: body → cells. One aggregate query over the ledger."""
    roles = roles_for_year(year)
    t = ledger_applications
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    new = t.c.received_on >= start
    # The outcome of an application closed within the year; NULL for one still open on 31 December.
    outcome = case((t.c.closed_on <= end, t.c.outcome), else_=None)
    query = (select(t.c.body, t.c.applicant_type, new, outcome, func.count())
             .where(t.c.received_on <= end, or_(t.c.closed_on.is_(None), t.c.closed_on >= start))
             .group_by(t.c.body, t.c.applicant_type, new, outcome))
    if body:
        query = query.where(t.c.body == body)
    grouped: dict[str, list[tuple[str, dt.date, dt.date | None, str | None, int]]] = defaultdict(list)
    before = dt.date(year - 1, 12, 31)
    folded: dict[str, str] = {}
    for row_body, applicant_type, is_new, row_outcome, n in conn.execute(query):
        # Only the year of receipt and whether (and how) it closed within the year matter to the count.
        if row_outcome is not None and row_outcome not in folded:
            folded[row_outcome] = roles.fold_outcome(row_outcome)
        grouped[row_body].append((applicant_type, start if is_new else before, None if row_outcome is None else end,
                                  folded.get(row_outcome), n))
    return {name: application_counts(rows, year, roles) for name, rows in grouped.items()}


def _items_from(conn: Connection, rows: list[Any]) -> list[RegisterItem]:
    reviews: dict[int, list[ReviewStep]] = defaultdict(list)
    if rows:
        for r in conn.execute(select(ledger_reviews).where(ledger_reviews.c.item_id.in_([x.id for x in rows]))
                              .order_by(ledger_reviews.c.id)):
            reviews[r.item_id].append(ReviewStep(state=ReviewState[r.state], by=r.by, on=r.on_date, note=r.note))
    return [RegisterItem(id=r.id, body=r.body, category=r.category, title=r.title, number=r.number, issued_on=r.issued_on,
                         amended_on=[dt.date.fromisoformat(d) for d in r.amended_on or []], repealed_on=r.repealed_on,
                         state=ReviewState[r.state], reviews=reviews[r.id]) for r in rows]


def register_items(conn: Connection, body: str | list[str], category: str | None = None) -> list[RegisterItem]:
    """The register items of a body (or of several), with their review steps, oldest first."""
    t = ledger_register_items
    query = select(t).where(t.c.body.in_([body] if isinstance(body, str) else body)).order_by(t.c.id)
    if category:
        query = query.where(t.c.category == category)
    return _items_from(conn, conn.execute(query).all())


def get_register_item(conn: Connection, item_id: int) -> RegisterItem:
    rows = conn.execute(select(ledger_register_items).where(ledger_register_items.c.id == item_id)).all()
    if not rows:
        raise LedgerError(f"没有编号为 {item_id} 的主动公开事项")
    return _items_from(conn, rows)[0]


def decision_counts(conn: Connection, body: str, year: int | None = None) -> list[DecisionCount]:
    t = ledger_decision_counts
    query = select(t).where(t.c.body == body)
    if year:
        query = query.where(t.c.year == year)
    return [DecisionCount(body=r.body, year=r.year, category=r.category, count=r.count, amount_yuan=r.amount_yuan,
                          source=r.source) for r in conn.execute(query)]


def _appeal_from(r: Any) -> Appeal:
    return Appeal(id=r.id, body=r.body, kind=r.kind, filed_on=r.filed_on, decided_on=r.decided_on, outcome=r.outcome,
                  case_number=r.case_number, application_id=r.application_id, note=r.note)


def appeals(conn: Connection, body: str | list[str]) -> list[Appeal]:
    """The appeals about a body's disclosure (or several bodies'), in the order they were entered."""
    t = ledger_appeals
    query = select(t).where(t.c.body.in_([body] if isinstance(body, str) else body)).order_by(t.c.id)
    return [_appeal_from(r) for r in conn.execute(query)]


def get_appeal(conn: Connection, appeal_id: int) -> Appeal:
    row = conn.execute(select(ledger_appeals).where(ledger_appeals.c.id == appeal_id)).first()
    if row is None:
        raise LedgerError(f"没有编号为 {appeal_id} 的复议诉讼")
    return _appeal_from(row)


def proactive_cells(conn: Connection, body: str, year: int) -> dict[str, Any]:
    """Table 二 of the body's year from its register and decision counts."""
    return proactive_table(register_items(conn, body), decision_counts(conn, body, year), year, roles_for_year(year))


def appeal_cells(conn: Connection, body: str, year: int) -> dict[str, Any]:
    """Table 四 of the body's year from its appeals."""
    return appeals_table(appeals(conn, body), year, roles_for_year(year))


def report_for(conn: Connection, body: str, year: int) -> Report:
    """`gongkai ledger report BODY YEAR`: the body's report of the year from its records."""
    roles = roles_for_year(year)
    values: dict[str, Any] = {}
    values |= proactive_cells(conn, body, year)
    tables = application_tables(conn, year, body)
    values |= tables.get(body) or application_counts([], year, roles)
    values |= appeal_cells(conn, body, year)
    return report_from_cells(body, year, values, roles)


def published_report(conn: Connection, body: str, year: int) -> Report | None:
    """The body's report of that year in the corpus, if one was ingested."""
    from gongkai.store.query import load_report
    from gongkai.store.schema import reports

    report_id = conn.scalar(select(reports.c.id).where(reports.c.agency == body, reports.c.year == year)
                            .order_by(reports.c.id.desc()).limit(1))
    return load_report(conn, report_id).report if report_id is not None else None


def compare_with_published(conn: Connection, report: Report) -> list[Finding] | None:
    """Differences between the records' report and the published one (None: none is stored)."""
    published = published_report(conn, report.agency or "", report.year or 0)
    return None if published is None else differences(report, published)


# ---- the 主动公开 register ------------------------------------------------------------------------


def validate_register_item(item: RegisterItem) -> None:
    rows = proactive_categories(current_roles())
    if item.category not in rows:
        raise LedgerError(f"类别 {item.category!r} 不是表二中登记文件的行，应为：" + "、".join(f"{k}（{v}）" for k, v in rows.items()))
    if item.repealed_on and item.issued_on and item.repealed_on < item.issued_on:
        raise LedgerError(f"废止日期 {item.repealed_on} 早于制发日期 {item.issued_on}")
    if item.issued_on and any(d < item.issued_on for d in item.amended_on):
        raise LedgerError(f"修订日期早于制发日期 {item.issued_on}")


def _item_values(item: RegisterItem) -> dict[str, Any]:
    return {"body": item.body, "category": item.category, "title": item.title, "number": item.number,
            "issued_on": item.issued_on, "amended_on": [d.isoformat() for d in sorted(item.amended_on)],
            "repealed_on": item.repealed_on}


def add_register_item(engine: Engine, item: RegisterItem) -> int:
    validate_register_item(item)
    with engine.begin() as conn:
        item_id = conn.execute(ledger_register_items.insert().values(
            _item_values(item) | {"state": ReviewState.draft.name})).inserted_primary_key[0]
    return item_id


# What the three reviews passed: a published item keeps them; its dates may still change (修订, 废止).
REVIEWED_FIELDS = ("category", "title", "number")


def update_register_item(engine: Engine, item_id: int, item: RegisterItem) -> RegisterItem:
    """Replace an item's particulars (its body, state and reviews stay); returns it as it was before.
    A published item's category, title and 文号 went through 三审 and cannot change here."""
    validate_register_item(item)
    with engine.begin() as conn:
        before = get_register_item(conn, item_id)
        if before.state is ReviewState.published:
            changed = [f for f in REVIEWED_FIELDS if getattr(before, f) != getattr(item, f)]
            if changed:
                raise LedgerError("已发布事项的类别、标题和文号经过三审，不能修改；请登记新的事项（修订、废止可填写日期）")
        values = _item_values(item)
        del values["body"]
        conn.execute(ledger_register_items.update().where(ledger_register_items.c.id == item_id).values(values))
    return before


def advance_review(engine: Engine, item_id: int, by: str, on: dt.date, note: str | None = None) -> ReviewState:
    """Move an item to its next review state (草稿 → 初审 → 复审 → 终审 → 已发布); the three reviews
    (三审) are each by a different person."""
    with engine.begin() as conn:
        row = conn.execute(select(ledger_register_items).where(ledger_register_items.c.id == item_id)).first()
        if row is None:
            raise LedgerError(f"没有编号为 {item_id} 的主动公开事项")
        state = ReviewState[row.state]
        if state is ReviewState.published:
            raise LedgerError("该事项已发布")
        following = REVIEW_ORDER[REVIEW_ORDER.index(state) + 1]
        steps = conn.execute(select(ledger_reviews).where(ledger_reviews.c.item_id == item_id)).all()
        if following is not ReviewState.published and any(s.by == by for s in steps):
            raise LedgerError(f"{by} 已审核过该事项，{following.value}须由另一人进行（三审）")
        if steps and on < max(s.on_date for s in steps):
            raise LedgerError(f"{following.value}日期 {on} 早于上一步审核日期")
        conn.execute(ledger_reviews.insert().values(item_id=item_id, state=following.name, by=by, on_date=on, note=note))
        conn.execute(ledger_register_items.update().where(ledger_register_items.c.id == item_id)
                     .values(state=following.name))
    return following


def return_to_draft(engine: Engine, item_id: int, by: str, on: dt.date, note: str) -> None:
    """退回修改: back to draft, the reviews so far kept in its history."""
    with engine.begin() as conn:
        if get_register_item(conn, item_id).state is ReviewState.published:
            raise LedgerError("该事项已发布，不能退回")
        conn.execute(ledger_reviews.insert().values(item_id=item_id, state=ReviewState.draft.name, by=by, on_date=on,
                                                    note=note))
        conn.execute(ledger_register_items.update().where(ledger_register_items.c.id == item_id)
                     .values(state=ReviewState.draft.name))


def repeal_item(engine: Engine, item_id: int, on: dt.date) -> None:
    with engine.begin() as conn:
        conn.execute(ledger_register_items.update().where(ledger_register_items.c.id == item_id).values(repealed_on=on))


def set_decision_count(engine: Engine, count: DecisionCount) -> None:
    """The year's count or amount of a table 二 row, replacing an earlier entry for the same row."""
    roles = roles_for_year(count.year)
    if count.category not in {r.key for r in roles.fmt.table("proactive").all_rows}:
        raise LedgerError(f"类别 {count.category!r} 不是表二的行")
    t = ledger_decision_counts
    with engine.begin() as conn:
        conn.execute(t.delete().where(t.c.body == count.body, t.c.year == count.year, t.c.category == count.category))
        conn.execute(t.insert().values(count.model_dump()))


# ---- appeals -----------------------------------------------------------------------------------


def add_appeal(engine: Engine, appeal: Appeal) -> int:
    roles = roles_for_year(appeal.filed_on.year)
    if appeal.kind not in roles.appeal_kinds:
        raise LedgerError(f"类别 {appeal.kind!r} 不是表四的行，应为：" + "、".join(roles.appeal_kinds))
    if appeal.outcome is not None and appeal.outcome not in roles.appeal_outcomes:
        raise LedgerError(f"结果 {appeal.outcome!r} 不是表四的结果列，应为：" + "、".join(roles.appeal_outcomes))
    if appeal.decided_on and appeal.decided_on < appeal.filed_on:
        raise LedgerError(f"审结日期 {appeal.decided_on} 早于立案日期 {appeal.filed_on}")
    with engine.begin() as conn:
        return conn.execute(ledger_appeals.insert().values(appeal.model_dump(exclude={"id"}))).inserted_primary_key[0]


def decide_appeal(engine: Engine, appeal_id: int, outcome: str, decided_on: dt.date) -> None:
    with engine.begin() as conn:
        row = conn.execute(select(ledger_appeals).where(ledger_appeals.c.id == appeal_id)).first()
        if row is None:
            raise LedgerError(f"没有编号为 {appeal_id} 的复议诉讼")
        if outcome not in roles_for_year(row.filed_on.year).appeal_outcomes:
            raise LedgerError(f"结果 {outcome!r} 不是表四的结果列")
        if decided_on < row.filed_on:
            raise LedgerError(f"审结日期 {decided_on} 早于立案日期 {row.filed_on}")
        conn.execute(ledger_appeals.update().where(ledger_appeals.c.id == appeal_id)
                     .values(outcome=outcome, decided_on=decided_on))
