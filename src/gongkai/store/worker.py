"""The CPU-bound half of ingesting: bytes → parsed, checked rows. Runs in the process pool.

Everything returned is plain data (dicts, lists, bytes), so results pickle fast back to the one
process that writes the database.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from gongkai.document import LoadError
from gongkai.model import Finding, Report
from gongkai.store.db import compress
from gongkai.store.records import cell_rows, finding_rows, report_row

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


def outcomes(report: Report) -> list[dict[str, Any]] | None:
    """Every rule instance's outcome as rows (gongkai.review), or None where it is not installed."""
    try:
        from gongkai.review.outcomes import evaluate_rows
    except ImportError:
        return None
    try:
        return evaluate_rows(report)
    except Exception:  # a checker bug must not lose the report (its findings are stored already)
        return None


def process(name: str, data: bytes, keep_content: bool = True) -> dict[str, Any]:
    """Read, parse and check one document. Never raises for a bad document: the result says why."""
    from gongkai.parse import PARSER_VERSION, parse
    from gongkai.read import read_bytes, sniff

    out: dict[str, Any] = {"parser_version": PARSER_VERSION, "kind": None, "status": "failed", "error": None,
                           "content": compress(data) if keep_content else None, "report": None,
                           "cells": [], "findings": [], "errors": 0}
    try:
        if not data:
            raise LoadError(name, "文件为空 (empty file)")
        out["kind"] = sniff(data, name)
        report = parse(read_bytes(data, name, out["kind"]))
        report.source = name
    except LoadError as exc:
        out["error"] = exc.problem
        return out
    except Exception as exc:  # a parser bug must not stop the batch
        out["error"] = f"解析失败 (parse failed: {type(exc).__name__}: {exc})"
        return out
    out.update(analyse(report))
    out["status"] = "parsed"
    return out


def with_usage(result: dict[str, Any]) -> dict[str, Any]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["usage"] = (os.getpid(), usage.ru_maxrss, usage.ru_utime + usage.ru_stime)  # pid, KiB, CPU s
    return result


def pooled(name: str, data: bytes, keep_content: bool = True) -> dict[str, Any]:
    """process() in a pool worker, reporting the worker's peak memory and CPU time too (the workers
    are not this process's children under forkserver: getrusage(RUSAGE_CHILDREN) does not see them)."""
    return with_usage(process(name, data, keep_content))
