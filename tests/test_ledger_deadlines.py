"""Given a date of receipt and the events of an application, the statutory dates of
《政府信息公开条例》 in working days, each against a date worked out by hand from the State Council's
holiday arrangements; the calendar data against an independent source (chinese-calendar)."""

from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from gongkai.cli import app as cli
from gongkai.ledger.deadlines import (
    correction_notice_deadline,
    count_working_days,
    due_after,
    receipt_date,
    reply_deadline,
)
from gongkai.ledger.models import Application, Channel, Event, EventKind
from gongkai.ledger.roles import LedgerError
from gongkai.ledger.workdays import (
    CalendarError,
    calendar_files,
    calendar_with,
    national_calendar,
    working_days_between,
)

D = dt.date
runner = CliRunner()


def application(received: dt.date, *events: Event) -> Application:
    return Application(body="某县人民政府办公室", applicant_type="natural_person", channel=Channel.online,
                       received_on=received, events=list(events))


# ---- the calendar data ------------------------------------------------------------------------


def test_every_year_from_2019_to_2026_is_shipped():
    assert set(range(2019, 2027)) <= set(calendar_files())


@pytest.mark.parametrize("year", sorted(calendar_files()))
def test_calendar_agrees_with_chinese_calendar_on_every_day(year):
    chinese_calendar = pytest.importorskip("chinese_calendar")
    covered = {d.year for d in chinese_calendar.constants.holidays}
    if year not in covered:
        pytest.skip(f"chinese-calendar does not cover {year}")
    calendar = national_calendar()
    day = D(year, 1, 1)
    disagreements = []
    while day.year == year:
        if calendar.is_workday(day) != chinese_calendar.is_workday(day):
            disagreements.append(day)
        day += dt.timedelta(days=1)
    assert disagreements == []


def test_a_year_without_data_is_an_error_naming_the_year_and_the_file_to_add():
    with pytest.raises(CalendarError) as error:
        national_calendar().is_workday(D(2031, 3, 3))
    assert "2031" in str(error.value) and "calendars/2031.yaml" in str(error.value)


def test_local_holidays_are_not_working_days(tmp_path):
    # 三月三 (壮族): a 民族自治地方's own holiday, 2026-04-20 (Monday) and 04-21 (Tuesday).
    local = tmp_path / "guangxi.yaml"
    local.write_text("holidays:\n  - {name: 三月三, from: 2026-04-20, to: 2026-04-21}\n", encoding="utf-8")
    calendar = calendar_with([local])
    assert not calendar.is_workday(D(2026, 4, 20)) and national_calendar().is_workday(D(2026, 4, 20))
    # Received Friday 04-17: 04-22 (Wednesday) is the first working day after it.
    assert count_working_days(D(2026, 4, 17), 1, calendar).end == D(2026, 4, 22)


def test_a_broken_local_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("holidays:\n  - {name: x, from: 2026-05-02, to: 2026-05-01}\n", encoding="utf-8")
    with pytest.raises(CalendarError, match=r"bad\.yaml"):
        calendar_with([bad])


# ---- 第三十一条: when an application counts as received -----------------------------------------


def test_receipt_by_channel():
    assert receipt_date(Channel.in_person, submitted_on=D(2026, 3, 2))[0] == D(2026, 3, 2)
    # Posted on the 2nd, signed for on the 5th: the 5th.
    assert receipt_date(Channel.post, submitted_on=D(2026, 3, 2), signed_for_on=D(2026, 3, 5))[0] == D(2026, 3, 5)
    # Sent online on Saturday, confirmed by both sides on Monday: Monday.
    day, why = receipt_date(Channel.online, submitted_on=D(2026, 3, 7), confirmed_on=D(2026, 3, 9))
    assert day == D(2026, 3, 9) and "第三十一条第（三）项" in why
    with pytest.raises(LedgerError):
        receipt_date(Channel.post, submitted_on=D(2026, 3, 2))


# ---- 第三十三条: 20 working days, across 国庆节 and 春节 with their 调休 -----------------------------


