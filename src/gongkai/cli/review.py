"""Review commands over gongkai.review: review, confirm, dismiss, correct, history, versions, regions,
hierarchy, letter, submit, return, accept. Every listing has --json (one object per line)."""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gongkai.cli.common import DbOpt, ForceOpt, JsonOpt, check_output, fail, open_engine, write_output
from gongkai.cli.store import ReportArg, _console, _figure, _resolve

if TYPE_CHECKING:
    from sqlalchemy import Connection

UserOpt = Annotated[str | None, typer.Option("--user", envvar="GONGKAI_USER", help="操作人（默认当前系统用户）")]
ReasonOpt = Annotated[str, typer.Option("--reason", "-r", help="理由（必填）")]


def _user(user: str | None) -> str:
    return user or os.environ.get("USER") or getpass.getuser()


def _emit(item: Any) -> None:
    typer.echo(json.dumps(item, ensure_ascii=False, default=str))


@contextmanager
def _review(db: str | None, write: bool = False) -> Iterator[Connection]:
    """A connection (a transaction when writing); a ReviewError ends the command with its message."""
    from gongkai.review import ReviewError

    with open_engine(db) as engine, (engine.begin() if write else engine.connect()) as conn:
        try:
            yield conn
        except ReviewError as exc:
            fail("gongkai", str(exc), code=1)


def _report_id(conn: Connection, ref: str) -> int:
    return _resolve(conn, ref)


