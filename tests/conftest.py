from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture
def shared() -> Path:
    if not (SHARED / "seeds").is_dir():
        pytest.fail(f"the shared seeds and spec are expected beside the project at {SHARED}")
    return SHARED


def parse_text(text: str, name: str = "report.txt"):
    from gongkai.parse import parse
    from gongkai.read.text import read_text

    return parse(read_text(text, name))


# ---- the workbench's tests (test_web*.py): a corpus of two provinces and users of every role -------


@pytest.fixture
def cheap_hashes(monkeypatch):
    """argon2 at its cheapest: the web tests are about who gets in, not about the hash's cost."""
    from argon2 import PasswordHasher, profiles

    from gongkai.web import auth

    monkeypatch.setattr(auth, "_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST))


def _web_app(kind: str, tmp_path: Path):
    pytest.importorskip("fastapi")
    from gongkai.review.hook import after_write
    from gongkai.store.ingest import ingest
    from gongkai.web import create_app
    from store_helpers import database
    from web_helpers import add_users, write_corpus

    web = create_app(database(kind, tmp_path), upload_workers=1)
    ingest(web.state.engine, write_corpus(tmp_path / "reports"), workers=1, after_write=after_write)  # as uploads do
    add_users(web.state.engine)
    return web


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request, tmp_path, cheap_hashes):
    web = _web_app(request.param, tmp_path)
    yield web
    web.state.engine.dispose()


@pytest.fixture
def sqlite_app(tmp_path, cheap_hashes):
    """For what does not depend on the database."""
    web = _web_app("sqlite", tmp_path)
    yield web
    web.state.engine.dispose()
