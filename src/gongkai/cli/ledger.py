"""`gongkai ledger …`: the 依申请公开 ledger, the register and the appeals from the command line.

No `from __future__ import annotations`: typer reads the annotations when the commands are defined."""

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from gongkai.cli.common import DbOpt, ForceOpt, JsonOpt, check_output, fail, open_engine, warn, write_output

# A body with holidays of its own sets GONGKAI_HOLIDAYS once, so that every command counts with them.
HolidaysOpt = Annotated[list[Path] | None, typer.Option(
    "--holidays", envvar="GONGKAI_HOLIDAYS", metavar="文件",
    help="本地节假日文件（格式同 ledger/data/calendars/*.yaml；环境变量 GONGKAI_HOLIDAYS）")]


def _date(text: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(text, f"{what}不是日期（应为 YYYY-MM-DD）")


def _calendar(holidays: list[Path] | None):
    from gongkai.ledger.workdays import CalendarError, calendar_with

    try:
        return calendar_with(holidays or [])
    except CalendarError as exc:
        fail(None, str(exc))


def _on_database(db: str | None, action, create: bool = False):
    """action(engine) on the open database; a record the ledger refuses ends the command in one line."""
    from gongkai.ledger.roles import LedgerError
    from gongkai.ledger.workdays import CalendarError

    with open_engine(db, create=create) as engine:
        try:
            return action(engine)
        except (LedgerError, CalendarError) as exc:
            fail(None, str(exc))


def _read(engine, query, *args):
    with engine.connect() as conn:
        return query(conn, *args)


def _print_deadline(application, calendar) -> None:
    """The application's current date and its explanation; one it cannot have (a year without
    holiday data) is a warning: the record itself is kept."""
    from gongkai.ledger.deadlines import current_deadline
    from gongkai.ledger.roles import LedgerError
    from gongkai.ledger.workdays import CalendarError

    try:
        deadline = current_deadline(application, calendar)
    except (LedgerError, CalendarError) as exc:
        warn(None, f"期限无法计算：{exc}")
        return
    if deadline is None:
        typer.echo(f"已办结 {application.closed_on()}")
    elif deadline.due_on:
        typer.echo(f"{deadline.what} {deadline.due_on}：{deadline.explanation}")
    else:
        typer.echo(f"{deadline.waiting}（至 {deadline.waiting_until or '未定'}）：{deadline.explanation}")


def register(app: typer.Typer) -> None:
    from gongkai.cli.app import Group

    ledger = typer.Typer(cls=Group, no_args_is_help=True,
                         help="依申请公开台账、主动公开登记、复议诉讼登记：生成年度报告的表二、表三、表四。")
    app.add_typer(ledger, name="ledger")

    from gongkai.ledger.roles import LedgerError
    from gongkai.ledger.workdays import CalendarError

    problems = (LedgerError, CalendarError)

    @ledger.command("due")
    def due(received: Annotated[str, typer.Argument(metavar="收到日期", help="收到申请之日 YYYY-MM-DD")],
            days: Annotated[int, typer.Option("--days", metavar="天数", min=1, help="工作日数")] = 20,
            holidays: HolidaysOpt = None) -> None:
        """按工作日计算答复期限并说明计算过程（第三十三条：20 个工作日）。"""
        from gongkai.ledger.deadlines import due_after

        try:
            deadline = due_after(_date(received, "收到日期"), days, _calendar(holidays))
        except problems as exc:
            fail(None, str(exc))
        typer.echo(deadline.due_on.isoformat())
        typer.echo(deadline.explanation)

    @ledger.command("add")
    def add(body: Annotated[str, typer.Option("--body", metavar="机关", help="台账所属机关")],
            applicant_type: Annotated[str, typer.Option("--type", metavar="类型", help="申请人类型（表三的列键，如 natural_person）")],
            channel: Annotated[str, typer.Option("--channel", metavar="方式", help="当面 / 邮寄 / 网络 / 传真")],
            submitted: Annotated[str | None, typer.Option("--submitted", metavar="日期", help="当面提交之日")] = None,
            signed_for: Annotated[str | None, typer.Option("--signed-for", metavar="日期", help="邮寄：签收之日")] = None,
            confirmed: Annotated[str | None, typer.Option("--confirmed", metavar="日期", help="网络、传真、平常信函：确认之日")] = None,
            name: Annotated[str | None, typer.Option("--name", metavar="姓名", help="申请人姓名或名称")] = None,
            contact: Annotated[str | None, typer.Option("--contact", metavar="联系方式", help="申请人联系方式")] = None,
            content: Annotated[str | None, typer.Option("--content", metavar="内容", help="申请内容")] = None,
            number: Annotated[str | None, typer.Option("--number", metavar="编号", help="登记编号")] = None,
            handler: Annotated[str | None, typer.Option("--handler", metavar="承办人", help="承办人")] = None,
            holidays: HolidaysOpt = None,
            db: DbOpt = None) -> None:
        """登记一件政府信息公开申请（收到申请之日按第三十一条确定）。"""
        from gongkai.ledger.deadlines import receipt_date
        from gongkai.ledger.models import Application, Channel
        from gongkai.ledger.store import create_application

        if channel not in Channel._value2member_map_:
            fail(channel, "不是申请方式，应为：" + " / ".join(c.value for c in Channel))
        dates = [_date(d, "日期") if d else None for d in (submitted, signed_for, confirmed)]
        calendar = _calendar(holidays)
        try:
            received, why = receipt_date(Channel(channel), *dates)
        except problems as exc:
            fail(None, str(exc))
        application = Application(body=body, applicant_type=applicant_type, channel=Channel(channel), received_on=received,
                                  submitted_on=dates[0], applicant_name=name, contact=contact, content=content,
                                  number=number, handler=handler)
        app_id = _on_database(db, lambda engine: create_application(engine, application, calendar=calendar), create=True)
        typer.echo(f"已登记申请 {app_id}：{why}")
        _print_deadline(application, calendar)

    @ledger.command("event")
    def event(application_id: Annotated[int, typer.Argument(metavar="申请编号", help="申请编号")],
              kind: Annotated[str, typer.Argument(metavar="环节",
                  help="补正告知 收到补正 逾期不补正 征求第三方意见 第三方答复 延期 收费通知 缴费 逾期未缴费 答复 寄送 归档")],
              on: Annotated[str, typer.Argument(metavar="日期", help="日期 YYYY-MM-DD")],
              outcome: Annotated[str | None, typer.Option(
                  "--outcome", metavar="结果", help="答复结果：表三结果行的键，如 withheld.state_secret")] = None,
              days: Annotated[int | None, typer.Option("--days", metavar="天数", help="延期的工作日数；补正告知给予的补正期限")] = None,
              approver: Annotated[str | None, typer.Option("--approver", metavar="批准人", help="延期的批准人")] = None,
              by: Annotated[str | None, typer.Option("--by", metavar="记录人", help="记录人")] = None,
              note: Annotated[str | None, typer.Option("--note", metavar="说明", help="说明（补正事项、第三方名称 …）")] = None,
              holidays: HolidaysOpt = None,
              db: DbOpt = None) -> None:
        """记录申请办理中的一个环节。"""
        from gongkai.ledger.models import Event, EventKind
        from gongkai.ledger.store import add_event

        if kind in EventKind._value2member_map_:
            event_kind = EventKind(kind)
        elif kind in EventKind.__members__:
            event_kind = EventKind[kind]
        else:
            fail(kind, "未知环节，可用：" + " ".join(k.value for k in EventKind))

        calendar = _calendar(holidays)
        recorded = Event(kind=event_kind, on=_date(on, "日期"), outcome=outcome, days=days, approver=approver, by=by, note=note)
        application = _on_database(db, lambda engine: add_event(engine, application_id, recorded, by, calendar))
        typer.echo(f"已记录申请 {application_id} 的{event_kind.value}（{recorded.on}）")
        _print_deadline(application, calendar)

    @ledger.command("show")
    def show(application_id: Annotated[int, typer.Argument(metavar="申请编号", help="申请编号")], holidays: HolidaysOpt = None,
             db: DbOpt = None) -> None:
        """一件申请：登记信息、办理环节和当前期限的计算过程。"""
        from gongkai.ledger.store import get_application

        calendar = _calendar(holidays)
        application = _on_database(db, lambda engine: _read(engine, get_application, application_id))
        typer.echo(f"{application.id}\t{application.body}\t{application.number or ''}\t{application.applicant_name or ''}"
                   f"（{application.applicant_type}）\t{application.channel.value}\t收到 {application.received_on}")
        for step in application.events:
            details = "，".join(f"{k} {v}" for k, v in (("结果", step.outcome), ("工作日", step.days), ("批准人", step.approver),
                                                       ("记录人", step.by), ("说明", step.note)) if v)
            typer.echo(f"  {step.on}\t{step.kind.value}\t{details}")
        _print_deadline(application, calendar)

    @ledger.command("overdue")
    def overdue(body: Annotated[str | None, typer.Option("--body", metavar="机关", help="只列这个机关的")] = None,
                handler: Annotated[str | None, typer.Option("--handler", metavar="承办人", help="只列这个承办人的")] = None,
                within: Annotated[int, typer.Option("--within", metavar="天数", min=0, help="列出几个工作日内到期的")] = 5,
                today: Annotated[str | None, typer.Option("--today", metavar="日期", help="以此日为今天（默认今天）")] = None,
                as_json: JsonOpt = False,
                holidays: HolidaysOpt = None,
                db: DbOpt = None) -> None:
        """已超期和即将到期的申请，按机关、承办人筛选。"""
        from gongkai.ledger.store import due_list

        day = _date(today, "今天") if today else dt.date.today()
        calendar = _calendar(holidays)
        items = _on_database(db, lambda engine: _read(engine, due_list, day, within, body, handler, calendar))
        if as_json:
            for item in items:
                typer.echo(json.dumps({**item.__dict__, "overdue": item.overdue}, ensure_ascii=False, default=str))
            return
        if not items:
            typer.echo(f"没有超期或 {within} 个工作日内到期的申请")
        for item in items:
            left = ("无法计算：" + (item.problem or "")) if item.working_days_left is None else (
                f"已超期 {-item.working_days_left} 个工作日" if item.overdue else f"剩 {item.working_days_left} 个工作日")
            typer.echo(f"{item.id}\t{item.body}\t{item.number or ''}\t{item.handler or ''}\t{item.what}\t{item.due_on or ''}\t{left}")

    @ledger.command("refresh")
    def refresh(holidays: HolidaysOpt = None, db: DbOpt = None) -> None:
        """重新计算所有未办结申请的期限（新增或修改节假日文件之后）。"""
        from gongkai.ledger.store import refresh_deadlines

        calendar = _calendar(holidays)
        typer.echo(f"已重新计算 {_on_database(db, lambda engine: refresh_deadlines(engine, calendar))} 件未办结申请的期限")

    @ledger.command("report")
    def report(body: Annotated[str, typer.Argument(metavar="机关", help="机关名称")],
               year: Annotated[int, typer.Argument(metavar="年度", min=2019, max=9999, help="年度")],
               output: Annotated[str | None, typer.Option(
                   "--output", "-o", metavar="文件", help="写出填报模板 YAML（补充正文后 gongkai render 生成文档）")] = None,
               force: ForceOpt = False,
               db: DbOpt = None) -> None:
        """由台账记录生成该机关该年度报告的表二、表三、表四，核查规则，并与库中已发布的报告比对。"""
        from gongkai.check import check_report
        from gongkai.ledger.store import compare_with_published, report_for
        from gongkai.render.template import template_yaml
        from gongkai.render.terminal import print_report

        if output and output != "-":
            check_output(output, force, db)
        def build(conn):
            built = report_for(conn, body, year)
            return built, compare_with_published(conn, built)

        built, differences = _on_database(db, lambda engine: _read(engine, build))
        findings = check_report(built)
        if output:
            write_output(template_yaml(built), output, output)
            typer.echo(f"补充各部分正文后用 gongkai render {output} --to docx 生成报告", err=True)
        else:
            print_report(built)
        for finding in findings:
            typer.echo(f"{finding.rule}\t{finding.severity}\t{finding.message}", err=bool(output))
        if differences is None:
            typer.echo(f"库中没有 {body}{year} 年度已发布的报告，未比对", err=bool(output))
        elif not differences:
            typer.echo(f"与库中已发布的 {body}{year} 年度报告一致", err=bool(output))
        for finding in differences or []:
            typer.echo(f"{finding.rule}\t{finding.severity}\t{finding.message}", err=bool(output))
        if any(f.severity == "error" for f in findings) or differences:
            raise typer.Exit(code=1)

    @ledger.command("import")
    def import_(file: Annotated[Path, typer.Argument(metavar="文件", help="台账 xlsx 或 CSV")],
                body: Annotated[str, typer.Option("--body", metavar="机关", help="台账所属机关")],
                mapping: Annotated[list[str] | None, typer.Option(
                    "--map", metavar="字段=表头", help="指定列的对应，如 received_on=来件日期")] = None,
                channel: Annotated[str | None, typer.Option(
                    "--channel", metavar="方式", help="没有申请方式列时，全部申请的提交方式")] = None,
                preview: Annotated[bool, typer.Option("--preview", metavar="", help="只显示列的对应和读取结果，不入库")] = False,
                db: DbOpt = None) -> None:
        """导入机关现有的 Excel（xlsx）或 CSV 台账：按表头识别列，逐行报告无法读取的行（行、列、原因）。"""
        from gongkai.ledger.importer import FIELD_LABELS, SheetError, read_ledger
        from gongkai.ledger.models import Channel
        from gongkai.ledger.store import create_applications

        if channel is not None and channel not in Channel._value2member_map_:
            fail(channel, "不是申请方式，应为：" + " / ".join(c.value for c in Channel))
        overrides = dict(item.split("=", 1) for item in mapping or [] if "=" in item)
        try:
            data = file.read_bytes()
        except OSError as exc:
            fail(file, f"无法读取 ({exc.strerror or exc})")
        try:
            result = read_ledger(data, body, str(file), overrides, Channel(channel) if channel else None)
        except SheetError as exc:
            fail(None, str(exc))
        typer.echo(f"{file}：工作表「{result.sheet}」第 {result.header_row} 行为表头")
        for field, header in result.mapping.items():
            typer.echo(f"  {FIELD_LABELS[field]}（{field}）← 「{header}」")
        if result.unmapped:
            typer.echo("  未使用的列：" + "、".join(result.unmapped))
        for row, application in result.applications[:5]:
            typer.echo(f"  第 {row} 行：{application.received_on} {application.applicant_name or ''} {application.applicant_type} "
                       + (f"{application.events[0].on} {application.events[0].outcome}" if application.events else "未答复"))
        for problem in result.problems:
            typer.echo(f"  无法读取：{problem.describe()}", err=True)
        typer.echo(f"可读取 {len(result.applications)} 行，无法读取 {len(result.bad_rows)} 行")
        if preview:
            return
        good = [a for _, a in result.applications]
        ids = _on_database(db, lambda engine: create_applications(engine, good, by=f"导入 {file.name}"), create=True)
        typer.echo(f"已入库 {len(ids)} 件申请")
        if result.problems:
            raise typer.Exit(code=1)

    @ledger.command("item")
    def item(body: Annotated[str, typer.Option("--body", metavar="机关", help="所属机关")],
             category: Annotated[str, typer.Option(
                 "--category", metavar="类别", help="表二的行键：rules / normative_documents …")],
             title: Annotated[str, typer.Option("--title", metavar="标题", help="文件标题")],
             issued: Annotated[str | None, typer.Option("--issued", metavar="日期", help="制发日期")] = None,
             repealed: Annotated[str | None, typer.Option("--repealed", metavar="日期", help="废止日期")] = None,
             number: Annotated[str | None, typer.Option("--number", metavar="文号", help="文号")] = None,
             db: DbOpt = None) -> None:
        """登记一件主动公开事项（规章、行政规范性文件），从草稿开始三审。"""
        from gongkai.ledger.models import RegisterItem
        from gongkai.ledger.store import add_register_item

        record = RegisterItem(body=body, category=category, title=title, number=number,
                              issued_on=_date(issued, "制发日期") if issued else None,
                              repealed_on=_date(repealed, "废止日期") if repealed else None)
        item_id = _on_database(db, lambda engine: add_register_item(engine, record), create=True)
        typer.echo(f"已登记主动公开事项 {item_id}（草稿）")

    @ledger.command("review")
    def review(item_id: Annotated[int, typer.Argument(metavar="事项编号", help="主动公开事项编号")],
               by: Annotated[str, typer.Option("--by", metavar="审核人", help="审核人")],
               on: Annotated[str, typer.Option("--on", metavar="日期", help="日期")],
               note: Annotated[str | None, typer.Option("--note", metavar="说明", help="审核意见")] = None,
               back: Annotated[bool, typer.Option("--back", metavar="", help="退回草稿")] = False,
               db: DbOpt = None) -> None:
        """主动公开事项进入下一审（草稿 → 初审 → 复审 → 终审 → 已发布），或退回。"""
        from gongkai.ledger.store import advance_review, return_to_draft

        day = _date(on, "日期")
        if back:
            _on_database(db, lambda engine: return_to_draft(engine, item_id, by, day, note or "退回修改"))
            typer.echo(f"事项 {item_id} 已退回草稿")
            return
        state = _on_database(db, lambda engine: advance_review(engine, item_id, by, day, note))
        typer.echo(f"事项 {item_id}：{state.value}（{by}，{on}）")

    @ledger.command("count")
    def count(body: Annotated[str, typer.Argument(metavar="机关", help="机关名称")],
              year: Annotated[int, typer.Argument(metavar="年度", min=2019, max=9999, help="年度")],
              category: Annotated[str, typer.Argument(metavar="类别", help="表二的行键：licensing / punishment / coercion / fees")],
              number: Annotated[int | None, typer.Option("--count", metavar="件数", min=0, help="本年处理决定数量")] = None,
              amount: Annotated[float | None, typer.Option("--amount-yuan", metavar="元", min=0, help="本年收费金额（元）")] = None,
              source: Annotated[str | None, typer.Option("--source", metavar="来源", help="数据来源")] = None,
              db: DbOpt = None) -> None:
        """填报表二某行的本年数量或收费金额。"""
        from gongkai.ledger.models import DecisionCount
        from gongkai.ledger.store import set_decision_count

        record = DecisionCount(body=body, year=year, category=category, count=number, amount_yuan=amount, source=source)
        _on_database(db, lambda engine: set_decision_count(engine, record), create=True)
        typer.echo(f"已记录 {body} {year} 年 {category}")

    @ledger.command("appeal")
    def appeal(body: Annotated[str, typer.Option("--body", metavar="机关", help="被申请复议或被诉的机关")],
               kind: Annotated[str, typer.Option(
                   "--kind", metavar="类别", help="表四的行键：review / litigation_direct / litigation_after_review")],
               filed: Annotated[str, typer.Option("--filed", metavar="日期", help="收到复议申请或起诉的日期")],
               case_number: Annotated[str | None, typer.Option("--case", metavar="案号", help="案号")] = None,
               db: DbOpt = None) -> None:
        """登记一件政府信息公开行政复议或行政诉讼。"""
        from gongkai.ledger.models import Appeal
        from gongkai.ledger.store import add_appeal

        record = Appeal(body=body, kind=kind, filed_on=_date(filed, "日期"), case_number=case_number)
        appeal_id = _on_database(db, lambda engine: add_appeal(engine, record), create=True)
        typer.echo(f"已登记复议诉讼 {appeal_id}（尚未审结）")

    @ledger.command("decide")
    def decide(appeal_id: Annotated[int, typer.Argument(metavar="编号", help="复议诉讼编号")],
               outcome: Annotated[str, typer.Argument(metavar="结果", help="表四的结果列键：upheld / corrected / other")],
               on: Annotated[str, typer.Argument(metavar="日期", help="审结日期")],
               db: DbOpt = None) -> None:
        """记录复议诉讼的结果。"""
        from gongkai.ledger.store import decide_appeal

        day = _date(on, "日期")
        _on_database(db, lambda engine: decide_appeal(engine, appeal_id, outcome, day))
        typer.echo(f"复议诉讼 {appeal_id}：{outcome}（{on}）")

    @ledger.command("document")
    def document(application_id: Annotated[int, typer.Argument(metavar="申请编号", help="申请编号")],
                 kind: Annotated[str, typer.Argument(metavar="文书",
                     help="correction_notice 补正告知书 / consultation 征求意见书 / extension 延期答复告知书 / reply 答复书")],
                 to: Annotated[str, typer.Option("--to", metavar="格式", help="docx 或 pdf")] = "docx",
                 output: Annotated[str | None, typer.Option("--output", "-o", metavar="文件", help="输出文件")] = None,
                 templates: Annotated[Path | None, typer.Option("--templates", metavar="文件", help="本机关的文书模板 YAML")] = None,
                 fill: Annotated[list[str] | None, typer.Option(
                     "--fill", metavar="名称=内容", help="补充填空，如 review_body=某市人民政府")] = None,
                 force: ForceOpt = False,
                 db: DbOpt = None) -> None:
        """生成法定文书（DOCX/PDF）。"""
        from gongkai.ledger.documents import load_templates, render_document_docx, render_document_pdf
        from gongkai.ledger.store import get_application
        from gongkai.render.pdf import RenderError

        if to not in ("docx", "pdf"):
            fail(to, "文书格式应为 docx 或 pdf")
        extra = dict(item.split("=", 1) for item in fill or [] if "=" in item)
        application = _on_database(db, lambda engine: _read(engine, get_application, application_id))
        output = output or f"{application.number or application_id}-{kind}.{to}"
        if output != "-":
            check_output(output, force, db)
        try:
            render = render_document_pdf if to == "pdf" else render_document_docx
            data = render(application, kind, load_templates(templates), extra)
        except (*problems, RenderError) as exc:
            fail(None, str(exc))
        write_output(data, output, output)
