"""The workbench: `gongkai serve`, a web app over the corpus (see app.py). Server-rendered pages in
Chinese, a JSON API under /api, every route behind log-in, role and scope (auth.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI


def create_app(db: str | None = None, **options: Any) -> FastAPI:
    from gongkai.web.server import create_app as _create_app

    return _create_app(db, **options)


def app_from_environment() -> FastAPI:
    """The app as `gongkai serve` and production servers start it: the corpus at $GONGKAI_DB,
    `uvicorn --factory gongkai.web:app_from_environment --workers 4`."""
    import os

    secure = os.environ.get("GONGKAI_SECURE_COOKIES")
    return create_app(None, upload_workers=int(os.environ.get("GONGKAI_UPLOAD_WORKERS", "2")),
                      secure_cookies=None if secure is None else secure == "1")
