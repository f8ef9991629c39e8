"""依申请公开台账 in the workbench: the list of a body's applications with their statutory dates,
registering one, its page with its events and the date explained, and what is overdue or due soon
(a fragment the 工作台 front page loads). Pages over gongkai.ledger's plain functions.

Who may do what: an author keeps the ledger of their own body; a reviewer reads the ledgers of the
bodies in their region (placed from the body's name, as the reports are); an administrator does
everything. Every write needs the CSRF token and is written to the audit log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy import Connection, Table, select, union

from gongkai.ledger import documents, store
from gongkai.ledger.deadlines import current_deadline, receipt_date, reply_deadline
from gongkai.ledger.models import Appeal, Application, Channel, Event, EventKind, RegisterItem
from gongkai.ledger.roles import LedgerError, current_roles
from gongkai.ledger.workdays import CalendarError, working_days_between
from gongkai.store.region import place, region_prefix
from gongkai.store.schema import ledger_applications
from gongkai.web import auth
from gongkai.web.app import download, engine_of, signed_in, writer
from gongkai.web.auth import AuthError, User

Signed = Annotated[User, Depends(signed_in)]
Writer = Annotated[User, Depends(writer)]
Page = Callable[..., HTMLResponse]
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]
Record = TypeVar("Record", Application, RegisterItem, Appeal)
DUE_SOON = 5  # working days: what the front page lists as due soon


def today() -> dt.date:
    """The day the dates are counted from (a function, so that tests can fix it)."""
    return dt.date.today()


# ---- who may see and keep which body's ledger ----------------------------------------------------


def can_read(user: User, body: str) -> bool:
    if user.role == "admin":
        return True
    if user.role == "author":
        return body == user.scope
    prefix = region_prefix(user.scope or "")
    code = place(body).code
    return bool(prefix and code and code.startswith(prefix))


def require_read(user: User, body: str) -> None:
    if not can_read(user, body):
        raise AuthError(403, "该单位的台账不在您的权限范围内")


def require_write(user: User, body: str) -> None:
    """An author for their own body, an administrator for any: reviewers only read."""
    auth.require(user, "admin", "author")
    require_read(user, body)


def visible_bodies(conn: Connection, user: User, *tables: Table) -> list[str]:
    """The bodies with records in these ledger tables (default: the applications) the user may read."""
    if user.role == "author":
        return [user.scope] if user.scope else []
    query = union(*(select(t.c.body) for t in tables or (ledger_applications,)))
    names = sorted(set(conn.scalars(query)))
    return [name for name in names if can_read(user, name)]


def bodies_for(conn: Connection, user: User, body: str | None, *tables: Table) -> list[str]:
    """The one body asked for (if the user may read it: else 403), or every body the user may read."""
    if body:
        require_read(user, body)
        return [body]
    return visible_bodies(conn, user, *tables)


def write_body(user: User, given: str | None) -> str:
    """The body a write goes to: an author's own whatever the form says, the one given by an
    administrator; refused (403) for anyone else."""
    auth.require(user, "admin", "author")
    body = user.scope if user.role == "author" else (given or "").strip()[:200]
    if not body:
        raise AuthError(400, "请填写单位名称")
    require_write(user, body)
    return body


# ---- what the pages show -----------------------------------------------------------------------


def outcome_labels() -> dict[str, str]:
    """Table 三's result rows as people read them: 「（三）不予公开 · 1.属于国家秘密」."""
    return {key: " · ".join([*row.groups[1:], row.label]) for key, row in current_roles().outcome_rows.items()}


def days_left(due_on: dt.date | None, on: dt.date) -> tuple[int | None, str | None]:
    """Working days from `on` to the due date (negative: overdue), or why they cannot be counted."""
    if due_on is None:
        return None, None
    try:
        return working_days_between(on, due_on), None
    except CalendarError as exc:
        return None, str(exc)


