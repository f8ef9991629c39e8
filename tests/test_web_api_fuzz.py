"""Schemathesis over the workbench's OpenAPI document: generated requests to every /api operation,
as a logged-in administrator, never get a 500 (bounded: a few examples per operation)."""

from __future__ import annotations

import pytest

from web_helpers import PASSWORD, add_users, write_corpus

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

SESSION: dict[str, dict[str, str]] = {}  # the administrator's session, set by the fixture
STATUSES: list[int] = []


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    from argon2 import PasswordHasher, profiles
    from fastapi.testclient import TestClient

    from gongkai.review.hook import after_write
    from gongkai.store.ingest import ingest
    from gongkai.web import auth, create_app

    auth._hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    folder = tmp_path_factory.mktemp("api")
    app = create_app(str(folder / "gongkai.db"), upload_workers=1)
    ingest(app.state.engine, write_corpus(folder / "reports"), workers=1, after_write=after_write)
    add_users(app.state.engine)
    with TestClient(app) as client:
        csrf = client.post("/api/session", json={"username": "admin", "password": PASSWORD}).json()["csrf"]
        cookie = client.cookies.get("gongkai_session")
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    SESSION.update(headers={"X-CSRF-Token": csrf, "Cookie": f"gongkai_session={cookie}"})
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_api_operation_answers_500(case):
    # The session operations are called without the session: a generated log-out would end it.
    own = case.path == "/api/session"
    response = case.call(timeout=120) if own else case.call(headers=dict(SESSION["headers"]), timeout=120)
    STATUSES.append(response.status_code)
    assert response.status_code < 500, (case.method, case.formatted_path, response.status_code, response.text[:300])


def test_the_generated_requests_got_past_the_log_in():
    """The run above was as the administrator, not 401 after 401 (runs after it: pytest keeps file order)."""
    if not STATUSES:
        pytest.skip("the schemathesis run did not take place")
    assert sum(200 <= s < 300 for s in STATUSES) >= 10, STATUSES