def test_national_day_2026_with_its_make_up_saturday():
    # Received Mon 09-28. Counting from 09-29: 09-29 (1), 09-30 (2); 10-01…10-07 国庆节;
    # 10-08 (3), 10-09 (4), Sat 10-10 调休上班 (5), 10-12…16 (6–10), 10-19…23 (11–15), 10-26…30 (16–20).
    deadline = due_after(D(2026, 9, 28))
    assert deadline.due_on == D(2026, 10, 30)
    assert deadline.explanation == ("收到 2026-09-28（星期一）；国庆节 10-01—10-07 不计；10-10（星期六）调休上班计入；"
                                    "第 20 个工作日 2026-10-30")


def test_spring_festival_2026_with_two_make_up_saturdays():
    # Received Tue 02-10. 02-11 (1), 02-12 (2), 02-13 (3), Sat 02-14 调休 (4); 02-15…02-23 春节;
    # 02-24…27 (5–8), Sat 02-28 调休 (9), 03-02…06 (10–14), 03-09…13 (15–19), Mon 03-16 (20).
    deadline = due_after(D(2026, 2, 10))
    assert deadline.due_on == D(2026, 3, 16)
    assert "春节 02-15—02-23 不计" in deadline.explanation
    assert "02-14（星期六）调休上班计入" in deadline.explanation and "02-28（星期六）调休上班计入" in deadline.explanation


def test_spring_festival_2020_extended_holiday():
    # Received Thu 2020-01-23. 01-24…02-02 春节 (extended by 国办发明电〔2020〕1号; Sat 02-01 no longer
    # worked); Sun 01-19 调休 is before receipt. 02-03…07 (1–5), 02-10…14 (6–10), 02-17…21 (11–15),
    # 02-24…28 (16–20).
    assert due_after(D(2020, 1, 23)).due_on == D(2020, 2, 28)


def test_a_count_into_a_year_without_data_fails_rather_than_guessing():
    with pytest.raises(CalendarError, match="2027"):
        due_after(D(2026, 12, 15))


# ---- 第三十条: 补正 within 7 working days; the clock restarts on the completed application -------------


def test_correction_notice_is_due_within_seven_working_days():
    # Received Wed 09-30: 10-01…07 国庆节; 10-08 (1), 10-09 (2), Sat 10-10 调休 (3), 10-12…15 (4–7).
    app = application(D(2026, 9, 30))
    assert correction_notice_deadline(app).due_on == D(2026, 10, 15)


def test_correction_restarts_the_reply_period():
    # Received 09-28, 补正 notice 09-30 with 10 working days to complete: the clock stops.
    app = application(D(2026, 9, 28), Event(kind=EventKind.correction_notice, on=D(2026, 9, 30), days=10))
    waiting = reply_deadline(app)
    # 10 working days after 09-30 to complete it: 10-08 (1), 10-09 (2), Sat 10-10 调休 (3), 10-12…16 (4–8),
    # 10-19 (9), 10-20 (10).
    assert waiting.due_on is None and waiting.waiting == "待申请人补正" and waiting.waiting_until == D(2026, 10, 20)
    # Completed application received Mon 10-12: 20 working days from then: 10-13…16 (1–4),
    # 10-19…23 (5–9), 10-26…30 (10–14), 11-02…06 (15–19), Mon 11-09 (20).
    app.events.append(Event(kind=EventKind.correction_received, on=D(2026, 10, 12)))
    deadline = reply_deadline(app)
    assert deadline.due_on == D(2026, 11, 9)
    assert "重新计算" in deadline.explanation


# ---- 第三十二条: the third party's days are not counted ----------------------------------------------


def test_third_party_consultation_days_are_not_counted():
    # Received Mon 2026-03-02; 征求意见 sent Wed 03-04, the third party answers Fri 03-13.
    # Counted: 03-03 (1), 03-04 (2); not counted 03-05…03-13 (7 working days);
    # 03-16…20 (3–7), 03-23…27 (8–12), 03-30…04-03 (13–17); 04-04…06 清明节; 04-07 (18), 04-08 (19), 04-09 (20).
    app = application(D(2026, 3, 2), Event(kind=EventKind.consultation_sent, on=D(2026, 3, 4)),
                      Event(kind=EventKind.consultation_answered, on=D(2026, 3, 13)))
    deadline = reply_deadline(app)
    assert deadline.due_on == D(2026, 4, 9)
    assert "征求第三方意见 03-04—03-13 不计（7 个工作日）" in deadline.explanation
    assert "清明节 04-04—04-06 不计" in deadline.explanation


