"""Given what a report's text says and what its tables hold, these outcomes: statements read whole
(subjects, numbers, 及/其中/含/占/均/未发生), every reading the words allow, and the six sections."""

from __future__ import annotations

import pytest

import layouts
from conftest import parse_text
from gongkai.check import check_report, evaluate
from gongkai.check.narrative import chinese_number
from gongkai.model import Report, Section
from gongkai.synth import synth_report


def report_saying(text: str, cells: dict[str, int] | None = None, format_id: str = "2021", year: int = 2024,
                  section: str = "一") -> Report:
    """A report whose only text is `text` (in `section`), with these table figures."""
    report = synth_report(13, format_id=format_id, year=year).model_copy(deep=True)
    for key, value in (cells or {}).items():
        report.cells[key].value = value
    report.sections = [Section(number=s.number, title=s.title, text=text if s.number == section else "")
                       for s in report.sections]
    return report


def said(report: Report, previous: Report | None = None) -> list[tuple[str, str, str | None]]:
    """(rule, status, reading) of every statement of the text that could be judged."""
    return [(o.rule, o.status, o.reading) for o in evaluate(report, previous)
            if o.rule.startswith("N-") and o.rule != "N-fees" and o.status != "not_assessable"]


def statuses(report: Report) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for rule, status, _ in said(report):
        out.setdefault(rule, set()).add(status)
    return out


# --- 受理: 本年新收, or 本年新收 + 上年结转; its 其中 split by applicants -----------------------------

ACCEPTED_749 = "全县全年共受理政府信息公开申请 749 件，其中自然人申请 741 件，法人或其他组织申请 8 件。"
ORGS = ["commercial_enterprise", "research_institution", "social_welfare_org", "legal_service_org", "other_org"]


def accepted_tables(new_people: int, carried_people: int, new_orgs: int, carried_orgs: int) -> dict[str, int]:
    cells = {"applications.new.natural_person": new_people, "applications.carried_over.natural_person": carried_people,
             "applications.new.total": new_people + new_orgs, "applications.carried_over.total": carried_people + carried_orgs}
    for i, col in enumerate(ORGS):
        cells[f"applications.new.{col}"] = new_orgs if i == 0 else 0
        cells[f"applications.carried_over.{col}"] = carried_orgs if i == 0 else 0
    return cells


def test_accepted_749_counts_the_carried_over_applications():
    # 新收 713 + 上年结转 36 = 749; the text's own 其中 (741 + 8) says so.
    outcomes = said(report_saying(ACCEPTED_749, accepted_tables(706, 35, 7, 1)))
    assert ("N-applications", "passed", "表三 本年新收 + 上年结转") in outcomes
    assert {status for _, status, _ in outcomes} == {"passed"}
    assert ("N-parts", "passed", None) in outcomes  # 741 + 8 = 749
    assert sum(1 for rule, _, _ in outcomes if rule == "N-applications") == 3  # the whole and its two parts


def test_accepted_749_fails_when_no_reading_fits():
    findings = [f for f in check_report(report_saying(ACCEPTED_749, accepted_tables(706, 0, 7, 0)))
                if f.rule == "N-applications"]
    whole = findings[0]
    assert whole.expected == 749 and whole.found == 713
    assert "本年新收为 713" in whole.message and "本年新收 + 上年结转为 713" in whole.message
    assert "「全县全年共受理政府信息公开申请 749 件" in whole.message


def test_parts_that_do_not_add_up_to_all_applicants():
    text = "全年共受理政府信息公开申请 749 件，其中自然人申请 740 件，法人或其他组织申请 8 件。"
    # Against the tables, the one wrong figure is named; the sum it breaks is not a second error.
    outcomes = said(report_saying(text, accepted_tables(706, 35, 7, 1)))
    assert [status for rule, status, _ in outcomes if rule == "N-applications"] == ["passed", "failed", "passed"]
    assert ("N-parts", "uncertain", None) in outcomes
    # Where the tables do not state the parts, the text contradicts itself.
    tables = accepted_tables(706, 35, 7, 1) | {"applications.new.natural_person": None}
    outcomes = said(report_saying(text, tables))
    assert ("N-parts", "failed", None) in outcomes


# --- 办结 and 予以公开及部分公开 ... 占 X% ----------------------------------------------------------------

FINISHED_81 = "办结依申请公开81件，其中：予以公开及部分公开42件，占51.85%。"


def test_finished_81_of_which_granted_and_partly_granted_42():
    tables = {"applications.total_processed.total": 81, "applications.granted.total": 22,
              "applications.partially_granted.total": 20}
    outcomes = said(report_saying(FINISHED_81, tables))
    assert ("N-granted", "passed", None) in outcomes  # 22 + 20 = 42, not 部分公开 alone
    assert ("N-ratio", "passed", None) in outcomes  # 42 / 81 = 51.85%
    assert ("N-processed", "passed", "表三 办理结果总计") in outcomes
    assert {status for _, status, _ in outcomes} == {"passed"}


