"""Uploads: files checked by their content, zip archives opened safely, and a background job per
upload that stores them with the corpus's own ingest (`gongkai.store.ingest.run`), never in a request.

Safe by construction: uploaded bytes go to files named by their position in a private folder (the
names people gave are only shown, never used as paths); archives are read member by member in
memory with limits on count, size and compression ratio (zip bombs), and members whose names climb
out of the archive (`../`, absolute) are refused by name.
"""

from __future__ import annotations

import hashlib
import io
import queue
import shutil
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import Engine, insert, select, update

from gongkai.read import sniff
from gongkai.review.hook import after_write
from gongkai.store.ingest import Job, Summary, _member_name, run, stored_hashes
from gongkai.store.schema import documents, job_files, reports, upload_jobs


@dataclass(frozen=True)
class Limits:
    file_bytes: int = 100 * 1024 * 1024  # one document (as gongkai.read.MAX_BYTES)
    upload_bytes: int = 512 * 1024 * 1024  # one request, all files together
    files: int = 2000  # documents in one upload, archive members included
    archive_bytes: int = 2 * 1024 * 1024 * 1024  # an archive's members unpacked, together
    ratio: int = 200  # a member that unpacks to more than this many times its packed size is a bomb


class UploadError(ValueError):
    """The whole upload is refused (the message says why, in Chinese)."""


def is_archive(head: bytes) -> bool:
    return head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06")


def _looks_like_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return "[Content_Types].xml" in z.namelist()
    except zipfile.BadZipFile:
        return False


def content_problem(data: bytes) -> str | None:
    """Why these bytes are no report document, judged by content alone (None: they may be one)."""
    if not data:
        return "文件为空"
    kind = sniff(data)
    if kind != "text":
        return None
    head = data[:8192]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 text has NULs
        return "不是可识别的报告文件（二进制内容，非文本、HTML、DOCX、DOC/WPS、PDF 或图片）"
    return None


def safe_member(name: str) -> bool:
    path = PurePosixPath(name.replace("\\", "/"))
    return not path.is_absolute() and ".." not in path.parts and not (path.parts and path.parts[0].endswith(":"))


@dataclass
class Entry:
    """One document of an upload: its name as shown, and its bytes (None: refused, see problem)."""

    name: str
    data: bytes | None
    problem: str | None = None


