"""Statutory dates of an application under 《中华人民共和国政府信息公开条例》（2019 年修订）, in working days,
each with its explanation in Chinese.

- 第三十一条: the day an application counts as received depends on its channel.
- 第三十三条: reply within 20 working days of receipt (the day of receipt itself not counted); an
  extension approved by the 工作机构负责人 adds at most 20 more; the time a third party or another
  body takes to give its opinion is not counted.
- 第三十条: a 补正 notice within 7 working days of receipt; the reply period runs from the day the
  completed application arrives; 逾期不补正 ends it.
- 第三十二条: the third party answers within 15 working days of the 征求意见书.
- 《政府信息公开信息处理费管理办法》: payment within 20 working days of the 收费通知; the days from the
  notice to the payment are not counted; 逾期未缴费 ends it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from gongkai.ledger.models import Application, Channel, Event, EventKind
from gongkai.ledger.roles import LedgerError
from gongkai.ledger.workdays import Calendar, national_calendar, show, weekday_name

REPLY_DAYS = 20  # 第三十三条第二款
MAX_EXTENSION_DAYS = 20  # 第三十三条第二款
CORRECTION_NOTICE_DAYS = 7  # 第三十条
THIRD_PARTY_DAYS = 15  # 第三十二条
FEE_PAYMENT_DAYS = 20  # 信息处理费管理办法


@dataclass(frozen=True)
class Pause:
    """Days not counted: after `start`, up to and including `end` (征求意见, 待缴费)."""

    start: dt.date
    end: dt.date
    why: str  # 征求第三方意见 / 待缴费


@dataclass
class Count:
    """n working days counted after a start date, and what the count passed over."""

    start: dt.date
    days: int
    end: dt.date
    skipped_holidays: dict[str, list[dt.date]] = field(default_factory=dict)
    make_up_days: list[dt.date] = field(default_factory=list)  # weekend days worked (调休), counted
    paused: list[tuple[Pause, int]] = field(default_factory=list)  # with the working days they held

    def reasons(self) -> list[str]:
        """国庆节 10-01—10-07 不计；10-10（星期六）调休上班计入 …"""
        parts = []
        for name, days in self.skipped_holidays.items():
            span = _short(days[0], self.start) if len(days) == 1 else f"{_short(days[0], self.start)}—{_short(days[-1], self.start)}"
            parts.append(f"{name} {span} 不计")
        for day in self.make_up_days:
            parts.append(f"{_short(day, self.start)}（{weekday_name(day)}）调休上班计入")
        for pause, held in self.paused:
            parts.append(f"{pause.why} {_short(pause.start, self.start)}—{_short(pause.end, self.start)} 不计（{held} 个工作日）")
        return parts


def _short(day: dt.date, reference: dt.date) -> str:
    return day.strftime("%m-%d") if day.year == reference.year else day.isoformat()


def count_working_days(start: dt.date, days: int, calendar: Calendar | None = None,
                       pauses: tuple[Pause, ...] = ()) -> Count:
    """The `days`-th working day after `start` (start itself not counted), skipping paused days."""
    calendar = calendar or national_calendar()
    count = Count(start=start, days=days, end=start)
    held = {p: 0 for p in pauses}
    day, counted = start, 0
    while counted < days:
        day += dt.timedelta(days=1)
        pause = next((p for p in pauses if p.start < day <= p.end), None)
        workday = calendar.is_workday(day)
        if pause is not None:
            held[pause] += workday
            continue
        if workday:
            counted += 1
            if day.weekday() >= 5:
                count.make_up_days.append(day)
        else:
            name = calendar.holiday_name(day)
            if name:
                count.skipped_holidays.setdefault(name, []).append(day)
    count.end = day
    count.paused = [(p, n) for p, n in held.items() if n]
    return count


def receipt_date(channel: Channel | str, submitted_on: dt.date | None = None, signed_for_on: dt.date | None = None,
                 confirmed_on: dt.date | None = None) -> tuple[dt.date, str]:
    """The day an application counts as received (第三十一条), and why.

    当面: the day handed in. 邮寄: the day the body signed for it; a letter that needs no signature
    (平常信函) counts from the day the body confirmed it with the applicant. 网络, 传真: the day both
    sides confirmed it."""
    channel = Channel(channel)
    if channel is Channel.in_person:
        if submitted_on is None:
            raise LedgerError("当面提交的申请需填写提交日期 (in person: the submission date is needed)")
        return submitted_on, f"当面提交，以提交之日 {show(submitted_on)} 为收到申请之日（第三十一条第（一）项）"
    if channel is Channel.post:
        if signed_for_on is not None:
            return signed_for_on, f"邮寄提交，以签收之日 {show(signed_for_on)} 为收到申请之日（第三十一条第（二）项）"
        if confirmed_on is not None:
            return confirmed_on, (f"以无需签收的平常信函提交，以与申请人确认之日 {show(confirmed_on)} 为收到申请之日"
                                  "（第三十一条第（二）项）")
        raise LedgerError("邮寄提交的申请需填写签收日期（平常信函填写确认日期）(post: the day signed for is needed)")
    if confirmed_on is None:
        raise LedgerError(f"{channel.value}提交的申请需填写双方确认日期 ({channel.name}: the confirmation date is needed)")
    return confirmed_on, f"通过{channel.value}提交，以双方确认之日 {show(confirmed_on)} 为收到申请之日（第三十一条第（三）项）"


@dataclass
class Deadline:
    """A statutory date and how it was worked out. due_on is None while the clock is stopped
    (awaiting the applicant's 补正 or payment); `waiting` then says what for, until when."""

    what: str  # 答复期限, 补正告知期限 …
    due_on: dt.date | None
    explanation: str
    waiting: str | None = None
    waiting_until: dt.date | None = None


def _events(app: Application, kind: EventKind) -> list[Event]:
    return sorted((e for e in app.events if e.kind == kind), key=lambda e: e.on)


def _last(app: Application, kind: EventKind) -> Event | None:
    found = _events(app, kind)
    return found[-1] if found else None


def _explain(head: str, count: Count, tail: str) -> str:
    return "；".join([head, *count.reasons(), tail])


def due_after(start: dt.date, days: int = REPLY_DAYS, calendar: Calendar | None = None) -> Deadline:
    """`gongkai ledger due 2026-09-28`: the days-th working day after a date of receipt."""
    count = count_working_days(start, days, calendar)
    return Deadline(what="答复期限", due_on=count.end,
                    explanation=_explain(f"收到 {show(start)}", count, f"第 {days} 个工作日 {count.end.isoformat()}"))


def correction_notice_deadline(app: Application, calendar: Calendar | None = None) -> Deadline:
    count = count_working_days(app.received_on, CORRECTION_NOTICE_DAYS, calendar)
    return Deadline(what="补正告知期限", due_on=count.end, explanation=_explain(
        f"收到 {show(app.received_on)}", count,
        f"应于第 {CORRECTION_NOTICE_DAYS} 个工作日 {count.end.isoformat()} 前一次性告知补正（第三十条）"))


def _pauses(app: Application, calendar: Calendar) -> tuple[list[Pause], list[str]]:
    """Consultation and fee periods not counted, with notes on the ones still running."""
    pauses, notes = [], []
    answers = _events(app, EventKind.consultation_answered)
    for sent in _events(app, EventKind.consultation_sent):
        latest = count_working_days(sent.on, THIRD_PARTY_DAYS, calendar).end
        answer = next((a for a in answers if a.on >= sent.on), None)
        if answer is not None:
            answers.remove(answer)
            end = min(answer.on, latest)  # past 15 working days the body decides without the answer
            pauses.append(Pause(sent.on, end, "征求第三方意见"))
        else:
            pauses.append(Pause(sent.on, latest, "征求第三方意见"))
            notes.append(f"第三方尚未答复，按最长 {THIRD_PARTY_DAYS} 个工作日（至 {latest.isoformat()}）计（第三十二条）")
    paid = _events(app, EventKind.fee_paid)
    for notice in _events(app, EventKind.fee_notice):
        payment = next((p for p in paid if p.on >= notice.on), None)
        if payment is not None:
            paid.remove(payment)
            pauses.append(Pause(notice.on, payment.on, "收费通知至缴费"))
    return pauses, notes


def reply_deadline(app: Application, calendar: Calendar | None = None) -> Deadline:
    """The day the reply is due, with every step of the count explained."""
    calendar = calendar or national_calendar()
    head = [f"收到 {show(app.received_on)}"]
    start = app.received_on
    notice = _last(app, EventKind.correction_notice)
    completed = _last(app, EventKind.correction_received)
    if notice is not None:
        notice_due = count_working_days(app.received_on, CORRECTION_NOTICE_DAYS, calendar).end
        late = "" if notice.on <= notice_due else f"，晚于第三十条规定的 {notice_due.isoformat()}"
        head.append(f"{notice.on.isoformat()} 告知补正{late}")
        if completed is None or completed.on < notice.on:
            until = count_working_days(notice.on, notice.days, calendar).end if notice.days else None
            limit = f"补正期限 {notice.days} 个工作日，至 {until.isoformat()}" if until else "补正期限未填写"
            return Deadline(what="答复期限", due_on=None, waiting="待申请人补正", waiting_until=until,
                            explanation="；".join([*head, limit, "答复期限自收到补正之日起计算（第三十条）"]))
        start = completed.on
        head.append(f"收到补正 {show(completed.on)}，答复期限自此重新计算（第三十条）")
    pending_fee = [n for n in _events(app, EventKind.fee_notice)
                   if not any(p.on >= n.on for p in _events(app, EventKind.fee_paid))]
    pauses, notes = _pauses(app, calendar)
    if pending_fee:
        until = count_working_days(pending_fee[-1].on, FEE_PAYMENT_DAYS, calendar).end
        return Deadline(what="答复期限", due_on=None, waiting="待申请人缴费", waiting_until=until,
                        explanation="；".join([*head, f"{pending_fee[-1].on.isoformat()} 发出收费通知，"
                                               f"缴费期限 {FEE_PAYMENT_DAYS} 个工作日至 {until.isoformat()}，期间不计入答复期限"]))
    extensions = _events(app, EventKind.extension)
    extra = sum(e.days or 0 for e in extensions)
    if extra > MAX_EXTENSION_DAYS:
        raise LedgerError(f"延期共 {extra} 个工作日，超过第三十三条规定的最长 {MAX_EXTENSION_DAYS} 个工作日")
    base = count_working_days(start, REPLY_DAYS, calendar, tuple(pauses))
    tail = [*notes, f"第 {REPLY_DAYS} 个工作日 {base.end.isoformat()}"]
    count = base
    if extra:
        count = count_working_days(start, REPLY_DAYS + extra, calendar, tuple(pauses))
        approvers = "、".join(sorted({e.approver for e in extensions if e.approver})) or "未填写"
        late = [e for e in extensions if e.on > base.end]
        tail.append(f"经 {approvers} 批准延期 {extra} 个工作日" +
                    (f"（延期告知 {late[0].on.isoformat()} 晚于原期限）" if late else ""))
        tail.append(f"第 {REPLY_DAYS + extra} 个工作日 {count.end.isoformat()}")
    return Deadline(what="答复期限", due_on=count.end, explanation=_explain("；".join(head), count, "；".join(tail)))


def current_deadline(app: Application, calendar: Calendar | None = None) -> Deadline | None:
    """What the body must do next and by when (None: the application is closed)."""
    if app.closed_on() is not None:
        return None
    return reply_deadline(app, calendar)
