"""Opening the corpus database: a SQLite file by default, PostgreSQL (or any SQLAlchemy URL) by URL."""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import ArgumentError, DBAPIError

from gongkai.store.schema import SCHEMA_HEADS

DEFAULT_DB = "gongkai.db"
MIGRATIONS = Path(__file__).parent / "migrations"


class StoreError(Exception):
    """A problem with the database itself, for people: names the database and the problem."""

    def __init__(self, db: str, problem: str) -> None:
        super().__init__(f"{db}: {problem}")
        self.db = db
        self.problem = problem


def is_url(db: str) -> bool:
    return "://" in db


def database_url(db: str | os.PathLike[str] | None = None) -> str:
    """--db as given (a URL or a SQLite path), else $GONGKAI_DB, else ./gongkai.db."""
    db = str(db) if db is not None else os.environ.get("GONGKAI_DB") or DEFAULT_DB
    if is_url(db):
        # postgresql://… means psycopg 3 here (the one driver installed), not psycopg2.
        if db.startswith(("postgresql://", "postgres://")):
            db = "postgresql+psycopg://" + db.split("://", 1)[1]
        elif db.startswith("sqlite:///") and "?" not in db and db != "sqlite:///:memory:":
            # SQLAlchemy's rule: sqlite:///rel/x.db is relative, sqlite:////abs/x.db absolute.
            path = db.removeprefix("sqlite:///")
            if not path.startswith("/") and "/" in path and Path("/", path).parent.is_dir() \
                    and not Path(path).parent.is_dir():
                raise StoreError(db, f"按 SQLAlchemy 的规则这是相对路径 {path}，其目录不存在；绝对路径 /{path} "
                                     f"请写 sqlite:////{path} 或直接写 /{path} (relative sqlite URL)")
            return f"sqlite:///{Path(path).expanduser().resolve()}"
        return db
    return f"sqlite:///{Path(db).expanduser().resolve()}"


# The databases gongkai runs on (URL schemes, with or without a driver: postgresql+psycopg://).
SUPPORTED = ("sqlite", "postgresql")


def display_name(url: str) -> str:
    """The database as a person named it: the file, or the URL without its password."""
    if url.startswith("sqlite:///"):
        return url.removeprefix("sqlite:///").partition("?")[0].removeprefix("file:")
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.partition("://")[0] + "://…"  # unparsable: it may hold a password


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    # WAL: readers (list, stats) work while an ingest writes; NORMAL: a commit survives a killed
    # process (not a power cut), which is what resuming an interrupted ingest needs.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=60000")
    cur.close()


def connect(db: str | os.PathLike[str] | None = None, *, create: bool = True) -> Engine:
    """An engine on the corpus with its schema at the current revision.

    create=False: a SQLite file that does not exist is an error (reading commands), not a new corpus.
    """
    url = database_url(db)
    name = display_name(url)
    scheme = url.partition("://")[0].partition("+")[0]
    if scheme not in SUPPORTED:
        raise StoreError(name, "不支持的数据库地址：请给 SQLite 文件路径（或 sqlite:////绝对路径）或 postgresql:// 地址 "
                               "(unsupported database URL)")
    if url.startswith("sqlite:///") and "?" not in url:  # with ?mode=ro&uri=true SQLite opens it as told
        path = Path(name)
        if not path.exists():
            if not create:
                raise StoreError(name, "数据库不存在，请先运行 gongkai ingest (database not found)")
            if not path.parent.is_dir():
                raise StoreError(name, "数据库所在目录不存在 (directory not found)")
    try:
        engine = create_engine(url, json_serializer=_dumps, pool_pre_ping=not url.startswith("sqlite"))
    except (ArgumentError, ImportError) as exc:
        raise StoreError(name, f"数据库地址无效 (invalid database URL: {exc})") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        migrate(engine)
    except DBAPIError as exc:
        engine.dispose()
        raise StoreError(name, f"无法打开数据库 (cannot open: {exc.orig or exc})") from exc
    return engine


def current_revisions(engine: Engine) -> frozenset[str]:
    with engine.connect() as conn:
        try:
            return frozenset(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
        except DBAPIError:
            return frozenset()


def migrate(engine: Engine) -> None:
    """Bring the schema to the head revisions with Alembic; a database already there costs one query."""
    if current_revisions(engine) == SCHEMA_HEADS:
        return
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        # Two ingests starting at once: one migrates, the other waits, then finds nothing to do.
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(4786)"))
        elif engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")


def compress(data: bytes) -> bytes:
    return zlib.compress(data, 6)


def decompress(data: bytes, compression: str) -> bytes:
    if compression == "zlib":
        return zlib.decompress(data)
    if compression == "none":
        return data
    raise ValueError(f"unknown compression {compression!r}")