def archive_entries(data: bytes, name: str, limits: Limits) -> Iterator[Entry]:
    """The documents inside a zip archive; members that are unsafe or too big are refused by name."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        yield Entry(name, None, f"压缩包已损坏，无法打开：{exc}")
        return
    if len(infos) > limits.files:
        yield Entry(name, None, f"压缩包内文件过多：{len(infos)} 个，上限 {limits.files} 个")
        return
    unpacked = 0
    for info in infos:
        member = _member_name(info)
        shown = f"{name}/{member}"
        if not safe_member(member):
            yield Entry(shown, None, "文件名含有上级目录或绝对路径，已拒绝")
            continue
        if any(part.startswith(".") or part == "__MACOSX" for part in PurePosixPath(member).parts):
            continue  # hidden files and macOS resource forks are no reports
        if info.file_size > limits.file_bytes:
            yield Entry(shown, None, f"文件过大：{info.file_size} 字节，上限 {limits.file_bytes} 字节")
            continue
        if info.compress_size and info.file_size / info.compress_size > limits.ratio and info.file_size > 1024 * 1024:
            yield Entry(shown, None, "压缩比异常（疑似压缩炸弹），已拒绝")
            continue
        try:
            # Read at most the limit plus one byte: a header that lies about the size cannot make us read more.
            with archive.open(info) as stream:
                body = stream.read(limits.file_bytes + 1)
        except (zipfile.BadZipFile, RuntimeError, OSError, ValueError, NotImplementedError) as exc:
            yield Entry(shown, None, f"无法从压缩包读取（加密或损坏）：{exc}")
            continue
        if len(body) > limits.file_bytes:
            yield Entry(shown, None, "文件过大（解压后超过上限），已拒绝")
            continue
        unpacked += len(body)
        if unpacked > limits.archive_bytes:
            yield Entry(shown, None, "压缩包解压后总量超过上限，其余文件未处理")
            return
        if is_archive(body) and not _looks_like_docx(body):
            yield Entry(shown, None, "压缩包内还有压缩包，请解压后分别上传")
            continue
        problem = content_problem(body)
        yield Entry(shown, None if problem else body, problem)


def upload_entries(files: list[tuple[str, bytes]], limits: Limits) -> list[Entry]:
    """Every document of an upload (archives opened); UploadError when the upload as a whole is refused."""
    if not files:
        raise UploadError("请选择要上传的文件")
    if sum(len(data) for _, data in files) > limits.upload_bytes:
        raise UploadError(f"上传总量超过上限 {limits.upload_bytes // (1024 * 1024)} MB")
    entries: list[Entry] = []
    for name, data in files:
        name = PurePosixPath(name.replace("\\", "/")).name or "未命名文件"
        if len(data) > limits.file_bytes and not is_archive(data[:4]):
            entries.append(Entry(name, None, f"文件过大：{len(data)} 字节，上限 {limits.file_bytes} 字节"))
        elif is_archive(data[:4]) and not _looks_like_docx(data):
            entries.extend(archive_entries(data, name, limits))
        else:
            problem = content_problem(data)
            entries.append(Entry(name, None if problem else data, problem))
        if len(entries) > limits.files:
            raise UploadError(f"一次上传的文件过多，上限 {limits.files} 个")
    return entries


# ---- jobs ----------------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


class JobRunner:
    """One background thread per server process that runs upload jobs one after another; each job
    parses in a pool of `workers` processes (the ingest's own), so requests are never held up."""

    def __init__(self, engine: Engine, workers: int = 2, spool: Path | None = None) -> None:
        self.engine = engine
        self.workers = workers
        self.spool = Path(spool or tempfile.mkdtemp(prefix="gongkai-uploads-"))
        self.queue: queue.Queue[int | None] = queue.Queue()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        with self.engine.begin() as conn:  # jobs a previous server left unfinished cannot resume: their files are gone
            conn.execute(update(upload_jobs).where(upload_jobs.c.state.in_(("queued", "running")))
                         .values(state="failed", finished_at=_now(), summary={"message": "服务器重启，任务中断，请重新上传"}))
        self.thread = threading.Thread(target=self._loop, name="gongkai-upload-jobs", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join(timeout=30)
            self.thread = None
        shutil.rmtree(self.spool, ignore_errors=True)

    def submit(self, user_id: int, entries: list[Entry]) -> int:
        """Record the job and its files, spool the bytes, queue it; returns the job's id."""
        with self.engine.begin() as conn:
            job_id = conn.execute(insert(upload_jobs).values(
                user_id=user_id, created_at=_now(), state="queued", total=len(entries),
                done=sum(e.data is None for e in entries), summary=None)).inserted_primary_key[0]
            folder = self.spool / str(job_id)
            folder.mkdir(parents=True)
            for entry in entries:
                file_id = conn.execute(insert(job_files).values(
                    job_id=job_id, name=entry.name, outcome="waiting" if entry.data is not None else "unreadable",
                    message=entry.problem, report_id=None)).inserted_primary_key[0]
                if entry.data is not None:  # spooled under its row's id: a name people gave is never a path
                    (folder / str(file_id)).write_bytes(entry.data)
        self.queue.put(job_id)
        return job_id

    def _loop(self) -> None:
        while True:
            job_id = self.queue.get()
            if job_id is None:
                return
            try:
                self.run_job(job_id)
            except Exception as exc:  # a job's failure is recorded; the thread goes on with the next
                with self.engine.begin() as conn:
                    conn.execute(update(upload_jobs).where(upload_jobs.c.id == job_id).values(
                        state="failed", finished_at=_now(), summary={"message": f"任务失败：{type(exc).__name__}: {exc}"}))
            finally:
                shutil.rmtree(self.spool / str(job_id), ignore_errors=True)

    def run_job(self, job_id: int) -> None:
        folder = self.spool / str(job_id)
        with self.engine.begin() as conn:
            conn.execute(update(upload_jobs).where(upload_jobs.c.id == job_id).values(state="running"))
            files = conn.execute(select(job_files.c.id, job_files.c.name).where(
                job_files.c.job_id == job_id, job_files.c.outcome == "waiting").order_by(job_files.c.id)).all()
        known = stored_hashes(self.engine)
        by_hash: dict[str, list[int]] = {}
        jobs: list[Job] = []
        for row in files:
            data = (folder / str(row.id)).read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            if digest not in known and digest not in by_hash:
                jobs.append(Job(row.name, digest, len(data), data))
            by_hash.setdefault(digest, []).append(row.id)
        already = len(files) - len(jobs)
        offset = self._done(job_id)
        last = [0.0]

        def advance(summary: Summary) -> None:
            if time.monotonic() - last[0] >= 0.5:
                last[0] = time.monotonic()
                self._progress(job_id, offset + already + summary.done, by_hash, known)

        summary = run(self.engine, iter(jobs), workers=self.workers, on_advance=advance, after_write=after_write)
        self._progress(job_id, offset + len(files), by_hash, known, final=True)
        with self.engine.begin() as conn:
            conn.execute(update(upload_jobs).where(upload_jobs.c.id == job_id).values(
                state="done", finished_at=_now(),
                summary={"stored": summary.parsed, "with_errors": summary.with_errors, "failed": summary.failed,
                         "already": already, "seconds": round(summary.seconds, 2)}))

    def _done(self, job_id: int) -> int:
        with self.engine.connect() as conn:
            return conn.scalar(select(upload_jobs.c.done).where(upload_jobs.c.id == job_id)) or 0

    def _progress(self, job_id: int, done: int, by_hash: dict[str, list[int]], known: set[str],
                  final: bool = False) -> None:
        """Progress, and the outcome of every file whose document the writer has committed."""
        with self.engine.begin() as conn:
            conn.execute(update(upload_jobs).where(upload_jobs.c.id == job_id).values(done=done))
            waiting = set(conn.scalars(select(job_files.c.id).where(job_files.c.job_id == job_id,
                                                                     job_files.c.outcome == "waiting")))
            hashes = [h for h, ids in by_hash.items() if waiting & set(ids)]
            for chunk in range(0, len(hashes), 500):
                rows = conn.execute(select(documents.c.sha256, documents.c.status, documents.c.error, reports.c.id)
                                    .outerjoin(reports, reports.c.document_id == documents.c.id)
                                    .where(documents.c.sha256.in_(hashes[chunk:chunk + 500]))).all()
                for row in rows:
                    outcome = "skipped" if row.sha256 in known else "stored" if row.status == "parsed" else "failed"
                    for file_id in by_hash[row.sha256]:
                        if file_id in waiting:
                            conn.execute(update(job_files).where(job_files.c.id == file_id).values(
                                outcome=outcome, message=row.error, report_id=row.id))
            if final:  # read but not stored (interrupted): say so rather than leave them waiting
                conn.execute(update(job_files).where(job_files.c.job_id == job_id, job_files.c.outcome == "waiting")
                             .values(outcome="failed", message="未能入库"))


def job_view(engine: Engine, job_id: int) -> dict[str, Any] | None:
    with engine.connect() as conn:
        job = conn.execute(select(upload_jobs).where(upload_jobs.c.id == job_id)).first()
        if job is None:
            return None
        files = conn.execute(select(job_files).where(job_files.c.job_id == job_id).order_by(job_files.c.id)).all()
    return {"id": job.id, "user_id": job.user_id, "state": job.state, "total": job.total, "done": job.done,
            "created_at": job.created_at, "finished_at": job.finished_at, "summary": job.summary or {},
            "files": [{"name": f.name, "outcome": f.outcome, "message": f.message, "report_id": f.report_id} for f in files]}
