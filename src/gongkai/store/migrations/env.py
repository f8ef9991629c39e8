"""Alembic environment: run by gongkai.store.db.migrate() with an open connection."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from gongkai.store.schema import metadata

config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # the alembic command line, with sqlalchemy.url set
        with create_engine(config.get_main_option("sqlalchemy.url")).begin() as conn:
            _run(conn)
    else:
        _run(connection)


def _run(connection) -> None:
    # Batch mode lets later migrations alter SQLite tables (it copies them).
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run()
