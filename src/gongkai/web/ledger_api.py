"""The ledgers' JSON API (/api/ledger/…): list and create for the 依申请公开 ledger, the 主动公开
register and the appeals register, and the year's tables computed from them — under the same
session, CSRF, roles and scopes as the pages (gongkai.web.ledger), every write in the audit log
under the same action names. Requests and answers use the ledger's own models and keys (table 三's
column and row keys, table 二's row keys, table 四's row and column keys, from the format)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import FastAPI, Query, Request
from pydantic import BaseModel, Field, ValidationError

from gongkai.ledger import store
from gongkai.ledger.deadlines import receipt_date
from gongkai.ledger.models import Appeal, Application, Channel, DecisionCount, Event, EventKind, RegisterItem
from gongkai.ledger.roles import LedgerError, roles_for_year
from gongkai.ledger.tables import appeal_column, item_cells
from gongkai.ledger.workdays import CalendarError
from gongkai.web import auth, ledger
from gongkai.web.app import engine_of
from gongkai.web.auth import AuthError, User
from gongkai.web.ledger import Id, Signed, Writer, deadline_view, readable_application, require_write, write_body
from gongkai.web.ledger_records import (
    ALL_LEDGER_TABLES,
    appeal_json,
    decide,
    item_json,
    one_body,
    readable_appeal,
    readable_item,
    register_rows,
    year_report,
)

T = TypeVar("T")
Text = Annotated[str | None, Field(None, max_length=2000)]
Name = Annotated[str | None, Field(None, max_length=200)]
BodyField = Annotated[str | None, Field(None, max_length=200, description="单位；填报人员可省略（本单位）")]
Year = Annotated[int | None, Query(ge=2019, le=2100)]
BodyQuery = Annotated[str | None, Query(max_length=200, description="单位；填报人员可省略（本单位）")]


class NewApplication(BaseModel):
    body: BodyField
    applicant_type: str = Field(..., max_length=64, description="申请人类型：表三的列键，如 natural_person")
    channel: Literal["当面", "邮寄", "网络", "传真", "in_person", "post", "online", "fax"]
    submitted_on: dt.date | None = Field(None, description="提交之日（当面：即收到之日）")
    signed_for_on: dt.date | None = Field(None, description="邮寄：签收之日")
    confirmed_on: dt.date | None = Field(None, description="网络、传真、平常信函：双方确认之日")
    applicant_name: Name = None
    contact: Name = None
    content: Text = None
    number: Name = None
    handler: Name = None


class NewEvent(BaseModel):
    kind: str = Field(..., max_length=32, description="环节：reply、extension …（或 答复、延期 …）")
    on: dt.date
    outcome: str | None = Field(None, max_length=128, description="答复：表三结果行的键，如 withheld.state_secret")
    days: int | None = Field(None, ge=1, le=60, description="延期的工作日数；补正告知给予的补正期限")
    approver: Name = None
    note: Text = None


class NewItem(BaseModel):
    body: BodyField
    category: str = Field(..., max_length=64, description="表二的行键：rules、normative_documents")
    title: str = Field(..., min_length=1, max_length=500)
    number: Name = None
    issued_on: dt.date | None = None
    amended_on: list[dt.date] = Field(default_factory=list, max_length=100)
    repealed_on: dt.date | None = None


class ReviewAction(BaseModel):
    action: Literal["advance", "back"] = Field("advance", description="advance：进入下一审；back：退回草稿")
    by: str | None = Field(None, max_length=100, description="审核人（默认当前用户）")
    on: dt.date
    note: Text = None


class NewCount(BaseModel):
    body: BodyField
    year: int = Field(..., ge=2019, le=2100)
    category: str = Field(..., max_length=64, description="表二的行键：licensing、punishment、coercion、fees")
    count: int | None = Field(None, ge=0, le=2_147_483_647, description="本年处理决定数量")
    amount_yuan: float | None = Field(None, ge=0, le=1e13, description="本年收费金额（元）")
    source: Name = None


class NewAppeal(BaseModel):
    body: BodyField
    kind: str = Field(..., max_length=64, description="表四的行键：review、litigation_direct、litigation_after_review")
    filed_on: dt.date
    outcome: str | None = Field(None, max_length=64, description="表四的结果列键：upheld、corrected、other；空：尚未审结")
    decided_on: dt.date | None = None
    case_number: Name = None
    note: Text = None


class AppealOutcome(BaseModel):
    outcome: str = Field(..., max_length=64, description="表四的结果列键：upheld、corrected、other")
    decided_on: dt.date


def accepted(action: Callable[..., T], *args: Any) -> T:
    """The ledger's call; a record it refuses is a 422 with its Chinese message."""
    try:
        return action(*args)
    except (LedgerError, CalendarError) as exc:
        raise AuthError(422, str(exc)) from exc
    except ValidationError as exc:
        raise AuthError(422, "内容无效") from exc


