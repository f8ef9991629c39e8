"""`gongkai serve`: the web workbench (gongkai.web) over the corpus."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from gongkai.cli.common import DbOpt, fail, open_engine


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: Annotated[str, typer.Option("--host", help="监听地址（默认仅本机；内网部署用 0.0.0.0）")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", min=1, max=65535, help="端口")] = 8000,
        db: DbOpt = None,
        admin: Annotated[str | None, typer.Option(
            "--admin", envvar="GONGKAI_ADMIN_PASSWORD",
            help="首次启动时管理员（用户名 admin）的密码；不给则在终端询问")] = None,
        workers: Annotated[int, typer.Option("--workers", min=1, help="服务进程数（多人同时使用时可增加）")] = 1,
        upload_workers: Annotated[int, typer.Option("--upload-workers", min=1, help="每个服务进程解析上传文件的进程数")] = 2,
        secure_cookies: Annotated[bool | None, typer.Option(
            "--secure-cookies/--no-secure-cookies", help="会话 Cookie 加 Secure（默认：经 HTTPS 访问时加）")] = None,
    ) -> None:
        """启动网页工作台：审核、填报、统计（浏览器访问）。"""
        from gongkai.web import auth

        with open_engine(db, create=True) as engine:
            if not auth.has_users(engine):
                if admin is None:
                    if not sys.stdin.isatty():
                        fail("gongkai serve", "首次启动需要设置管理员密码：请用 --admin 给出（或在终端中运行）")
                    admin = typer.prompt("首次启动：请设置管理员（admin）的密码", hide_input=True, confirmation_prompt=True)
                try:
                    auth.ensure_admin(engine, admin)
                except auth.AuthError as exc:
                    fail("gongkai serve", exc.message)
                typer.echo("已创建管理员账号 admin")
        import uvicorn

        from gongkai.store.db import database_url

        # Each server process opens the corpus itself: the factory reads it from $GONGKAI_DB.
        os.environ["GONGKAI_DB"] = database_url(db)
        os.environ["GONGKAI_UPLOAD_WORKERS"] = str(upload_workers)
        if secure_cookies is not None:
            os.environ["GONGKAI_SECURE_COOKIES"] = "1" if secure_cookies else "0"
        shown = f"[{host}]" if ":" in host else host
        typer.echo(f"工作台已启动：http://{shown}:{port}/  （Ctrl-C 停止）")
        uvicorn.run("gongkai.web:app_from_environment", factory=True, host=host, port=port, workers=workers,
                    log_level="warning", proxy_headers=True, server_header=False,
                    # A worker busy with a burst of pages (or argon2 log-ins) is slow, not dead.
                    timeout_worker_healthcheck=60)
