"""Bulk inserts for the one writer: tens of thousands of rows a batch (cells, outcomes, findings).

Rows go to the driver as they are, JSON columns serialised here once: SQLAlchemy's per-row type
processing costs more than the statement. On PostgreSQL they go by COPY, in the transaction of the
connection given: several times faster than an INSERT per row, and the writer is what bounds an ingest
and how long Ctrl-C takes to stop it."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, lru_cache
from itertools import repeat
from typing import Any

from sqlalchemy import JSON, Connection, Dialect, Table, insert
from sqlalchemy.exc import DBAPIError

from gongkai.model import json_encoder


class JSONText(str):
    """A JSON column's value serialised already (by a worker, in parallel with the others), stored as is."""

    __slots__ = ()


def encode_json(table: Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with their JSON columns serialised now (JSONText), for insert_rows to store as they are."""
    as_json = _json_columns(table)
    return [{name: JSONText(_json(v)) if name in as_json and v is not None else v for name, v in row.items()}
            for row in rows]


def insert_tuples(conn: Connection, table: Table, names: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert rows given as tuples in the order of `names` (JSON columns already serialised)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        quote = conn.dialect.identifier_preparer
        statement = f"COPY {quote.format_table(table)} ({', '.join(map(quote.quote, names))}) FROM STDIN"
        dbapi_error = conn.dialect.loaded_dbapi.Error
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            with cursor, cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
        except dbapi_error as exc:  # as SQLAlchemy raises it for a statement (DataError, IntegrityError …)
            raise DBAPIError.instance(statement, None, exc, dbapi_error, dialect=conn.dialect) from exc
        return
    statement, positions = _insert_statement(table, conn.dialect, tuple(names))
    if positions is None:
        conn.exec_driver_sql(statement, [dict(zip(names, row, strict=True)) for row in rows])
    elif positions == tuple(names):
        conn.exec_driver_sql(statement, list(rows))
    else:
        order = [names.index(name) for name in positions]
        conn.exec_driver_sql(statement, [tuple(row[i] for i in order) for row in rows])


def insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]], **columns: list[Any]) -> None:
    """Insert rows (dicts with every column but id; `columns`: whole columns given apart, one value per
    row), JSON columns serialised here."""
    if not rows:
        return
    names = [c.name for c in table.columns if c.name != "id"]
    as_json = _json_columns(table)
    data = []
    for name in names:
        values = columns[name] if name in columns else list(map(dict.get, rows, repeat(name)))
        data.append([None if v is None else _json(v) for v in values] if name in as_json else values)
    insert_tuples(conn, table, names, list(zip(*data, strict=True)))


@cache
def _insert_statement(table: Table, dialect: Dialect, names: tuple[str, ...]) -> tuple[str, tuple[str, ...] | None]:
    """The INSERT (no RETURNING id) and the order its positional parameters take (None: named)."""
    compiled = insert(table).inline().compile(dialect=dialect, column_keys=list(names))
    return compiled.string, tuple(compiled.positiontup) if compiled.positional else None


@cache
def _json_columns(table: Table) -> frozenset[str]:
    return frozenset(c.name for c in table.columns if isinstance(c.type, JSON))


_ENCODE = json_encoder(ensure_ascii=False, separators=(",", ":"))


def _json(value: Any) -> str:
    if type(value) is JSONText:
        return value
    if type(value) is int:
        return str(value)
    if type(value) is list and all(type(item) is str for item in value):
        return _json_keys(tuple(value))  # cells: the same few keys in row after row
    return _ENCODE(value)


@lru_cache(maxsize=4096)
def _json_keys(keys: tuple[str, ...]) -> str:
    return _ENCODE(list(keys))
