"""The 主动公开 register, the appeals register, the year's tables and the spreadsheet import in the
workbench: pages over gongkai.ledger's functions (what an item or a case counts in is the ledger's
item_cells / appeal_column, the tables are its report_for), with the ledger pages' rules — an author
keeps their own body's records, a reviewer reads their region's, an administrator does everything;
every write needs the CSRF token and is written to the audit log.

The import is shown before anything is stored: the preview page carries the uploaded file in its
confirmation form (with its digest), and only the confirmation stores its good rows."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import FastAPI, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy import Connection

from gongkai.formats import Format
from gongkai.ledger import store
from gongkai.ledger.importer import FIELD_LABELS, ImportResult, SheetError, read_ledger
from gongkai.ledger.models import REVIEW_ORDER, Appeal, Channel, DecisionCount, RegisterItem, ReviewState
from gongkai.ledger.roles import LedgerError, current_roles, roles_for_year
from gongkai.ledger.tables import appeal_column, in_force, item_cells, item_measures, proactive_categories, report_from_cells
from gongkai.render.layout import table_grid
from gongkai.store.schema import (
    ledger_appeals,
    ledger_applications,
    ledger_decision_counts,
    ledger_register_items,
)
from gongkai.web import auth, ledger
from gongkai.web.app import engine_of
from gongkai.web.auth import AuthError, User
from gongkai.web.ledger import (
    Id,
    Page,
    Signed,
    Writer,
    bodies_for,
    form_date,
    form_text,
    readable,
    require_read,
    require_write,
    write_body,
)

COUNT_MEASURES = ("decisions", "amount_10k_yuan")  # table 二 rows of a year's count or fee amount
IMPORT_BYTES = 20 * 1024 * 1024  # a body's spreadsheet ledger; the preview carries it back in its form
Year = Annotated[int | None, Query(ge=2019, le=2100)]
Body = Annotated[str | None, Query(max_length=200)]
ALL_LEDGER_TABLES = (ledger_applications, ledger_register_items, ledger_appeals, ledger_decision_counts)


def refused(exc: LedgerError | ValidationError) -> str:
    return str(exc) if isinstance(exc, LedgerError) else "内容无效，请检查各项"


def can_write(user: User, body: str) -> bool:
    return user.role == "admin" or (user.role == "author" and body == user.scope)


def one_body(user: User, body: str | None) -> str | None:
    """The body a page is about: an author's own, else the one asked for (checked), else none."""
    body = user.scope if user.role == "author" else (body or None)
    if body:
        require_read(user, body)
    return body


def preview_grid(fmt: Format, body: str, year: int, table_key: str, values: dict[str, Any]) -> tuple[str, Any]:
    """One table of the year's report drawn in the official layout from the ledger's cells."""
    report = report_from_cells(body, year, values, roles_for_year(year))
    table = fmt.table(table_key)
    return table.title, table_grid(table, report, fmt)


# ---- the 主动公开 register ------------------------------------------------------------------------


def item_from_form(form: Any, body: str) -> RegisterItem:
    title = form_text(form, "title", 500)
    if not title:
        raise LedgerError("请填写文件标题")
    amended = []
    for text in re.split(r"[,，、;；\s]+", str(form.get("amended_on") or "").strip()):
        if text:
            try:
                amended.append(dt.date.fromisoformat(text))
            except ValueError:
                raise LedgerError(f"修订日期「{text[:20]}」不是日期（应为 2026-09-28 这样的格式）") from None
    item = RegisterItem(body=body, category=str(form.get("category") or ""), title=title, number=form_text(form, "number", 200),
                        issued_on=form_date(form, "issued_on", "制发日期"), amended_on=amended,
                        repealed_on=form_date(form, "repealed_on", "废止日期"))
    store.validate_register_item(item)
    return item


def item_json(item: RegisterItem) -> dict[str, Any]:
    return item.model_dump(mode="json", exclude={"reviews"}) | {"state": item.state.value}


def item_row(item: RegisterItem, year: int, labels: dict[str, str], fmt: Format) -> dict[str, Any]:
    return {"item": item, "category": labels.get(item.category, item.category),
            "in_force": in_force(item, dt.date(year, 12, 31)),
            "cells": [f"{fmt.all_cells[key].row.label} / {fmt.all_cells[key].column.label}" for key in item_cells(item, year)]}


def next_state(item: RegisterItem) -> ReviewState | None:
    return None if item.state is ReviewState.published else REVIEW_ORDER[REVIEW_ORDER.index(item.state) + 1]


