"""What every command module shares: the error helper, the options, reading files and folders,
opening the database, and where outputs may be written. See the package docstring for how to use them.

No `from __future__ import annotations`: typer reads these Annotated types in the command signatures.
"""

import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from gongkai.document import LoadError

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from gongkai.model import Report

PROGRAM = "gongkai"


# ---- messages ---------------------------------------------------------------------------------


def one_line(text: object) -> str:
    """A message as one line: whatever a library or a document said, its line breaks folded."""
    return " ".join(str(text).split())


def error(name: object | None, problem: str) -> None:
    """`gongkai: <file or value>: <problem>` on stderr, once; without a name, `gongkai: <problem>`."""
    where = f"{one_line(name)}: " if name not in (None, "") else ""
    typer.echo(f"{PROGRAM}: {where}{one_line(problem)}", err=True)


def warn(name: object | None, problem: str) -> None:
    error(name, f"注意：{problem}")


def fail(name: object | None, problem: str, code: int = 2) -> NoReturn:
    """Report the problem and end the command with `code` (2: bad input; 1: the data has errors)."""
    error(name, problem)
    raise typer.Exit(code=code)


# ---- options ----------------------------------------------------------------------------------


def report_format_id(value: str | None) -> str | None:
    """--report-format: a format's id (2021, 2019) or a report year, which picks the format of that
    year (2020 → 2019: the 2019 trial format was used for the 2019 and 2020 reports)."""
    if value is None:
        return None
    from gongkai.formats import all_formats

    formats = all_formats()
    text = value.strip()
    for fmt in formats:
        if fmt.id == text:
            return fmt.id
    if text.isascii() and text.isdigit() and len(text) == 4:
        year = int(text)
        for fmt in formats:
            if (fmt.first_year or 0) <= year <= (fmt.last_year or 9999):
                return fmt.id
    known = "、".join(f"{f.id}（{f.first_year}—{f.last_year} 年度）" if f.last_year else f"{f.id}（{f.first_year} 年度起）"
                     for f in formats)
    raise typer.BadParameter(f"未知的报告格式；可用的格式：{known}，也可写报告年度")


FilesArg = Annotated[list[Path], typer.Argument(
    metavar="文件或文件夹", help="报告文件 (TXT, Markdown, HTML, DOCX, DOC/WPS, PDF, 图片)，或含报告的文件夹（含子文件夹）")]
ReportFormatOpt = Annotated[str | None, typer.Option(
    "--report-format", metavar="格式", callback=report_format_id,
    help="报告格式：2021 或 2019（也可写报告年度，如 2020）；默认按报告内容识别")]
DbOpt = Annotated[str | None, typer.Option(
    "--db", envvar="GONGKAI_DB", metavar="数据库", show_envvar=True,
    help="SQLite 文件路径或 postgresql:// 地址（默认当前目录下的 gongkai.db）")]
YearOpt = Annotated[int | None, typer.Option("--year", metavar="年度", min=1000, max=9999, help="报告年度")]
LimitOpt = Annotated[int | None, typer.Option("--limit", metavar="份数", min=0, max=10**9, help="最多列出几份")]
OutputOpt = Annotated[str | None, typer.Option("--output", "-o", metavar="文件", help="输出文件；- 为标准输出")]
ForceOpt = Annotated[bool, typer.Option("--force", metavar="", help="覆盖已有的输出文件")]
JsonOpt = Annotated[bool, typer.Option("--json", metavar="", help="输出 JSON（每行一个对象）")]


# ---- reading reports --------------------------------------------------------------------------


def expand_paths(paths: list[Path]) -> Iterator[Path]:
    """Files as given; a folder as the regular files under it, recursively, in name order. Links
    inside a folder are not followed (they may point anywhere), hidden files are passed over."""
    for path in paths:
        if not path.is_dir():
            yield path
            continue
        found = False
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                child = Path(root) / name
                if name.startswith(".") or not stat.S_ISREG(child.lstat().st_mode):
                    continue
                found = True
                yield child
        if not found:
            error(path, "文件夹中没有文件 (empty folder)")