def test_an_unanswered_consultation_counts_its_fifteen_working_days():
    # Sent 03-04 and no answer: at most 15 working days (03-05…03-25) are not counted;
    # 03-03 (1), 03-04 (2), 03-26 (3), 03-27 (4), 03-30…04-03 (5–9), 04-07…10 (10–13), 04-13…17 (14–18),
    # 04-20 (19), 04-21 (20).
    app = application(D(2026, 3, 2), Event(kind=EventKind.consultation_sent, on=D(2026, 3, 4)))
    deadline = reply_deadline(app)
    assert deadline.due_on == D(2026, 4, 21)
    assert "第三方尚未答复" in deadline.explanation


# ---- 第三十三条: an approved extension of at most 20 working days ---------------------------------------


def test_extension_adds_working_days_across_labour_day():
    # Received Thu 2026-04-09; 20 working days: 04-10 (1), 04-13…17 (2–6), 04-20…24 (7–11), 04-27…30 (12–15);
    # 05-01…05 劳动节; 05-06…08 (16–18), Sat 05-09 调休 (19), Mon 05-11 (20).
    app = application(D(2026, 4, 9))
    assert reply_deadline(app).due_on == D(2026, 5, 11)
    # Extended by 10 with approval on 05-06: 05-12…15 (21–24), 05-18…22 (25–29), 05-25 (30).
    app.events.append(Event(kind=EventKind.extension, on=D(2026, 5, 6), days=10, approver="办公室主任"))
    deadline = reply_deadline(app)
    assert deadline.due_on == D(2026, 5, 25)
    assert "经 办公室主任 批准延期 10 个工作日" in deadline.explanation and "第 30 个工作日 2026-05-25" in deadline.explanation


def test_more_than_twenty_extra_days_is_refused():
    app = application(D(2026, 4, 9), Event(kind=EventKind.extension, on=D(2026, 5, 6), days=21, approver="主任"))
    with pytest.raises(LedgerError, match="最长 20 个工作日"):
        reply_deadline(app)


def test_fee_period_is_not_counted():
    # Received Mon 06-01; 收费通知 Wed 06-03, paid Fri 06-12 (06-04…06-12: 7 working days not counted).
    # 06-02 (1), 06-03 (2), 06-15…18 (3–6); 06-19…21 端午节; 06-22…26 (7–11), 06-29…07-03 (12–16),
    # 07-06…09 (17–20).
    app = application(D(2026, 6, 1), Event(kind=EventKind.fee_notice, on=D(2026, 6, 3)),
                      Event(kind=EventKind.fee_paid, on=D(2026, 6, 12)))
    assert reply_deadline(app).due_on == D(2026, 7, 9)


def test_working_days_between_is_signed():
    assert working_days_between(D(2026, 9, 30), D(2026, 10, 8)) == 1
    assert working_days_between(D(2026, 10, 8), D(2026, 9, 30)) == -1


# ---- the command --------------------------------------------------------------------------------


def test_ledger_due_prints_the_date_and_its_explanation():
    result = runner.invoke(cli, ["ledger", "due", "2026-09-28"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "2026-10-30"
    assert "国庆节 10-01—10-07 不计" in result.stdout


def test_ledger_due_in_a_year_without_data_is_a_one_line_error():
    result = runner.invoke(cli, ["ledger", "due", "2032-01-05"])
    assert result.exit_code == 2 and "2032" in result.stderr and "Traceback" not in result.output


def test_local_holidays_for_every_command_from_the_environment(tmp_path):
    local = tmp_path / "local.yaml"
    local.write_text("holidays:\n  - {name: 三月三, from: 2026-04-20, to: 2026-04-21}\n", encoding="utf-8")
    # Received Fri 04-17; 三月三 04-20, 04-21; 04-22…24 (1–3), 04-27…30 (4–7); 05-01…05 劳动节;
    # 05-06…08 (8–10), Sat 05-09 调休 (11), 05-11…15 (12–16), 05-18…21 (17–20).
    result = runner.invoke(cli, ["ledger", "due", "2026-04-17"], env={"GONGKAI_HOLIDAYS": str(local)})
    assert result.stdout.splitlines()[0] == "2026-05-21" and "三月三 04-20—04-21 不计" in result.stdout
    assert runner.invoke(cli, ["ledger", "due", "2026-04-17"], env={"GONGKAI_HOLIDAYS": ""}).stdout.startswith("2026-05-19")