def test_finished_counts_with_or_without_those_carried_forward():
    tables = {"applications.total_processed.total": 75, "applications.carried_forward.total": 6,
              "applications.granted.total": 22, "applications.partially_granted.total": 20}
    outcomes = said(report_saying(FINISHED_81, tables))
    assert ("N-processed", "passed", "表三 办理结果总计 + 结转下年度") in outcomes
    tables["applications.carried_forward.total"] = 5
    assert ("N-processed", "failed", None) in said(report_saying(FINISHED_81, tables))


def test_a_share_checked_to_its_printed_precision():
    tables = {"applications.total_processed.total": 81, "applications.granted.total": 22,
              "applications.partially_granted.total": 20}
    for printed, status in (("51.85", "passed"), ("51.9", "passed"), ("52", "passed"), ("51.8", "passed"),  # cut off
                            ("51.84", "failed"), ("50", "failed")):
        outcomes = said(report_saying(f"办结依申请公开81件，其中予以公开及部分公开42件，占{printed}%。", tables))
        assert ("N-ratio", status, None) in outcomes, printed
    # Without 其中 the share's base is not pinned down: never an error.
    outcomes = said(report_saying("办结依申请公开81件，予以公开及部分公开42件，占50%。", tables))
    assert ("N-ratio", "uncertain", None) in outcomes


def test_granted_and_partly_granted_is_a_sum():
    tables = {"applications.granted.total": 20, "applications.partially_granted.total": 20}
    assert ("N-granted", "failed", None) in said(report_saying(FINISHED_81, tables))


# --- the 2019 report's misses ------------------------------------------------------------------------------

def test_a_2019_report_granted_and_partly_granted_258_against_275():
    tables = {"applications.granted.total": 272, "applications.partially_granted.total": 3}
    text = "全年共收到政府信息公开申请600件，其中予以公开及部分公开258件。"
    found = statuses(report_saying(text, tables, format_id="2019", year=2020))
    assert found["N-granted"] == {"failed"}
    text = "全年共收到政府信息公开申请600件，其中予以公开及部分公开275件。"
    assert statuses(report_saying(text, tables, format_id="2019", year=2020))["N-granted"] == {"passed"}


def test_a_2019_report_unable_to_provide_265_against_337():
    tables = {"applications.unable.not_held.total": 300, "applications.unable.needs_creation.total": 30,
              "applications.unable.unclear_after_correction.total": 7}
    finding = next(f for f in check_report(report_saying("依申请公开中，无法提供265件。", tables, format_id="2019", year=2020))
                   if f.rule == "N-unable")
    assert finding.expected == 265 and finding.found == 337 and finding.severity == "error"


@pytest.mark.parametrize(("pending", "status"), [(2, "failed"), (0, "passed")])
def test_reviews_all_upheld(pending, status):
    tables = {"appeals.review.upheld": 3, "appeals.review.corrected": 0, "appeals.review.other": 0,
              "appeals.review.pending": pending, "appeals.review.total": 3 + pending}
    text = f"本年度发生行政复议{3 + pending}件，均获维持。"
    outcomes = [o for o in evaluate(report_saying(text, tables, format_id="2019", year=2020)) if o.rule == "N-review"]
    upheld = [o for o in outcomes if o.expected == "结果维持"]
    assert [o.status for o in upheld] == [status]
    if status == "failed":
        assert "均为结果维持" in upheld[0].message and "结果维持为 3" in upheld[0].message


# --- numbers ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "value"), [("十二", 12), ("一百零三", 103), ("两千三百", 2300), ("一万二千", 12000),
                                             ("十", 10), ("二十", 20), ("三百五十六", 356), ("二〇", 20)])
def test_chinese_numerals(text, value):
    assert chinese_number(text) == value


@pytest.mark.parametrize(("text", "new", "status"), [
    ("全年共收到政府信息公开申请一百零三件。", 103, "passed"),
    ("全年共收到政府信息公开申请一百零三件。", 104, "failed"),
    ("全年共收到政府信息公开申请十二件。", 12, "passed"),
    ("全年共收到政府信息公开申请 1,234 件。", 1234, "passed"),
    ("全年共收到政府信息公开申请１，２３４件。", 1234, "passed"),
    ("全年共收到政府信息公开申请近200件。", 190, "passed"),
    ("全年共收到政府信息公开申请近200件。", 210, "uncertain"),  # not exact: never an error
    ("全年共收到政府信息公开申请200余件。", 230, "passed"),
    ("全年共收到政府信息公开申请200余件。", 190, "uncertain"),
])
def test_numbers_as_reports_print_them(text, new, status):
    tables = {"applications.new.total": new, "applications.carried_over.total": 0}
    assert statuses(report_saying(text, tables))["N-applications"] == {status}