def application_rows(conn: Connection, bodies: list[str], on: dt.date, handler: str | None = None) -> list[dict[str, Any]]:
    """The list: each application with its state, statutory date and working days left."""
    if not bodies:
        return []
    t = ledger_applications
    labels, types = outcome_labels(), current_roles().applicant_types
    query = select(t).where(t.c.body.in_(bodies)).order_by(t.c.received_on.desc(), t.c.id.desc())
    if handler:
        query = query.where(t.c.handler == handler)
    out = []
    for row in conn.execute(query):
        left, problem = days_left(row.due_on if row.closed_on is None else None, on)
        if row.closed_on is not None:
            state = f"已办结：{labels.get(row.outcome, row.outcome or '')}"
        elif row.waiting:
            state = f"{row.waiting}（至 {row.waiting_until}）" if row.waiting_until else row.waiting
        else:
            state = "办理中"
        out.append({"id": row.id, "body": row.body, "number": row.number, "applicant_name": row.applicant_name,
                    "handler": row.handler,
                    "applicant_type": types.get(row.applicant_type, row.applicant_type), "channel": Channel[row.channel].value,
                    "received_on": row.received_on, "content": row.content, "state": state, "closed_on": row.closed_on,
                    "due_on": row.due_on if row.closed_on is None else None, "days_left": left,
                    "problem": problem or row.deadline_error, "overdue": left is not None and left < 0})
    return out


def due_items(conn: Connection, user: User, on: dt.date) -> list[store.DueItem]:
    """Overdue and due-soon applications of the bodies the user may see, most urgent first."""
    if user.role == "author":
        return store.due_list(conn, on, DUE_SOON, body=user.scope) if user.scope else []
    return [item for item in store.due_list(conn, on, DUE_SOON) if can_read(user, item.body)]


def deadline_view(app: Application) -> dict[str, Any]:
    """The date the body must act by now, with its explanation; for a closed one, the reply date it had."""
    try:
        deadline = current_deadline(app) or reply_deadline(app)
    except (CalendarError, LedgerError) as exc:
        return {"problem": str(exc)}
    left, problem = days_left(deadline.due_on, today()) if app.closed_on() is None else (None, None)
    return {"what": deadline.what, "due_on": deadline.due_on, "explanation": deadline.explanation,
            "waiting": deadline.waiting, "waiting_until": deadline.waiting_until, "days_left": left,
            "overdue": left is not None and left < 0, "problem": problem}


def form_date(form: Any, name: str, label: str, required: bool = False) -> dt.date | None:
    text = str(form.get(name) or "").strip()
    if not text:
        if required:
            raise LedgerError(f"请填写{label}")
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise LedgerError(f"{label}「{text[:20]}」不是日期（应为 2026-09-28 这样的格式）") from None


def form_text(form: Any, name: str, limit: int = 2000) -> str | None:
    text = str(form.get(name) or "").strip()
    return text[:limit] or None


def application_from_form(form: Any, body: str) -> tuple[Application, str]:
    """The application the 登记 form describes, and why its date of receipt is that day (第三十一条)."""
    channel_name = str(form.get("channel") or "")
    if channel_name not in Channel.__members__:
        raise LedgerError("请选择申请方式")
    channel = Channel[channel_name]
    submitted = form_date(form, "submitted_on", "提交日期")
    confirmed = form_date(form, "confirmed_on", "签收或确认日期")
    received, why = receipt_date(channel, submitted, signed_for_on=confirmed if channel is Channel.post else None,
                                 confirmed_on=confirmed)
    try:
        app = Application(body=body, applicant_type=str(form.get("applicant_type") or ""), channel=channel,
                          received_on=received, submitted_on=submitted, applicant_name=form_text(form, "applicant_name", 200),
                          contact=form_text(form, "contact", 200), content=form_text(form, "content"),
                          number=form_text(form, "number", 100), handler=form_text(form, "handler", 100))
    except ValidationError as exc:
        raise LedgerError("登记内容无效") from exc
    store.validate_application(app)
    return app, why


def event_from_form(form: Any, user: User) -> Event:
    kind = str(form.get("kind") or "")
    if kind not in EventKind.__members__:
        raise LedgerError("请选择事项")
    days = str(form.get("days") or "").strip()
    if days and not days.isdigit():
        raise LedgerError(f"工作日数「{days[:10]}」不是整数")
    return Event(kind=EventKind[kind], on=form_date(form, "on", "日期", required=True), days=int(days) if days else None,
                 outcome=form_text(form, "outcome", 128), approver=form_text(form, "approver", 100), note=form_text(form, "note"),
                 by=user.username)


# ---- the routes ---------------------------------------------------------------------------------


def readable(request: Request, user: User, load: Callable[[Connection, int], Record], record_id: int, missing: str) -> Record:
    """A ledger record (application, register item, appeal), if it exists (404 `missing`) and the
    user may read its body's ledger (403)."""
    with engine_of(request).connect() as conn:
        try:
            record = load(conn, record_id)
        except LedgerError as exc:
            raise AuthError(404, missing) from exc
    require_read(user, record.body)
    return record


