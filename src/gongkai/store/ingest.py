"""Ingest: files, folders and .zip archives → the corpus, parsed in parallel, written by one process.

Worker processes parse and check (CPU-bound); this process reads and hashes the bytes, skips what
is stored, and writes results in short transactions. Each document is stored with its content
hash (unique), so a killed ingest loses only work in flight and a re-run skips what is stored.

Policy on failures: a document that cannot be parsed is stored once, with its error (status
failed), and a re-run of `ingest` does not retry it: the same bytes and the same parser fail the
same way. `reparse` retries it when the parser version changes (or always with --failed). A file
that cannot be read at all (permissions, vanished, corrupt archive) has no bytes to key it by: it
is reported and counted, not stored, and a re-run tries it again.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import multiprocessing
import os
import signal
import stat
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import DatabaseError, DataError, IntegrityError, InterfaceError, OperationalError

from gongkai.formats import format_dirs
from gongkai.store import worker
from gongkai.store.bulk import insert_tuples
from gongkai.store.db import StoreError, decompress, display_name
from gongkai.store.records import CELL_COLUMNS
from gongkai.store.schema import cells, contents, documents, findings, reports

# ---- sources -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Source:
    """One document to ingest: a file, or a member of a (nested) zip archive."""

    name: str  # as shown and stored: path, or archive.zip/member
    path: Path
    members: tuple[str, ...] = ()  # zip member names, outermost first
    refused: str | None = None  # why it is not read at all (a link out of the tree, a FIFO …)


# Archives are expanded within these limits: a nested-zip bomb is refused, not inflated.
MAX_ARCHIVE_DEPTH = 3  # zips within zips, the outermost counted
MAX_ARCHIVE_BYTES = int(os.environ.get("GONGKAI_MAX_ARCHIVE_BYTES", 1024 * 1024 * 1024))  # all members, unpacked
MAX_ARCHIVE_MEMBERS = 100_000
MAX_RATIO = 100  # unpacked/packed, for members over 1 MB: reports compress 3–10 times, bombs 1000


def _is_zip(name: str) -> bool:
    return name.lower().endswith(".zip")


def _member_name(info: zipfile.ZipInfo) -> str:
    # Archives made on Chinese Windows store names in GBK without the UTF-8 flag; zipfile then
    # decodes them as cp437.
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _hidden(name: str) -> bool:
    return any((part.startswith(".") and part != "..") or part == "__MACOSX" for part in Path(name).parts)


class _Refused(Exception):
    """An archive past one of the limits above: refused whole, the limit named."""


class _Unpacked:
    """What one archive has unpacked so far, against MAX_ARCHIVE_BYTES, MAX_ARCHIVE_MEMBERS and MAX_RATIO."""

    def __init__(self) -> None:
        self.bytes = 0
        self.members = 0

    def count(self, info: zipfile.ZipInfo) -> None:
        self.bytes += info.file_size
        self.members += 1
        if info.file_size > 2**20 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise _Refused(f"压缩包炸弹：成员 {_member_name(info)} 的压缩比超过 {MAX_RATIO} 倍的上限，整个压缩包已拒绝 "
                           f"(compression ratio over {MAX_RATIO})")
        if self.bytes > MAX_ARCHIVE_BYTES:
            raise _Refused(f"压缩包展开后超过 {MAX_ARCHIVE_BYTES // 2**20} MB 的上限，整个压缩包已拒绝 "
                           f"(archive expands past GONGKAI_MAX_ARCHIVE_BYTES={MAX_ARCHIVE_BYTES})")
        if self.members > MAX_ARCHIVE_MEMBERS:
            raise _Refused(f"压缩包文件数超过 {MAX_ARCHIVE_MEMBERS} 个的上限，整个压缩包已拒绝 (archive has too many members)")


def _zip_sources(archive: zipfile.ZipFile, name: str, path: Path, chain: tuple[str, ...],
                 unpacked: _Unpacked) -> Iterator[Source]:
    from gongkai.read import MAX_BYTES

    for info in archive.infolist():
        shown = _member_name(info)
        if info.is_dir() or _hidden(shown):
            continue
        member = Source(f"{name}/{shown}", path, (*chain, info.filename))
        if ".." in Path(shown).parts or shown.startswith(("/", "\\")):
            yield replace(member, refused="压缩包成员名指向包外（含 .. 或绝对路径），已拒绝 (member name escapes the archive)")
            continue
        unpacked.count(info)
        if not _is_zip(shown):
            yield member
        elif len(chain) + 1 >= MAX_ARCHIVE_DEPTH:
            yield replace(member, refused=f"压缩包嵌套超过 {MAX_ARCHIVE_DEPTH} 层的上限 (archives nested too deep)")
        elif info.file_size > MAX_BYTES:
            yield member  # refused when read, as too large
        else:
            try:
                inner = zipfile.ZipFile(io.BytesIO(archive.read(info)))
            except (zipfile.BadZipFile, OSError, RuntimeError, ValueError):
                yield member
                continue
            with inner:
                yield from _zip_sources(inner, member.name, path, member.members, unpacked)


def _expand(path: Path, name: str) -> Iterator[Source]:
    if _is_zip(path.name):
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError):
            yield Source(name, path)  # not a zip after all: ingested (and failed) as a document
            return
        with archive:
            try:
                # Listed whole before any member is read: a bomb is refused before anything of it is stored.
                yield from list(_zip_sources(archive, name, path, (), _Unpacked()))
            except _Refused as exc:
                yield Source(name, path, refused=str(exc))
    else:
        yield Source(name, path)


def _refusal(path: Path, root: Path | None, follow_links: bool) -> tuple[Path, str | None]:
    """The file to read for `path` and why it is refused (None: it is not). A link is followed only
    with follow_links and only to a target inside the tree given (root; None: a file named itself)."""
    target = path
    try:
        if path.is_symlink():
            if not follow_links:
                return path, "是符号链接，未跟随（需要时用 --follow-links）(symbolic link not followed)"
            target = path.resolve(strict=True)
            if root is not None and not target.is_relative_to(root.resolve()):
                return path, "符号链接指向所给目录之外，已拒绝 (link points outside the tree given)"
        mode = target.stat().st_mode
    except (OSError, RuntimeError):
        return target, None  # missing or unreadable: fails on reading, with its name
    if stat.S_ISDIR(mode):
        return target, None
    if not stat.S_ISREG(mode):
        return target, "不是普通文件（管道、设备或套接字），已跳过 (not a regular file)"
    return target, None


def list_sources(paths: Iterable[str | os.PathLike[str]], exclude: Iterable[Path] = (),
                 follow_links: bool = False) -> list[Source]:
    """Every document under the paths: files, folders (recursively, hidden entries skipped) and
    the members of .zip archives. `exclude`: files never to ingest (the database itself). Links
    are not followed unless follow_links, and then only within the tree given; special files
    (FIFOs, devices, sockets) and links are listed as refused, with the reason."""
    skip = {p.resolve() for p in exclude}
    out: list[Source] = []

    def add(path: Path, root: Path | None) -> None:
        target, refused = _refusal(path, root, follow_links)
        if refused:
            out.append(Source(str(path), path, refused=refused))
        elif root is not None and target.is_dir():
            return  # a link to a folder inside the tree: its files are listed where they lie
        elif target.resolve() not in skip:
            out.extend(Source(s.name, target, s.members, s.refused) for s in _expand(target, str(path)))

    for given in paths:
        path = Path(given)
        if path.is_dir() and not path.is_symlink():
            for folder, dirs, files in os.walk(path, followlinks=False):
                here = Path(folder)
                dirs[:] = sorted(d for d in dirs if not _hidden(d))
                # A link to a folder is not walked; with follow_links, its files would be reached
                # through the tree itself when they lie inside it.
                for name in sorted(files + [d for d in dirs if (here / d).is_symlink()]):
                    if not _hidden(name):
                        add(here / name, path)
                dirs[:] = [d for d in dirs if not (here / d).is_symlink()]
        else:
            add(path, None)  # a missing file fails on reading, with its name
    return out


class SourceReader:
    """Reads sources' bytes, keeping the last archive open (members of one archive come together)."""

    def __init__(self, max_bytes: int | None = None) -> None:
        from gongkai.read import MAX_BYTES

        self.max_bytes = max_bytes or MAX_BYTES
        self._archive: tuple[tuple[Path, tuple[str, ...]], zipfile.ZipFile] | None = None

    def _open(self, path: Path, chain: tuple[str, ...]) -> zipfile.ZipFile:
        if self._archive and self._archive[0] == (path, chain):
            return self._archive[1]
        self.close()
        archive = zipfile.ZipFile(io.BytesIO(read_file(path, MAX_ARCHIVE_BYTES)))
        for member in chain:
            archive = zipfile.ZipFile(io.BytesIO(archive.read(member)))
        self._archive = ((path, chain), archive)
        return archive

    def read(self, source: Source) -> bytes:
        """The bytes; OSError/ValueError with a Chinese message when they cannot be had."""
        if source.refused:
            raise ValueError(source.refused)
        if not source.members:
            return read_file(source.path, self.max_bytes)
        try:
            archive = self._open(source.path, source.members[:-1])
            info = archive.getinfo(source.members[-1])
            if info.file_size > self.max_bytes:
                raise ValueError(f"文件过大：{info.file_size} 字节，上限 {self.max_bytes} 字节 (file too large)")
            return archive.read(info)
        except (zipfile.BadZipFile, KeyError, RuntimeError) as exc:  # RuntimeError: encrypted member
            raise ValueError(f"无法从压缩包读取 (cannot read from archive: {exc})") from exc

    def close(self) -> None:
        if self._archive:
            self._archive[1].close()
            self._archive = None


