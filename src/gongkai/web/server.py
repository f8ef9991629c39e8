"""The workbench application: server-rendered pages (Jinja2, htmx where a page updates) and a JSON
API under /api with its OpenAPI document, both over the corpus and both behind the same checks."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine

from gongkai.review.common import STATE_NAMES as FILING_STATES
from gongkai.store.db import connect
from gongkai.store.query import NotFound
from gongkai.web import auth, data, filing, ledger, ledger_api, ledger_records, regions, review, routes
from gongkai.web.app import HERE, OUTCOMES, SAFE_METHODS, SECURITY_HEADERS
from gongkai.web.auth import AuthError
from gongkai.web.uploads import JobRunner, Limits


def create_app(db: str | None = None, *, secure_cookies: bool | None = None, upload_workers: int = 2,
               limits: Limits | None = None, engine: Engine | None = None) -> FastAPI:
    """The app over the corpus at `db` (created when missing). secure_cookies: None → Secure when
    the request came over HTTPS (as the proxy in front says, see README)."""
    engine = engine or connect(db, create=True)
    runner = JobRunner(engine, workers=upload_workers)
    limits = limits or Limits()

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        runner.start()
        try:
            yield
        finally:
            runner.stop()

    app = FastAPI(title="gongkai 工作台 API", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json",
                  description="政府信息公开工作年度报告工作台的 JSON 接口。登录后使用会话 Cookie；"
                              "写操作须在 X-CSRF-Token 头中附上登录时返回的令牌。")
    app.state.engine = engine
    app.state.runner = runner
    app.state.limits = limits
    app.state.secure_cookies = secure_cookies
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(roles=auth.ROLES, states=data.STATE_NAMES, outcomes=OUTCOMES, quote=quote,
                                 filing_states=FILING_STATES)
    templates.env.filters["pct"] = lambda v: "—" if v is None else f"{v * 100:.1f}%"
    templates.env.filters["num"] = lambda v: "—" if v is None else f"{v:,}"
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path.startswith(("/api", "/reports", "/jobs", "/admin")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(AuthError)
    async def refused(request: Request, exc: AuthError) -> Response:
        if request.url.path.startswith("/api"):
            return JSONResponse({"detail": exc.message}, status_code=exc.status)
        if exc.status == 401 and request.method in SAFE_METHODS and not request.headers.get("HX-Request"):
            return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
        return page(request, "error.html", {"message": exc.message}, status=exc.status)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return await refused(request, AuthError(404, str(exc)))

    def page(request: Request, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
        user = getattr(request.state, "user", None)
        return templates.TemplateResponse(request, template, {"user": user, **context}, status_code=status)

    routes.add(app, page)
    ledger_records.add(app, page)  # before ledger's /ledger/{id}
    ledger.add(app, page)
    ledger_api.add(app)
    review.add(app, page)
    filing.add(app, page)
    regions.add(app, page)
    return app