def readable_item(request: Request, user: User, item_id: int) -> RegisterItem:
    return readable(request, user, store.get_register_item, item_id, "没有这件主动公开事项")


def register_rows(conn: Connection, bodies: list[str], year: int | None, category: str | None,
                  current: bool) -> list[RegisterItem]:
    """The items of the bodies, of a category; of a year: those its table 二 counts and those still in
    review; 现行有效: in force at the end of that year (or today)."""
    items = store.register_items(conn, bodies, category or None) if bodies else []
    if year:
        items = [i for i in items if item_measures(i, year) or i.state is not ReviewState.published]
    if current:
        on = dt.date(year, 12, 31) if year else ledger.today()
        items = [i for i in items if in_force(i, on)]
    return items


# ---- appeals -----------------------------------------------------------------------------------


def appeal_from_form(form: Any, body: str) -> Appeal:
    filed = form_date(form, "filed_on", "立案日期", required=True)
    outcome = str(form.get("outcome") or "") or None
    decided = form_date(form, "decided_on", "审结日期")
    if (outcome is None) != (decided is None):
        raise LedgerError("审结须同时填写结果和审结日期（尚未审结的两项都留空）")
    return Appeal(body=body, kind=str(form.get("kind") or ""), filed_on=filed, decided_on=decided, outcome=outcome,
                  case_number=form_text(form, "case_number", 200), note=form_text(form, "note"))


def appeal_json(appeal: Appeal) -> dict[str, Any]:
    return appeal.model_dump(mode="json")


def readable_appeal(request: Request, user: User, appeal_id: int) -> Appeal:
    return readable(request, user, store.get_appeal, appeal_id, "没有这件复议诉讼")


def appeal_row(appeal: Appeal) -> dict[str, Any]:
    """A case with the table 四 cell it counts in, in the year it was filed."""
    roles = roles_for_year(appeal.filed_on.year)
    column = appeal_column(appeal, appeal.filed_on.year, roles)
    columns = {c.key: c.label for c in roles.appeals_table.columns}
    kind = roles.appeal_kinds.get(appeal.kind, appeal.kind)
    return {"appeal": appeal, "kind": kind, "outcome": roles.appeal_outcomes.get(appeal.outcome or "", ""),
            "counted": f"{appeal.filed_on.year} 年表四 {kind} / {columns.get(column or '', '')}"}


# ---- the import --------------------------------------------------------------------------------


def read_upload(data: bytes, name: str, body: str, channel: str | None) -> ImportResult:
    if not data:
        raise SheetError(f"{name}: 文件为空")
    if len(data) > IMPORT_BYTES:
        raise SheetError(f"{name}: 文件过大（上限 {IMPORT_BYTES // (1024 * 1024)} MB）")
    if channel and channel not in Channel.__members__:
        raise SheetError("申请方式无效")
    try:
        return read_ledger(data, body, name, default_channel=Channel[channel] if channel else None)
    except LedgerError as exc:
        raise SheetError(f"{name}: {exc}") from exc


# ---- the routes ---------------------------------------------------------------------------------


