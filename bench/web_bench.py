"""The workbench under load, on loopback: a SQLite corpus of 10,000 reports, a real server process
(uvicorn, as `gongkai serve` runs it), timed pages, then concurrent users.

    python bench/web_bench.py [--count 10000] [--users 20] [--uploaders 2] [--rounds 10] [--keep DIR]

Goals: the report list and a report page each answer in < 200 ms over 10,000 reports on SQLite;
20 users browsing and 2 uploading at once hold without errors. Prints the figures, asserts nothing.

The corpus is built through the ingest's own writer from a few hundred generated, parsed and
checked reports, each stored many times under other bodies' names (parsing 10,000 reports is
what bench/ingest_bench.py measures; this one measures the web app).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from io import BytesIO
from pathlib import Path

import httpx

from gongkai.parse import PARSER_VERSION, parse
from gongkai.read.text import read_text
from gongkai.render.markdown import render_markdown
from gongkai.store.db import compress, connect
from gongkai.store.ingest import Job, Summary, Writer
from gongkai.store.region import PROVINCES, derive_region
from gongkai.store.worker import analyse
from gongkai.synth import synth_report

PASSWORD = "bench-password-1"
CITIES = ["南阳市", "郑州市", "淮安市", "成都市", "广州市", "杭州市", "长沙市", "西安市"]


def build_corpus(db: str, count: int, distinct: int = 200) -> None:
    engine = connect(db)
    texts, results = [], []
    for seed in range(distinct):
        text = render_markdown(synth_report(seed), tables="tabs")
        report = parse(read_text(text, f"r{seed}.txt"))
        texts.append(text.encode())
        results.append(analyse(report))
    writer = Writer(engine, Summary(), batch=500)
    for i in range(count):
        base = results[i % distinct]
        province = PROVINCES[i % 31]
        agency = f"{province[1]}{CITIES[i % len(CITIES)]}第{i}号单位"
        region = derive_region(agency)
        row = {**base["report"], "agency": agency, "year": 2019 + i % 6, "province_code": region.province_code,
               "province": region.province, "city": region.city}
        data = texts[i % distinct] + f"\n{i}".encode()
        result = {**base, "report": row, "parser_version": PARSER_VERSION, "kind": "text", "status": "parsed",
                  "error": None, "content": compress(data)}
        writer.add(Job(f"bench/{i:06d}.txt", hashlib.sha256(data).hexdigest(), len(data), data), result)
    writer.flush()
    from gongkai.web import auth

    auth.ensure_admin(engine, PASSWORD)
    with engine.begin() as conn:
        for n in range(40):
            auth.add_user(conn, f"reviewer{n}", PASSWORD, "reviewer", PROVINCES[n % 31][2])
    engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: str, port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "GONGKAI_DB": db, "GONGKAI_UPLOAD_WORKERS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "gongkai.web:app_from_environment",
                             "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--log-level", "warning",
                             "--timeout-worker-healthcheck", "60"],
                            env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
            return proc
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("server did not start")


def client(base: str, username: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=180, follow_redirects=False)
    r = c.post("/api/session", json={"username": username, "password": PASSWORD})
    r.raise_for_status()
    c.headers["X-CSRF-Token"] = r.json()["csrf"]
    return c


def timed(c: httpx.Client, path: str, repeat: int = 5) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        r = c.get(path)
        out.append((time.perf_counter() - start) * 1000)
        if r.status_code != 200:
            raise SystemExit(f"{path}: {r.status_code}")
    return out


def report(label: str, ms: list[float]) -> None:
    print(f"  {label:<44} median {statistics.median(ms):6.1f} ms   max {max(ms):6.1f} ms")


def upload_zip(seed: int) -> bytes:
    """Five new reports (new bytes on every run: a re-run must not find them stored)."""
    out = BytesIO()
    run = time.time_ns()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for k in range(5):
            r = synth_report(100_000 + seed * 10 + k)
            z.writestr(f"u{seed}-{k}.txt", render_markdown(r, tables="tabs") + f"\n{run}\n")
    return out.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--uploaders", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=10, help="pages each browsing user opens, ×4")
    ap.add_argument("--workers", type=int, default=2, help="server processes")
    ap.add_argument("--keep", help="keep the database in this folder")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="gongkai-web-bench-") as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        db = str(folder / "web-bench.db")
        if not Path(db).exists():
            start = time.perf_counter()
            build_corpus(db, args.count)
            print(f"corpus of {args.count} reports built in {time.perf_counter() - start:.1f}s")
        port = free_port()
        server = start_server(db, port, args.workers)
        base = f"http://127.0.0.1:{port}"
        try:
            admin = client(base, "admin")
            ids = [r["id"] for r in admin.get("/api/reports?sort=id&page=7").json()["reports"]]
            print(f"single user, {args.count} reports (SQLite, {args.workers} server processes):")
            report("report list, first page", timed(admin, "/reports"))
            report("report list, sorted by errors (desc)", timed(admin, "/reports?sort=errors&desc=true"))
            report("report list, page 150", timed(admin, "/reports?page=150"))
            report("report list, filtered (region 河南, 2024)", timed(admin, "/reports?region=河南&year=2024"))
            report("report list, agency text search", timed(admin, "/reports?agency=第77"))
            report("report list as JSON (API)", timed(admin, "/api/reports?page=3"))
            report("report page (three tables, findings, text)", [t for i in ids[:10] for t in timed(admin, f"/reports/{i}", 1)])
            report("cell source", timed(admin, f"/reports/{ids[0]}/cells/applications.new.total"))
            report("stats page", timed(admin, "/stats", 3))
            report("工作台 (every body's state, 2024)", timed(admin, "/?year=2024", 3))
            report("地区汇总 (河南, 2024)", timed(admin, "/regions?region=河南&year=2024", 3))
            report("跨年比对", timed(admin, f"/reports/{ids[0]}/compare", 3))

            errors: list[str] = []
            counts = {"pages": 0, "uploads": 0}
            lock = threading.Lock()

            def guarded(work):
                def run(n: int) -> None:
                    try:
                        work(n)
                    except Exception as exc:  # a refused connection or a timeout is an error of the run
                        with lock:
                            errors.append(f"{work.__name__} {n}: {type(exc).__name__}: {exc}")
                return run

            def browse(n: int) -> None:
                c = client(base, f"reviewer{n}")
                rng = random.Random(n)
                mine = [r["id"] for r in c.get("/api/reports").json()["reports"]] or [None]
                for _ in range(args.rounds):
                    rid = rng.choice(mine)
                    paths = ["/reports", f"/reports?page={rng.randint(1, 5)}&sort=year", "/stats"]
                    if rid:
                        paths += [f"/reports/{rid}", f"/reports/{rid}/cells/applications.granted.total"]
                    for path in paths:
                        r = c.get(path)
                        with lock:
                            counts["pages"] += 1
                            if r.status_code != 200:
                                errors.append(f"{path}: {r.status_code}")

            def upload(n: int) -> None:
                c = client(base, "admin")
                for k in range(2):
                    r = c.post("/api/uploads", files={"files": (f"batch{n}-{k}.zip", upload_zip(n * 10 + k), "application/zip")})
                    if r.status_code != 202:
                        errors.append(f"upload: {r.status_code} {r.text[:200]}")
                        continue
                    job = r.json()["job"]
                    while (state := c.get(f"/api/jobs/{job}").json())["state"] not in ("done", "failed"):
                        time.sleep(0.5)
                    with lock:
                        counts["uploads"] += 1
                        if state["state"] != "done" or any(f["outcome"] != "stored" for f in state["files"]):
                            errors.append(f"job {job}: {state['state']} {[f['outcome'] for f in state['files']]}")

            start = time.perf_counter()
            threads = [threading.Thread(target=guarded(browse), args=(n,)) for n in range(args.users)]
            threads += [threading.Thread(target=guarded(upload), args=(n,)) for n in range(args.uploaders)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - start
            print(f"{args.users} users (logged in, then) browsing and {args.uploaders} uploading: {counts['pages']} pages and "
                  f"{counts['uploads']} upload jobs in {elapsed:.1f}s ({counts['pages'] / elapsed:.1f} pages/s), "
                  f"{len(errors)} errors")
            for e in errors[:10]:
                print("  ", e)
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