@pytest.mark.parametrize("text", [
    "全年共收到政府信息公开申请较上年增加12件。",
    "2023年共收到政府信息公开申请 30 件。",  # another year's figure, in a 2024 report
    "1月份收到政府信息公开申请 3 件。",
    "全年主动公开政府信息 10001 条，予以公开 10001 项。",  # no application in sight
])
def test_figures_that_are_not_this_years_statement(text):
    assert said(report_saying(text, {"applications.new.total": 5}, year=2024)) == []


# --- 其中 / 含 / 各 / 转交 --------------------------------------------------------------------------------------

def test_parts_after_of_which_stay_within_their_whole():
    tables = {"applications.new.total": 20, "applications.carried_over.total": 0, "applications.granted.total": 15,
              "applications.withheld.state_secret.total": None}
    text = "全年共收到政府信息公开申请20件，其中予以公开15件，不予公开8件。"
    found = statuses(report_saying(text, tables))
    assert found["N-parts"] == {"failed"} and found["N-granted"] == {"passed"} and "N-withheld" not in found
    message = next(f.message for f in check_report(report_saying(text, tables)) if f.rule == "N-parts")
    assert "各项之和 23 超过总数" in message


def test_including_those_carried_over():
    tables = {"applications.new.total": 95, "applications.carried_over.total": 5}
    outcomes = said(report_saying("全年共受理政府信息公开申请100件（含上年结转5件）。", tables))
    assert ("N-applications", "passed", "表三 本年新收 + 上年结转") in outcomes
    assert {status for _, status, _ in outcomes} == {"passed"}


def test_each_of_two_subjects():
    tables = {"applications.granted.total": 3, "applications.partially_granted.total": 3}
    outcomes = said(report_saying("收到的申请中，予以公开和部分公开各3件。", tables))
    assert ("N-granted", "passed", None) in outcomes and ("N-partially-granted", "passed", None) in outcomes


def test_a_subject_named_after_another():
    tables = {"appeals.review.total": 3, "applications.new.total": 40, "applications.carried_over.total": 0}
    assert said(report_saying("全年受理行政复议申请3件。", tables)) == [("N-review", "passed", None)]


# --- none and all -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "review", "litigation", "expected"), [
    ("本年度未发生因政府信息公开引起的行政复议、行政诉讼案件。", 0, 0, {"N-review": {"passed"}, "N-litigation": {"passed"}}),
    ("本年度未发生行政复议和行政诉讼。", 2, 0, {"N-review": {"failed"}, "N-litigation": {"passed"}}),
    ("本年度无行政复议案件。", 1, 5, {"N-review": {"failed"}}),
    ("本年度未发生行政复议被纠错的情况。", 4, 0, {}),  # about some of them only
])
def test_statements_of_none(text, review, litigation, expected):
    tables = {"appeals.review.total": review, "appeals.litigation_direct.total": litigation,
              "appeals.litigation_after_review.total": 0}
    assert statuses(report_saying(text, tables)) == expected


def test_unable_to_provide_is_not_a_statement_of_none():
    tables = {"applications.unable.not_held.total": 4, "applications.unable.needs_creation.total": 0,
              "applications.unable.unclear_after_correction.total": 0}
    assert statuses(report_saying("依申请公开中，无法提供的申请均已告知申请人。", tables)) == {}


def test_no_applications_received():
    tables = {"applications.new.total": 0, "applications.carried_over.total": 0}
    assert statuses(report_saying("本年度未收到政府信息公开申请。", tables)) == {"N-applications": {"passed"}}
    tables["applications.new.total"] = 2
    assert statuses(report_saying("本年度未收到政府信息公开申请。", tables)) == {"N-applications": {"failed"}}


# --- the sections ------------------------------------------------------------------------------------------------

def sections_outcomes(text: str) -> dict[str, list]:
    out: dict[str, list] = {}
    for o in evaluate(parse_text(text)):
        if o.rule.startswith("S-"):
            out.setdefault(o.rule, []).append(o)
    return out


def test_six_sections_in_order_pass():
    found = sections_outcomes(layouts.tabs(synth_report(3)))
    assert [o.status for o in found["S-sections"]] == ["passed"] * 6
    assert [o.status for o in found["S-problems"]] == ["passed"]
    assert [o.status for o in found["S-fees"]] == ["passed"]


