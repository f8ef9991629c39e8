"""Databases for the store tests: a SQLite file, or a fresh database on a real PostgreSQL server.

The server is $GONGKAI_TEST_PG_URL when set (a URL whose user may CREATE DATABASE); otherwise one
is started here with initdb/pg_ctl in a temporary folder on a free port (as the `postgres` user
when running as root, since PostgreSQL refuses to run as root), and stopped when the tests end.
Without PostgreSQL binaries the PostgreSQL tests are skipped, except in CI (CI set), where they fail.
"""

from __future__ import annotations

import atexit
import functools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from gongkai.synth import synth_report

PG_USER = "gongkai"


def _pg_bin() -> Path | None:
    given = os.environ.get("GONGKAI_PG_BIN")
    if given:
        return Path(given)
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"PostgreSQL not available ({reason}); set GONGKAI_TEST_PG_URL or install the postgresql package")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_user() -> str | None:
    """The user to run the server as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "gongkai-pg"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "gongkai-pg"], check=True)
    return "gongkai-pg"


@functools.cache
def _server() -> str:
    """The URL of the throwaway server's maintenance database (started once per test session)."""
    bin_dir = _pg_bin()
    if bin_dir is None or not (bin_dir / "initdb").exists():
        _unavailable("no initdb found")
    user = _server_user()
    base = Path(tempfile.mkdtemp(prefix="gongkai-pg-"))
    if user:
        shutil.chown(base, user)

    def run(*args: str) -> None:
        command = [str(bin_dir / args[0]), *args[1:]]
        if user:
            command = ["runuser", "-u", user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")

    port = _free_port()
    run("initdb", "-D", str(base / "data"), "-U", PG_USER, "-A", "trust", "-E", "UTF8", "--no-locale")
    # Durability off: a test server that loses data on a crash is fine, slow commits are not.
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -F -c synchronous_commit=off -c full_page_writes=off"
    run("pg_ctl", "-D", str(base / "data"), "-l", str(base / "log"), "-o", options, "-w", "-t", "60", "start")

    def stop() -> None:
        subprocess.run(([ "runuser", "-u", user, "--"] if user else []) +
                       [str(bin_dir / "pg_ctl"), "-D", str(base / "data"), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)

    atexit.register(stop)
    return f"postgresql+psycopg://{PG_USER}@127.0.0.1:{port}/postgres"


def postgres_url() -> str:
    """A new, empty database on the test server."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = os.environ.get("GONGKAI_TEST_PG_URL") or _server()
    url = make_url(base if "+psycopg" in base else base.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"gongkai_test_{uuid.uuid4().hex[:12]}"
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def database(kind: str, tmp_path: Path) -> str:
    """--db for a test: a SQLite file in tmp_path or a fresh PostgreSQL database."""
    if kind == "sqlite":
        return str(tmp_path / "gongkai.db")
    return postgres_url()


def write_reports(folder: Path, seeds: range | list[int], writer=None, **kwargs) -> dict[str, int]:
    """Synthetic reports as text files; file name → seed."""
    from gongkai.render.markdown import render_markdown

    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for seed in seeds:
        report = synth_report(seed, **kwargs)
        text = writer(report) if writer else render_markdown(report, tables="tabs")
        path = folder / f"report_{seed:05d}.txt"
        path.write_text(text, encoding="utf-8")
        out[path.name] = seed
    return out


def crashing_task(name: str, data: bytes, keep_content: bool = True) -> dict:
    """A pool task that kills its worker on files named crash*.txt (a native reader's segfault)."""
    from gongkai.store.worker import pooled

    if Path(name).name.startswith("crash"):
        os._exit(70)
    return pooled(name, data, keep_content)


def cluster_crashing_items(items: list, known: frozenset = frozenset()) -> list:
    """A Dask batch task that kills its worker when the batch holds crash.txt."""
    from gongkai.store.cluster import run_items

    if any(Path(name).name == "crash.txt" for name, _, _ in items):
        os._exit(70)
    return run_items(items, known)


def stored(engine) -> int:
    """Documents in the corpus."""
    from sqlalchemy import func, select

    from gongkai.store.schema import documents

    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(documents))
