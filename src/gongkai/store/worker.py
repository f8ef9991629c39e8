"""The CPU-bound half of ingesting: bytes → parsed, checked rows. Runs in the process pool.

Everything returned is plain data (dicts, lists, bytes), so results pickle fast back to the one
process that writes the database.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import os
import resource
import signal
import threading
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any

from gongkai.document import LoadError
from gongkai.model import Finding, Report
from gongkai.store.bulk import encode_json
from gongkai.store.db import compress
from gongkai.store.records import cell_rows, finding_rows, outcome_rows, report_row
from gongkai.store.schema import outcomes as outcomes_table

Checker = Callable[..., list[Finding]]
_checker: Checker | bool | None = False  # False: not looked up yet


def checker() -> Checker | None:
    """gongkai.check.check_report, or None where the checker is not installed."""
    global _checker
    if _checker is False:
        try:
            from gongkai.check import check_report
        except ImportError:
            _checker = None
        else:
            _checker = check_report
    return _checker  # type: ignore[return-value]


def init_worker(lifeline: Connection | None = None, format_dirs: tuple[str, ...] = ()) -> None:
    # Ctrl-C reaches the whole process group: the parent decides what to keep, workers just stop
    # when it terminates them.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if lifeline is not None:
        threading.Thread(target=_exit_with_parent, args=(lifeline,), daemon=True).start()
    watchdog()
    from gongkai.formats import all_formats, use_format_dirs

    use_format_dirs(format_dirs)  # the parent's formats from outside (--formats, GONGKAI_FORMATS)

    for fmt in all_formats():  # warm the format caches once per worker, not in the first task
        _ = fmt.all_cells


def _exit_with_parent(lifeline: Connection) -> None:
    """Exit when the ingest that started this worker is gone (killed with SIGKILL, say). Only the
    ingest holds the other end of the lifeline; the pool's own queues are held by every worker,
    so their ends never close and an orphaned worker would wait on them forever."""
    with contextlib.suppress(EOFError, OSError):
        lifeline.recv()
    os._exit(1)


# ---- the budget of one document ---------------------------------------------------------------

# Each document gets this much wall time and resident memory (beyond what its worker held before)
# in its worker process. Past the soft
# limit the task is interrupted (an exception raised in its thread at its next Python step) and the
# document recorded as failed with the limit named; a task stuck in native code past the hard limit
# (the grace more time, or half as much memory again) ends its worker process with an exit code
# that names the limit, and the ingest records the document the same way.
TIME_LIMIT = float(os.environ.get("GONGKAI_DOC_SECONDS", 120))
MEMORY_LIMIT_MB = int(os.environ.get("GONGKAI_DOC_MEMORY_MB", 2048))
GRACE_SECONDS = 5.0
EXIT_TIME, EXIT_MEMORY = 75, 76  # a worker's exit code when it ended itself over a limit


class BudgetExceeded(BaseException):
    """Raised in a task's thread over its budget. A BaseException: the readers' `except Exception`
    must not swallow it and carry on with the next page."""


class TimeExceeded(BudgetExceeded):
    pass


class MemoryExceeded(BudgetExceeded):
    pass


def time_message(seconds: float = TIME_LIMIT) -> str:
    return f"处理超时：超过每份文件 {seconds:g} 秒的上限 (time limit exceeded: GONGKAI_DOC_SECONDS={seconds:g})"


def memory_message(megabytes: int = MEMORY_LIMIT_MB) -> str:
    return f"内存超限：超过每份文件 {megabytes} MB 的上限 (memory limit exceeded: GONGKAI_DOC_MEMORY_MB={megabytes})"


def exit_message(code: int | None) -> str | None:
    """What a worker's exit code says about the document it was working on."""
    return {EXIT_TIME: time_message(), EXIT_MEMORY: memory_message()}.get(code or 0)


class _Watch:
    """The task under watch in this process: its thread, when it started, and what it was told."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.thread: int | None = None
        self.started = 0.0
        self.resident = 0.0  # MB resident when the task started: the budget is what it adds
        self.raised: type[BudgetExceeded] | None = None
        self.raised_at = 0.0


_watch = _Watch()
_watchdog: threading.Thread | None = None


def _resident_mb() -> float:
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _raise_in(thread: int, exc: type[BaseException]) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread), ctypes.py_object(exc))


def _guard(interval: float) -> None:
    while True:
        time.sleep(interval)
        with _watch.lock:
            if _watch.thread is None:
                continue
            now = time.monotonic()
            try:
                grown = _resident_mb() - _watch.resident
            except OSError:
                grown = 0.0
            if _watch.raised is None:
                over = (TimeExceeded if now - _watch.started > TIME_LIMIT
                        else MemoryExceeded if grown > MEMORY_LIMIT_MB else None)
                if over is not None:
                    _watch.raised, _watch.raised_at = over, now
                    _raise_in(_watch.thread, over)
            elif now - _watch.raised_at > GRACE_SECONDS or grown > MEMORY_LIMIT_MB * 1.5:
                os._exit(EXIT_MEMORY if _watch.raised is MemoryExceeded else EXIT_TIME)


def watchdog(interval: float = 0.2) -> None:
    """Start this process's budget guard (once)."""
    global _watchdog
    if _watchdog is None:
        _watchdog = threading.Thread(target=_guard, args=(interval,), daemon=True, name="gongkai-budget")
        _watchdog.start()


