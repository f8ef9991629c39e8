"""Working days (工作日) from the State Council's yearly holiday arrangements, kept as data.

One file per year in data/calendars/ (YAML: the year's 法定节假日 ranges and its 调休上班 weekend days,
with the notices they come from). A working day is a Monday–Friday that is not a holiday, or a
weekend day the arrangement makes a working day. A date in a year with no file is an error, never a
guess; a body's own extra holidays (民族自治地方的节日) come from a file of its own in the same form.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

WEEKDAYS = "一二三四五六日"


class CalendarError(ValueError):
    """A date the calendar cannot decide, or a calendar file that cannot be used (for people)."""


class HolidayRange(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)
    name: str
    start: dt.date = Field(alias="from")
    end: dt.date = Field(alias="to")


class MakeUpDay(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)
    date: dt.date
    holiday: str = Field(alias="for")


class YearArrangement(BaseModel):
    """One year's file: its holidays and its 调休 working weekend days."""

    model_config = ConfigDict(frozen=True)
    year: int | None = None  # None: a local file that may span years
    sources: tuple[str, ...] = ()
    holidays: tuple[HolidayRange, ...] = ()
    workdays: tuple[MakeUpDay, ...] = ()


def weekday_name(day: dt.date) -> str:
    return f"星期{WEEKDAYS[day.weekday()]}"


def show(day: dt.date) -> str:
    """2026-09-28（星期一）"""
    return f"{day.isoformat()}（{weekday_name(day)}）"


def _parse_arrangement(text: str, name: str) -> YearArrangement:
    try:
        data = yaml.safe_load(text)
        arrangement = YearArrangement.model_validate(data)
    except (yaml.YAMLError, ValidationError, TypeError) as exc:
        raise CalendarError(f"{name}: 节假日文件格式不正确 (invalid calendar file: {str(exc).splitlines()[0]})") from exc
    for item in arrangement.holidays:
        if item.end < item.start:
            raise CalendarError(f"{name}: 假期「{item.name}」结束日 {item.end} 早于开始日 {item.start}")
    if arrangement.year is not None:
        stray = [d for d in _holiday_days(arrangement) if d.year != arrangement.year]
        stray += [w.date for w in arrangement.workdays if w.date.year != arrangement.year]
        if stray:
            raise CalendarError(f"{name}: {stray[0]} 不在 {arrangement.year} 年内（每个年度文件只列本年的日期）")
    return arrangement


def _holiday_days(arrangement: YearArrangement) -> Iterable[dt.date]:
    for item in arrangement.holidays:
        day = item.start
        while day <= item.end:
            yield day
            day += dt.timedelta(days=1)


def calendar_files() -> dict[int, str]:
    """The years shipped in the package, with their file names."""
    folder = resources.files(__package__) / "data" / "calendars"
    return {int(p.name[:4]): p.name for p in folder.iterdir() if p.name.endswith(".yaml") and p.name[:4].isdigit()}


@lru_cache
def shipped_arrangement(year: int) -> YearArrangement | None:
    name = calendar_files().get(year)
    if name is None:
        return None
    path = resources.files(__package__) / "data" / "calendars" / name
    return _parse_arrangement(path.read_text(encoding="utf-8"), f"gongkai/ledger/data/calendars/{name}")


def load_local_holidays(path: str | Path) -> YearArrangement:
    """A body's extra holidays (and working days), in the same form as the yearly files."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CalendarError(f"{path}: 无法读取本地节假日文件 ({exc.strerror or exc})") from exc
    return _parse_arrangement(text, str(path))


@dataclass
class Calendar:
    """The national arrangements plus any local ones: answers working-day questions, with reasons."""

    local: tuple[YearArrangement, ...] = ()
    _days: dict[int, tuple[dict[dt.date, str], dict[dt.date, str]]] = field(default_factory=dict, repr=False)

    def _year(self, year: int) -> tuple[dict[dt.date, str], dict[dt.date, str]]:
        """(holiday date → name, make-up working date → holiday name) for one year."""
        known = self._days.get(year)
        if known is not None:
            return known
        national = shipped_arrangement(year)
        if national is None:
            shipped = sorted(calendar_files())
            raise CalendarError(
                f"没有 {year} 年的节假日安排数据，无法计算工作日（已有 {shipped[0]}–{shipped[-1]} 年）。"
                f"请按国务院办公厅当年的放假通知新增 src/gongkai/ledger/data/calendars/{year}.yaml"
                f"（格式同 {shipped[-1]}.yaml）(no holiday data for {year})")
        holidays: dict[dt.date, str] = {}
        workdays: dict[dt.date, str] = {}
        for arrangement in (national, *self.local):
            for item in arrangement.holidays:
                for day in _holiday_days(YearArrangement(holidays=(item,))):
                    if day.year == year:
                        holidays[day] = item.name
                        workdays.pop(day, None)
            for item in arrangement.workdays:
                if item.date.year == year:
                    workdays[item.date] = item.holiday
                    holidays.pop(item.date, None)
        self._days[year] = (holidays, workdays)
        return holidays, workdays

    def is_workday(self, day: dt.date) -> bool:
        holidays, workdays = self._year(day.year)
        if day in workdays:
            return True
        return day.weekday() < 5 and day not in holidays

    def holiday_name(self, day: dt.date) -> str | None:
        return self._year(day.year)[0].get(day)


@lru_cache
def national_calendar() -> Calendar:
    return Calendar()


def calendar_with(local_files: Iterable[str | Path] = ()) -> Calendar:
    """The national calendar, plus the local holiday files given (none: the shared national one)."""
    files = tuple(local_files)
    if not files:
        return national_calendar()
    return Calendar(local=tuple(load_local_holidays(f) for f in files))


def working_days_between(start: dt.date, end: dt.date, calendar: Calendar | None = None) -> int:
    """Working days after `start` up to and including `end`; negative when `end` is before `start`
    (how many working days a date is overdue)."""
    calendar = calendar or national_calendar()
    if end < start:
        return -working_days_between(end, start, calendar)
    days, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        days += calendar.is_workday(day)
    return days