def read_file(path: Path, max_bytes: int) -> bytes:
    """A regular file's bytes, never through a link (it was resolved when listed) and never from a
    FIFO or device swapped in since (O_NONBLOCK: opening a FIFO does not wait for a writer)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ValueError("是符号链接，未跟随 (symbolic link not followed)") from exc
        raise
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if stat.S_ISDIR(info.st_mode):
            raise OSError(errno.EISDIR, "是目录而不是文件 (is a directory)")
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("不是普通文件（管道、设备或套接字），已跳过 (not a regular file)")
        if info.st_size > max_bytes:
            raise ValueError(f"文件过大：{info.st_size} 字节，上限 {max_bytes} 字节 (file too large)")
        return f.read(max_bytes + 1)


# ---- results -------------------------------------------------------------------------------


@dataclass(slots=True)
class Job:
    name: str
    sha256: str
    size: int
    data: bytes
    document_id: int | None = None  # set when re-parsing a stored document
    attempts: int = 0


@dataclass
class Summary:
    parsed: int = 0  # reports stored
    with_errors: int = 0  # of those, reports with error findings
    failed: int = 0  # documents stored as failed (unparseable)
    unreadable: int = 0  # files that could not be read (not stored)
    refused: int = 0  # links, special files, archive members past a limit: never read
    skipped: int = 0  # already in the corpus
    duplicates: int = 0  # the same bytes twice in this run
    interrupted: bool = False
    seconds: float = 0.0
    kinds: dict[str, tuple[int, float]] = field(default_factory=dict)  # kind read → documents, worker seconds
    dashboard: str | None = None  # the Dask dashboard, on a cluster
    workers: dict[int, tuple[int, float]] = field(default_factory=dict)  # pid → peak KiB, CPU seconds
    problems: list[tuple[str, str]] = field(default_factory=list)  # (file, problem) as reported

    @property
    def worker_peak_kb(self) -> int:
        return max((kb for kb, _ in self.workers.values()), default=0)

    @property
    def worker_cpu(self) -> float:
        return sum(cpu for _, cpu in self.workers.values())

    @property
    def done(self) -> int:
        return self.parsed + self.failed + self.unreadable + self.refused + self.skipped + self.duplicates


Problem = Callable[[str, str], None]
Advance = Callable[[Summary], None]


# What the caller has done with each batch of written reports, in the batch's transaction, given
# (report id, document id, the worker's result) for each: gongkai.review's hook stores their
# outcomes, filings and cross-year pairs. The store itself knows nothing of what lies above it.
AfterWrite = Callable[[Connection, list[tuple[int, int, dict[str, Any]]]], None]


class Writer:
    """The one writer: buffers results and commits them in short transactions.

    A batch is one transaction; if another process stored one of its documents meanwhile (a shared
    PostgreSQL), or one document holds what the database refuses (a figure out of its range, a NUL
    character), the batch is redone document by document: the stored one is skipped, the refused
    one stored as failed with the database's reason. One document never stops a batch. A problem
    of the database itself (read-only, disk full, gone) ends the run with a StoreError.

    A batch holds at most `batch` results, and fewer when writing them would take longer than
    `commit_seconds` (the caller's hook may compare versions and years): Ctrl-C waits for the commit under
    way and the last one, so a short commit is what makes stopping quick.
    """

    def __init__(self, engine: Engine, summary: Summary, batch: int = 64, interval: float = 1.0,
                 on_problem: Problem | None = None, after_write: AfterWrite | None = None,
                 commit_seconds: float = 0.5) -> None:
        self.engine = engine
        self.after_write = after_write
        self.summary = summary
        self.batch = batch
        self.limit = batch  # the batch size that keeps a commit within `commit_seconds`, as last measured
        self.commit_seconds = commit_seconds
        self.interval = interval
        self.on_problem = on_problem
        self.buffer: list[tuple[Job, dict[str, Any]]] = []
        self.last = time.monotonic()

    def add(self, job: Job, result: dict[str, Any]) -> None:
        self.buffer.append((job, result))
        if len(self.buffer) >= self.limit or time.monotonic() - self.last >= self.interval:
            self.flush()

    def flush(self) -> None:
        self.last = start = time.monotonic()
        if not self.buffer:
            return
        size = len(self.buffer)
        # Ctrl-C waits for the commit and the counts to agree (a second one ends the process).
        with _interrupt_deferred(), _database_errors(self.engine):
            try:
                with self.engine.begin() as conn:
                    counts = self._write(conn, self.buffer)
            except _DOCUMENT_ERRORS:
                counts = Summary()
                for item in self.buffer:
                    _merge(counts, self._write_alone(item))
            _merge(self.summary, counts)
            self.buffer.clear()
        per_result = (time.monotonic() - start) / size
        self.limit = max(1, min(self.batch, int(self.commit_seconds / per_result) if per_result else self.batch))

    def _write_alone(self, item: tuple[Job, dict[str, Any]]) -> Summary:
        job, result = item
        try:
            with self.engine.begin() as conn:
                return self._write(conn, [item])
        except IntegrityError:
            return Summary(skipped=1)  # stored meanwhile by another ingest
        except _DOCUMENT_ERRORS as exc:
            reason = _reason(exc)
        if result["report"] is None:  # even the failure cannot be stored: reported, tried again next run
            self._problem(job.name, f"无法入库 (cannot store: {reason})")
            return Summary(unreadable=1)
        message = f"数据库拒绝了该文件的内容 (the database refused a value: {reason})"
        self._problem(job.name, message)
        return self._write_alone((job, {**result, "status": "failed", "error": message, "report": None, "cells": [],
                                        "findings": [], "errors": 0}))

    def _problem(self, name: str, message: str) -> None:
        self.summary.problems.append((name, message))
        if self.on_problem:
            self.on_problem(name, message)

    def _write(self, conn: Connection, items: list[tuple[Job, dict[str, Any]]]) -> Summary:
        counts = Summary()
        new = [job.sha256 for job, _ in items if job.document_id is None]
        stored = set(conn.scalars(select(documents.c.sha256).where(documents.c.sha256.in_(new)))) if new else set()
        now = datetime.now(UTC)
        cell_rows: list[tuple[Any, ...]] = []
        finding_rows: list[dict[str, Any]] = []
        written: list[tuple[int, int, dict[str, Any]]] = []
        for job, result in items:
            doc = {"kind": result["kind"], "status": result["status"], "error": result["error"],
                   "parser_version": result["parser_version"]}
            if job.document_id is None:
                if job.sha256 in stored:
                    counts.skipped += 1
                    continue
                doc_id = conn.execute(_INSERT_DOCUMENT, {"sha256": job.sha256, "name": job.name, "size": job.size,
                                                         "ingested_at": now, **doc}).inserted_primary_key[0]
                conn.execute(_INSERT_CONTENT, {"document_id": doc_id, "compression": "zlib", "data": result["content"]})
            else:
                doc_id = job.document_id
                conn.execute(update(documents).where(documents.c.id == doc_id).values(**doc))
                _delete_report(conn, doc_id)
            if result["report"] is None:
                counts.failed += 1
                continue
            report_id = conn.execute(_INSERT_REPORT, {"document_id": doc_id, **result["report"]}).inserted_primary_key[0]
            cell_rows += [(report_id, *row) for row in result["cells"]]
            finding_rows += [{"report_id": report_id, **row} for row in result["findings"]]
            written.append((report_id, doc_id, result))
            counts.parsed += 1
            counts.with_errors += result["errors"] > 0
        if cell_rows:
            write_cells(conn, cell_rows)
        if finding_rows:
            conn.execute(insert(findings), finding_rows)
        if written and self.after_write is not None:
            self.after_write(conn, written)
        return counts


# What one document's values can make the database refuse: the batch is redone one by one.
_DOCUMENT_ERRORS = (IntegrityError, DataError, InterfaceError, OverflowError, ValueError, TypeError)


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return f"{type(orig).__name__}: {str(orig).splitlines()[0] if str(orig) else ''}"[:300].replace("\x00", "")


@contextlib.contextmanager
def _database_errors(engine: Engine) -> Iterator[None]:
    """A problem of the database itself (read-only, disk full, locked, gone) as a StoreError."""
    try:
        yield
    except (OperationalError, DatabaseError) as exc:
        if isinstance(exc, _DOCUMENT_ERRORS):
            raise
        raise StoreError(display_name(engine.url.render_as_string(hide_password=False)),
                         f"无法写入数据库 (cannot write: {_reason(exc)})") from exc


# Built once: constructing a statement per document costs more than executing it.
_INSERT_DOCUMENT = insert(documents)
_INSERT_CONTENT = insert(contents)
_INSERT_REPORT = insert(reports)


def write_cells(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    """Insert (report_id, *CELL_COLUMNS) tuples (provenance is JSON text already)."""
    insert_tuples(conn, cells, ("report_id", *CELL_COLUMNS), rows)


def _delete_report(conn: Connection, document_id: int) -> None:
    ids = select(reports.c.id).where(reports.c.document_id == document_id).scalar_subquery()
    conn.execute(delete(cells).where(cells.c.report_id == ids))
    conn.execute(delete(findings).where(findings.c.report_id == ids))
    conn.execute(delete(reports).where(reports.c.document_id == document_id))


def _merge(into: Summary, counts: Summary) -> None:
    for name in ("parsed", "with_errors", "failed", "unreadable", "skipped"):
        setattr(into, name, getattr(into, name) + getattr(counts, name))


# ---- the pool ------------------------------------------------------------------------------


def _pool(workers: int) -> ProcessPoolExecutor:
    # forkserver: workers fork from a clean single-threaded server that has already imported the
    # parser, not from this process (which runs a progress thread and holds database connections).
    try:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["gongkai.store.worker", "gongkai.parse", "gongkai.read", "gongkai.check"])
    except ValueError:
        ctx = multiprocessing.get_context("spawn")
    else:
        # The server starts with Ctrl-C ignored, so that the workers forked from it inherit that
        # from their first instruction: Ctrl-C reaches the whole process group, and a worker
        # caught between fork and its initializer would print a KeyboardInterrupt traceback.
        from multiprocessing import forkserver

        with _sigint_ignored():
            forkserver.ensure_running()
    # The lifeline: workers exit when its far end, held only here, closes (see worker.init_worker).
    lifeline, keep = ctx.Pipe(duplex=False)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=worker.init_worker,
                               initargs=(lifeline, format_dirs()))
    _lifelines[id(pool)] = keep
    return pool


_lifelines: dict[int, Any] = {}


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Stop the workers now, not after their current document (an OCR page can take a while)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        if p.is_alive():
            p.terminate()
    for p in processes:
        p.join(timeout=5)
    keep = _lifelines.pop(id(pool), None)
    if keep is not None:
        keep.close()


def _raise_interrupt(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


# ---- Ctrl-C --------------------------------------------------------------------------------
# The first Ctrl-C raises KeyboardInterrupt in the main thread, except inside a commit: there it
# waits until the commit and the counts agree (so the summary is true and no connection is left
# holding a half-done transaction). From then on Ctrl-C has its default action: a second one ends
# the process at once (the database rolls back what was not committed).


class _Interrupts:
    deferring = 0
    pending = False
    happened = False


def was_interrupted() -> bool:
    """Whether Ctrl-C has been pressed during an ingest in this process (the process is ending)."""
    return _Interrupts.happened


def _on_sigint(_signum: int, _frame: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    _Interrupts.happened = True
    if _Interrupts.deferring:
        _Interrupts.pending = True
        return
    raise KeyboardInterrupt


@contextlib.contextmanager
def _interrupt_deferred() -> Iterator[None]:
    _Interrupts.deferring += 1
    try:
        yield
    finally:
        _Interrupts.deferring -= 1
    if not _Interrupts.deferring and _Interrupts.pending:
        _Interrupts.pending = False
        raise KeyboardInterrupt


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Ctrl-C and SIGTERM as above while the block runs (in the main thread; elsewhere unchanged)."""
    if not _in_main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, _on_sigint), signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        if signal.getsignal(signal.SIGINT) is not signal.SIG_DFL:  # interrupted: a second Ctrl-C still ends it
            signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    if not _in_main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


