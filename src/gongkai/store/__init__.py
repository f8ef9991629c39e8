"""The corpus: reports ingested into a database (SQLite by default, PostgreSQL by URL), queried,
compared and exported. `gongkai.load(db)` opens one from Python.

Kept free of imports so that the `gongkai` command starts fast; see corpus.py, ingest.py, query.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import os

    from gongkai.store.corpus import Corpus


def load(db: str | os.PathLike[str] | None = None) -> Corpus:
    """Open an existing corpus (a SQLite file, default ./gongkai.db, or a database URL)."""
    from gongkai.store.corpus import Corpus

    return Corpus(db)