def readable_application(request: Request, user: User, application_id: int) -> Application:
    return readable(request, user, store.get_application, application_id, "没有这件申请")


def add(app: FastAPI, page: Page) -> None:
    def form_context(user: User) -> dict[str, Any]:
        return {"applicant_types": current_roles().applicant_types, "channels": Channel, "kinds": EventKind,
                "outcomes": outcome_labels(), "can_write": user.role in ("admin", "author")}

    @app.get("/ledger", include_in_schema=False)
    def ledger_list(request: Request, user: Signed,
                    body: Annotated[str | None, Query(max_length=200)] = None,
                    handler: Annotated[str | None, Query(max_length=100)] = None) -> Response:
        with engine_of(request).connect() as conn:
            rows = application_rows(conn, bodies_for(conn, user, body), today(), handler or None)
        return page(request, "ledger_list.html", {"rows": rows, "body": body, "handler": handler, "today": today(),
                                                  **form_context(user)})

    @app.get("/ledger/due", include_in_schema=False)
    def ledger_due(request: Request, user: Signed) -> Response:
        with engine_of(request).connect() as conn:
            items = due_items(conn, user, today())
        return page(request, "ledger_due.html", {"items": items, "within": DUE_SOON, "today": today()})

    @app.get("/ledger/new", include_in_schema=False)
    def register_form(request: Request, user: Signed) -> Response:
        auth.require(user, "admin", "author")
        return page(request, "ledger_new.html", {"values": {}, **form_context(user)})

    @app.post("/ledger", include_in_schema=False)
    async def register(request: Request, user: Writer) -> Response:
        auth.require(user, "admin", "author")
        form = await request.form()
        body = write_body(user, str(form.get("body") or ""))
        try:
            application, why = application_from_form(form, body)
            application_id = store.create_application(engine_of(request), application, by=user.username)
        except LedgerError as exc:
            return page(request, "ledger_new.html", {"error": str(exc), "values": dict(form), **form_context(user)},
                        status=422)
        with engine_of(request).begin() as conn:
            auth.record(conn, user, "ledger.register", f"application:{application_id}",
                        {"body": body, "received_on": application.received_on.isoformat(), "receipt": why})
        return RedirectResponse(f"/ledger/{application_id}", status_code=303)

    def application_page(request: Request, user: User, application_id: int, error: str | None = None,
                         status: int = 200) -> Response:
        application = readable_application(request, user, application_id)
        titles = {kind: t["title"] for kind, t in documents.load_templates()["documents"].items()}
        context = {"app": application, "deadline": deadline_view(application), "error": error, "documents": titles,
                   "can_write": user.role == "admin" or (user.role == "author" and application.body == user.scope),
                   **{k: v for k, v in form_context(user).items() if k != "can_write"}}
        return page(request, "ledger_application.html", context, status=status)

    @app.get("/ledger/{application_id}", include_in_schema=False)
    def application_view(request: Request, user: Signed, application_id: Id) -> Response:
        return application_page(request, user, application_id)

    @app.post("/ledger/{application_id}/events", include_in_schema=False)
    async def record_event(request: Request, user: Writer, application_id: Id) -> Response:
        require_write(user, readable_application(request, user, application_id).body)
        form = await request.form()
        try:
            event = event_from_form(form, user)
            store.add_event(engine_of(request), application_id, event, by=user.username)
        except (LedgerError, ValidationError) as exc:
            message = str(exc) if isinstance(exc, LedgerError) else "事项内容无效"
            return application_page(request, user, application_id, error=message, status=422)
        with engine_of(request).begin() as conn:
            auth.record(conn, user, "ledger.event", f"application:{application_id}",
                        {"kind": event.kind.value, "on": event.on.isoformat(), "outcome": event.outcome,
                         "days": event.days, "approver": event.approver})
        return RedirectResponse(f"/ledger/{application_id}", status_code=303)

    @app.get("/ledger/{application_id}/documents/{kind}.docx", include_in_schema=False)
    def document(request: Request, user: Signed, application_id: Id,
                 kind: Annotated[str, Path(pattern="^[a-z_]{1,40}$")]) -> Response:
        """补正告知书, 征求意见书, 延期答复告知书 or 答复书 as DOCX, from the body's record."""
        application = readable_application(request, user, application_id)
        try:
            data = documents.render_document_docx(application, kind)
        except LedgerError as exc:
            raise AuthError(422, str(exc)) from exc
        name = documents.load_templates()["documents"][kind]["title"]
        return download(data, f"{name}-{application.number or application.id}.docx",
                        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
