"""`gongkai template` and `gongkai render`.

No `from __future__ import annotations`: typer reads the annotations when the commands are defined
inside register(), where the shared argument types are in scope."""


import re
import sys
import zipfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from gongkai.cli.common import (
    DbOpt,
    OutputOpt,
    ReportFormatOpt,
    check_output,
    error,
    fail,
    warn,
    warn_year,
    write_output,
)
from gongkai.model import Report


class RenderTo(StrEnum):
    docx = "docx"
    html = "html"
    md = "md"
    pdf = "pdf"


class TemplateTo(StrEnum):
    xlsx = "xlsx"
    yaml = "yaml"


ReportOpt = Annotated[str | None, typer.Option(
    "--report", metavar="报告", help="库中的报告（编号、内容哈希前缀、单位@年度或文件名），代替数据文件")]
# Read as report data: the template's YAML, `parse --to json/full` output, a filled workbook.
DATA_SUFFIXES = (".yaml", ".yml", ".json", ".xlsx", ".xlsm")
# Read as a report document (through parse) whatever it holds.
DOCUMENT_SUFFIXES = (".txt", ".md", ".markdown", ".htm", ".html", ".pdf", ".docx", ".doc", ".wps", ".rtf")


def _stored(ref: str, db: str | None) -> Report:
    """A report from the corpus by the store's public API."""
    try:
        from gongkai import load
        from gongkai.store.db import StoreError
        from gongkai.store.query import NotFound
    except ImportError as exc:
        fail(None, f"数据库组件不可用，无法使用 --report (store unavailable: {exc})")
    try:
        with load(db) as corpus:
            return corpus.report(ref)
    except StoreError as exc:
        fail(exc.db, exc.problem)
    except NotFound as exc:
        fail(None, str(exc))


def _is_workbook(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def read_any(path: Path, format_id: str | None = None) -> Report:
    """A report from any file a person has: report data (YAML/JSON/a filled workbook) as it is, a
    report document (text, HTML, DOCX, PDF, scans …) through parse."""
    from gongkai.document import LoadError
    from gongkai.parse import parse_file
    from gongkai.read.data import DataError, load_data

    suffix = path.suffix.lower()
    try:
        if suffix in DATA_SUFFIXES or (suffix not in DOCUMENT_SUFFIXES and _is_workbook(path)):
            return load_data(path)
        if suffix not in DOCUMENT_SUFFIXES:
            try:
                return load_data(path)
            except DataError as exc:
                if not ("YAML" in exc.problem or "不是报告数据" in exc.problem):
                    raise
        return parse_file(str(path), format_id)
    except LoadError as exc:
        fail(exc.path or path, exc.problem)


def _load(data: Path | None, ref: str | None, db: str | None) -> tuple[Report, str]:
    """The report to work on and the name messages call it by."""
    if (data is None) == (ref is None):
        fail(None, "请给出一份报告或数据文件，或用 --report 指定库中的报告（二者取一）")
    if ref is not None:
        return _stored(ref, db), f"库中报告 {ref}"
    return read_any(data), str(data)


def _default_name(report: Report, ref: str) -> str:
    """A file name for a stored report: its title, as a person would save it."""
    title = report.title or (f"{report.agency}{report.year or ''}年政府信息公开工作年度报告" if report.agency else f"report-{ref}")
    return re.sub(r'[\\/:*?"<>|\s]+', "_", title).strip("_")[:120] or f"report-{ref}"


def register(app: typer.Typer) -> None:
    @app.command()
    def template(
        to: Annotated[TemplateTo, typer.Option(
            "--to", metavar="xlsx|yaml", help="xlsx：按官方表格版式的工作簿；yaml：与 parse --to json 相同的单元格键")],
        output: OutputOpt = None,
        source: Annotated[Path | None, typer.Option(
            "--from", metavar="文件", help="用已有的报告或数据预填（报告原文、YAML/JSON、填好的 xlsx）")] = None,
        report: ReportOpt = None,
        db: DbOpt = None,
        report_format: ReportFormatOpt = None,
        force: Annotated[bool, typer.Option("--force", metavar="", help="覆盖已有的输出文件")] = False,
    ) -> None:
        """生成填写模板：三张表的官方标签与各部分正文的位置（可用已有报告、数据或库中报告预填）。

        填好后用 gongkai render 生成报告。不覆盖已有文件（--force 覆盖）。
        """
        from gongkai.formats import DEFAULT_FORMAT
        from gongkai.render.template import blank_report, template_xlsx, template_yaml

        if source is not None or report is not None:
            data, _ = _load(source, report, db)
        else:
            data = blank_report(report_format or DEFAULT_FORMAT)
        if output is None:
            if source is not None:
                output = str(source.with_suffix(f".{to.value}"))
            elif report is not None:
                output = f"{_default_name(data, report)}.{to.value}"
            else:
                output = f"template-{data.format}.{to.value}"
        if output != "-":
            check_output(output, force, db, (source,) if source else ())
        elif to is TemplateTo.xlsx and sys.stdout.isatty():
            fail(None, "不能把 xlsx 输出到终端，请用 -o 指定文件")
        write_output(template_yaml(data) if to is TemplateTo.yaml else template_xlsx(data), output, output)

    @app.command()
    def render(
        data: Annotated[Path | None, typer.Argument(
            metavar="[报告或数据]", help="报告原文（TXT/HTML/DOCX/PDF…）、数据（YAML/JSON，parse 的输出亦可）或填好的 xlsx 模板")]
        = None,
        to: Annotated[RenderTo, typer.Option("--to", metavar="docx|html|md|pdf", help="输出格式")] = RenderTo.docx,
        output: OutputOpt = None,
        force: Annotated[bool, typer.Option(
            "--force", metavar="", help="数据有错误时仍然生成（问题列在标准错误输出），并覆盖已有的输出文件")] = False,
        report: ReportOpt = None,
        db: DbOpt = None,
    ) -> None:
        """按格式的官方版式生成报告（docx/html/md/pdf）。

        先按格式规则核查数据：有错误时不生成（退出码 1），--force 仍然生成并列出问题；警告照常列出。
        输出默认在数据文件旁（换扩展名）；已有文件不覆盖，除非 --force。
        退出码：0 已生成；1 数据有错误而未生成；2 数据无法读取或无法生成。
        """
        from gongkai.check import check_report
        from gongkai.cli.check import format_findings
        from gongkai.read.data import DataError
        from gongkai.render.template import for_rendering

        loaded, name = _load(data, report, db)
        if output is None:
            output = str(data.with_suffix(f".{to.value}")) if data is not None else f"{_default_name(loaded, report or '')}.{to.value}"
        if output != "-":  # before the work: a refusal should not wait for a PDF
            check_output(output, force, db, (data,) if data else ())
        try:
            prepared = for_rendering(loaded, name)
        except DataError as exc:
            fail(name, exc.problem)
        warn_year(prepared, name)
        findings = check_report(prepared)
        errors = [f for f in findings if f.severity == "error"]
        if findings:
            typer.echo(format_findings(prepared, findings, name), err=True)
        missing = [label for label, value in (("单位名称", prepared.agency), ("报告年度", prepared.year)) if not value]
        if missing:
            warn(name, f"未填{'、'.join(missing)}，标题将不完整")
        if errors and not force:
            fail(name, f"数据有 {len(errors)} 项错误，未生成报告；请核对数据，或用 --force 仍然生成。", code=1)
        if errors:
            error(name, f"数据有 {len(errors)} 项错误，按 --force 仍然生成。")
        write_output(_render(prepared, to, name), output, name)


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
        fail(name, str(exc))