Task = Callable[[str, bytes, bool], dict[str, Any]]


def run(engine: Engine, jobs: Iterable[Job], *, workers: int = 0, summary: Summary | None = None,
        on_problem: Problem | None = None, on_advance: Advance | None = None, batch: int = 64,
        task: Task = worker.pooled, after_write: AfterWrite | None = None) -> Summary:
    """Parse the jobs (in a pool of `workers` processes; 1: in this process) and store the results,
    calling `after_write` on each batch written.

    Ctrl-C or SIGTERM stops it: results already parsed are written, work in flight is dropped, and
    the summary says `interrupted`. `task` is what a pool worker runs on each document.
    """
    summary = summary or Summary()
    writer = Writer(engine, summary, batch=batch, on_problem=on_problem, after_write=after_write)
    workers = workers or os.cpu_count() or 1
    start = time.monotonic()

    def problem(name: str, message: str) -> None:
        summary.problems.append((name, message))
        if on_problem:
            on_problem(name, message)

    def done(job: Job, result: dict[str, Any]) -> None:
        if result["error"]:
            problem(job.name, result["error"])
        count_usage(summary, result)
        writer.add(job, result)
        if on_advance:
            on_advance(summary)

    try:
        with interruptible():
            try:
                if workers <= 1:
                    for job in jobs:
                        done(job, worker.process(job.name, job.data, keep_content=job.document_id is None))
                else:
                    _run_pool(jobs, workers, done, task)
                writer.flush()
            except KeyboardInterrupt:
                summary.interrupted = True
                writer.flush()  # keep what is parsed
    finally:
        summary.seconds = time.monotonic() - start
    return summary


