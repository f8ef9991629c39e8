"""The Python face of the corpus: `gongkai.load("gongkai.db").reports()` → pandas DataFrame."""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from gongkai.model import Report
from gongkai.store.db import connect
from gongkai.store.export import findings_frame, reports_frame
from gongkai.store.query import Comparison, Filters, Stored, compare, load_report, resolve, stat_columns, stats


class Corpus:
    """A stored corpus. Filters everywhere: agency (part of the name), year, region (province code,
    province or city) and has_errors."""

    def __init__(self, db: str | os.PathLike[str] | None = None) -> None:
        self.engine = connect(db, create=False)

    def __enter__(self) -> Corpus:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    def close(self) -> None:
        self.engine.dispose()

    def reports(self, *, labels: bool = False, **filters: Any) -> pd.DataFrame:
        """One row per report: metadata, then one column per cell key (Chinese headings with labels=True).
        A cell the report does not state is <NA>, never 0."""
        with self.engine.connect() as conn:
            return reports_frame(conn, Filters(**filters), labels)

    def findings(self, *, labels: bool = False, **filters: Any) -> pd.DataFrame:
        with self.engine.connect() as conn:
            return findings_frame(conn, Filters(**filters), labels)

    def report(self, ref: str | int) -> Report:
        """One report back as a Report (id, content-hash prefix, 单位@年度 or file name)."""
        return self.stored(ref).report

    def stored(self, ref: str | int) -> Stored:
        with self.engine.connect() as conn:
            return load_report(conn, resolve(conn, str(ref)))

    def compare(self, a: str | int, b: str | int) -> Comparison:
        with self.engine.connect() as conn:
            return compare(conn, resolve(conn, str(a)), resolve(conn, str(b)))

    def stats(self, by: tuple[str, ...] = ("year",), *, labels: bool = False, **filters: Any) -> pd.DataFrame:
        with self.engine.connect() as conn:
            frame = pd.DataFrame(stats(conn, by, Filters(**filters)))
        return frame.rename(columns=stat_columns()) if labels else frame
