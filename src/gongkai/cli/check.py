"""`gongkai check` and `gongkai rules`.

No `from __future__ import annotations`: typer reads the annotations when the commands are defined
inside register(), where the shared argument types are in scope."""


import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from gongkai.model import SEVERITY_NAMES, Finding, Report


class CheckOutput(StrEnum):
    text = "text"
    json = "json"


def finding_json(finding: Finding) -> dict:
    return finding.model_dump(mode="json", exclude_none=True)


def format_findings(report: Report, findings: list[Finding], path: str) -> str:
    """Findings for people: grouped by severity, each with where it is in the document."""
    lines = [f"{path}：{report.agency or '（单位不详）'} {report.year or ''} 年度报告（格式 {report.format}）"]
    if not findings:
        lines.append("  未发现问题。")
    for severity, name in SEVERITY_NAMES.items():
        group = [f for f in findings if f.severity == severity]
        if not group:
            continue
        lines.append(f"  {name} {len(group)} 项：")
        for f in group:
            where = "；".join(dict.fromkeys(loc.describe() for loc in f.locations)) or "位置不详"
            lines.append(f"    [{f.rule}] {f.message}（{where}）")
    lines.append(f"  合计：{_counts(findings)}")
    return "\n".join(lines)


def previous_mismatch(report: Report, previous: Report) -> str | None:
    """Why `previous` is not last year's report of the same body, or None when it is."""
    if not report.agency or not previous.agency or report.agency != previous.agency:
        return f"上一年度报告的单位（{previous.agency or '不详'}）与本报告（{report.agency or '不详'}）不同"
    if report.year is None or previous.year is None or previous.year != report.year - 1:
        return f"上一年度报告的年度（{previous.year or '不详'}）不是本报告年度（{report.year or '不详'}）的上一年"
    return None


def _counts(findings: list[Finding]) -> str:
    return "，".join(f"{name} {sum(f.severity == s for f in findings)}" for s, name in SEVERITY_NAMES.items())


def _pair_previous(reports: dict[Path, Report], explicit: Report | None) -> dict[Path, Report | None]:
    """Last year's report for each: --previous, or a report in the same run of the same body a year earlier."""
    by_key = {(r.agency, r.year): r for r in reports.values() if r.agency and r.year}
    return {path: explicit or by_key.get((r.agency, (r.year or 0) - 1)) for path, r in reports.items()}


def register(app: typer.Typer) -> None:
    from gongkai.cli.common import FilesArg, ReportFormatOpt, fail, parse_paths

    @app.command()
    def check(
        files: FilesArg,
        previous: Annotated[Path | None, typer.Option(
            "--previous", "-p", metavar="文件", help="上一年度的报告，用于跨年度核对")] = None,
        to: Annotated[CheckOutput, typer.Option(
            "--to", "-t", metavar="text|json", help="text：供人阅读；json：每个文件一行 JSON")] = CheckOutput.text,
        report_format: ReportFormatOpt = None,
        old_format: Annotated[CheckOutput | None, typer.Option("--format", "-f", hidden=True)] = None,
        summary: Annotated[bool, typer.Option("--summary", metavar="", help="每个文件只列一行问题数，最后一行汇总")] = False,
        force: Annotated[bool, typer.Option("--force", help="--previous 不是同一单位上一年度的报告时仍然核对")] = False,
    ) -> None:
        """核查报告：勾稽关系、完整性与格式、正文与表格一致性、正文结构、跨年度衔接。

        多个文件时最后一行汇总（文件数、有错误的、有警告的）。

        退出码：0 无错误；1 有错误级问题；2 有文件无法读取。
        """
        from gongkai.check import check_report

        to = old_format or to
        failed = 0
        last_year = None
        if previous is not None:
            if previous.is_dir():
                fail(previous, "--previous 应为一份报告文件，而不是文件夹")
            (_, last_year), = parse_paths([previous], report_format)
            if last_year is None:
                raise typer.Exit(code=2)
        reports = {}
        for path, report in parse_paths(files, report_format):
            if report is None:
                failed += 1
            else:
                reports[path] = report
        if not reports and not failed:
            raise typer.Exit(code=2)
        if last_year is not None and not force:
            for report in reports.values():
                problem = previous_mismatch(report, last_year)
                if problem:
                    fail(previous, f"{problem}（确需核对请加 --force）")
        pairs = _pair_previous(reports, last_year)
        with_errors = with_warnings = 0
        for path, report in reports.items():
            findings = check_report(report, pairs[path])
            with_errors += any(f.severity == "error" for f in findings)
            with_warnings += any(f.severity == "warning" for f in findings)
            if to is CheckOutput.json:
                typer.echo(json.dumps({"file": str(path), "agency": report.agency, "year": report.year,
                                       "format": report.format,
                                       "previous": pairs[path].source if pairs[path] else None,
                                       "findings": [finding_json(f) for f in findings]}, ensure_ascii=False))
            elif summary:
                typer.echo(f"{path}：{_counts(findings)}")
            else:
                typer.echo(format_findings(report, findings, str(path)))
        if to is CheckOutput.text and (summary or len(reports) + failed > 1):
            typer.echo(f"共 {len(reports) + failed} 个文件：有错误 {with_errors} 个，有警告 {with_warnings} 个"
                       + (f"，无法读取 {failed} 个" if failed else ""))
        raise typer.Exit(code=2 if failed else 1 if with_errors else 0)

    @app.command()
    def rules(report_format: ReportFormatOpt = None) -> None:
        """列出报告格式的全部核查规则（Markdown 表格）；默认为现行格式。"""
        from gongkai.docs import rules_table
        from gongkai.formats import DEFAULT_FORMAT

        typer.echo(rules_table(report_format or DEFAULT_FORMAT))