def count_usage(summary: Summary, result: dict[str, Any]) -> None:
    """A worker's peak memory and CPU time, and the document's seconds by the kind it was read as."""
    if "usage" in result:
        pid, kb, cpu = result["usage"]
        summary.workers[pid] = (kb, cpu)
    if "seconds" in result:
        kind = result.get("read_as") or result["kind"] or "unknown"
        count, seconds = summary.kinds.get(kind, (0, 0.0))
        summary.kinds[kind] = (count + 1, seconds + result["seconds"])


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _run_pool(jobs: Iterable[Job], workers: int, done: Callable[[Job, dict[str, Any]], None], task: Task) -> None:
    pool = _pool(workers)
    pending: dict[Future[dict[str, Any]], Job] = {}
    it = iter(jobs)
    limit = workers * 32  # bounded: the bytes of at most this many documents are in memory
    exhausted = False
    try:
        while True:
            while not exhausted and len(pending) < limit:
                job = next(it, None)
                if job is None:
                    exhausted = True
                    break
                pending[pool.submit(task, job.name, job.data, job.document_id is None)] = job
            if not pending:
                break
            finished, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            broken: list[Job] = []
            for fut in finished:
                job = pending.pop(fut)
                try:
                    done(job, fut.result())
                except BrokenProcessPool:
                    broken.append(job)
            if broken:
                # A worker died (a crash in a native reader, out of memory). Every document in
                # flight is a suspect: each is retried alone, and the one that kills its worker
                # again is stored as failed.
                broken += list(pending.values())
                pending.clear()
                _terminate(pool)
                for job in broken:
                    _isolate(job, done, task)
                pool = _pool(workers)
    finally:
        _terminate(pool)