@contextlib.contextmanager
def budget() -> Iterator[None]:
    """Watch the calling thread while one document is processed in it."""
    watchdog()
    with _watch.lock:
        _watch.thread, _watch.started, _watch.raised = threading.get_ident(), time.monotonic(), None
        _watch.resident = _resident_mb()
    try:
        yield
    finally:
        _release()


def _release() -> None:
    """Stop watching; an interruption raised but not yet delivered is withdrawn."""
    thread, _watch.thread = _watch.thread, None
    with _watch.lock:
        if thread is not None and _watch.raised is not None:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread), None)


def check(report: Report) -> tuple[list[Finding], bool, str | None]:
    """(findings, checked, problem): a checker failure leaves the report stored, unchecked."""
    check_report = checker()
    if check_report is None:
        return [], False, None
    try:
        return check_report(report), True, None
    except Exception as exc:  # a checker bug must not lose the report
        return [], False, f"核查失败 (check failed: {type(exc).__name__}: {exc})"


def analyse(report: Report) -> dict[str, Any]:
    """The rows of one parsed report."""
    findings, checked, problem = check(report)
    return {
        "report": report_row(report, checked),
        "cells": cell_rows(report),
        "findings": finding_rows(findings),
        "errors": sum(f.severity == "error" for f in findings),
        "error": problem,
        "outcomes": outcomes(report) if checked else None,
    }


# Figures the corpus keeps exactly: its value column is a double, exact for integers up to 2^53.
LARGEST_FIGURE = 2**53


def unstorable(cells: list[tuple[Any, ...]]) -> str | None:
    """Why the cells cannot be stored as read (a figure past what the database keeps exactly), or None."""
    for key, value, raw, *_ in cells:
        if isinstance(value, int | float) and not (math.isfinite(value) and abs(value) <= LARGEST_FIGURE):
            shown = raw if raw and len(raw) <= 40 else f"{str(raw)[:40]}…"
            return (f"数值过大，无法准确入库：{key} = {shown}（上限 2^53 = {LARGEST_FIGURE}）"
                    f"(figure beyond the storable range)")
    return None


def failed(data: bytes, keep_content: bool, error: str | None) -> dict[str, Any]:
    """The result for a document that yields no report."""
    from gongkai.parse import PARSER_VERSION

    return {"parser_version": PARSER_VERSION, "kind": None, "status": "failed", "error": error,
            "content": compress(data) if keep_content else None, "report": None, "cells": [], "findings": [], "errors": 0}


def outcomes(report: Report) -> list[dict[str, Any]] | None:
    """Every rule instance's outcome as rows of the outcomes table, or None where the checker is not
    installed (made here, in the worker, with the rest of the report's rows)."""
    try:
        from gongkai.check import evaluate
    except ImportError:
        return None
    try:
        return encode_json(outcomes_table, outcome_rows(evaluate(report), "report"))
    except Exception:  # a checker bug must not lose the report (its findings are stored already)
        return None


def process(name: str, data: bytes, keep_content: bool = True) -> dict[str, Any]:
    """Read, parse and check one document. Never raises for a bad document: the result says why."""
    from gongkai.parse import parse
    from gongkai.read import read_bytes, sniff

    out = failed(data, keep_content, None)
    try:
        if not data:
            raise LoadError(name, "文件为空 (empty file)")
        out["kind"] = sniff(data, name)
        document = read_bytes(data, name, out["kind"])
        out["read_as"] = document.kind  # "ocr" for a scanned PDF: what the summary's throughput is by
        report = parse(document)
        report.source = name
        rows = analyse(report)
    except LoadError as exc:
        out["error"] = exc.problem
        return out
    except TimeExceeded:
        out["error"] = time_message()
        return out
    except (MemoryExceeded, MemoryError):
        out["error"] = memory_message()
        return out
    except Exception as exc:  # a parser bug must not stop the batch
        out["error"] = f"解析失败 (parse failed: {type(exc).__name__}: {str(exc)[:500]})"
        return out
    problem = unstorable(rows["cells"])
    if problem:
        out["error"] = problem
        return out
    out.update(rows)
    out["status"] = "parsed"
    return out


def with_usage(result: dict[str, Any]) -> dict[str, Any]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["usage"] = (os.getpid(), usage.ru_maxrss, usage.ru_utime + usage.ru_stime)  # pid, KiB, CPU s
    return result


def pooled(name: str, data: bytes, keep_content: bool = True) -> dict[str, Any]:
    """process() in a pool worker, reporting the worker's peak memory and CPU time too (the workers
    are not this process's children under forkserver: getrusage(RUSAGE_CHILDREN) does not see them),
    within the document's time and memory budget."""
    return with_usage(within_budget(process, name, data, keep_content))


def within_budget(task: Callable[[str, bytes, bool], dict[str, Any]], name: str, data: bytes,
                  keep_content: bool) -> dict[str, Any]:
    """task(name, data, keep_content) watched by the budget, with the seconds it took."""
    start = time.perf_counter()
    try:
        with budget():
            result = task(name, data, keep_content)
    except BudgetExceeded as exc:  # delivered just as the task ended
        _release()
        result = failed(data, keep_content, memory_message() if isinstance(exc, MemoryExceeded) else time_message())
    result["seconds"] = time.perf_counter() - start
    return result