def add(app: FastAPI, page: Page) -> None:
    """The routes; added before gongkai.web.ledger's, whose /ledger/{id} would otherwise take their paths."""

    def register_context(user: User, year: int) -> dict[str, Any]:
        roles = roles_for_year(year)
        return {"categories": proactive_categories(current_roles()), "year": year,
                "count_categories": proactive_categories(roles, COUNT_MEASURES),
                "can_write": user.role in ("admin", "author")}

    @app.get("/ledger/register", include_in_schema=False)
    def register_list(request: Request, user: Signed, body: Body = None, year: Year = None,
                      category: Annotated[str | None, Query(max_length=64)] = None,
                      current: Annotated[bool, Query()] = False) -> Response:
        shown_year = year or ledger.today().year
        fmt = roles_for_year(shown_year).fmt
        labels = proactive_categories(current_roles())
        with engine_of(request).connect() as conn:
            bodies = bodies_for(conn, user, body, ledger_register_items)
            items = register_rows(conn, bodies, year, category, current)
            target = one_body(user, body)
            table = counts = None
            if target:
                table = preview_grid(fmt, target, shown_year, "proactive", store.proactive_cells(conn, target, shown_year))
                counts = store.decision_counts(conn, target, shown_year)
        return page(request, "ledger_register.html", {
            "rows": [item_row(i, shown_year, labels, fmt) for i in items], "body": body, "target": target,
            "category": category, "current": current, "filter_year": year, "table": table, "counts": counts,
            **register_context(user, shown_year)})

    @app.get("/ledger/register/new", include_in_schema=False)
    def item_form(request: Request, user: Signed) -> Response:
        auth.require(user, "admin", "author")
        return page(request, "ledger_item_new.html", {"values": {}, **register_context(user, ledger.today().year)})

    @app.post("/ledger/register", include_in_schema=False)
    async def item_create(request: Request, user: Writer) -> Response:
        form = await request.form()
        body = write_body(user, str(form.get("body") or ""))
        try:
            item = item_from_form(form, body)
            item_id = store.add_register_item(engine_of(request), item)
        except (LedgerError, ValidationError) as exc:
            return page(request, "ledger_item_new.html", {"error": refused(exc), "values": dict(form),
                                                           **register_context(user, ledger.today().year)}, status=422)
        with engine_of(request).begin() as conn:
            auth.record(conn, user, "ledger.item.create", f"item:{item_id}", item_json(item))
        return RedirectResponse(f"/ledger/register/{item_id}", status_code=303)

    @app.post("/ledger/register/counts", include_in_schema=False)
    async def count_set(request: Request, user: Writer) -> Response:
        form = await request.form()
        body = write_body(user, str(form.get("body") or ""))
        year_text = str(form.get("year") or "")
        if not year_text.isdigit() or not 2019 <= int(year_text) <= 2100:
            raise AuthError(422, "年度无效")
        year = int(year_text)
        try:
            count = count_from_form(form, body, year)
            store.set_decision_count(engine_of(request), count)
        except (LedgerError, ValidationError) as exc:
            raise AuthError(422, refused(exc)) from exc
        with engine_of(request).begin() as conn:
            auth.record(conn, user, "ledger.count", f"body:{body}", count.model_dump(mode="json"))
        return RedirectResponse("/ledger/register?" + urlencode({"body": body, "year": year}), status_code=303)

    def item_page(request: Request, user: User, item_id: int, error: str | None = None, values: Any = None,
                  status: int = 200) -> Response:
        item = readable_item(request, user, item_id)
        labels = proactive_categories(current_roles())
        years = sorted({d.year for d in (item.issued_on, item.repealed_on, ledger.today()) if d})
        counted = []
        for year in years:
            try:
                counted.append((year, item_row(item, year, labels, roles_for_year(year).fmt)["cells"]))
            except LedgerError:
                continue  # a year no format covers: nothing is counted in it
        return page(request, "ledger_item.html", {
            "item": item, "category": labels.get(item.category, item.category), "counted": counted,
            "next": next_state(item), "error": error, "values": values or item_json(item) | {
                "amended_on": " ".join(d.isoformat() for d in item.amended_on), "state": item.state.name},
            **register_context(user, ledger.today().year), "can_write": can_write(user, item.body)}, status=status)

    @app.get("/ledger/register/{item_id}", include_in_schema=False)
    def item_view(request: Request, user: Signed, item_id: Id) -> Response:
        return item_page(request, user, item_id)

    @app.post("/ledger/register/{item_id}", include_in_schema=False)
    async def item_update(request: Request, user: Writer, item_id: Id) -> Response:
        body = readable_item(request, user, item_id).body
        require_write(user, body)
        form = await request.form()
        try:
            item = item_from_form(form, body)
            before = store.update_register_item(engine_of(request), item_id, item)
        except (LedgerError, ValidationError) as exc:
            return item_page(request, user, item_id, refused(exc), dict(form), status=422)
        old, new = item_json(before), item_json(item)
        with engine_of(request).begin() as conn:
            auth.record(conn, user, "ledger.item.update", f"item:{item_id}",
                        {k: {"from": old[k], "to": new[k]} for k in new if k not in ("id", "state") and old[k] != new[k]})
        return RedirectResponse(f"/ledger/register/{item_id}", status_code=303)

    @app.post("/ledger/register/{item_id}/reviews", include_in_schema=False)
    async def item_review(request: Request, user: Writer, item_id: Id) -> Response:
        require_write(user, readable_item(request, user, item_id).body)
        form = await request.form()
        try:
            step = review_step(request, form, user, item_id)
        except (LedgerError, ValidationError) as exc:
            return item_page(request, user, item_id, refused(exc), status=422)
        with engine_of(request).begin() as conn:
            auth.record(conn, user, "ledger.item.review", f"item:{item_id}", step)
        return RedirectResponse(f"/ledger/register/{item_id}", status_code=303)

    # ---- appeals ---------------------------------------------------------------------------------

    def appeals_context(user: User) -> dict[str, Any]:
        roles = current_roles()
        return {"kinds": roles.appeal_kinds, "outcomes": roles.appeal_outcomes, "can_write": user.role in ("admin", "author")}

    def appeals_page(request: Request, user: User, body: str | None, year: int | None, error: str | None = None,
                     values: Any = None, status: int = 200) -> Response:
        shown_year = year or ledger.today().year
        with engine_of(request).connect() as conn:
            cases = store.appeals(conn, bodies_for(conn, user, body, ledger_appeals))
            target = one_body(user, body)
            table = preview_grid(roles_for_year(shown_year).fmt, target, shown_year, "appeals",
                                 store.appeal_cells(conn, target, shown_year)) if target else None
        rows = [appeal_row(a) for a in cases if not year or a.filed_on.year == year]
        return page(request, "ledger_appeals.html", {
            "rows": rows, "body": body, "target": target, "filter_year": year, "year": shown_year, "table": table,
            "error": error, "values": values or {}, **appeals_context(user),
            "writable": {r["appeal"].id for r in rows if can_write(user, r["appeal"].body)}}, status=status)

    @app.get("/ledger/appeals", include_in_schema=False)
    def appeals_list(request: Request, user: Signed, body: Body = None, year: Year = None) -> Response:
        return appeals_page(request, user, body, year)

    @app.post("/ledger/appeals", include_in_schema=False)
    async def appeal_create(request: Request, user: Writer) -> Response:
        form = await request.form()
        body = write_body(user, str(form.get("body") or ""))
        try:
            appeal = appeal_from_form(form, body)
            appeal_id = store.add_appeal(engine_of(request), appeal)
        except (LedgerError, ValidationError) as exc:
            return appeals_page(request, user, None, None, refused(exc), dict(form), status=422)
        with engine_of(request).begin() as conn:
            auth.record(conn, user, "ledger.appeal.create", f"appeal:{appeal_id}", appeal_json(appeal))
        return RedirectResponse("/ledger/appeals?" + urlencode({"body": body}), status_code=303)

    @app.post("/ledger/appeals/{appeal_id}/outcome", include_in_schema=False)
    async def appeal_decide(request: Request, user: Writer, appeal_id: Id) -> Response:
        appeal = readable_appeal(request, user, appeal_id)
        require_write(user, appeal.body)
        form = await request.form()
        try:
            decided = decide(request, appeal_id, str(form.get("outcome") or ""),
                             form_date(form, "decided_on", "审结日期", required=True))
        except LedgerError as exc:
            return appeals_page(request, user, appeal.body, None, refused(exc), status=422)
        with engine_of(request).begin() as conn:
            auth.record(conn, user, "ledger.appeal.decide", f"appeal:{appeal_id}", decided)
        return RedirectResponse("/ledger/appeals?" + urlencode({"body": appeal.body}), status_code=303)

    # ---- the year's tables -------------------------------------------------------------------

    @app.get("/ledger/tables", include_in_schema=False)
    def tables_page(request: Request, user: Signed, body: Body = None, year: Year = None) -> Response:
        year = year or ledger.today().year
        target = one_body(user, body)
        with engine_of(request).connect() as conn:
            if target is None:
                return page(request, "ledger_tables.html", {"year": year, "target": None,
                                                            "bodies": bodies_for(conn, user, None, *ALL_LEDGER_TABLES)})
            try:
                report, findings, differences = year_report(conn, target, year)
            except LedgerError as exc:  # a record the year's format cannot count
                raise AuthError(422, str(exc)) from exc
        fmt = roles_for_year(year).fmt
        grids = [(t.title, table_grid(t, report, fmt)) for t in fmt.tables]
        return page(request, "ledger_tables.html", {"year": year, "target": target, "grids": grids, "findings": findings,
                                                    "differences": differences})

    # ---- the import --------------------------------------------------------------------------

    def import_context() -> dict[str, Any]:
        return {"channels": Channel, "fields": FIELD_LABELS, "limit_mb": IMPORT_BYTES // (1024 * 1024)}

    @app.get("/ledger/import", include_in_schema=False)
    def import_form(request: Request, user: Signed, done: Annotated[int | None, Query(ge=0)] = None,
                    bad: Annotated[int | None, Query(ge=0)] = None) -> Response:
        auth.require(user, "admin", "author")
        return page(request, "ledger_import.html", {"done": done, "bad": bad, **import_context()})

    @app.post("/ledger/import/preview", include_in_schema=False)
    async def import_preview(request: Request, user: Writer) -> Response:
        """What the file would give: nothing is stored here."""
        form = await request.form()
        body = write_body(user, str(form.get("body") or ""))
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise AuthError(400, "请选择要导入的 xlsx 或 CSV 文件")
        data = await upload.read(IMPORT_BYTES + 1)
        name = (upload.filename or "台账")[:200]
        channel = str(form.get("channel") or "") or None
        try:
            result = read_upload(data, name, body, channel)
        except SheetError as exc:
            return page(request, "ledger_import.html", {"error": str(exc), **import_context()}, status=422)
        return page(request, "ledger_import.html", {
            "result": result, "body": body, "name": name, "channel": channel or "", "sha256": hashlib.sha256(data).hexdigest(),
            "data": base64.b64encode(data).decode("ascii"), "labels": ledger.outcome_labels(),
            "types": current_roles().applicant_types, **import_context()})

    @app.post("/ledger/import", include_in_schema=False)
    async def import_confirm(request: Request, user: Writer) -> Response:
        form = await request.form()
        body = write_body(user, str(form.get("body") or ""))
        try:
            data = base64.b64decode(str(form.get("data") or ""), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise AuthError(400, "导入内容已损坏，请重新上传") from exc
        digest = hashlib.sha256(data).hexdigest()
        if digest != form.get("sha256"):
            raise AuthError(400, "导入内容与预览时不同，请重新上传")
        name = str(form.get("name") or "台账")[:200]
        try:
            result = read_upload(data, name, body, str(form.get("channel") or "") or None)
            ids = store.create_applications(engine_of(request), [a for _, a in result.applications], by=user.username)
        except (SheetError, LedgerError) as exc:
            return page(request, "ledger_import.html", {"error": str(exc), **import_context()}, status=422)
        with engine_of(request).begin() as conn:
            auth.record(conn, user, "ledger.import", f"body:{body}",
                        {"file": name, "sha256": digest, "imported": len(ids), "bad_rows": result.bad_rows[:1000],
                         "applications": [ids[0], ids[-1]] if ids else []})
        return RedirectResponse(f"/ledger/import?done={len(ids)}&bad={len(result.bad_rows)}", status_code=303)


# ---- shared with the JSON API --------------------------------------------------------------------


def count_from_form(form: Any, body: str, year: int) -> DecisionCount:
    """A year's count (许可, 处罚, 强制) or fee amount (元) of a table 二 row; blank clears it."""
    roles = roles_for_year(year)
    measures = {c.row.key: roles.proactive[c.column.key] for c in roles.fmt.table("proactive").cells()
                if roles.proactive.get(c.column.key) in COUNT_MEASURES}
    category = str(form.get("category") or "")
    if category not in measures:
        raise LedgerError("请选择表二的类别：" + "、".join(proactive_categories(roles, COUNT_MEASURES).values()))
    text = str(form.get("value") or "").strip().replace(",", "")
    amount = measures[category] == "amount_10k_yuan"
    try:
        value = (float(text) if amount else int(text)) if text else None
    except ValueError:
        raise LedgerError(f"「{text[:20]}」不是{'金额' if amount else '整数'}") from None
    if value is not None and not 0 <= value <= (1e13 if amount else 2_147_483_647):
        raise LedgerError("数量和金额须为非负数，且不超过上限")
    return DecisionCount(body=body, year=year, category=category, count=None if amount else value,
                         amount_yuan=value if amount else None, source=form_text(form, "source", 200))


def review_step(request: Request, form: Any, user: User, item_id: int) -> dict[str, Any]:
    """Advance the item one review step (or send it back to draft); what happened, for the audit log."""
    by = form_text(form, "by", 100) or user.username
    on = form_date(form, "on", "日期", required=True)
    note = form_text(form, "note")
    if str(form.get("action") or "advance") == "back":
        store.return_to_draft(engine_of(request), item_id, by, on, note or "退回修改")
        state = ReviewState.draft
    else:
        state = store.advance_review(engine_of(request), item_id, by, on, note)
    return {"state": state.value, "by": by, "on": on.isoformat(), "note": note}


def decide(request: Request, appeal_id: int, outcome: str, decided_on: dt.date | None) -> dict[str, Any]:
    if decided_on is None:
        raise LedgerError("请填写审结日期")
    store.decide_appeal(engine_of(request), appeal_id, outcome, decided_on)
    return {"outcome": outcome, "decided_on": decided_on.isoformat()}


def year_report(conn: Connection, body: str, year: int) -> tuple[Any, list[Any], list[Any] | None]:
    """The body's report of the year from its records, its checks, and its differences from the
    published report (None: none is stored)."""
    from gongkai.check import check_report

    report = store.report_for(conn, body, year)
    return report, check_report(report), store.compare_with_published(conn, report)