def parse_paths(paths: list[Path], format_id: str | None = None) -> Iterator[tuple[Path, "Report | None"]]:
    """(path, Report), or (path, None) for a file that could not be read: that one is reported on
    stderr with its name and the problem, and the others are still parsed."""
    from gongkai.parse import parse_file

    for path in expand_paths(paths):
        try:
            report = parse_file(str(path), format_id)
        except LoadError as exc:
            error(exc.path or path, exc.problem)
            yield path, None
            continue
        except RecursionError:
            error(path, "文件结构嵌套过深，无法读取 (nesting too deep)")
            yield path, None
            continue
        except Exception as exc:  # a parser bug must not lose the rest of a batch
            error(path, f"解析失败 (parse failed: {type(exc).__name__}: {exc})")
            yield path, None
            continue
        warn_year(report, path)
        yield path, report


def warn_year(report: "Report", name: object) -> None:
    """A report year that cannot be right: in the future, or before its format existed."""
    if report.year is None:
        return
    from gongkai.formats import load_format

    first = load_format(report.format).first_year
    if report.year > date.today().year:
        warn(name, f"报告年度 {report.year} 年尚未到来，请核对年度")
    elif first and report.year < first:
        warn(name, f"报告年度 {report.year} 年早于所用格式（{report.format}，{first} 年起施行），请核对年度")


# ---- the database -----------------------------------------------------------------------------


def database_problem(exc: BaseException) -> str:
    """What a database error means for the person running the command."""
    text = str(getattr(exc, "orig", None) or exc)
    lowered = text.lower()
    if "readonly" in lowered or "read-only" in lowered or "read only" in lowered:
        return f"数据库只读，无法写入 (read-only database: {text})"
    if "disk is full" in lowered or "no space" in lowered:
        return f"磁盘已满，无法写入数据库 (disk full: {text})"
    if "locked" in lowered:
        return f"数据库被其他进程锁定，请稍后再试 (database is locked: {text})"
    return f"数据库出错 (database error: {text})"


@contextmanager
def open_engine(db: str | None, create: bool = False) -> Iterator["Engine"]:
    """The corpus engine; any database problem inside the block ends the command with one line."""
    from sqlalchemy.exc import DBAPIError

    from gongkai.store.db import StoreError, connect, database_url, display_name

    try:
        engine = connect(db, create=create)
    except StoreError as exc:
        fail(exc.db, exc.problem)
    try:
        yield engine
    except DBAPIError as exc:
        fail(display_name(database_url(db)), database_problem(exc))
    finally:
        engine.dispose()


@contextmanager
def open_connection(db: str | None) -> Iterator["Connection"]:
    with open_engine(db) as engine, engine.connect() as conn:
        yield conn


# ---- outputs ----------------------------------------------------------------------------------


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_output(output: str | Path, force: bool, db: str | None = None, inputs: tuple[Path, ...] = ()) -> Path:
    """Where a command may write: never over an existing file without --force, never over the
    open database or a file the command reads, never into a folder that does not exist."""
    path = Path(output)
    try:
        from gongkai.store.db import database_url, display_name
    except ImportError:  # the store is not installed: there is no database to protect
        pass
    else:
        url = database_url(db)
        if url.startswith("sqlite:///") and _same_file(path, Path(display_name(url))):
            fail(path, "这是数据库文件，不能被输出覆盖 (refusing to overwrite the database)")
    if any(_same_file(path, source) for source in inputs):
        fail(path, "这是输入文件，不能被输出覆盖 (refusing to overwrite the input)")
    if path.is_dir():
        fail(path, "是文件夹，请给出文件名 (is a directory)")
    if path.exists() and not force:
        fail(path, "文件已存在；如需覆盖请加 --force (file exists)")
    if not path.parent.is_dir():
        fail(path, "输出目录不存在 (directory not found)")
    return path


def write_output(content: str | bytes, output: str, name: object) -> None:
    """The document to `output` (a checked path) or, for `-`, to stdout."""
    if output == "-":
        if isinstance(content, str):
            sys.stdout.write(content)
            sys.stdout.flush()
            return
        if sys.stdout.isatty():
            fail(name, "不能把二进制文件（docx/pdf/xlsx）输出到终端，请用 -o 指定文件（或把标准输出重定向到文件）")
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
        return
    path = Path(output)
    try:
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
    except OSError as exc:
        fail(output, f"无法写入 (cannot write: {exc.strerror or exc})")
    typer.echo(f"已生成 {output}", err=True)
