"""The `gongkai` command: a thin layer over the pipeline's functions."""

from __future__ import annotations

import importlib
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from gongkai.document import LoadError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="政府信息公开工作年度报告：读取、核查、入库、生成。")


@app.callback()
def _root() -> None:
    """政府信息公开工作年度报告：读取、核查、入库、生成。"""


class ParseOutput(StrEnum):
    json = "json"
    table = "table"
    full = "full"


def _error(path: str, problem: str) -> None:
    typer.echo(f"gongkai: {path}: {problem}", err=True)


def parse_paths(paths: list[Path], format_id: str | None = None):
    """Yield (path, Report | None); a file that fails is reported on stderr and yields None."""
    from gongkai.parse import parse_file

    for path in paths:
        try:
            yield path, parse_file(str(path), format_id)
        except LoadError as exc:
            _error(str(path), exc.problem)
            yield path, None
        except Exception as exc:  # a parser bug must not lose the rest of a batch
            _error(str(path), f"解析失败 (parse failed: {type(exc).__name__}: {exc})")
            yield path, None


FilesArg = Annotated[list[Path], typer.Argument(help="报告文件 (TXT, Markdown, HTML, DOCX, DOC/WPS, PDF, 图片)")]
FormatOpt = Annotated[str | None, typer.Option("--report-format", help="强制使用的报告格式 (2021/2019)；默认自动识别")]


@app.command()
def parse(
    files: FilesArg,
    format: Annotated[ParseOutput, typer.Option(
        "--format", "-f", help="json: 每个文件一行 JSON；table: 三张表；full: 含原文与出处")] = ParseOutput.json,
    report_format: FormatOpt = None,
) -> None:
    """读取报告，输出三张表的数据。"""
    failed = 0
    for _path, report in parse_paths(files, report_format):
        if report is None:
            failed += 1
            continue
        if format is ParseOutput.json:
            typer.echo(json.dumps(report.nested(), ensure_ascii=False))
        elif format is ParseOutput.full:
            typer.echo(report.model_dump_json(exclude_none=True))
        else:
            from gongkai.render.terminal import print_report

            print_report(report)
    if failed:
        raise typer.Exit(code=2 if failed == len(files) else 1)


# Each group of commands lives in a module of this package with `register(app)`; the modules
# import their heavy libraries inside the commands so that `gongkai parse` starts fast.
STAGE_COMMANDS = ("gongkai.cli.check", "gongkai.cli.store", "gongkai.cli.render", "gongkai.cli.review")

for _name in STAGE_COMMANDS:
    try:
        _module = importlib.import_module(_name)
    except ModuleNotFoundError as _exc:
        if not (_exc.name and _name.startswith(_exc.name)):  # that stage is not installed
            raise
        continue
    _module.register(app)


def main() -> None:  # pragma: no cover - console entry point
    try:
        app()
    except BrokenPipeError:
        sys.stderr.close()
