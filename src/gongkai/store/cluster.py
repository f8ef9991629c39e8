"""Ingest and re-parse on a Dask cluster: workers read, parse and check; this process writes.

`ingest_on_cluster(engine, paths, "tcp://scheduler:8786")` (or "local:N" for a LocalCluster of N
worker processes here) does what `ingest.ingest` does, with the CPU-bound half on dask.distributed
workers and the same one Writer, so the guarantees are the same: each document stored once by its
content hash, a re-run skips what is stored, an interrupted run is resumed by running it again.

Work is cut in pieces that balance:
- documents the client lists from a path or URL are read by the workers themselves (fsspec:
  `file://` on a shared file system, `s3://` …): the client sends names, not bytes; members of zip
  archives and stored documents (reparse) are shipped as bytes;
- small documents (text, HTML, Office) travel in batches of up to BATCH_BYTES/BATCH_DOCUMENTS, so
  the scheduler's cost per task (~1 ms) stays small beside the parsing;
- a PDF goes alone, and a scanned one is split by page: its worker sends each page's OCR to the
  cluster (`worker_client`) and joins the pages in order (gongkai.read.ocr.page_map).

A worker that dies (out of memory, a crash in a native reader) fails its task and every task in
flight is a suspect (the scheduler may have queued several on that worker): each is run again
alone, nothing else in flight, and one that kills its worker then too is stored as failed with the
reason, as the local ingest does. The scheduler's own retries are turned off for a LocalCluster;
start a remote scheduler with DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=0 for the same rule.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from gongkai.store import worker
from gongkai.store.ingest import (
    WORKER_DIED,
    Advance,
    AfterWrite,
    Job,
    Problem,
    Source,
    SourceReader,
    Summary,
    Writer,
    _sigint_ignored,
    count_unreadable,
    count_usage,
    database_files,
    interruptible,
    list_sources,
    read_file,
    reparse_jobs,
    reparse_targets,
    stored_hashes,
    was_interrupted,
)

BATCH_DOCUMENTS = 32
BATCH_BYTES = 2 * 1024 * 1024
ALONE = (".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".gif", ".bmp", ".webp")  # by name: one per task


class ClusterError(Exception):
    """The cluster cannot be reached or used, for people."""


@dataclass(slots=True)
class Item:
    """One document in a task: its name, its bytes or where a worker reads them, and, for a
    stored document being parsed again, its id."""

    name: str
    payload: bytes | str  # bytes, or a URL (file://…, s3://…)
    size: int
    document_id: int | None = None


# ---- on the workers ----------------------------------------------------------------------------


def fetch(url: str, max_bytes: int | None = None) -> bytes:
    """A document's bytes from a URL: file:// without following links and never from a FIFO or
    device, anything else through fsspec."""
    from gongkai.read import MAX_BYTES

    limit = max_bytes or MAX_BYTES
    if url.startswith("file://"):
        return read_file(Path(url.removeprefix("file://")), limit)
    import fsspec

    with fsspec.open(url, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"文件过大：超过 {limit} 字节的上限 (file too large)")
    return data


def run_items(items: list[tuple[str, bytes | str, bool]], known: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """The task: read, hash, parse and check each document; one result per item, in order.
    A document whose hash is in `known` (stored already) is not parsed."""
    from gongkai.read.ocr import page_map

    out = []
    with page_map(_cluster_page_map):
        for name, payload, keep_content in items:
            try:
                data = payload if isinstance(payload, bytes) else fetch(payload)
            except (OSError, ValueError) as exc:
                message = str(exc) if isinstance(exc, ValueError) else f"无法读取文件 (cannot read: {exc.strerror or exc})"
                out.append({"unreadable": message})
                continue
            digest = hashlib.sha256(data).hexdigest()
            if digest in known:
                out.append({"sha256": digest, "size": len(data), "skipped": True})
                continue
            result = worker.with_usage(worker.within_budget(worker.process, name, data, keep_content))
            out.append({**result, "sha256": digest, "size": len(data)})
    return out


def warm_worker(dirs: tuple[str, ...] = ()) -> None:
    """Import the parser and checker, take the client's format folders (--formats, GONGKAI_FORMATS)
    and start the budget's watchdog, once per worker, before any task."""
    import gongkai.parse
    import gongkai.read  # noqa: F401
    from gongkai.formats import all_formats, use_format_dirs

    use_format_dirs(dirs)
    worker.checker()
    for fmt in all_formats():
        _ = fmt.all_cells
    worker.watchdog()