WORKER_DIED = "处理该文件时解析进程异常退出 (worker process died)"


def _isolate(job: Job, done: Callable[[Job, dict[str, Any]], None], task: Task) -> None:
    pool = _pool(1)
    try:
        future = pool.submit(task, job.name, job.data, job.document_id is None)
        processes = list((getattr(pool, "_processes", None) or {}).values())
        try:
            result = future.result()
        except BrokenProcessPool:
            for p in processes:
                p.join(timeout=1)
            code = next((p.exitcode for p in processes if p.exitcode is not None), None)
            result = worker.failed(job.data, job.document_id is None, worker.exit_message(code) or WORKER_DIED)
    finally:
        _terminate(pool)
    done(job, result)


# ---- ingest and reparse --------------------------------------------------------------------


def database_files(engine: Engine) -> list[Path]:
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return []
    return [Path(engine.url.database + suffix) for suffix in ("", "-wal", "-shm", "-journal")]


def stored_hashes(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.scalars(select(documents.c.sha256)))


def count_unreadable(summary: Summary, source: Source, exc: OSError | ValueError, on_problem: Problem | None) -> None:
    """A source that could not be read (or was refused): counted and reported, not stored."""
    message = str(exc) if isinstance(exc, ValueError) else f"无法读取文件 (cannot read: {exc.strerror or exc})"
    if source.refused:
        summary.refused += 1
    else:
        summary.unreadable += 1
    summary.problems.append((source.name, message))
    if on_problem:
        on_problem(source.name, message)


