"""What the workbench's route modules share: its settings, the dependencies that give a request its
engine and its user, and small helpers. The application itself is put together in server.py."""

from __future__ import annotations

import csv
import io
import json
import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, Response
from fastapi.security import APIKeyCookie
from sqlalchemy import Engine, desc, func, select

from gongkai.formats import all_formats
from gongkai.store.query import load_report, resolve
from gongkai.store.schema import audit, documents, reports, upload_jobs, users
from gongkai.web import auth, data
from gongkai.web.auth import SESSION_COOKIE, AuthError, User
from gongkai.web.uploads import UploadError, job_view, upload_entries

HERE = Path(__file__).parent
LOGIN_CSRF_COOKIE = "gongkai_login_csrf"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
OUTCOMES = {"waiting": "等待处理", "stored": "已入库", "failed": "解析失败", "unreadable": "未接收", "skipped": "已在库中"}
SECURITY_HEADERS = {
    # Every script and style comes from this server; nothing else may run or frame the pages.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
                               "script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

session_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="登录后由服务器设置的会话 Cookie")


# ---- dependencies shared by the route modules ---------------------------------------------------


def engine_of(request: Request) -> Engine:
    return request.app.state.engine


def optional_user(request: Request, token: Annotated[str | None, Depends(session_cookie)] = None) -> User | None:
    user = auth.session_user(engine_of(request), token)
    request.state.user = user
    return user


def signed_in(user: Annotated[User | None, Depends(optional_user)]) -> User:
    return auth.require(user)


async def writer(request: Request, user: Annotated[User | None, Depends(optional_user)]) -> User:
    """A logged-in user with a valid CSRF token (form field `csrf` or header X-CSRF-Token)."""
    user = auth.require(user)
    token = request.headers.get("X-CSRF-Token")
    if token is None and request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded",
                                                                              "multipart/form-data")):
        form = await request.form(max_files=0, max_fields=2000) if "multipart" not in request.headers["content-type"] \
            else await request.form(max_files=request.app.state.limits.files, max_fields=200,
                                    max_part_size=request.app.state.limits.file_bytes)
        value = form.get("csrf")
        token = value if isinstance(value, str) else None
    auth.check_csrf(user, token)
    return user


def admin_writer(user: Annotated[User, Depends(writer)]) -> User:
    return auth.require(user, "admin")


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def set_session_cookie(request: Request, response: Response, token: str, secure: bool | None) -> None:
    https = request.url.scheme == "https" if secure is None else secure
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", secure=https,
                        max_age=auth.SESSION_HOURS * 3600, path="/")


def report_of(request: Request, user: User, ref: int) -> data.Stored:
    engine = engine_of(request)
    with engine.connect() as conn:
        auth.require_report(conn, user, ref)
        return load_report(conn, ref)


def csv_bytes(rows: list[dict[str, Any]], headings: dict[str, str]) -> bytes:
    out = io.StringIO()
    out.write("\ufeff")  # Excel opens UTF-8 CSV with Chinese headings only with the BOM
    writer_ = csv.writer(out)
    keys = [k for k in headings if any(k in r for r in rows)] or list(headings)
    writer_.writerow([headings[k] for k in keys])
    for row in rows:
        writer_.writerow(["" if row.get(k) is None else row.get(k) for k in keys])
    return out.getvalue().encode("utf-8")


def download(body: bytes, filename: str, media_type: str) -> Response:
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})


def formats_in_use(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        counts = dict(conn.execute(select(reports.c.format, func.count()).group_by(reports.c.format)).all())
    return [{"id": f.id, "name": f.name, "basis": f.basis, "years": f"{f.first_year or ''}–{f.last_year or ''}",
             "tables": len(f.tables), "rules": len(f.rules), "reports": counts.get(f.id, 0)} for f in all_formats()]


def recent_audit(engine: Engine, user: User, limit: int = 20) -> list[Any]:
    query = select(audit).order_by(desc(audit.c.id)).limit(limit)
    if user.role != "admin":
        query = query.where(audit.c.user_id == user.id)
    with engine.connect() as conn:
        return list(conn.execute(query))


def recent_jobs(engine: Engine, user: User, limit: int = 10) -> list[Any]:
    query = select(upload_jobs).order_by(desc(upload_jobs.c.id)).limit(limit)
    if user.role != "admin":
        query = query.where(upload_jobs.c.user_id == user.id)
    with engine.connect() as conn:
        return list(conn.execute(query))


def user_list(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(users.c.id, users.c.username, users.c.role, users.c.scope, users.c.active,
                                        users.c.created_at).order_by(users.c.id)))


def resolve_ref(request: Request, user: User, ref: str) -> int:
    with engine_of(request).connect() as conn:
        report_id = resolve(conn, ref)
        auth.require_report(conn, user, report_id)
    return report_id


def own_job(request: Request, user: User, job_id: int) -> dict[str, Any]:
    job = job_view(engine_of(request), job_id)
    if job is None:
        raise AuthError(404, "没有这个任务")
    if user.role != "admin" and job["user_id"] != user.id:
        raise AuthError(403, "这个任务不是您提交的")
    return job


def start_upload(request: Request, user: User, files: list[tuple[str, bytes]]) -> int:
    try:
        entries = upload_entries(files, request.app.state.limits)
    except UploadError as exc:
        raise HTTPException(400, str(exc)) from exc
    job_id = request.app.state.runner.submit(user.id, entries)
    with engine_of(request).begin() as conn:
        auth.record(conn, user, "upload", f"job:{job_id}", {"files": [e.name for e in entries][:200], "count": len(entries)})
    return job_id


def new_login_token() -> str:
    return secrets.token_urlsafe(24)


def documents_failed(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(documents).where(documents.c.status == "failed")) or 0


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
