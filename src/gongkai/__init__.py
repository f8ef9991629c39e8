"""gongkai: China's government information-disclosure annual reports as verified data."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from gongkai.document import Document, LoadError
from gongkai.formats import Format, load_format
from gongkai.model import Cell, Finding, Provenance, Report

if TYPE_CHECKING:
    from gongkai.store.corpus import Corpus

__version__ = "0.1.0"

__all__ = [
    "Cell",
    "Document",
    "Finding",
    "Format",
    "LoadError",
    "Provenance",
    "Report",
    "__version__",
    "load",
    "load_format",
    "parse_file",
]


def parse_file(path: str, format_id: str | None = None) -> Report:
    """Load and parse one report file."""
    from gongkai.parse import parse_file as _parse_file

    return _parse_file(path, format_id)


def load(db: str | os.PathLike[str] | None = None) -> Corpus:
    """Open a stored corpus (SQLite file, default ./gongkai.db, or a database URL):
    `gongkai.load("gongkai.db").reports()` is a pandas DataFrame, one row per report."""
    from gongkai.store import load as _load

    return _load(db)
