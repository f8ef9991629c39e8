"""A corpus and users for the web tests: reports of two provinces written as text files and stored
through the real ingest, users of every role, and a client that logs in through the login form."""

from __future__ import annotations

import io
import re
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from gongkai.render.markdown import render_markdown
from gongkai.synth import synth_report

PASSWORD = "correct-horse-9"

# Bodies in two provinces: a reviewer of one must never see the other's reports.
AGENCIES = {
    "henan": "河南省南阳市西峡县人民政府",
    "henan_city": "河南省南阳市人民政府",
    "jiangsu": "江苏省淮安市人民政府",
}

USERS = {  # name → (role, scope)
    "admin": ("admin", None),
    "rev_henan": ("reviewer", "河南"),
    "rev_jiangsu": ("reviewer", "江苏"),
    "author_xixia": ("author", AGENCIES["henan"]),
}


def report_text(seed: int, agency: str, year: int) -> str:
    report = synth_report(seed, year=year)
    report.agency = agency
    report.title = f"{agency}{year}年政府信息公开工作年度报告"
    return render_markdown(report, tables="tabs")


def write_corpus(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (name, agency) in enumerate(AGENCIES.items()):
        for year in (2023, 2024):
            path = folder / f"{name}-{year}.txt"
            path.write_text(report_text(i * 10 + year, agency, year), encoding="utf-8")
            paths.append(path)
    return paths


def zip_of(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return out.getvalue()


def add_users(engine) -> None:
    from gongkai.web import auth

    with engine.begin() as conn:
        for name, (role, scope) in USERS.items():
            auth.add_user(conn, name, PASSWORD, role, scope)


@dataclass
class Session:
    client: object
    csrf: str


def log_in(client, username: str, password: str = PASSWORD) -> Session:
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    response = client.post("/login", data={"csrf": token, "username": username, "password": password, "next": "/"},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return Session(client, client.get("/api/me").json()["csrf"])


def signed_in(app, username: str) -> Session:
    """A test client of the app (its lifespan started) logged in as `username`."""
    from fastapi.testclient import TestClient

    client = TestClient(app)
    client.__enter__()
    return log_in(client, username)


def wait_for_job(client, job_id: int, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {job}")