def register(app: typer.Typer) -> None:
    @app.command("review")
    def review_(
        report: ReportArg,
        db: DbOpt = None,
        status: Annotated[list[str] | None, typer.Option("--status", help="只列某种结果：passed/failed/uncertain/not_assessable")]
        = None,
        recheck: Annotated[bool, typer.Option("--recheck", help="先用当前核查模块重新核查（含更正后的数值与跨年度规则）")] = False,
        as_json: JsonOpt = False,
    ) -> None:
        """列出一份报告的全部核查结果（通过、不通过、存疑、无法判断）及审核状态。"""
        from gongkai.review.common import filing_of
        from gongkai.review.corrections import recheck as run_recheck
        from gongkai.review.outcomes import DECISION_NAMES, STATUS_NAMES, evaluator, report_outcomes, summary

        with _review(db, write=recheck) as conn:
            report_id = _report_id(conn, report)
            if recheck:
                run_recheck(conn, filing_of(conn, report_id))
            items = report_outcomes(conn, report_id, set(status) if status else None)
        if not items and not status:
            hint = "未安装 gongkai.check.evaluate" if evaluator() is None else "请用 --recheck 重新核查"
            typer.echo(f"gongkai: 这份报告没有存储的核查结果（{hint}）", err=True)
        if as_json:
            for item in items:
                _emit(item)
            return
        from rich.table import Table

        table = Table("编号", "范围", "规则", "结果", "审核", "说明", "位置", "指纹", title=summary(items)["zh"], title_justify="left")
        for i in items:
            table.add_row(str(i["id"]), i["scope"], i["rule"], STATUS_NAMES[i["status"]],
                          DECISION_NAMES.get(i["review"], "") if i["review"] else "", i["message"] or "", i["where"],
                          i["fingerprint"][:8])
        _console().print(table)

    def _decide(decision: str) -> Callable[..., None]:
        def command(report: ReportArg, outcome: Annotated[str, typer.Argument(help="核查结果编号或指纹前缀（见 gongkai review）")],
                    reason: ReasonOpt, db: DbOpt = None, user: UserOpt = None, as_json: JsonOpt = False) -> None:
            from gongkai.review.outcomes import decide

            with _review(db, write=True) as conn:
                done = decide(conn, _report_id(conn, report), outcome, decision, reason, _user(user))
            if as_json:
                _emit(done)
            else:
                verb = "确认" if decision == "confirmed" else "驳回"
                typer.echo(f"已{verb}：[{done['rule']}] 核查结果 {done['outcome']}（{done['user']}）")
        return command

    app.command("confirm", help="确认一项不通过或存疑的核查结果（须说明理由）；重新解析后仍保留，数值变化时重新待审。")(
        _decide("confirmed"))
    app.command("dismiss", help="驳回一项不通过或存疑的核查结果（须说明理由）。")(_decide("dismissed"))

    @app.command()
    def correct(
        report: ReportArg,
        key: Annotated[str, typer.Argument(help="单元格键，如 applications.new.total（见 docs/cells.md）")],
        value: Annotated[str, typer.Argument(help="更正后的数值；空字符串表示未填报")],
        reason: ReasonOpt,
        db: DbOpt = None,
        user: UserOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """更正一个单元格（保留原解析值与更正记录）；核查、统计与导出随之使用更正后的数值。"""
        from gongkai.review.corrections import correct as run_correct

        number: float | None = None
        if value.strip():
            try:
                number = float(value)
            except ValueError:
                fail(value, "不是数字 (not a number)", code=1)
        with _review(db, write=True) as conn:
            done = run_correct(conn, _report_id(conn, report), key, number, reason, _user(user))
        if as_json:
            _emit(done)
        else:
            typer.echo(f"已更正 {done['label']}：{_figure(done['old'])} → {_figure(done['new'])}（{done['user']}：{done['reason']}）")

    @app.command()
    def history(
        report: ReportArg,
        key: Annotated[str | None, typer.Argument(help="单元格键；省略则列出全部已更正的单元格")] = None,
        db: DbOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """单元格的更正历史：原解析值与每次更正（谁、何时、原值、新值、理由）。"""
        from gongkai.review.corrections import history as run_history

        with _review(db) as conn:
            items = run_history(conn, _report_id(conn, report), key)
        if as_json:
            for item in items:
                _emit(item)
            return
        if not items:
            typer.echo("没有更正记录")
        for item in items:
            typer.echo(f"{item['label']}（{item['key']}）")
            for e in item["history"]:
                who = "解析值" if e["what"] == "parsed" else f"{e['at'][:19]} {e['user']}：{e['reason']}"
                typer.echo(f"  {_figure(e['value'])}\t{who}")

    @app.command("versions")
    def versions_(
        report: ReportArg,
        db: DbOpt = None,
        choose: Annotated[str | None, typer.Option("--choose", help="让该版本（报告编号）计入统计；newest 恢复为最新版本")] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """同一单位同一年度的各个版本（网页、PDF、修订稿），及计入统计的版本。"""
        from gongkai.review.versions import choose as run_choose
        from gongkai.review.versions import versions as run_versions

        with _review(db, write=choose is not None) as conn:
            report_id = _report_id(conn, report)
            if choose is None:
                items = run_versions(conn, report_id)
            else:
                items = run_choose(conn, report_id, None if choose == "newest" else _report_id(conn, choose))
        if as_json:
            for item in items:
                _emit(item)
            return
        for v in items:
            typer.echo(f"{'*' if v['counted'] else ' '} 编号 {v['report_id']}\t{v['kind'] or ''}\t{v['ingested_at'][:19]}\t{v['document']}")

    regions = typer.Typer(no_args_is_help=True, help="单位与地区：导入、查看单位树（GB/T 2260 行政区划）。")
    app.add_typer(regions, name="regions")

    @regions.command("import")
    def regions_import(
        file: Annotated[Path, typer.Argument(help="CSV 或 xlsx：单位, 上级, 地区, 类型, 汇总")],
        db: DbOpt = None,
    ) -> None:
        """导入或修改单位树：名称无法定位的部门、示范区、开发区，以及上下级关系和汇总单位。"""
        from gongkai.review.bodies import import_bodies

        with _review(db, write=True) as conn:
            counts = import_bodies(conn, file)
        typer.echo(f"已导入：新增单位 {counts['created']} 个，更新 {counts['updated']} 个")

    @regions.command("edit")
    def regions_edit(
        name: Annotated[str, typer.Argument(metavar="单位", help="单位名称")],
        parent: Annotated[str | None, typer.Option("--parent", help="上级单位（空字符串：无上级）")] = None,
        region: Annotated[str | None, typer.Option("--region", help="地区：行政区划代码或名称")] = None,
        kind: Annotated[str | None, typer.Option("--kind", help="类型：政府、乡镇街道、部门、开发区/示范区、其他")] = None,
        sums: Annotated[bool | None, typer.Option("--sums/--no-sums", help="是否为下级的汇总（适用上下级核对）")] = None,
        db: DbOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """修改一个单位在单位树中的位置；修改后不再按名称自动定位。"""
        from gongkai.review.bodies import edit_body

        with _review(db, write=True) as conn:
            done = edit_body(conn, name, parent=parent, region_text=region, kind=kind, sums_children=sums)
        if as_json:
            _emit(done)
        else:
            typer.echo(f"{done['name']}：{done['region'] or '地区不详'}，上级 {done['parent'] or '无'}")

    @regions.command("show")
    def regions_show(
        under: Annotated[str | None, typer.Argument(help="单位名称或地区（河南、南阳市、411323）；省略则全部")] = None,
        db: DbOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """单位树：每个单位的地区（GB/T 2260）、类型、上级。"""
        from gongkai.review.bodies import KINDS, body_tree

        with _review(db) as conn:
            roots = body_tree(conn, under)
        if as_json:
            for root in roots:
                _emit(root)
            return
        from rich.tree import Tree

        def label(node: dict[str, Any]) -> str:
            region = node["region"] or f"地区不详{'：' + node['note'] if node['note'] else ''}"
            return f"{node['name']}（{KINDS[node['kind']]}，{region}{'，汇总' if node['sums_children'] else ''}）"

        def grow(tree: Any, node: dict[str, Any]) -> None:
            for child in node["children"]:
                grow(tree.add(label(child)), child)

        console = _console()
        for root in roots:
            tree = Tree(label(root))
            grow(tree, root)
            console.print(tree)

    hierarchy = typer.Typer(no_args_is_help=True, help="上下级核对：上级单位的数字与直属下级合计。")
    app.add_typer(hierarchy, name="hierarchy")

    @hierarchy.command("check")
    def hierarchy_check(
        year: Annotated[int | None, typer.Option("--year", help="年度（默认全部年度）")] = None,
        db: DbOpt = None,
        every_parent: Annotated[bool, typer.Option("--all-parents", help="核对所有有下级的单位，而不只是标为汇总的")] = False,
        as_json: JsonOpt = False,
    ) -> None:
        """核对上级数字与下级合计（规则见 review/hierarchy.yaml），结果存为上级报告的核查结果。"""
        from gongkai.review.hierarchy import check_hierarchy
        from gongkai.review.outcomes import STATUS_NAMES

        with _review(db, write=True) as conn:
            items = check_hierarchy(conn, year, every_parent)
        if as_json:
            for item in items:
                _emit(item)
            return
        from rich.table import Table

        shown = [i for i in items if i["status"] != "passed"]
        table = Table("单位", "年度", "规则", "结果", "说明", title=f"上下级核对 {len(items)} 项，未通过 {len(shown)} 项",
                      title_justify="left")
        for i in shown:
            table.add_row(i["parent"], str(i["year"]), i["rule"], STATUS_NAMES[i["status"]], i["message"] or "")
        _console().print(table)

    @app.command()
    def letter(
        report: Annotated[str | None, typer.Argument(help="报告；或用 --region 与 --year 给一个地区的全部报告")] = None,
        region: Annotated[str | None, typer.Option("--region", help="地区或上级单位")] = None,
        year: Annotated[int | None, typer.Option("--year", help="年度（与 --region 同用）")] = None,
        to: Annotated[str, typer.Option("--to", help="docx、pdf，或 xlsx（地区报送情况汇总，需 --region 与 --year）")] = "docx",
        output: Annotated[str | None, typer.Option("--output", "-o", metavar="文件", help="输出文件；- 为标准输出")] = None,
        force: ForceOpt = False,
        db: DbOpt = None,
    ) -> None:
        """审核意见：列出已确认的问题（表、行、列、应为、实为、位置）；或地区报送情况汇总（xlsx）。"""
        from gongkai.render.pdf import RenderError
        from gongkai.review.letter import letter_docx, letter_pdf, region_reports, region_summary_xlsx

        if to not in ("docx", "pdf", "xlsx"):
            fail(to, "输出格式应为 docx、pdf 或 xlsx", code=1)
        if (report is None) == (region is None) or (region is not None and year is None):
            fail("gongkai", "请给出一份报告，或 --region 与 --year", code=1)
        if to == "xlsx" and region is None:
            fail("gongkai", "汇总表需要 --region 与 --year", code=1)
        output = output or (f"审核意见.{to}" if to != "xlsx" else f"报送情况_{region}_{year}.xlsx")
        if output != "-":
            check_output(output, force, db)
        with _review(db) as conn:
            if to == "xlsx":
                data = region_summary_xlsx(conn, region or "", year or 0)
            else:
                ids = [_report_id(conn, report)] if report else region_reports(conn, region or "", year or 0)
                try:
                    data = letter_pdf(conn, ids) if to == "pdf" else letter_docx(conn, ids)
                except RenderError as exc:
                    fail(output, str(exc))
        write_output(data, output, output)
        if output != "-":
            typer.echo(f"已生成：{output}")

    def _state(action: str) -> Callable[..., None]:
        def command(report: ReportArg, db: DbOpt = None, user: UserOpt = None,
                    reason: Annotated[str | None, typer.Option("--reason", "-r", help="理由")] = None,
                    override: Annotated[str | None, typer.Option("--override", help="管理员强制报送的理由（有错误时）")] = None,
                    admin: Annotated[bool, typer.Option("--admin", help="以管理员身份操作")] = False,
                    as_json: JsonOpt = False) -> None:
            from gongkai.review import workflow

            with _review(db, write=True) as conn:
                report_id = _report_id(conn, report)
                if action == "submit":
                    done = workflow.submit(conn, report_id, _user(user), admin=admin, override=override)
                elif action == "return":
                    done = workflow.return_report(conn, report_id, _user(user), reason)
                else:
                    done = workflow.accept(conn, report_id, _user(user))
            if as_json:
                _emit(done)
            else:
                names = workflow.STATE_NAMES
                at = datetime.fromisoformat(done["at"])
                typer.echo(f"{names[done['from']]} → {names[done['to']]}（{done['user']}，{at:%Y-%m-%d %H:%M}）")
        return command

    app.command("submit", help="报送：有未处理的错误时不能报送，管理员可说明理由强制报送（--admin --override）。")(_state("submit"))
    app.command("return", help="退回已报送的报告，附审核意见（已确认的问题）。")(_state("return"))
    app.command("accept", help="审核通过已报送的报告。")(_state("accept"))