def _cluster_page_map(function: Callable[..., Any], data: bytes, pages: list[int]) -> list[Any]:
    """Pages of a scan recognised across the cluster, in order (this task waits outside the
    worker's thread pool meanwhile, so that pages can run on this worker too)."""
    from distributed import worker_client

    with worker_client() as client:
        shared = client.scatter(data)
        return client.gather(client.map(function, [shared] * len(pages), pages, pure=False))


# ---- the client --------------------------------------------------------------------------------


# No scheduler retries: a task whose worker died comes back to run_on_cluster, which retries it
# its own way (see the module's docstring).
CONFIG = {"distributed.scheduler.allowed-failures": 0, "distributed.admin.system-monitor.gil.enabled": False}


# A LocalCluster (a SpecCluster) closes the Nanny of a worker that died when no worker of its name
# is back on the scheduler within this time (distributed's default: 15 s), killing the worker its
# Nanny is restarting. A worker takes 20–80 s to start on this 2-core machine under load (measured
# at load averages of 8–30), so with the default a killed worker never came back and the cluster
# shrank for good. Longer than NO_WORKERS_SECONDS: the run ends before a restart is given up.
LOST_WORKER_TIMEOUT = "600s"


def local_cluster(n: int) -> Any:
    """A LocalCluster of n worker processes of one thread each (the parser holds the GIL; OCR gets
    one core per worker), started with Ctrl-C ignored: the worker processes inherit that, and the
    ingest decides what an interruption keeps. A worker that dies is restarted by its Nanny."""
    import dask
    from distributed import LocalCluster

    # Set for the process, not within the block below: it is read when a worker dies, in the
    # cluster's event loop. It concerns only clusters started here (SpecClusters).
    dask.config.set({"distributed.deploy.lost-worker-timeout": LOST_WORKER_TIMEOUT})
    with dask.config.set(CONFIG), _sigint_ignored():
        return LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                            silence_logs=logging.ERROR, env={"GONGKAI_OCR_THREADS": "1"})


@contextlib.contextmanager
def open_client(address: str) -> Iterator[Any]:
    """A dask.distributed Client on the scheduler at `address`, or on a LocalCluster ("local:N")."""
    try:
        import dask
        from distributed import Client
    except ImportError as exc:
        raise ClusterError(f"未安装 Dask（pip install distributed）(dask.distributed not installed: {exc})") from exc
    for name in ("distributed", "bokeh", "tornado"):
        logging.getLogger(name).setLevel(logging.ERROR)
    cluster = None
    try:
        if address.startswith("local:"):
            n = _local_workers(address)
            cluster = local_cluster(n)
            client = Client(cluster)
        else:
            with dask.config.set(CONFIG):
                client = Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        if cluster is not None:
            cluster.close()
        raise ClusterError(f"无法连接 Dask 集群 (cannot reach the cluster: {exc})") from exc
    from gongkai.formats import format_dirs

    with contextlib.suppress(Exception):
        client.run(warm_worker, format_dirs())
    try:
        yield client
    finally:
        # Interrupted, the process ends now: a LocalCluster's workers exit with it (their parent).
        if not was_interrupted():
            with contextlib.suppress(Exception):
                client.close(timeout=5)
            if cluster is not None:
                with contextlib.suppress(Exception):
                    cluster.close(timeout=5)


def _local_workers(address: str) -> int:
    try:
        n = int(address.removeprefix("local:"))
    except ValueError:
        raise ClusterError(f"local:N 中的 N 应为工作进程数 (local:N needs a number: {address})") from None
    if n < 1:
        raise ClusterError("local:N 至少要有 1 个工作进程 (local:N needs N ≥ 1)")
    return n


def dashboard(client: Any) -> str | None:
    """The dashboard's address, or None where bokeh (which serves it) is not installed."""
    try:
        import bokeh  # noqa: F401
    except ImportError:
        return None
    return client.dashboard_link


def _url(source: Source) -> str | None:
    """Where a worker reads the source: its own URL, or file:// for a plain file (a shared path)."""
    if source.members or source.refused:
        return None
    text = str(source.path)
    if "://" in source.name:
        return source.name
    return "file://" + str(Path(text).resolve()) if text else None


def url_sources(paths: Iterable[str]) -> Iterator[Source]:
    """The documents under fsspec URLs (s3://bucket/folder …): files as listed by the store."""
    import fsspec

    for given in paths:
        fs, root = fsspec.core.url_to_fs(given)
        protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        found = fs.find(root) if fs.isdir(root) else [root]
        for name in sorted(found):
            url = fs.unstrip_protocol(name) if hasattr(fs, "unstrip_protocol") else f"{protocol}://{name}"
            yield Source(url, Path(name))


