"""The ledgers' records as plain pydantic models: applications and their events (依申请公开),
register items and their reviews (主动公开), decision counts, and appeals (行政复议、行政诉讼).

Applicant types, reply outcomes and appeal kinds are keys of the report format's tables (table 三's
columns and result rows, table 四's rows and columns); gongkai.ledger.roles checks them against the
format rather than this module listing them.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, Field


class Channel(StrEnum):
    in_person = "当面"
    post = "邮寄"
    online = "网络"
    fax = "传真"


class EventKind(StrEnum):
    correction_notice = "补正告知"  # 第三十条: within 7 working days of receipt
    correction_received = "收到补正"  # the reply clock restarts on this day
    correction_lapsed = "逾期不补正"  # closes the application
    consultation_sent = "征求第三方意见"  # 第三十二条: the days until the answer are not counted
    consultation_answered = "第三方答复"
    extension = "延期"  # 第三十三条: at most 20 more working days, approved
    fee_notice = "收费通知"  # 信息处理费: the days until payment are not counted
    fee_paid = "缴费"
    fee_lapsed = "逾期未缴费"  # closes the application
    reply = "答复"  # with its outcome: one of table 三's result rows
    delivery = "寄送"
    archive = "归档"


class Event(BaseModel):
    kind: EventKind
    on: dt.date
    outcome: str | None = None  # reply: a table 三 result row key ("withheld.state_secret")
    days: int | None = None  # extension: working days granted; correction notice: days given to complete
    approver: str | None = None  # extension: 政府信息公开工作机构负责人
    by: str | None = None  # who recorded it
    note: str | None = None
    id: int | None = None


class Application(BaseModel):
    body: str  # the agency that keeps the ledger
    applicant_type: str  # a value column of table 三 ("natural_person")
    channel: Channel
    received_on: dt.date  # the day it counts as received (第三十一条), see deadlines.receipt_date
    applicant_name: str | None = None
    contact: str | None = None
    content: str | None = None
    number: str | None = None  # the body's own registration number
    handler: str | None = None
    submitted_on: dt.date | None = None  # the day the applicant handed in / posted / sent it
    events: list[Event] = Field(default_factory=list)
    id: int | None = None

    def closing_event(self) -> Event | None:
        """The reply or lapse that ended it (the last one, should an entry be repeated)."""
        closing = [e for e in self.events if e.kind in CLOSING_KINDS]
        return max(closing, key=lambda e: e.on) if closing else None

    def closed_on(self) -> dt.date | None:
        event = self.closing_event()
        return event.on if event else None


CLOSING_KINDS = frozenset({EventKind.reply, EventKind.correction_lapsed, EventKind.fee_lapsed})


class ReviewState(StrEnum):
    draft = "草稿"
    first_review = "初审"
    second_review = "复审"
    final_review = "终审"
    published = "已发布"


REVIEW_ORDER = (ReviewState.draft, ReviewState.first_review, ReviewState.second_review,
                ReviewState.final_review, ReviewState.published)


class ReviewStep(BaseModel):
    state: ReviewState  # the state this step moved the item into
    by: str
    on: dt.date
    note: str | None = None


class RegisterItem(BaseModel):
    """A document published under 第二十条 (规章, 行政规范性文件 …): a table 二 row key as category."""

    body: str
    category: str
    title: str
    number: str | None = None  # 文号
    issued_on: dt.date | None = None
    amended_on: list[dt.date] = Field(default_factory=list)  # 修订 keeps it in force, not a new issue
    repealed_on: dt.date | None = None
    state: ReviewState = ReviewState.draft
    reviews: list[ReviewStep] = Field(default_factory=list)
    id: int | None = None


class DecisionCount(BaseModel):
    """A year's count (许可, 处罚, 强制 decisions) or amount (收费, 元) for a table 二 row, typed or imported."""

    body: str
    year: int
    category: str
    count: int | None = None
    amount_yuan: float | None = None
    source: str | None = None


class Appeal(BaseModel):
    """A 行政复议 or 行政诉讼 about disclosure: `kind` is a table 四 row key, `outcome` a column key."""

    body: str
    kind: str
    filed_on: dt.date
    decided_on: dt.date | None = None
    outcome: str | None = None  # None until decided: counts as the pending column
    case_number: str | None = None
    application_id: int | None = None
    note: str | None = None
    id: int | None = None