def test_a_section_numbered_unlike_the_format():
    text = layouts.tabs(synth_report(3)).replace("五、存在的主要问题及改进情况", "四、存在的主要问题及改进情况")
    found = {o.expected: o for o in sections_outcomes(text)["S-sections"]}
    five = found["五、存在的主要问题及改进情况"]
    assert five.status == "failed" and "「四、存在的主要问题及改进情况」编号与格式不符" in five.message
    assert [o.status for o in found.values()].count("failed") == 1


def test_sections_out_of_order_and_a_section_missing():
    text = layouts.tabs(synth_report(3))
    three = text.index("## 三、")
    four = text.index("## 四、")
    five = text.index("## 五、")
    swapped = text[:three] + text[four:five] + text[three:four] + text[five:]
    failed = [o for o in sections_outcomes(swapped)["S-sections"] if o.status == "failed"]
    assert len(failed) == 1 and "顺序与格式不符" in failed[0].message
    dropped = text.replace("## 二、主动公开政府信息情况", "")
    failed = [o for o in sections_outcomes(dropped)["S-sections"] if o.status == "failed"]
    assert [o.message for o in failed] == ["缺少第二部分「主动公开政府信息情况」（应在第一部分之后）"]


@pytest.mark.parametrize(("five", "status"), [
    ("无。", "failed"),
    ("暂无问题。", "failed"),
    ("暂无明显问题，将继续做好工作。", "failed"),
    ("", "failed"),
    ("存在的主要问题：部分信息更新不及时。改进情况：建立定期检查制度，按月通报。", "passed"),
])
def test_section_five_states_problems_and_improvements(five, status):
    report = report_saying(five, section="五")
    report.sections[0].text = "2024年，本机关扎实推进政务公开工作。"
    result = next(o for o in evaluate(report) if o.rule == "S-problems")
    assert result.status == status and result.severity == "warning"


def test_section_six_states_the_fees_required_in_2021_recommended_in_2019():
    for format_id, year, severity in (("2021", 2024, "error"), ("2019", 2020, "warning")):
        report = report_saying("本机关无其他需要报告的事项。", section="六", format_id=format_id, year=year)
        result = next(o for o in evaluate(report) if o.rule == "S-fees")
        assert (result.status, result.severity) == ("failed", severity)
        report = report_saying("本年度未收取信息处理费。", section="六", format_id=format_id, year=year)
        assert next(o for o in evaluate(report) if o.rule == "S-fees").status == "passed"


def test_a_report_without_text_is_not_judged_on_its_sections():
    report = synth_report(3).model_copy(deep=True)
    report.sections = []
    found = [o for o in evaluate(report) if o.rule.startswith("S-")]
    assert found and {o.status for o in found} == {"not_assessable"}


# --- the data and the seeds ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("format_id", ["2021", "2019"])
def test_the_statements_name_only_cells_and_rules_the_format_has(format_id):
    from gongkai.formats import load_format, match_keys, split_term

    fmt = load_format(format_id)
    narrative_rules = {r.id for r in fmt.rules if r.kind == "narrative"}
    columns = {c.key for t in fmt.tables for b in t.blocks for c in b.columns}
    for subject in fmt.statements.subjects:
        assert subject.rule in narrative_rules, subject.key
        assert set(subject.columns) <= columns, subject.key
        assert subject.joins is None or subject.joins in {s.key for s in fmt.statements.subjects}
        terms = [t for r in subject.readings for t in r.terms] + [t for a in subject.all_of for t in a.terms]
        for term in terms:
            assert match_keys(fmt, split_term(term)[2]), f"{subject.key}: {term}"


def test_the_seeds_statements(shared):
    from gongkai.parse import parse_file

    def outcomes(name):
        report = parse_file(str(next((shared / "seeds").glob(f"{name}_*.txt"))))
        return [(o.rule, o.status) for o in evaluate(report) if o.rule.startswith("N-") and o.rule != "N-fees"
                and o.status != "not_assessable"]

    # 西峡县: 共收到依申请公开事项 125 件，其中予以公开 69 项，部分公开 2 件，不予公开 5 件，无法提供 48 件，其他情况处理 1 件。
    xixia = outcomes("000")
    assert {rule for rule, _ in xixia} >= {"N-applications", "N-granted", "N-partially-granted", "N-withheld",
                                            "N-unable", "N-not-processed", "N-parts"}
    assert {status for _, status in xixia} == {"passed"}
    # 南阳示范区: 收到 18 件，市转交 2 件 against 97 (either reading); 其中行政复议 1 件，行政诉讼 1 件 agree.
    nanyang = outcomes("003")
    assert ("N-applications", "failed") in nanyang
    assert ("N-review", "passed") in nanyang and ("N-litigation", "passed") in nanyang
    assert [status for rule, status in nanyang if status != "passed"] == ["failed"]
