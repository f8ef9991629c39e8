"""The routes: pages (HTML) and the JSON API, every one through the checks in app.py/auth.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from gongkai.model import Provenance
from gongkai.review import outcomes as outcome_store
from gongkai.review.bodies import KINDS
from gongkai.review.common import ReviewError
from gongkai.store.query import Filters
from gongkai.store.records import provenance_json
from gongkai.store.schema import reports
from gongkai.web import auth, data, filing, fill, regions, review
from gongkai.web.app import (
    LOGIN_CSRF_COOKIE,
    admin_writer,
    client_address,
    csv_bytes,
    download,
    dumps,
    engine_of,
    formats_in_use,
    new_login_token,
    optional_user,
    own_job,
    recent_audit,
    recent_jobs,
    report_of,
    set_session_cookie,
    signed_in,
    start_upload,
    user_list,
    writer,
)
from gongkai.web.auth import AuthError, User

Signed = Annotated[User, Depends(signed_in)]
Writer = Annotated[User, Depends(writer)]
AdminWriter = Annotated[User, Depends(admin_writer)]
Page = Callable[..., HTMLResponse]
# Row ids as the database keeps them (32-bit on every backend): a larger number names nothing.
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]


class ListQuery(BaseModel):
    agency: str | None = Field(None, max_length=200, description="单位名称中的文字")
    year: int | None = Field(None, ge=1990, le=2100)
    region: str | None = Field(None, max_length=50, description="地区：省级代码（41）、省（河南）或市（南阳市）")
    has_errors: bool | None = None
    sort: str = Field("agency", pattern="^(agency|year|region|errors|id)$")
    desc: bool = False
    page: int = Field(1, ge=1, le=100000)

    def filters(self, user: User) -> auth.ScopedFilters:
        return user.filters(agency=self.agency or None, year=self.year, region=self.region or None, has_errors=self.has_errors)


def _list_query(request: Request) -> ListQuery:
    """The list's filters from the address; empty form fields count as not given."""
    given = {k: v for k, v in request.query_params.items() if v != ""}
    try:
        return ListQuery.model_validate(given)
    except ValueError as exc:
        raise HTTPException(422, "筛选条件无效") from exc


class Login(BaseModel):
    username: str = Field(..., max_length=64)
    password: str = Field(..., max_length=256)


class NewUser(BaseModel):
    username: str = Field(..., min_length=1, max_length=64)
    password: str = Field(..., min_length=8, max_length=256)
    role: str = Field(..., pattern="^(admin|reviewer|author)$")
    scope: str | None = Field(None, max_length=200, description="审核人员：地区；填报人员：单位名称")


def _stored_json(stored: data.Stored) -> dict[str, Any]:
    report = stored.report
    return {
        "id": stored.id, "agency": report.agency, "year": report.year, "format": report.format, "title": report.title,
        "document": stored.document, "sha256": stored.sha256, "province": stored.province, "city": stored.city,
        "cells": {k: {"value": c.value, "raw": c.raw, "confidence": c.confidence, "note": c.note,
                      "where": c.provenance.describe() if c.provenance else None} for k, c in report.cells.items()},
        "sections": [{"number": s.number, "title": s.title, "text": s.text} for s in report.sections],
        "findings": [f.model_dump(mode="json") for f in stored.findings],
    }


