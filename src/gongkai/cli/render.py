"""`gongkai template` and `gongkai render`.

No `from __future__ import annotations`: typer reads the annotations when the commands are defined
inside register(), where the shared argument types are in scope."""


import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from gongkai.model import Report


class RenderTo(StrEnum):
    docx = "docx"
    html = "html"
    md = "md"
    pdf = "pdf"


class TemplateTo(StrEnum):
    xlsx = "xlsx"
    yaml = "yaml"


DbOpt = Annotated[str | None, typer.Option(
    "--db", envvar="GONGKAI_DB", help="数据库：SQLite 文件路径或 PostgreSQL URL（默认当前目录下的 gongkai.db）")]
ReportOpt = Annotated[str | None, typer.Option(
    "--report", help="库中的报告（编号、内容哈希前缀、单位@年度或文件名），代替数据文件")]
OutputOpt = Annotated[str | None, typer.Option("--output", "-o", help="输出文件；- 为标准输出")]


def _fail(name: str, problem: str, code: int = 2) -> typer.Exit:
    typer.echo(f"gongkai: {name}: {problem}", err=True)
    return typer.Exit(code=code)


def _stored(ref: str, db: str | None) -> Report:
    """A report from the corpus by the store's public API."""
    try:
        from gongkai import load
        from gongkai.store.db import StoreError
        from gongkai.store.query import NotFound
    except ImportError as exc:
        raise _fail("gongkai", f"数据库组件不可用，无法使用 --report (store unavailable: {exc})") from exc
    try:
        with load(db) as corpus:
            return corpus.report(ref)
    except StoreError as exc:
        raise _fail(exc.db, exc.problem) from exc
    except NotFound as exc:
        raise _fail("gongkai", str(exc)) from exc


def _load(data: Path | None, ref: str | None, db: str | None) -> tuple[Report, str]:
    """The report to work on and the name messages call it by."""
    from gongkai.render.template import DataError, load_data

    if (data is None) == (ref is None):
        raise _fail("gongkai", "请给出一个数据文件（YAML/JSON/xlsx），或用 --report 指定库中的报告（二者取一）")
    if ref is not None:
        return _stored(ref, db), f"库中报告 {ref}"
    try:
        return load_data(data), str(data)
    except DataError as exc:
        raise _fail(exc.path or str(data), exc.problem) from exc


def _default_name(report: Report, ref: str) -> str:
    """A file name for a stored report: its title, as a person would save it."""
    title = report.title or (f"{report.agency}{report.year or ''}年政府信息公开工作年度报告" if report.agency else f"report-{ref}")
    return re.sub(r'[\\/:*?"<>|\s]+', "_", title).strip("_") or f"report-{ref}"


def _write(content: str | bytes, output: str, name: str) -> None:
    if output == "-":
        if isinstance(content, str):
            sys.stdout.write(content)
            sys.stdout.flush()
            return
        if sys.stdout.isatty():
            raise _fail(name, "不能把 docx/pdf 输出到终端，请用 -o 指定文件（或把标准输出重定向到文件）")
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
        raise _fail(output, f"无法写入 (cannot write: {exc.strerror or exc})") from exc
    typer.echo(f"已生成 {output}", err=True)


def register(app: typer.Typer) -> None:
    @app.command()
    def template(
        to: Annotated[TemplateTo, typer.Option("--to", help="xlsx: 按官方表格版式的工作簿；yaml: 与 parse --format json 相同的单元格键")],
        output: OutputOpt = None,
        source: Annotated[Path | None, typer.Option("--from", help="用已有数据（YAML/JSON/xlsx）预填")] = None,
        report: ReportOpt = None,
        db: DbOpt = None,
        report_format: Annotated[str, typer.Option("--report-format", help="空白模板所用的报告格式 (2021/2019)")] = "2021",
    ) -> None:
        """生成填写模板：三张表的官方标签与各部分正文的位置（可用已有数据或库中报告预填）。

        填好后用 gongkai render 生成报告。默认不覆盖已有文件。
        """
        from gongkai.render.template import blank_report, template_xlsx, template_yaml

        if source is not None or report is not None:
            data, _ = _load(source, report, db)
        else:
            try:
                data = blank_report(report_format)
            except KeyError as exc:
                raise _fail("gongkai", f"未知的报告格式「{report_format}」") from exc
        if output is None:
            if source is not None:
                output = str(source.with_suffix(f".{to.value}"))
            elif report is not None:
                output = f"{_default_name(data, report)}.{to.value}"
            else:
                output = f"template-{data.format}.{to.value}"
            if Path(output).exists():  # a filled template must not be overwritten by a blank one
                raise _fail(output, "文件已存在；如需覆盖请用 -o 明确指定")
        if output == "-" and to is TemplateTo.xlsx and sys.stdout.isatty():
            raise _fail("gongkai", "不能把 xlsx 输出到终端，请用 -o 指定文件")
        _write(template_yaml(data) if to is TemplateTo.yaml else template_xlsx(data), output, output)

    @app.command()
    def render(
        data: Annotated[Path | None, typer.Argument(help="报告数据：YAML/JSON（parse --format json/full 的输出亦可）或填好的 xlsx 模板")]
        = None,
        to: Annotated[RenderTo, typer.Option("--to", help="输出格式")] = RenderTo.docx,
        output: OutputOpt = None,
        force: Annotated[bool, typer.Option("--force", help="数据有错误时仍然生成（问题列在标准错误输出）")] = False,
        report: ReportOpt = None,
        db: DbOpt = None,
    ) -> None:
        """按格式的官方版式生成报告（docx/html/md/pdf）。

        先按格式规则核查数据：有错误时不生成（退出码 1），--force 仍然生成并列出问题；警告照常列出。
        退出码：0 已生成；1 数据有错误而未生成；2 数据无法读取或无法生成。
        """
        from gongkai.check import check_report
        from gongkai.cli.check import format_findings
        from gongkai.render.template import DataError, for_rendering

        loaded, name = _load(data, report, db)
        try:
            prepared = for_rendering(loaded, name)
        except DataError as exc:
            raise _fail(name, exc.problem) from exc
        findings = check_report(prepared)
        errors = [f for f in findings if f.severity == "error"]
        if findings:
            typer.echo(format_findings(prepared, findings, name), err=True)
        missing = [label for label, value in (("单位名称", prepared.agency), ("报告年度", prepared.year)) if not value]
        if missing:
            typer.echo(f"gongkai: {name}: 注意：未填{'、'.join(missing)}，标题将不完整", err=True)
        if errors and not force:
            typer.echo(f"gongkai: {name}: 数据有 {len(errors)} 项错误，未生成报告；请核对数据，或用 --force 仍然生成。", err=True)
            raise typer.Exit(code=1)
        if errors:
            typer.echo(f"gongkai: {name}: 数据有 {len(errors)} 项错误，按 --force 仍然生成。", err=True)
        if output is None:
            output = str(data.with_suffix(f".{to.value}")) if data is not None else f"{_default_name(prepared, report or '')}.{to.value}"
        _write(_render(prepared, to, name), output, name)


def _render(report: Report, to: RenderTo, name: str) -> str | bytes:
    if to is RenderTo.md:
        from gongkai.render.markdown import render_markdown

        return render_markdown(report)
    if to is RenderTo.html:
        from gongkai.render.html import render_html

        return render_html(report)
    if to is RenderTo.docx:
        from gongkai.render.docx import render_docx

        return render_docx(report)
    from gongkai.render.pdf import RenderError, render_pdf

    try:
        return render_pdf(report)
    except RenderError as exc:
        raise _fail(name, str(exc)) from exc