def body_asked(user: User, body: str | None) -> str:
    """The one body a list is about (an author's own by default); lists are per body."""
    target = one_body(user, body)
    if not target:
        raise AuthError(422, "请用 body 参数指定单位（GET /api/ledger/bodies 列出您可查看的单位）")
    return target


def body_written(user: User, given: str | None) -> str:
    """The body a write goes to (as the pages decide it); naming another body than an author's own is refused."""
    body = write_body(user, given)
    if given and given.strip() != body:
        raise AuthError(403, "该单位的台账不在您的权限范围内")
    return body


def record(request: Request, user: User, action: str, target: str, detail: dict[str, Any]) -> None:
    with engine_of(request).begin() as conn:
        auth.record(conn, user, action, target, detail | {"via": "api"})


def add(app: FastAPI) -> None:
    tags = ["台账"]

    @app.get("/api/ledger/bodies", tags=tags, summary="有台账记录、您可查看的单位")
    def api_bodies(request: Request, user: Signed) -> list[str]:
        with engine_of(request).connect() as conn:
            return ledger.visible_bodies(conn, user, *ALL_LEDGER_TABLES)

    # ---- 依申请公开 --------------------------------------------------------------------------

    @app.get("/api/ledger/applications", tags=tags, summary="依申请公开台账：一个单位的申请及其办理环节")
    def api_applications(request: Request, user: Signed, body: BodyQuery = None, year: Year = None,
                         open_only: bool = False) -> list[dict[str, Any]]:
        target = body_asked(user, body)
        with engine_of(request).connect() as conn:
            return [a.model_dump(mode="json") for a in store.list_applications(conn, target, year, open_only)]

    @app.post("/api/ledger/applications", tags=tags, summary="登记申请（收到之日按第三十一条确定）", status_code=201)
    def api_register(request: Request, user: Writer, new: NewApplication) -> dict[str, Any]:
        body = body_written(user, new.body)
        channel = Channel[new.channel] if new.channel in Channel.__members__ else Channel(new.channel)
        received, why = accepted(receipt_date, channel, new.submitted_on, new.signed_for_on, new.confirmed_on)
        application = accepted(lambda: Application(
            body=body, applicant_type=new.applicant_type, channel=channel, received_on=received, submitted_on=new.submitted_on,
            **new.model_dump(include={"applicant_name", "contact", "content", "number", "handler"})))
        application_id = accepted(store.create_application, engine_of(request), application, user.username)
        record(request, user, "ledger.register", f"application:{application_id}",
               {"body": body, "received_on": received.isoformat(), "receipt": why})
        application.id = application_id
        return {"id": application_id, "received_on": received, "receipt": why, "deadline": deadline_view(application)}

    @app.get("/api/ledger/applications/{application_id}", tags=tags, summary="一件申请：办理环节和当前期限（附计算过程）")
    def api_application(request: Request, user: Signed, application_id: Id) -> dict[str, Any]:
        application = readable_application(request, user, application_id)
        return application.model_dump(mode="json") | {"deadline": deadline_view(application)}

    @app.post("/api/ledger/applications/{application_id}/events", tags=tags, summary="记录办理环节（补正、延期、答复 …）",
              status_code=201)
    def api_event(request: Request, user: Writer, application_id: Id, new: NewEvent) -> dict[str, Any]:
        require_write(user, readable_application(request, user, application_id).body)
        kinds = {k.name: k for k in EventKind} | {k.value: k for k in EventKind}
        if new.kind not in kinds:
            raise AuthError(422, "未知环节，可用：" + "、".join(k.name for k in EventKind))
        event = Event(kind=kinds[new.kind], by=user.username, **new.model_dump(exclude={"kind"}))
        application = accepted(store.add_event, engine_of(request), application_id, event, user.username)
        record(request, user, "ledger.event", f"application:{application_id}",
               {"kind": event.kind.value, "on": event.on.isoformat(), "outcome": event.outcome, "days": event.days,
                "approver": event.approver})
        return application.model_dump(mode="json") | {"deadline": deadline_view(application)}

    # ---- 主动公开 ----------------------------------------------------------------------------

    @app.get("/api/ledger/register", tags=tags, summary="主动公开登记：文件、三审、计入表二的单元格")
    def api_register_items(request: Request, user: Signed, body: BodyQuery = None, year: Year = None,
                           category: Annotated[str | None, Query(max_length=64)] = None,
                           current: Annotated[bool, Query(description="只列现行有效的（该年年末，或今天）")] = False
                           ) -> list[dict[str, Any]]:
        target = body_asked(user, body)
        with engine_of(request).connect() as conn:
            items = register_rows(conn, [target], year, category, current)
        return [item_json(i) | {"reviews": [s.model_dump(mode="json") for s in i.reviews]}
                | ({"cells": accepted(item_cells, i, year)} if year else {}) for i in items]

    @app.post("/api/ledger/register", tags=tags, summary="登记主动公开文件（草稿）", status_code=201)
    def api_item_create(request: Request, user: Writer, new: NewItem) -> dict[str, Any]:
        body = body_written(user, new.body)
        item = accepted(lambda: RegisterItem(body=body, **new.model_dump(exclude={"body"})))
        item_id = accepted(store.add_register_item, engine_of(request), item)
        record(request, user, "ledger.item.create", f"item:{item_id}", item_json(item))
        return item_json(item) | {"id": item_id}

    @app.post("/api/ledger/register/{item_id}/reviews", tags=tags, summary="三审：进入下一审或退回草稿")
    def api_item_review(request: Request, user: Writer, item_id: Id, step: ReviewAction) -> dict[str, Any]:
        require_write(user, readable_item(request, user, item_id).body)
        by = step.by or user.username
        if step.action == "back":
            accepted(store.return_to_draft, engine_of(request), item_id, by, step.on, step.note or "退回修改")
        else:
            accepted(store.advance_review, engine_of(request), item_id, by, step.on, step.note)
        with engine_of(request).connect() as conn:
            item = store.get_register_item(conn, item_id)
        record(request, user, "ledger.item.review", f"item:{item_id}",
               {"state": item.state.value, "by": by, "on": step.on.isoformat(), "note": step.note})
        return item_json(item) | {"reviews": [s.model_dump(mode="json") for s in item.reviews]}

    @app.post("/api/ledger/counts", tags=tags, summary="表二：某类的本年处理决定数量或收费金额")
    def api_count(request: Request, user: Writer, new: NewCount) -> dict[str, Any]:
        count = DecisionCount(**new.model_dump() | {"body": body_written(user, new.body)})
        accepted(store.set_decision_count, engine_of(request), count)
        record(request, user, "ledger.count", f"body:{count.body}", count.model_dump(mode="json"))
        return count.model_dump(mode="json")

    # ---- 复议诉讼 ----------------------------------------------------------------------------

    @app.get("/api/ledger/appeals", tags=tags, summary="行政复议、行政诉讼登记（按立案年度）")
    def api_appeals(request: Request, user: Signed, body: BodyQuery = None, year: Year = None) -> list[dict[str, Any]]:
        target = body_asked(user, body)
        with engine_of(request).connect() as conn:
            cases = store.appeals(conn, target)
        return [appeal_json(a) | {"counted_in": f"appeals.{a.kind}.{accepted(appeal_column, a, a.filed_on.year)}"}
                for a in cases if not year or a.filed_on.year == year]

    @app.post("/api/ledger/appeals", tags=tags, summary="登记复议诉讼", status_code=201)
    def api_appeal_create(request: Request, user: Writer, new: NewAppeal) -> dict[str, Any]:
        appeal = accepted(lambda: Appeal(**new.model_dump() | {"body": body_written(user, new.body)}))
        appeal_id = accepted(store.add_appeal, engine_of(request), appeal)
        record(request, user, "ledger.appeal.create", f"appeal:{appeal_id}", appeal_json(appeal))
        return appeal_json(appeal) | {"id": appeal_id}

    @app.post("/api/ledger/appeals/{appeal_id}/outcome", tags=tags, summary="记录复议诉讼的结果")
    def api_appeal_decide(request: Request, user: Writer, appeal_id: Id, decision: AppealOutcome) -> dict[str, Any]:
        require_write(user, readable_appeal(request, user, appeal_id).body)
        decided = accepted(decide, request, appeal_id, decision.outcome, decision.decided_on)
        record(request, user, "ledger.appeal.decide", f"appeal:{appeal_id}", decided)
        return appeal_json(readable_appeal(request, user, appeal_id))

    # ---- 年度表格 ----------------------------------------------------------------------------

    @app.get("/api/ledger/tables", tags=tags, summary="由台账生成的年度表二、表三、表四，核查结果，与已发布报告的差异")
    def api_tables(request: Request, user: Signed, year: Annotated[int, Query(ge=2019, le=2100)],
                   body: BodyQuery = None) -> dict[str, Any]:
        target = body_asked(user, body)
        with engine_of(request).connect() as conn:
            report, findings, differences = accepted(year_report, conn, target, year)
        fmt = roles_for_year(year).fmt
        return {"body": target, "year": year, "format": report.format,
                "tables": {t.key: {c.key: report.value(c.key) for c in t.cells()} for t in fmt.tables},
                "findings": [f.model_dump(mode="json") for f in findings],
                "differences": None if differences is None else [f.model_dump(mode="json") for f in differences]}