def add(app: FastAPI, page: Page) -> None:
    # ---- log-in -----------------------------------------------------------------------------

    @app.get("/login", include_in_schema=False)
    def login_form(request: Request, user: Annotated[User | None, Depends(optional_user)], next: str = "/") -> Response:
        if user is not None:
            return RedirectResponse("/", status_code=303)
        token = new_login_token()
        response = page(request, "login.html", {"login_csrf": token, "next": next if next.startswith("/") else "/"})
        response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login")
        return response

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=10)
        token = request.cookies.get(LOGIN_CSRF_COOKIE)
        if not token or form.get("csrf") != token:
            raise AuthError(403, "登录表单已过期，请刷新页面后重试")
        target = str(form.get("next") or "/")
        try:
            session = auth.log_in(engine_of(request), str(form.get("username") or ""), str(form.get("password") or ""),
                                  client_address(request))
        except AuthError as exc:
            fresh = new_login_token()
            response = page(request, "login.html", {"error": exc.message, "login_csrf": fresh, "next": target},
                            status=exc.status)
            response.set_cookie(LOGIN_CSRF_COOKIE, fresh, httponly=True, samesite="strict", path="/login")
            return response
        response = RedirectResponse(target if target.startswith("/") and not target.startswith("//") else "/", status_code=303)
        set_session_cookie(request, response, session, app.state.secure_cookies)
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
        return response

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request, user: Writer) -> Response:
        auth.log_out(engine_of(request), request.cookies.get(auth.SESSION_COOKIE, ""), user)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(auth.SESSION_COOKIE, path="/")
        return response

    # ---- 工作台 -------------------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    def dashboard(request: Request, user: Signed, year: Annotated[int | None, Query(ge=1990, le=2100)] = None) -> Response:
        engine = engine_of(request)
        with engine.connect() as conn:
            filed = regions.dashboard_context(conn, user, year)
            by_year = []
            for year, n in conn.execute(user.filters().apply(
                    select(reports.c.year, func.count()).group_by(reports.c.year).order_by(reports.c.year.desc()))):
                with_errors = conn.scalar(user.filters(year=year, has_errors=True).apply(
                    select(func.count()).select_from(reports))) if year is not None else None
                by_year.append({"year": year, "reports": n, "with_errors": with_errors})
        return page(request, "dashboard.html", {"by_year": by_year, "audit": recent_audit(engine, user),
                                                "jobs": recent_jobs(engine, user), "kinds": KINDS, **filed})

    # ---- 报告列表 and 报告 ----------------------------------------------------------------------

    @app.get("/reports", include_in_schema=False)
    def report_list(request: Request, user: Signed, q: Annotated[ListQuery, Depends(_list_query)]) -> Response:
        with engine_of(request).connect() as conn:
            result = data.report_page(conn, q.filters(user), q.sort, q.desc, q.page)
        params = {k: v for k, v in q.model_dump().items() if v not in (None, "", False) and k != "page"}
        template = "report_rows.html" if request.headers.get("HX-Request") else "reports.html"
        return page(request, template, {"result": result, "q": q, "params": params})

    @app.get("/reports/{report_id}", include_in_schema=False)
    def report_view(request: Request, user: Signed, report_id: Id) -> Response:
        stored = report_of(request, user, report_id)
        tables = data.report_tables(stored)
        with engine_of(request).connect() as conn:
            items = outcome_store.report_outcomes(conn, report_id)
            reviewed = review.report_context(conn, report_id, tables, items)
            filed = filing.filing_context(conn, report_id, items)
        return page(request, "report.html", {"stored": stored, "report": stored.report, "tables": tables, **reviewed,
                                             **filed})

    @app.get("/reports/{report_id}/cells/{key}", include_in_schema=False)
    def cell_source(request: Request, user: Signed, report_id: Id, key: str) -> Response:
        stored = report_of(request, user, report_id)
        cell = stored.report.cells.get(key)
        with engine_of(request).connect() as conn:
            name, kind, body = data.document_bytes(conn, report_id)
            history = review.cell_history(conn, report_id, key)
        document = data.read_document(stored.sha256, name, kind, body) if cell and cell.provenance else None
        source = data.cell_source(document, kind, cell.provenance if cell else None)
        return page(request, "cell_source.html", {"stored": stored, "key": key, "cell": cell, "source": source,
                                                  "label": data.label_of(stored.report.format, key), "history": history})

    @app.get("/reports/{report_id}/pages/{number}.png", include_in_schema=False)
    def page_png(request: Request, user: Signed, report_id: Id, number: Id, key: str | None = None) -> Response:
        stored = report_of(request, user, report_id)
        cell = stored.report.cells.get(key) if key else None
        bbox = cell.provenance.bbox if cell and cell.provenance and cell.provenance.page == number else None
        with engine_of(request).connect() as conn:
            _, kind, body = data.document_bytes(conn, report_id)
        if kind not in ("pdf", "image"):
            raise AuthError(404, "这份报告没有页面图像")
        try:
            return Response(data.page_image(kind, body, number, bbox), media_type="image/png")
        except LookupError as exc:
            raise AuthError(404, "没有这一页") from exc

    @app.get("/reports/{report_id}/original", include_in_schema=False)
    def original(request: Request, user: Signed, report_id: Id) -> Response:
        report_of(request, user, report_id)
        with engine_of(request).connect() as conn:
            name, _, body = data.document_bytes(conn, report_id)
        # Always a download, never shown inline: an uploaded HTML file must not run as this site's page.
        return download(body, name.rsplit("/", 1)[-1], "application/octet-stream")

    @app.get("/reports/{report_id}/data.{ext}", include_in_schema=False)
    def report_data(request: Request, user: Signed, report_id: Id, ext: str) -> Response:
        stored = report_of(request, user, report_id)
        stem = f"{stored.report.agency or 'report'}-{stored.report.year or ''}-{report_id}"
        if ext == "json":
            return download(dumps(_stored_json(stored)).encode(), f"{stem}.json", "application/json")
        if ext == "xlsx":
            return download(data.report_xlsx(stored), f"{stem}.xlsx",
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        raise AuthError(404, "不支持的下载格式")

    # ---- 上传 ---------------------------------------------------------------------------------

    @app.get("/upload", include_in_schema=False)
    def upload_form(request: Request, user: Signed) -> Response:
        auth.require(user, "admin", "reviewer")
        return page(request, "upload.html", {"jobs": recent_jobs(engine_of(request), user), "limits": app.state.limits})

    @app.post("/upload", include_in_schema=False)
    async def upload(request: Request, user: Writer) -> Response:
        auth.require(user, "admin", "reviewer")
        files = await _form_files(request)
        try:
            job_id = start_upload(request, user, files)
        except HTTPException as exc:
            return page(request, "upload.html", {"jobs": recent_jobs(engine_of(request), user), "error": exc.detail,
                                                 "limits": app.state.limits}, status=400)
        return RedirectResponse(f"/jobs/{job_id}", status_code=303)

    @app.get("/jobs/{job_id}", include_in_schema=False)
    def job_page(request: Request, user: Signed, job_id: Id) -> Response:
        job = own_job(request, user, job_id)
        template = "job_body.html" if request.headers.get("HX-Request") else "job.html"
        return page(request, template, {"job": job})

    # ---- 填报 ---------------------------------------------------------------------------------

    def fill_target(user: User, agency: str | None, year: int | None) -> tuple[str, int]:
        auth.require(user, "admin", "author")
        body = user.scope if user.role == "author" else (agency or "").strip()
        if not body:
            raise AuthError(400, "请填写单位名称")
        from datetime import date

        return body, year or date.today().year - 1

    @app.get("/fill", include_in_schema=False)
    def fill_form(request: Request, user: Signed, agency: str | None = None,
                  year: Annotated[int | None, Query(ge=2008, le=2100)] = None) -> Response:
        if user.role == "admin" and not agency:
            return page(request, "fill_start.html", {})
        body, year = fill_target(user, agency, year)
        report, notes = fill.draft(engine_of(request), body, year)
        return page(request, "fill.html", {"report": report, "notes": notes, "grids": fill.form_grids(report)})

    async def filled(request: Request, user: User) -> fill.Report:
        form = await request.form()
        year = form.get("year")
        body, year = fill_target(user, str(form.get("agency") or ""), int(year) if str(year or "").isdigit() else None)
        return fill.report_from_form(form, body, year, str(form.get("format") or "2021"))

    @app.post("/fill/check", include_in_schema=False)
    async def fill_check(request: Request, user: Writer) -> Response:
        try:
            report = await filled(request, user)
        except fill.DataError as exc:
            return page(request, "fill_checks.html", {"problem": exc.problem})
        findings = fill.check(report)
        return page(request, "fill_checks.html", {"findings": findings,
                                                  "errors": sum(f.severity == "error" for f in findings)})

    @app.post("/fill/submit", include_in_schema=False)
    async def fill_submit(request: Request, user: Writer) -> Response:
        form = await request.form()
        try:
            report = await filled(request, user)
        except fill.DataError as exc:
            raise AuthError(400, exc.problem) from exc
        errors = [f for f in fill.check(report) if f.severity == "error"]
        override = str(form.get("override") or "").strip() if user.role == "admin" else ""
        problem = f"有 {len(errors)} 项错误，未提交；请核对后再提交。" if errors and not override else None
        if fill.filing_state(engine_of(request), report.agency, report.year) in ("submitted", "accepted"):
            problem = f"{report.year} 年度报告已报送，审核退回后才能修改重新报送。"
        if problem:
            return page(request, "fill.html", {"report": report, "notes": [], "grids": fill.form_grids(report),
                                               "error": problem}, status=422)
        report_id = fill.store(engine_of(request), report)
        with engine_of(request).begin() as conn:
            auth.record(conn, user, "report.submit", f"report:{report_id}",
                        {"agency": report.agency, "year": report.year, "errors": len(errors), "override": override or None})
        try:  # the filing moves to 已报送 unless the stored checks (cross-year ones too) block it
            filing.move(request, user, report_id, "submit", override=override or None)
        except ReviewError:
            return RedirectResponse(f"/reports/{report_id}#submission", status_code=303)
        return RedirectResponse(f"/reports/{report_id}", status_code=303)

    # ---- 统计 ---------------------------------------------------------------------------------

    @app.get("/stats", include_in_schema=False)
    def stats_page(request: Request, user: Signed, year: int | None = None) -> Response:
        with engine_of(request).connect() as conn:
            by_year = data.stats_rows(conn, ("year",), user.filters())
            by_region = data.stats_rows(conn, ("region",), user.filters(year=year))
        return page(request, "stats.html", {"by_year": by_year, "by_region": by_region, "year": year,
                                            "charts": data.charts(), "headings": data.stats_headings(("year", "region"))})

    @app.get("/stats/data.{ext}", include_in_schema=False)
    def stats_download(request: Request, user: Signed, ext: str, by: str = "year", year: int | None = None) -> Response:
        groups = tuple(g for g in by.split(",") if g in ("year", "region")) or ("year",)
        with engine_of(request).connect() as conn:
            rows = data.stats_rows(conn, groups, user.filters(year=year))
        if ext == "json":
            return download(dumps(rows).encode(), f"stats-{'-'.join(groups)}.json", "application/json")
        if ext == "csv":
            return download(csv_bytes(rows, data.stats_headings(groups)), f"stats-{'-'.join(groups)}.csv", "text/csv")
        raise AuthError(404, "不支持的下载格式")

    # ---- 管理 ---------------------------------------------------------------------------------

    @app.get("/admin", include_in_schema=False)
    def admin_page(request: Request, user: Signed) -> Response:
        auth.require(user, "admin")
        engine = engine_of(request)
        return page(request, "admin.html", {"users": user_list(engine), "formats": formats_in_use(engine),
                                            "audit": recent_audit(engine, user, 50)})

    @app.post("/admin/users", include_in_schema=False)
    async def admin_add_user(request: Request, user: AdminWriter) -> Response:
        form = await request.form()
        try:
            _add_user(request, user, NewUser.model_validate({k: form.get(k) or None for k in ("username", "password", "role", "scope")}))
        except (AuthError, ValueError) as exc:
            message = exc.message if isinstance(exc, AuthError) else "请填写用户名、至少 8 个字符的密码和角色"
            engine = engine_of(request)
            return page(request, "admin.html", {"users": user_list(engine), "formats": formats_in_use(engine),
                                                "audit": recent_audit(engine, user, 50), "error": message}, status=400)
        return RedirectResponse("/admin", status_code=303)

    @app.post("/admin/users/{user_id}/active", include_in_schema=False)
    async def admin_set_active(request: Request, user: AdminWriter, user_id: Id) -> Response:
        form = await request.form()
        _set_active(request, user, user_id, form.get("active") == "1")
        return RedirectResponse("/admin", status_code=303)

    # ---- the JSON API -------------------------------------------------------------------------

    @app.post("/api/session", tags=["会话"], summary="登录：设置会话 Cookie，返回 CSRF 令牌")
    def api_login(request: Request, body: Login) -> JSONResponse:
        token = auth.log_in(engine_of(request), body.username, body.password, client_address(request))
        user = auth.session_user(engine_of(request), token)
        assert user is not None
        response = JSONResponse({"username": user.username, "role": user.role, "scope": user.scope, "csrf": user.csrf})
        set_session_cookie(request, response, token, app.state.secure_cookies)
        return response

    @app.delete("/api/session", tags=["会话"], summary="退出登录")
    def api_logout(request: Request, user: Writer) -> dict[str, bool]:
        auth.log_out(engine_of(request), request.cookies.get(auth.SESSION_COOKIE, ""), user)
        return {"ok": True}

    @app.get("/api/me", tags=["会话"], summary="当前用户")
    def api_me(user: Signed) -> dict[str, Any]:
        return {"username": user.username, "role": user.role, "scope": user.scope, "csrf": user.csrf}

    @app.get("/api/reports", tags=["报告"], summary="报告列表（筛选、排序、分页）")
    def api_reports(request: Request, user: Signed, q: Annotated[ListQuery, Query()]) -> dict[str, Any]:
        with engine_of(request).connect() as conn:
            result = data.report_page(conn, q.filters(user), q.sort, q.desc, q.page)
        return {"total": result.total, "page": result.page, "pages": result.pages,
                "reports": [{"id": r.id, "agency": r.agency, "year": r.year, "province": r.province, "city": r.city,
                             "format": r.format, "document": r.name, "errors": r.errors, "warnings": r.warnings}
                            for r in result.rows]}

    @app.get("/api/reports/{report_id}", tags=["报告"], summary="一份报告：单元格、各部分文字、核查结果")
    def api_report(request: Request, user: Signed, report_id: Id) -> dict[str, Any]:
        return _stored_json(report_of(request, user, report_id))

    @app.get("/api/reports/{report_id}/cells/{key}", tags=["报告"], summary="一个单元格及其出处")
    def api_cell(request: Request, user: Signed, report_id: Id, key: str) -> dict[str, Any]:
        stored = report_of(request, user, report_id)
        cell = stored.report.cells.get(key)
        if cell is None:
            raise AuthError(404, "这份报告没有这个单元格")
        provenance: Provenance | None = cell.provenance
        return {"key": key, "label": data.label_of(stored.report.format, key), "value": cell.value, "raw": cell.raw,
                "confidence": cell.confidence, "note": cell.note,
                "provenance": provenance_json(provenance), "where": provenance.describe() if provenance else None}

    @app.get("/api/stats", tags=["统计"], summary="统计（与 gongkai stats 相同）")
    def api_stats(request: Request, user: Signed, by: Annotated[str, Query(pattern="^(year|region|year,region)$")] = "year",
                  year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
                  region: Annotated[str | None, Query(max_length=50)] = None) -> list[dict[str, Any]]:
        with engine_of(request).connect() as conn:
            return data.stats_rows(conn, tuple(by.split(",")), user.filters(year=year, region=region or None))

    @app.post("/api/uploads", tags=["上传"], summary="上传报告文件或 zip（后台任务）", status_code=202,
              openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                  "type": "object", "required": ["files"],
                  "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}}}})
    async def api_upload(request: Request, user: Writer) -> dict[str, int]:
        auth.require(user, "admin", "reviewer")
        return {"job": start_upload(request, user, await _form_files(request))}

    @app.get("/api/jobs/{job_id}", tags=["上传"], summary="上传任务的进度和每个文件的结果")
    def api_job(request: Request, user: Signed, job_id: Id) -> dict[str, Any]:
        job = own_job(request, user, job_id)
        return {k: v for k, v in job.items() if k != "user_id"}

    @app.get("/api/users", tags=["管理"], summary="用户列表（管理员）")
    def api_users(request: Request, user: Signed) -> list[dict[str, Any]]:
        auth.require(user, "admin")
        return [{"id": u.id, "username": u.username, "role": u.role, "scope": u.scope, "active": u.active}
                for u in user_list(engine_of(request))]

    @app.post("/api/users", tags=["管理"], summary="新建用户（管理员）", status_code=201)
    def api_add_user(request: Request, user: AdminWriter, body: NewUser) -> dict[str, int]:
        return {"id": _add_user(request, user, body)}

    @app.get("/api/audit", tags=["管理"], summary="操作日志（管理员）")
    def api_audit(request: Request, user: Signed, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict[str, Any]]:
        auth.require(user, "admin")
        return [{"at": a.at.isoformat(), "username": a.username, "action": a.action, "target": a.target, "detail": a.detail}
                for a in recent_audit(engine_of(request), user, limit)]


async def _form_files(request: Request) -> list[tuple[str, bytes]]:
    limits = request.app.state.limits
    form = await request.form(max_files=limits.files, max_fields=200, max_part_size=limits.file_bytes)
    out = []
    for item in form.getlist("files"):
        if hasattr(item, "read"):
            body = await item.read(limits.upload_bytes + 1)
            if body or item.filename:
                out.append((item.filename or "未命名文件", body))
    return out


def _add_user(request: Request, user: User, body: NewUser) -> int:
    with engine_of(request).begin() as conn:
        user_id = auth.add_user(conn, body.username, body.password, body.role, body.scope)
        auth.record(conn, user, "user.create", f"user:{user_id}", {"username": body.username, "role": body.role,
                                                                    "scope": body.scope})
    return user_id


def _set_active(request: Request, user: User, user_id: Id, active: bool) -> None:
    if user_id == user.id and not active:
        raise AuthError(400, "不能停用自己的账号")
    with engine_of(request).begin() as conn:
        auth.set_active(conn, user_id, active)
        auth.record(conn, user, "user.activate" if active else "user.deactivate", f"user:{user_id}")


__all__ = ["Filters", "add"]