def ingest_jobs(sources: Iterable[Source], known: set[str], summary: Summary, on_problem: Problem | None = None,
                on_advance: Advance | None = None) -> Iterator[Job]:
    """Jobs for the sources whose bytes are not stored yet; the rest are counted as they pass."""
    reader = SourceReader()
    seen: set[str] = set()
    try:
        for source in sources:
            try:
                data = reader.read(source)
            except (OSError, ValueError) as exc:
                count_unreadable(summary, source, exc, on_problem)
            else:
                digest = hashlib.sha256(data).hexdigest()
                if digest in known:
                    summary.skipped += 1
                elif digest in seen:
                    summary.duplicates += 1
                else:
                    seen.add(digest)
                    yield Job(source.name, digest, len(data), data)
                    continue
            if on_advance:
                on_advance(summary)
    finally:
        reader.close()


def ingest(engine: Engine, paths: Iterable[str | os.PathLike[str]], *, workers: int = 0,
           on_problem: Problem | None = None, on_advance: Advance | None = None,
           on_total: Callable[[int], None] | None = None, exclude: Iterable[Path] = (),
           follow_links: bool = False, after_write: AfterWrite | None = None) -> Summary:
    """Store every document under the paths that is not stored yet (never the database's own files),
    calling `after_write` on each batch written (gongkai.review.hook.after_write: its outcomes …)."""
    summary = Summary()
    try:
        with interruptible():
            sources = list_sources(paths, [*exclude, *database_files(engine)], follow_links=follow_links)
            if on_total:
                on_total(len(sources))
            known = stored_hashes(engine)
    except KeyboardInterrupt:
        summary.interrupted = True
        return summary
    jobs = ingest_jobs(sources, known, summary, on_problem, on_advance)
    return run(engine, jobs, workers=workers, summary=summary, on_problem=on_problem, on_advance=on_advance,
               after_write=after_write)


