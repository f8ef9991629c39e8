"""The `gongkai` command: a thin layer over the pipeline's functions.

Adding a group of commands: a module of this package with `register(app)`, listed in
STAGE_COMMANDS below. Define the commands inside register() and import heavy libraries inside the
commands, so that `gongkai parse` starts fast. Use the shared pieces of `gongkai.cli.common`:

- `fail(name, problem, code=2)` ends the command with one line `gongkai: <name>: <problem>` on
  stderr; `error(...)` prints that line and goes on (a batch reports each bad file and continues);
  `warn(...)` prints `gongkai: <name>: 注意：…`. Name the file or the value the person gave; never
  add the `gongkai:` prefix yourself, and keep problems in Chinese (English detail in brackets).
- Options: `DbOpt`, `ReportFormatOpt` (a format id or a report year), `YearOpt`, `LimitOpt`,
  `OutputOpt` (-o FILE, - for stdout), `ForceOpt`, `JsonOpt`, `FilesArg` (files or folders). Give
  every new option a `metavar` a person understands (年度, 文件) and Chinese help.
- `parse_paths(paths, format_id)` parses files and folders, reporting each bad file;
  `open_engine(db)` / `open_connection(db)` open the corpus and turn any database problem inside
  the block (read-only, disk full, locked) into one line; `check_output(path, force, db, inputs)`
  refuses to overwrite an existing file without --force, the database or an input;
  `write_output(content, output, name)` writes it (or to stdout for `-`).

Usage mistakes (an unknown option, a bad value) and anything a command did not catch end in one line
and an exit code (2 for bad input), never a traceback: see `gongkai.cli.app`. Output kinds are
`--to` (json, table, docx …); the national format of a report is `--report-format`.
"""

from __future__ import annotations

import importlib
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from gongkai.cli.app import Group, VersionOpt, localise
from gongkai.cli.common import FilesArg, ReportFormatOpt, error, parse_paths
from gongkai.formats import ENV_VAR, all_formats, use_format_dirs

localise()
app = typer.Typer(cls=Group, add_completion=False, no_args_is_help=True,
                  help="政府信息公开工作年度报告：读取、核查、入库、生成。")


@app.callback()
def _root(
    formats: Annotated[list[Path] | None, typer.Option(
        "--formats", metavar="目录", help=f"另外的报告格式定义所在目录，可多次给出（也可用环境变量 {ENV_VAR}）")] = None,
    version: Annotated[bool, VersionOpt] = False,
) -> None:
    """政府信息公开工作年度报告：读取、核查、入库、生成。"""
    if formats:
        use_format_dirs(formats)
    all_formats()  # a broken format file is an error at start-up, not when a report meets it


class ParseOutput(StrEnum):
    json = "json"
    table = "table"
    full = "full"


ParseTo = Annotated[ParseOutput, typer.Option(
    "--to", "-t", metavar="json|table|full",
    help="json：每个文件一行 JSON（含文件名与各部分正文）；table：三张表；full：含原文与出处")]
# The option's name before --to; kept, hidden, for scripts written against it.
OldParseFormat = Annotated[ParseOutput | None, typer.Option("--format", "-f", hidden=True)]


def report_json(report, path) -> str:
    """One line of `parse --to json`: the file, the nested cells, and the sections' text, in the form
    `render` and `template --from` read back."""
    out = {"file": str(path), **report.nested()}
    if report.title:
        out["title"] = report.title
    if report.sections:
        out["sections"] = {s.number: s.text for s in report.sections}
    return json.dumps(out, ensure_ascii=False)


def parse_pages(paths: list[Path], format_id: str | None = None):
    """The one (first path, Report | None) that page images make; a failure is reported on stderr."""
    from gongkai.document import LoadError
    from gongkai.parse import parse
    from gongkai.read import read_pages
    from gongkai.read.pages import folder_pages

    images = [page for path in paths for page in (folder_pages(path) if path.is_dir() else [path])]
    try:
        yield paths[0], parse(read_pages(images, str(paths[0])), format_id)
    except LoadError as exc:
        error(exc.path or paths[0], exc.problem)
        yield paths[0], None


@app.command()
def parse(
    files: FilesArg,
    to: ParseTo = ParseOutput.json,
    report_format: ReportFormatOpt = None,
    old_format: OldParseFormat = None,
    pages: Annotated[bool, typer.Option(
        "--pages", metavar="", help="所列图片（或一个图片文件夹）是同一份报告的各页，按所列顺序读作一份报告")] = False,
) -> None:
    """读取报告，输出三张表的数据。

    读不了的文件在标准错误输出中列出（文件名与原因），其余照常读取。
    退出码：0 全部读取；1 有文件无法读取；2 全部无法读取。
    """
    to = old_format or to
    failed = total = 0
    for path, report in parse_pages(files, report_format) if pages else parse_paths(files, report_format):
        total += 1
        if report is None:
            failed += 1
            continue
        if to is ParseOutput.json:
            typer.echo(report_json(report, path))
        elif to is ParseOutput.full:
            typer.echo(json.dumps({"file": str(path), **report.model_dump(mode="json", exclude_none=True)},
                                  ensure_ascii=False))
        else:
            from gongkai.render.terminal import print_report

            print_report(report)
    if failed or not total:
        raise typer.Exit(code=2 if failed == total else 1)


# Each group of commands lives in a module of this package with `register(app)`.
STAGE_COMMANDS = ("gongkai.cli.check", "gongkai.cli.store", "gongkai.cli.render", "gongkai.cli.ledger", "gongkai.cli.web",
                  "gongkai.cli.review")

for _name in STAGE_COMMANDS:
    try:
        _module = importlib.import_module(_name)
    except ModuleNotFoundError as _exc:
        if not (_exc.name and _name.startswith(_exc.name)):  # that stage is not installed
            raise
        continue
    _module.register(app)


def main() -> None:  # pragma: no cover - console entry point
    app()  # usage mistakes, a broken format file and crashes: one line each (gongkai.cli.app.Group)