def _batches(items: Iterable[Item]) -> Iterator[list[Item]]:
    batch: list[Item] = []
    size = 0
    for item in items:
        if item.name.lower().endswith(ALONE):
            yield [item]
            continue
        batch.append(item)
        size += item.size
        if len(batch) >= BATCH_DOCUMENTS or size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


Task = Callable[[list[tuple[str, bytes | str, bool]], frozenset[str]], list[dict[str, Any]]]


def run_on_cluster(engine: Engine, client: Any, items: Iterable[Item], summary: Summary, *,
                   known: frozenset[str] = frozenset(), on_problem: Problem | None = None,
                   on_advance: Advance | None = None, task: Task = run_items,
                   after_write: AfterWrite | None = None) -> Summary:
    """Send the items to the cluster in batches and store the results with one Writer, as
    `ingest.run`. `task` is what a worker runs on a batch; `after_write`, what follows each batch written."""
    writer = Writer(engine, summary, on_problem=on_problem, after_write=after_write)
    seen: set[str] = set()
    start = time.monotonic()
    known_future = client.scatter([known], broadcast=True)[0] if known else frozenset()
    workers = max(len(client.scheduler_info(n_workers=-1).get("workers", {})), 1)
    limit = workers * 4  # tasks in flight: enough to keep every worker busy, bytes in memory bounded
    batches = _batches(items)
    pending: dict[Any, list[Item]] = {}

    def problem(name: str, message: str) -> None:
        summary.problems.append((name, message))
        if on_problem:
            on_problem(name, message)

    def submit(batch: list[Item]) -> None:
        payload = [(i.name, i.payload, i.document_id is None) for i in batch]
        future = client.submit(task, payload, known_future, pure=False)
        pending[future] = batch

    def fill() -> None:
        while len(pending) < limit:
            batch = next(batches, None)
            if batch is None:
                return
            submit(batch)

    def store(item: Item, result: dict[str, Any]) -> None:
        if "unreadable" in result:
            summary.unreadable += 1
            problem(item.name, result["unreadable"])
        elif result.get("skipped") or (item.document_id is None and result["sha256"] in seen):
            if result.get("skipped"):
                summary.skipped += 1
            else:
                summary.duplicates += 1
        else:
            seen.add(result["sha256"])
            if result["error"]:
                problem(item.name, result["error"])
            count_usage(summary, result)
            writer.add(Job(item.name, result["sha256"], result["size"], b"", item.document_id), result)
        if on_advance:
            on_advance(summary)

    def isolate(item: Item) -> None:
        """A suspect (its task's worker died) run alone on the cluster, nothing else in flight: if its
        worker dies again, it is the culprit and is stored as failed; a bystander comes through."""
        future = client.submit(task, [(item.name, item.payload, item.document_id is None)], known_future, pure=False)
        try:
            _wait(client, [future])
            (result,) = future.result()
        except Exception as exc:
            try:
                data = item.payload if isinstance(item.payload, bytes) else fetch(item.payload)
            except (OSError, ValueError) as read_exc:
                store(item, {"unreadable": f"无法读取文件 (cannot read: {read_exc})"})
                return
            reason = WORKER_DIED if _is_killed_worker(exc) else f"{WORKER_DIED}: {type(exc).__name__}: {exc}"
            result = {**worker.failed(data, item.document_id is None, reason),
                      "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        store(item, result)

    try:
        with interruptible():
            try:
                fill()
                while pending:
                    for future in _wait(client, list(pending)):
                        batch = pending.pop(future, None)
                        if batch is None:
                            continue  # cancelled below, with its batch among the suspects
                        try:
                            results = future.result()
                        except Exception:
                            # Its worker died (or the task raised, which run_items never means to).
                            # Every task in flight may have shared that worker: all are suspects,
                            # each run alone.
                            suspects = batch + [item for other in pending.values() for item in other]
                            for other in pending:
                                other.cancel()
                            pending.clear()
                            for item in suspects:
                                isolate(item)
                        else:
                            for item, result in zip(batch, results, strict=True):
                                store(item, result)
                    fill()
                writer.flush()
            except (KeyboardInterrupt, ClusterError) as exc:
                summary.interrupted = isinstance(exc, KeyboardInterrupt)
                for future in pending:
                    future.cancel()
                writer.flush()  # keep what is parsed
                if isinstance(exc, ClusterError):
                    raise
    finally:
        summary.seconds += time.monotonic() - start
    return summary


# A cluster left with no workers (all died and none came back) for this long ends the run.
NO_WORKERS_SECONDS = 300


def _wait(client: Any, futures: list[Any]) -> set[Any]:
    """The futures done once one is; ClusterError when the cluster has had no worker for NO_WORKERS_SECONDS."""
    from distributed import wait

    alone_since = None
    while True:
        try:
            done, _ = wait(futures, timeout=0.5, return_when="FIRST_COMPLETED")  # short: Ctrl-C is seen between waits
        except TimeoutError:
            done = set()
        if done:
            return done
        if client.scheduler_info(n_workers=-1).get("workers"):
            alone_since = None
        elif alone_since is None:
            alone_since = time.monotonic()
        elif time.monotonic() - alone_since > NO_WORKERS_SECONDS:
            raise ClusterError(f"集群中已没有工作进程（{NO_WORKERS_SECONDS} 秒） (no workers left on the cluster)")


def _is_killed_worker(exc: BaseException) -> bool:
    from distributed.scheduler import KilledWorker

    return isinstance(exc, KilledWorker)


def _check_database(engine: Engine, address: str) -> None:
    """A cluster writes to PostgreSQL; SQLite only when the cluster runs on this machine."""
    from urllib.parse import urlsplit

    here = address.startswith("local:") or urlsplit(address).hostname in ("127.0.0.1", "localhost", "::1")
    if engine.dialect.name == "sqlite" and not here:
        raise ClusterError("集群入库请使用 PostgreSQL 数据库（--db postgresql://…）；SQLite 只用于本机 local:N "
                           "(a cluster writes to PostgreSQL; SQLite only with local:N)")


def ingest_on_cluster(engine: Engine, paths: Iterable[str | os.PathLike[str]], address: str, *,
                      follow_links: bool = False, on_problem: Problem | None = None,
                      on_advance: Advance | None = None, on_total: Callable[[int], None] | None = None,
                      exclude: Iterable[Path] = (), task: Task = run_items,
                      after_write: AfterWrite | None = None) -> Summary:
    """`ingest.ingest` on the cluster at `address` (tcp://… or local:N)."""
    _check_database(engine, address)
    paths = [str(p) for p in paths]
    summary = Summary()
    try:
        with interruptible():
            urls = [p for p in paths if "://" in p and not p.startswith("file://")]
            local = [p.removeprefix("file://") for p in paths if p not in urls]
            sources = list_sources(local, [*exclude, *database_files(engine)], follow_links=follow_links)
            sources += list(url_sources(urls))
            if on_total:
                on_total(len(sources))
            known = frozenset(stored_hashes(engine))
    except KeyboardInterrupt:
        summary.interrupted = True
        return summary
    with open_client(address) as client:
        summary.dashboard = dashboard(client)
        return run_on_cluster(engine, client, items_from_sources(sources, summary, on_problem, on_advance), summary,
                              known=known, on_problem=on_problem, on_advance=on_advance, task=task,
                              after_write=after_write)


def items_from_sources(sources: list[Source], summary: Summary, on_problem: Problem | None,
           on_advance: Advance | None) -> Iterator[Item]:
    """Sources as items: a plain file by its URL (the worker reads it), an archive member by its
    bytes (read here); refused sources are counted as they pass."""
    reader = SourceReader()
    try:
        for source in sources:
            url = _url(source)
            if url is not None:
                size = _size(source)
                yield Item(source.name, url, size)
                continue
            try:
                data = reader.read(source)
            except (OSError, ValueError) as exc:
                count_unreadable(summary, source, exc, on_problem)
                if on_advance:
                    on_advance(summary)
                continue
            yield Item(source.name, data, len(data))
    finally:
        reader.close()


def _size(source: Source) -> int:
    try:
        return source.path.stat().st_size if "://" not in source.name else 0
    except OSError:
        return 0


def reparse_on_cluster(engine: Engine, address: str, *, everything: bool = False, failed: bool = False,
                       on_problem: Problem | None = None, on_advance: Advance | None = None,
                       on_total: Callable[[int], None] | None = None,
                       after_write: AfterWrite | None = None) -> Summary:
    """`ingest.reparse` on the cluster: the stored bytes are shipped to the workers."""
    _check_database(engine, address)
    try:
        with interruptible():
            ids = reparse_targets(engine, everything=everything, failed=failed)
    except KeyboardInterrupt:
        return Summary(interrupted=True)
    if on_total:
        on_total(len(ids))
    summary = Summary()
    items = (Item(job.name, job.data, job.size, job.document_id) for job in reparse_jobs(engine, ids))
    with open_client(address) as client:
        summary.dashboard = dashboard(client)
        return run_on_cluster(engine, client, items, summary, on_problem=on_problem, on_advance=on_advance,
                              after_write=after_write)