def reparse_targets(engine: Engine, *, everything: bool = False, failed: bool = False) -> list[int]:
    """Documents to parse again: those parsed by another parser version, reports stored without the
    checker where it is now installed, failures with --failed, or all."""
    from gongkai.parse import PARSER_VERSION

    query = select(documents.c.id).order_by(documents.c.id)
    if not everything:
        stale = documents.c.parser_version != PARSER_VERSION
        if failed:
            stale = stale | (documents.c.status == "failed")
        if worker.checker() is not None:
            unchecked = select(reports.c.document_id).where(reports.c.checked.is_(False))
            stale = stale | documents.c.id.in_(unchecked)
        query = query.where(stale)
    with engine.connect() as conn:
        return list(conn.scalars(query))


def reparse_jobs(engine: Engine, ids: list[int], chunk: int = 64) -> Iterator[Job]:
    for i in range(0, len(ids), chunk):
        with engine.connect() as conn:
            rows = conn.execute(
                select(documents.c.id, documents.c.name, documents.c.sha256, documents.c.size,
                       contents.c.data, contents.c.compression)
                .join(contents, contents.c.document_id == documents.c.id)
                .where(documents.c.id.in_(ids[i:i + chunk])).order_by(documents.c.id)
            ).all()
        for row in rows:
            yield Job(row.name, row.sha256, row.size, decompress(row.data, row.compression), document_id=row.id)


def reparse(engine: Engine, *, everything: bool = False, failed: bool = False, workers: int = 0,
            on_problem: Problem | None = None, on_advance: Advance | None = None,
            on_total: Callable[[int], None] | None = None, after_write: AfterWrite | None = None) -> Summary:
    """Parse stored documents again (from their stored bytes) and replace their reports, calling
    `after_write` on each batch written."""
    try:
        with interruptible():
            ids = reparse_targets(engine, everything=everything, failed=failed)
    except KeyboardInterrupt:
        return Summary(interrupted=True)
    if on_total:
        on_total(len(ids))
    return run(engine, reparse_jobs(engine, ids), workers=workers, on_problem=on_problem, on_advance=on_advance,
               after_write=after_write)
