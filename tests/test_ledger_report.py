"""Given a year of applications (every applicant type and outcome, some carried over from the year
before and some into the next), the register and the appeals: the report's tables equal an
independent count, the report passes every rule, renders and parses back to the same cells; in the
database (SQLite and PostgreSQL) the same, with the overdue list and the comparison with a published report."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from functools import cache

import pytest
from typer.testing import CliRunner

from gongkai.check import check_report
from gongkai.cli import app as cli
from gongkai.ledger import store
from gongkai.ledger.models import Appeal, Application, Channel, DecisionCount, Event, EventKind, RegisterItem
from gongkai.ledger.roles import LedgerError
from gongkai.ledger.synth import synth_appeals, synth_applications
from gongkai.ledger.tables import build_report, differences
from gongkai.parse import parse
from gongkai.read import read_bytes
from gongkai.render.docx import render_docx
from gongkai.render.markdown import render_markdown
from gongkai.store.db import connect
from gongkai.store.ingest import ingest
from store_helpers import database

YEAR = 2026
BODY = "某市人民政府办公室"
APPLICANT_TYPES = ["natural_person", "commercial_enterprise", "research_institution", "social_welfare_org",
                   "legal_service_org", "other_org"]
LAPSES = {EventKind.correction_lapsed: "other.no_correction", EventKind.fee_lapsed: "other.no_fee_paid"}
runner = CliRunner()


@cache
def applications() -> tuple[Application, ...]:
    return tuple(synth_applications(2400, YEAR, bodies=[BODY], seed=16))


def register() -> list[RegisterItem]:
    def item(category, title, issued, repealed=None):
        return RegisterItem(body=BODY, category=category, title=title, issued_on=issued, repealed_on=repealed,
                            state="已发布")
    return [item("rules", "规章甲", dt.date(2019, 5, 1)), item("rules", "规章乙", dt.date(2026, 3, 1)),
            item("normative_documents", "文件一", dt.date(2024, 1, 5), dt.date(2026, 6, 1)),
            item("normative_documents", "文件二", dt.date(2026, 2, 1)),
            item("normative_documents", "文件三", dt.date(2026, 7, 1)),
            RegisterItem(body=BODY, category="normative_documents", title="草稿中的文件", issued_on=dt.date(2026, 8, 1))]


def decisions(year: int) -> list[DecisionCount]:
    return [DecisionCount(body=BODY, year=year, category="licensing", count=1204),
            DecisionCount(body=BODY, year=year, category="punishment", count=37),
            DecisionCount(body=BODY, year=year, category="coercion", count=0),
            DecisionCount(body=BODY, year=year, category="fees", amount_yuan=123456.0)]


def closing(app: Application) -> tuple[dt.date | None, str | None]:
    """When and how an application ended, read straight from its events."""
    ends = [e for e in app.events if e.kind in (EventKind.reply, *LAPSES)]
    if not ends:
        return None, None
    last = max(ends, key=lambda e: e.on)
    return last.on, (last.outcome if last.kind is EventKind.reply else LAPSES[last.kind])


def independent_count(apps, year: int) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for app in apps:
        closed, outcome = closing(app)
        t = app.applicant_type
        if app.received_on.year == year:
            counts[f"new.{t}"] += 1
        if app.received_on.year < year and (closed is None or closed.year >= year):
            counts[f"carried_over.{t}"] += 1
        if closed and closed.year == year:
            counts[f"{outcome}.{t}"] += 1
            counts[f"total_processed.{t}"] += 1
        if app.received_on.year <= year and (closed is None or closed.year > year):
            counts[f"carried_forward.{t}"] += 1
    for key in list(counts):
        row = key.rsplit(".", 1)[0]
        counts[f"{row}.total"] += counts[key]
    return counts


def test_generated_year_covers_every_outcome_type_and_carry_over():
    apps = applications()
    assert len(apps) >= 2000
    outcomes = {closing(a)[1] for a in apps if closing(a)[0] and closing(a)[0].year == YEAR}
    assert len(outcomes) == 2 + 8 + 3 + 5 + 3  # every result row of table 三 (2021 format): （一）…（六）
    assert {a.applicant_type for a in apps} == set(APPLICANT_TYPES)
    assert any(a.received_on.year < YEAR and closing(a)[0] is None for a in apps)  # carried over and still open
    assert any(closing(a)[0] is None and a.received_on.year == YEAR for a in apps)  # carried forward


def test_table_3_equals_an_independent_count_and_the_report_passes_every_rule():
    apps = applications()
    report = build_report(BODY, YEAR, apps, register(), decisions(YEAR), synth_appeals(40, YEAR, BODY, seed=3))
    expected = independent_count(apps, YEAR)
    table3 = {k.removeprefix("applications."): v for k, v in report.values().items() if k.startswith("applications.")}
    assert table3 == {k: expected.get(k, 0) for k in table3}
    assert table3["new.total"] + table3["carried_over.total"] > 2000
    assert check_report(report) == []
    # And with last year's report from the same records: the carry-over rules hold too.
    previous = build_report(BODY, YEAR - 1, apps, register(), decisions(YEAR - 1))
    assert check_report(report, previous) == []
    assert report.value("applications.carried_over.total") == previous.value("applications.carried_forward.total") > 0


def test_table_2_from_the_register_and_table_4_from_the_appeals():
    appeals = [Appeal(body=BODY, kind="review", filed_on=dt.date(2026, 2, 1), decided_on=dt.date(2026, 4, 1), outcome="upheld"),
               Appeal(body=BODY, kind="review", filed_on=dt.date(2026, 11, 1)),
               Appeal(body=BODY, kind="litigation_after_review", filed_on=dt.date(2026, 5, 1),
                      decided_on=dt.date(2027, 1, 10), outcome="corrected"),
               Appeal(body=BODY, kind="litigation_direct", filed_on=dt.date(2025, 5, 1), outcome="other",
                      decided_on=dt.date(2025, 9, 1))]
    report = build_report(BODY, YEAR, (), register(), decisions(YEAR), appeals)
    values = report.values()
    # 规章: 甲 (2019) and 乙 (2026) in force; 规范性文件: 一 repealed in 2026, 二 and 三 issued, the draft not counted.
    assert (values["proactive.rules.issued"], values["proactive.rules.repealed"], values["proactive.rules.in_force"]) == (1, 0, 2)
    assert (values["proactive.normative_documents.issued"], values["proactive.normative_documents.repealed"],
            values["proactive.normative_documents.in_force"]) == (2, 1, 2)
    assert values["proactive.licensing.decisions"] == 1204 and values["proactive.coercion.decisions"] == 0
    assert values["proactive.fees.amount_10k_yuan"] == 12.3456
    # 行政复议: one upheld, one pending; 复议后起诉 decided only in 2027: pending at the end of 2026.
    assert (values["appeals.review.upheld"], values["appeals.review.pending"], values["appeals.review.total"]) == (1, 1, 2)
    assert (values["appeals.litigation_after_review.pending"], values["appeals.litigation_after_review.corrected"]) == (1, 0)
    assert values["appeals.litigation_direct.total"] == 0  # filed in 2025
    # A year nobody entered decision counts for leaves them blank, not 0.
    assert build_report(BODY, YEAR, (), register()).value("proactive.licensing.decisions") is None


def test_rendered_and_parsed_back_the_cells_are_the_same():
    report = build_report(BODY, YEAR, applications(), register(), decisions(YEAR), synth_appeals(40, YEAR, BODY, seed=3))
    for data, name in ((render_docx(report), "ledger.docx"), (render_markdown(report).encode("utf-8"), "ledger.md")):
        parsed = parse(read_bytes(data, name))
        assert parsed.values() == report.values(), name


def test_differences_with_a_published_report_are_findings():
    report = build_report(BODY, YEAR, applications(), register(), decisions(YEAR))
    published = report.model_copy(deep=True)
    published.cells["applications.granted.natural_person"].value += 3
    published.cells["proactive.licensing.decisions"].value = None  # not stated: no finding
    found = differences(report, published)
    assert [(f.rule, f.cells, f.expected, f.found) for f in found] == [
        ("L-ledger", ["applications.granted.natural_person"], report.value("applications.granted.natural_person"),
         report.value("applications.granted.natural_person") + 3)]
    assert "台账记录为" in found[0].message and "（一）予以公开" in found[0].message


def test_an_outcome_that_is_not_a_result_row_is_refused():
    app = Application(body=BODY, applicant_type="natural_person", channel=Channel.online, received_on=dt.date(2026, 3, 2),
                      events=[Event(kind=EventKind.reply, on=dt.date(2026, 3, 5), outcome="approved")])
    with pytest.raises(LedgerError, match="approved"):
        build_report(BODY, YEAR, [app])


# ---- in the database -----------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path) -> str:
    return database(request.param, tmp_path)


def test_ledger_in_the_database(db, tmp_path):
    engine = connect(db)
    apps = list(applications()[:600])
    other = synth_applications(300, YEAR, bodies=["另一局"], seed=5)
    store.create_applications(engine, apps + other)
    for item in register():
        item_id = store.add_register_item(engine, item)
        if item.state.name == "published":
            for who in ("初审人", "复审人", "终审人", "发布人"):
                store.advance_review(engine, item_id, who, dt.date(2026, 1, 1))
    for count in decisions(YEAR):
        store.set_decision_count(engine, count)
    with engine.connect() as conn:
        tables = store.application_tables(conn, YEAR)
        assert set(tables) == {BODY, "另一局"}
        expected = independent_count(apps, YEAR)
        assert {k.removeprefix("applications."): v for k, v in tables[BODY].items()} == \
            {k.removeprefix("applications."): expected.get(k.removeprefix("applications."), 0) for k in tables[BODY]}
        stored = store.report_for(conn, BODY, YEAR)
        assert stored.values() == build_report(BODY, YEAR, apps, register(), decisions(YEAR)).values()
        assert store.compare_with_published(conn, stored) is None
        # What the database gives back is what went in.
        first = store.list_applications(conn, body=BODY)[0]
        assert first.events == [e.model_copy(update={"id": first.events[i].id}) for i, e in enumerate(
            sorted(next(a for a in apps if a.number == first.number).events, key=lambda e: e.on))]
    # A published report of the body for that year, with one figure that differs from the records.
    published = stored.model_copy(deep=True)
    published.cells["applications.new.natural_person"].value += 1
    published.cells["applications.new.total"].value += 1
    folder = tmp_path / "published"
    folder.mkdir()
    (folder / "report.txt").write_text(render_markdown(published, tables="tabs"), encoding="utf-8")
    assert ingest(engine, [folder], workers=1).parsed == 1
    with engine.connect() as conn:
        found = store.compare_with_published(conn, store.report_for(conn, BODY, YEAR))
    assert sorted(f.cells[0] for f in found) == ["applications.new.natural_person", "applications.new.total"]
    engine.dispose()


def test_register_application_record_events_and_see_it_overdue(db):
    engine = connect(db)
    app_id = store.create_application(engine, Application(
        body=BODY, applicant_type="legal_service_org", channel=Channel.post, received_on=dt.date(2026, 9, 28),
        applicant_name="某律师事务所", handler="张三"))
    with engine.connect() as conn:
        # Due 10-30; on 10-27 three working days are left (10-28, 10-29, 10-30).
        [item] = store.due_list(conn, dt.date(2026, 10, 27), within=5)
        assert (item.id, item.due_on, item.working_days_left, item.overdue) == (app_id, dt.date(2026, 10, 30), 3, False)
        assert store.due_list(conn, dt.date(2026, 10, 27), within=2) == []
        # On 11-03 it is two working days overdue (11-02, 11-03); by handler too, not for another handler.
        [item] = store.due_list(conn, dt.date(2026, 11, 3), handler="张三")
        assert item.overdue and item.working_days_left == -2
        assert store.due_list(conn, dt.date(2026, 11, 3), handler="李四") == []
    app = store.add_event(engine, app_id, Event(kind=EventKind.extension, on=dt.date(2026, 10, 28), days=10, approver="主任"))
    # 20 + 10: 11-02…06 (21–25), 11-09…13 (26–30).
    with engine.connect() as conn:
        [item] = store.due_list(conn, dt.date(2026, 11, 3), within=10)
        assert (item.due_on, item.working_days_left) == (dt.date(2026, 11, 13), 8)
    with pytest.raises(LedgerError, match="延期共 30"):
        store.add_event(engine, app_id, Event(kind=EventKind.extension, on=dt.date(2026, 10, 29), days=20, approver="主任"))
    with pytest.raises(LedgerError, match="尚未答复"):
        store.add_event(engine, app_id, Event(kind=EventKind.delivery, on=dt.date(2026, 11, 4)))
    store.add_event(engine, app_id, Event(kind=EventKind.reply, on=dt.date(2026, 11, 10), outcome="partially_granted"))
    app = store.add_event(engine, app_id, Event(kind=EventKind.delivery, on=dt.date(2026, 11, 11)))
    assert app.closed_on() == dt.date(2026, 11, 10)
    with engine.connect() as conn:
        assert store.due_list(conn, dt.date(2026, 12, 1)) == []
        assert store.application_tables(conn, YEAR)[BODY]["applications.partially_granted.legal_service_org"] == 1
    engine.dispose()


def test_three_reviews_by_three_people(db):
    engine = connect(db)
    item_id = store.add_register_item(engine, RegisterItem(body=BODY, category="normative_documents", title="某办法",
                                                           issued_on=dt.date(2026, 5, 1)))
    assert store.advance_review(engine, item_id, "甲", dt.date(2026, 4, 20)).value == "初审"
    with pytest.raises(LedgerError, match="另一人"):
        store.advance_review(engine, item_id, "甲", dt.date(2026, 4, 21))
    store.advance_review(engine, item_id, "乙", dt.date(2026, 4, 22))
    store.advance_review(engine, item_id, "丙", dt.date(2026, 4, 23))
    assert store.advance_review(engine, item_id, "甲", dt.date(2026, 5, 1)).value == "已发布"
    with engine.connect() as conn:
        [item] = store.register_items(conn, BODY)
    assert [(s.state.value, s.by) for s in item.reviews] == [("初审", "甲"), ("复审", "乙"), ("终审", "丙"), ("已发布", "甲")]
    engine.dispose()


def test_ledger_commands(tmp_path):
    db = str(tmp_path / "cli.db")
    run = runner.invoke(cli, ["ledger", "add", "--db", db, "--body", BODY, "--type", "natural_person", "--channel", "网络",
                              "--confirmed", "2026-02-10", "--name", "王某", "--content", "某项目批复", "--handler", "李四"])
    assert run.exit_code == 0, run.output
    assert "答复期限 2026-03-16" in run.stdout and "春节 02-15—02-23 不计" in run.stdout
    run = runner.invoke(cli, ["ledger", "overdue", "--db", db, "--today", "2026-03-18"])
    assert "已超期 2 个工作日" in run.stdout
    run = runner.invoke(cli, ["ledger", "show", "--db", db, "1"])
    assert "答复期限 2026-03-16：收到 2026-02-10（星期二）" in run.stdout
    assert runner.invoke(cli, ["ledger", "show", "--db", db, "9"]).stderr.startswith("gongkai: 没有编号为 9 的申请")
    run = runner.invoke(cli, ["ledger", "event", "--db", db, "1", "答复", "2026-03-10", "--outcome", "granted"])
    assert run.exit_code == 0 and "已办结" in run.stdout
    run = runner.invoke(cli, ["ledger", "event", "--db", db, "1", "答复", "2026-03-11", "--outcome", "granted"])
    assert run.exit_code == 2 and "已于 2026-03-10" in run.stderr
    out = tmp_path / "report.yaml"
    run = runner.invoke(cli, ["ledger", "report", "--db", db, BODY, "2026", "-o", str(out)])
    assert "applications:" in out.read_text(encoding="utf-8")
    assert "未比对" in run.stderr  # with -o the findings go to stderr
    run = runner.invoke(cli, ["ledger", "document", "--db", db, "1", "reply", "-o", str(tmp_path / "reply.docx"),
                              "--fill", "review_body=某市人民政府"])
    assert run.exit_code == 0, run.output
    text = "\n".join(p.text for p in __import__("docx").Document(str(tmp_path / "reply.docx")).paragraphs)
    assert "第三十六条第（二）项" in text and "向某市人民政府申请行政复议" in text and "六个月内" in text


def test_the_due_list_late_in_the_last_year_with_data_says_what_it_cannot_compute(tmp_path):
    engine = connect(str(tmp_path / "late.db"))
    late = store.create_application(engine, Application(body=BODY, applicant_type="natural_person", channel=Channel.online,
                                                        received_on=dt.date(2026, 12, 20)))
    early = store.create_application(engine, Application(body=BODY, applicant_type="natural_person", channel=Channel.online,
                                                         received_on=dt.date(2026, 11, 20)))
    with engine.connect() as conn:
        # 11-20 + 20 working days = 12-18: overdue on 12-28 by 6 (12-21…25, 12-28); the other's date needs 2027.
        items = {item.id: item for item in store.due_list(conn, dt.date(2026, 12, 28))}
    assert items[early].working_days_left == -6
    assert items[late].due_on is None and "2027" in items[late].problem
    engine.dispose()


def test_register_and_appeal_commands_fill_tables_2_and_4(tmp_path):
    db = str(tmp_path / "cli.db")

    def run(*args: str) -> str:
        result = runner.invoke(cli, ["ledger", *args, "--db", db])
        assert result.exit_code == 0, result.output
        return result.stdout

    run("item", "--body", BODY, "--category", "normative_documents", "--title", "某办法", "--issued", "2026-05-01")
    for who, day in (("甲", "2026-04-20"), ("乙", "2026-04-22"), ("丙", "2026-04-23")):
        run("review", "1", "--by", who, "--on", day)
    assert "已发布" in run("review", "1", "--by", "甲", "--on", "2026-05-01")
    run("count", BODY, "2026", "licensing", "--count", "12")
    run("count", BODY, "2026", "punishment", "--count", "3")
    run("count", BODY, "2026", "coercion", "--count", "0")
    run("count", BODY, "2026", "fees", "--amount-yuan", "0")
    run("appeal", "--body", BODY, "--kind", "review", "--filed", "2026-03-01")
    run("decide", "1", "corrected", "2026-05-20")
    run("appeal", "--body", BODY, "--kind", "litigation_direct", "--filed", "2026-08-01")
    wrong = runner.invoke(cli, ["ledger", "appeal", "--db", db, "--body", BODY, "--kind", "复议", "--filed", "2026-08-01"])
    assert wrong.exit_code == 2 and "不是表四的行" in wrong.stderr
    engine = connect(db)
    with engine.connect() as conn:
        values = store.report_for(conn, BODY, 2026).values()
    engine.dispose()
    assert (values["proactive.normative_documents.issued"], values["proactive.normative_documents.in_force"]) == (1, 1)
    assert values["proactive.rules.in_force"] is None  # no 规章 on record
    assert (values["proactive.licensing.decisions"], values["proactive.fees.amount_10k_yuan"]) == (12, 0)
    assert (values["appeals.review.corrected"], values["appeals.litigation_direct.pending"]) == (1, 1)


# ---- the formats the ledger counts into ----------------------------------------------------------


@pytest.mark.parametrize("format_id", ["2021", "2019"])
def test_the_roles_name_rows_and_columns_of_their_format(format_id):
    from gongkai.formats import load_format
    from gongkai.ledger.roles import roles

    r = roles(format_id)
    fmt = load_format(format_id)
    rows = {row.key for row in fmt.table("applications").rows}
    assert set(r.applications.values()) <= rows
    assert set(r.closing_outcomes.values()) <= set(r.outcome_rows)
    assert r.appeals["pending"] in {c.key for c in fmt.table("appeals").columns}
    assert set(r.proactive) <= {c.key for block in fmt.table("proactive").blocks for c in block.columns}
    assert list(r.applicant_types) == APPLICANT_TYPES


def test_a_2020_report_counts_in_the_trial_format():
    # 2021-format outcomes recorded in 2020 fold into the 2019 trial format's rows: 逾期不补正 → （六）其他处理.
    apps = [Application(body=BODY, applicant_type="natural_person", channel=Channel.online, received_on=dt.date(2020, 3, 2),
                        events=[Event(kind=EventKind.correction_notice, on=dt.date(2020, 3, 4), days=5),
                                Event(kind=EventKind.correction_lapsed, on=dt.date(2020, 3, 20))]),
            Application(body=BODY, applicant_type="other_org", channel=Channel.post, received_on=dt.date(2020, 12, 28))]
    report = build_report(BODY, 2020, apps)
    assert report.format == "2019"
    assert report.value("applications.other.all.natural_person") == 1
    assert report.value("applications.carried_forward.other_org") == 1
    assert [f.rule for f in check_report(report) if f.severity == "error"] == []


def test_a_category_the_register_holds_nothing_of_stays_blank():
    report = build_report(BODY, YEAR, (), [i for i in register() if i.category == "normative_documents"])
    assert report.value("proactive.rules.in_force") is None and report.value("proactive.rules.issued") is None
    assert report.value("proactive.normative_documents.repealed") == 1


@pytest.mark.parametrize("command", ["", "due", "add", "event", "show", "overdue", "refresh", "report", "import", "item",
                                     "review", "count", "appeal", "decide", "document"])
def test_ledger_help_is_in_chinese_without_python_types(command):
    result = runner.invoke(cli, ["ledger", *([command] if command else []), "--help"])
    assert result.exit_code == 0
    for english in ("Show this message", "Usage:", "Options", "Arguments", "[default", "<bool>", "<list", "<str>",
                    "<int>", "<float>", "<Path>", "[OPTIONS]", "COMMAND"):
        assert english not in result.stdout, (command, english)
    assert "用法：" in result.stdout


def test_a_published_items_reviewed_particulars_stay_and_what_it_counts_in_follows_its_dates(tmp_path):
    from gongkai.ledger.tables import item_cells

    engine = connect(str(tmp_path / "items.db"))
    item = RegisterItem(body=BODY, category="rules", title="某规章", number="第1号", issued_on=dt.date(2026, 5, 1))
    item_id = store.add_register_item(engine, item)
    assert item_cells(item, 2026) == []  # a draft counts in nothing
    for by in ("甲", "乙", "丙", "丁"):
        store.advance_review(engine, item_id, by, dt.date(2026, 5, 1))
    with engine.connect() as conn:
        published = store.get_register_item(conn, item_id)
    assert item_cells(published, 2026) == ["proactive.rules.issued", "proactive.rules.in_force"]
    with pytest.raises(LedgerError, match="三审"):
        store.update_register_item(engine, item_id, item.model_copy(update={"title": "另一个标题"}))
    store.update_register_item(engine, item_id, item.model_copy(update={"repealed_on": dt.date(2027, 3, 1)}))
    with engine.connect() as conn:
        repealed = store.get_register_item(conn, item_id)
    assert repealed.title == "某规章" and repealed.state.value == "已发布"
    assert item_cells(repealed, 2027) == ["proactive.rules.repealed"]
    with pytest.raises(LedgerError, match="不能退回"):
        store.return_to_draft(engine, item_id, "甲", dt.date(2027, 3, 2), "退回")
    engine.dispose()
