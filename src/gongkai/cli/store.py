"""Corpus commands: ingest, reparse, list, show, compare, stats, export.

Heavy imports (SQLAlchemy, pandas) happen inside the commands so that `gongkai parse` starts fast.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from gongkai.cli.common import (
    DbOpt,
    ForceOpt,
    JsonOpt,
    LimitOpt,
    YearOpt,
    check_output,
    fail,
    open_connection,
    open_engine,
)
from gongkai.text import figure_text

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy import Connection, Engine

    from gongkai.model import Finding
    from gongkai.store.ingest import Summary

AgencyOpt = Annotated[str | None, typer.Option("--agency", metavar="单位", help="单位名称（包含即可）")]
RegionOpt = Annotated[str | None, typer.Option(
    "--region", metavar="地区", help="地区：行政区划代码（41、4113）、省份（河南）、城市（南阳市）或区县（西峡县）")]
ErrorsOpt = Annotated[bool | None, typer.Option("--has-errors/--no-errors", metavar="", help="只列有（或没有）错误的报告")]
WorkersOpt = Annotated[int, typer.Option(
    "--workers", "-j", metavar="进程数", min=0, max=1024, help="解析进程数（默认为 CPU 核数；1 为不并行）")]
ProgressOpt = Annotated[bool | None, typer.Option("--progress/--no-progress", metavar="", help="显示进度条（终端中默认显示）")]
ReportArg = Annotated[str, typer.Argument(metavar="报告", help="报告：编号、内容哈希前缀、单位@年度 或 文件名")]
FollowLinksOpt = Annotated[bool, typer.Option(
    "--follow-links", metavar="", help="跟随指向所给文件夹之内的符号链接（默认不跟随任何链接）")]
ClusterOpt = Annotated[str | None, typer.Option(
    "--cluster", metavar="tcp://主机:8786|local:N",
    help="在 Dask 集群上解析：调度器地址，或 local:N 在本机启动 N 个工作进程（集群请用 PostgreSQL 数据库）")]


def _filters(agency: str | None, year: int | None, region: str | None, has_errors: bool | None = None):
    from gongkai.store.query import Filters

    return Filters(agency=agency, year=year, region=region, has_errors=has_errors)


def _console(stderr: bool = False) -> Console:
    from gongkai.render.terminal import console_for_output

    return console_for_output(stderr)


def _figure(value: Any) -> str:
    return "·" if value is None else figure_text(value)


def _text(value: str | None, blank: str = "") -> Any:
    """Text from a document for a rich table: never read as markup."""
    from rich.text import Text

    return Text(value or blank)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _region(province: str | None, city: str | None) -> str:
    return "".join(x for x in (province, city) if x) or "—"


def _resolve(conn: Connection, ref: str) -> int:
    from gongkai.store.query import NotFound, resolve

    if not ref.strip():
        fail(None, "请给出报告：编号、内容哈希前缀、单位@年度 或 文件名", code=2)
    try:
        return resolve(conn, ref)
    except NotFound as exc:
        fail(None, str(exc), code=1)


# ---- ingest --------------------------------------------------------------------------------


def _print_summary(summary: Summary, verb: str, done: str = "新入库报告", skipped: str = "已在库中") -> None:
    rate = (summary.parsed + summary.failed) / summary.seconds if summary.seconds else 0.0
    head = "已中断" if summary.interrupted else f"{verb}完成"
    refused = f"拒绝 {summary.refused} 个（链接、特殊文件或超限的压缩包内容），" if summary.refused else ""
    typer.echo(f"{head}：{done} {summary.parsed} 份（其中核查发现错误 {summary.with_errors} 份），"
               f"解析失败 {summary.failed} 份，无法读取 {summary.unreadable} 份，{refused}{skipped} {summary.skipped} 份，"
               f"重复文件 {summary.duplicates} 份；用时 {summary.seconds:.1f} 秒（每秒 {rate:.0f} 份）。")
    for kind, (count, seconds) in sorted(summary.kinds.items()):
        typer.echo(f"  {kind}：{count} 份，每份平均 {seconds / count:.2f} 秒，每个工作进程每秒 {count / max(seconds, 1e-9):.1f} 份")
    if summary.dashboard:
        typer.echo(f"Dask 仪表盘：{summary.dashboard}")
    if summary.interrupted:
        typer.echo("已入库的报告保留；重新运行同一命令即可继续，不会重复入库。")


def _finish(summary: Summary, code: int, verb: str, **words: str) -> NoReturn:
    """Print the summary and exit. An interrupted run ends here with os._exit: nothing left (a
    pool's threads, a cluster's connections) can keep it waiting."""
    import os
    import sys

    _print_summary(summary, verb, **words)
    if summary.interrupted:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    raise typer.Exit(code=code)


def _run_with_progress(label: str, show: bool | None, job) -> Summary:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    console = _console(stderr=True)
    disable = not console.is_terminal if show is None else not show
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TimeRemainingColumn(), TextColumn("{task.fields[counts]}"), console=console, disable=disable)
    task = progress.add_task(label, total=None, counts="")

    def on_total(total: int) -> None:
        progress.update(task, total=total)

    def on_advance(summary: Summary) -> None:
        progress.update(task, completed=summary.done,
                        counts=f"入库 {summary.parsed} · 失败 {summary.failed + summary.unreadable} · 跳过 {summary.skipped}")

    def on_problem(name: str, message: str) -> None:
        from gongkai.cli.common import one_line

        progress.console.print(f"gongkai: {one_line(name)}: {one_line(message)}", markup=False, highlight=False)

    with progress:
        summary = job(on_total=on_total, on_advance=on_advance, on_problem=on_problem)
        on_advance(summary)
    return summary


def _exit_code(summary: Summary) -> int:
    if summary.interrupted:
        return 130
    failures = summary.failed + summary.unreadable
    if failures and not (summary.parsed or summary.skipped or summary.duplicates):
        return 2
    return 1 if failures else 0


def _ingest_with(engine: Engine, paths: list[str], cluster: str | None, **kw: Any) -> Summary:
    from gongkai.review.hook import after_write

    if not cluster:
        from gongkai.store.ingest import ingest

        return ingest(engine, paths, after_write=after_write, **kw)
    from gongkai.store.cluster import ClusterError, ingest_on_cluster

    kw.pop("workers", None)
    try:
        return ingest_on_cluster(engine, paths, cluster, after_write=after_write, **kw)
    except ClusterError as exc:
        fail(cluster, str(exc))


def register(app: typer.Typer) -> None:
    @app.command()
    def ingest(
        paths: Annotated[list[str], typer.Argument(metavar="文件或文件夹", help=(
            "报告文件、文件夹（含子文件夹）或 .zip 压缩包；用 --cluster 时也可为 file:// 或 s3:// 地址"))],
        db: DbOpt = None,
        workers: WorkersOpt = 0,
        progress: ProgressOpt = None,
        follow_links: FollowLinksOpt = False,
        cluster: ClusterOpt = None,
    ) -> None:
        """把报告入库：解析、核查并保存；已入库的相同内容跳过，中断后重新运行可继续。"""
        from gongkai.store.db import StoreError

        with open_engine(db, create=True) as engine:
            try:
                summary = _run_with_progress("入库", progress, lambda **kw: _ingest_with(
                    engine, paths, cluster, workers=workers, follow_links=follow_links, **kw))
            except StoreError as exc:
                fail(exc.db, exc.problem)
        _finish(summary, _exit_code(summary), "入库")

    @app.command()
    def reparse(
        db: DbOpt = None,
        all_: Annotated[bool, typer.Option("--all", metavar="", help="重新解析全部文件")] = False,
        failed: Annotated[bool, typer.Option(
            "--failed", metavar="", help="同时重试解析失败的文件（即使解析器版本未变）")] = False,
        workers: WorkersOpt = 0,
        progress: ProgressOpt = None,
        cluster: ClusterOpt = None,
    ) -> None:
        """用当前解析器重新解析库中的文件：解析器版本不同的、尚未核查的（核查模块已安装时）；报告随之替换。"""
        from gongkai.review.hook import after_write
        from gongkai.store.db import StoreError
        from gongkai.store.ingest import reparse as run_reparse

        with open_engine(db) as engine:
            try:
                if cluster:
                    from gongkai.store.cluster import ClusterError, reparse_on_cluster

                    try:
                        summary = _run_with_progress("重新解析", progress, lambda **kw: reparse_on_cluster(
                            engine, cluster, everything=all_, failed=failed, after_write=after_write, **kw))
                    except ClusterError as exc:
                        fail(cluster, str(exc))
                else:
                    summary = _run_with_progress("重新解析", progress, lambda **kw: run_reparse(
                        engine, everything=all_, failed=failed, workers=workers, after_write=after_write, **kw))
            except StoreError as exc:
                fail(exc.db, exc.problem)
        _finish(summary, _exit_code(summary) if summary.interrupted or summary.parsed or summary.failed else 0,
                "重新解析", done="重新解析报告", skipped="无需重新解析")

    @app.command("list")
    def list_(
        db: DbOpt = None,
        agency: AgencyOpt = None,
        year: YearOpt = None,
        region: RegionOpt = None,
        has_errors: ErrorsOpt = None,
        limit: LimitOpt = None,
        failed: Annotated[bool, typer.Option("--failed", metavar="", help="列出解析失败的文件")] = False,
        as_json: JsonOpt = False,
    ) -> None:
        """列出库中的报告（可按单位、年度、地区、是否有错误筛选）。"""
        from rich.table import Table

        from gongkai.store.query import failed_documents, list_reports

        with open_connection(db) as conn:
            if failed:
                rows = failed_documents(conn)
                if as_json:
                    for row in rows:
                        typer.echo(json.dumps({"document_id": row.id, "file": row.name, "error": row.error}, ensure_ascii=False))
                    return
                table = Table("编号", "文件", "问题", title=f"解析失败的文件（{len(rows)} 个）", title_justify="left")
                for row in rows:
                    table.add_row(str(row.id), _text(row.name), _text(row.error))
                _console().print(table)
                return
            rows = list_reports(conn, _filters(agency, year, region, has_errors), limit)
        if as_json:
            for row in rows:
                typer.echo(json.dumps({"id": row.id, "agency": row.agency, "year": row.year, "province_code": row.province_code,
                                       "province": row.province, "city": row.city, "format": row.format, "file": row.name,
                                       "sha256": row.sha256, "errors": row.errors, "warnings": row.warnings,
                                       "checked": row.checked}, ensure_ascii=False))
            return
        table = Table("编号", "单位", "年度", "地区", "格式", "错误", "警告", "文件",
                      title=f"报告 {len(rows)} 份", title_justify="left")
        for row in rows:
            errors = str(row.errors) if row.checked else "未核查"
            table.add_row(str(row.id), _text(row.agency, "（单位不详）"), _figure(row.year),
                          _text(_region(row.province, row.city)), row.format, errors,
                          str(row.warnings) if row.checked else "", _text(row.name))
        _console().print(table)

    @app.command()
    def show(
        report: ReportArg,
        db: DbOpt = None,
        as_json: Annotated[bool, typer.Option("--json", metavar="", help="输出 JSON：数据与核查结果")] = False,
    ) -> None:
        """显示一份入库报告：三张表与核查结果。"""
        from gongkai.store.query import load_report

        with open_connection(db) as conn:
            stored = load_report(conn, _resolve(conn, report))
        if as_json:
            out = stored.report.nested()
            out.update(id=stored.id, file=stored.document, sha256=stored.sha256, province_code=stored.province_code,
                       province=stored.province, city=stored.city,
                       findings=[f.model_dump(mode="json", exclude_none=True) for f in stored.findings])
            typer.echo(json.dumps(out, ensure_ascii=False))
            return

        from gongkai.render.terminal import print_report

        console = _console()
        console.print(f"编号 {stored.id} · 文件 {stored.document} · 内容哈希 {stored.sha256[:12]} · "
                      f"地区 {_region(stored.province, stored.city)} · 解析器版本 {stored.report.parser_version}",
                      markup=False)
        print_report(stored.report, console)
        if not stored.checked:
            console.print("未核查（入库时核查模块不可用；安装后运行 gongkai reparse）")
        elif not stored.findings:
            console.print("核查：未发现问题")
        else:
            _print_findings(console, stored.findings, f"核查结果 {len(stored.findings)} 条")

    @app.command("compare")
    def compare_(
        a: Annotated[str, typer.Argument(metavar="报告A", help="报告 A（编号、内容哈希前缀、单位@年度 或 文件名）")],
        b: Annotated[str, typer.Argument(metavar="报告B", help="报告 B")],
        db: DbOpt = None,
        all_cells: Annotated[bool, typer.Option("--all", metavar="", help="也列出数值相同的单元格")] = False,
        as_json: Annotated[bool, typer.Option("--json", metavar="", help="输出 JSON")] = False,
    ) -> None:
        """比较两份报告：同一单位的两个年度，或两个单位；逐个单元格列出变化，并运行跨年度规则。"""
        from gongkai.store.query import compare

        with open_connection(db) as conn:
            result = compare(conn, _resolve(conn, a), _resolve(conn, b))
        rows = result.changes + (result.unchanged if all_cells else [])
        if as_json:
            typer.echo(json.dumps({
                "a": {"id": result.a.id, "agency": result.a.report.agency, "year": result.a.report.year},
                "b": {"id": result.b.id, "agency": result.b.report.agency, "year": result.b.report.year},
                "changes": [{"key": c.key, "label": c.label, "a": c.a, "b": c.b, "delta": c.delta} for c in rows],
                "same": result.same,
                "cross_year": None if result.cross_year is None else
                [f.model_dump(mode="json", exclude_none=True) for f in result.cross_year],
                "note": result.note,
            }, ensure_ascii=False))
            return
        from rich.table import Table

        console = _console()
        name_a = f"A：{result.a.report.agency or '（单位不详）'} {_figure(result.a.report.year)}（编号 {result.a.id}）"
        name_b = f"B：{result.b.report.agency or '（单位不详）'} {_figure(result.b.report.year)}（编号 {result.b.id}）"
        console.print(f"{name_a}\n{name_b}", markup=False)
        if rows:
            table = Table("单元格", "A", "B", "变化", title=f"数值不同的单元格 {len(result.changes)} 个，相同 {result.same} 个",
                          title_justify="left")
            for c in rows:
                delta = c.delta
                table.add_row(_text(c.label), _figure(c.a), _figure(c.b),
                              "" if delta is None else (f"+{_figure(delta)}" if delta > 0 else _figure(delta)))
            console.print(table)
        else:
            console.print(f"两份报告的 {result.same} 个单元格数值全部相同。", markup=False)
        if result.cross_year is None:
            console.print(result.note or "", markup=False)
        elif not result.cross_year:
            console.print("跨年度规则：未发现问题")
        else:
            _print_findings(console, result.cross_year, f"跨年度规则 {len(result.cross_year)} 条")

    @app.command("stats")
    def stats_(
        db: DbOpt = None,
        by: Annotated[StatsBy | None, typer.Option(
            "--by", metavar="分组", help="分组：year（年度）、region（省份）或 year,region")] = None,
        agency: AgencyOpt = None,
        year: YearOpt = None,
        region: RegionOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """汇总：按年度或地区统计收到申请数、公开率、无法提供占比、复议和诉讼纠错率。"""
        from gongkai.store.query import metrics, stat_columns, stats

        groups = tuple((by or StatsBy.year).value.split(","))
        with open_connection(db) as conn:
            rows = stats(conn, groups, _filters(agency, year, region))
        if as_json:
            for row in rows:
                typer.echo(json.dumps(row, ensure_ascii=False))
            return
        from rich.table import Table

        defined = metrics()
        headings = stat_columns()
        table = Table(*(headings[c] for c in (*groups, "reports", *(m.id for m in defined))), title="汇总", title_justify="left")
        for row in rows:
            cells = [_figure(row["year"]) if g == "year" else _text(row["region"], "（不详）") for g in groups]
            cells += [str(row["reports"])]
            cells += [_percent(row[m.id]) if m.is_ratio else _figure(row[m.id]) for m in defined]
            table.add_row(*cells)
        console = _console()
        console.print(table)
        console.print("公开率 =（予以公开 + 部分公开）/ 办理总计；无法提供占比 = 无法提供 / 办理总计；"
                      "纠错率 = 结果纠正 /（总计 − 尚未审结）。比率只计各项均有数字的报告。", markup=False)

    @app.command("export")
    def export_(
        to: Annotated[ExportTo, typer.Option("--to", metavar="csv|xlsx|parquet", help="导出格式：csv、xlsx 或 parquet")],
        out: Annotated[Path | None, typer.Option(
            "--output", "-o", "--out", metavar="文件", help="输出文件（默认 reports.<格式>）")] = None,
        headers: Annotated[Headers | None, typer.Option(
            "--headers", metavar="key|zh", help="列名与级别：key（单元格键）或 zh（中文）")] = None,
        force: ForceOpt = False,
        db: DbOpt = None,
        agency: AgencyOpt = None,
        year: YearOpt = None,
        region: RegionOpt = None,
        has_errors: ErrorsOpt = None,
    ) -> None:
        """导出：每份报告一行、每个单元格一列；核查结果在第二个工作表（xlsx）或第二个文件。"""
        from gongkai.store.export import ExportFormat, export, findings_path

        target = out or Path(f"reports.{to.value}")
        check_output(target, force, db)
        if to is not ExportTo.xlsx:
            check_output(findings_path(target), force, db)
        with open_connection(db) as conn:
            try:
                written = export(conn, ExportFormat(to.value), target, _filters(agency, year, region, has_errors),
                                 labels=(headers or Headers.key) is Headers.zh)
            except OSError as exc:
                fail(target, f"无法写入 (cannot write: {exc.strerror or exc})")
        typer.echo("已导出：" + "，".join(str(p) for p in written))


def _print_findings(console: Console, findings: list[Finding], title: str) -> None:
    from rich.table import Table

    from gongkai.model import SEVERITY_NAMES

    table = Table("级别", "规则", "说明", "位置", title=title, title_justify="left")
    for f in findings:
        where = "；".join(dict.fromkeys(loc.describe() for loc in f.locations)) or "位置不详"
        table.add_row(SEVERITY_NAMES.get(f.severity, f.severity), f.rule, _text(f.message), _text(where))
    console.print(table)


class StatsBy(StrEnum):
    year = "year"
    region = "region"
    year_region = "year,region"


class ExportTo(StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    parquet = "parquet"


class Headers(StrEnum):
    key = "key"
    zh = "zh"
