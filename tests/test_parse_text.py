"""Given a text report in one of the layouts reports come in, these cells."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import layouts
from conftest import parse_text
from gongkai.document import LoadError
from gongkai.formats import load_format
from gongkai.synth import synth_report

T = "\t"
APPLICATION_ROWS = [
    ("一、本年新收政府信息公开申请数量", "new"),
    ("二、上年结转政府信息公开申请数量", "carried_over"),
]


def doc(*table_three_lines: str, title: str = "某某县人民政府2024年政府信息公开工作年度报告") -> str:
    return "\n".join([title, "", "三、收到和处理政府信息公开申请情况", "", *table_three_lines, "",
                      "五、存在的主要问题及改进情况", "", "无。"])


HEADER = [
    f"（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）{T}{T}{T}申请人情况",
    f"{T}{T}{T}自然人{T}法人或其他组织{T}{T}{T}{T}{T}总计",
    f"{T}{T}{T}{T}商业企业{T}科研机构{T}社会公益组织{T}法律服务机构{T}其他{T}",
]


# --- whole reports in each layout ----------------------------------------------------------


@pytest.mark.parametrize("layout", [layouts.tabs, layouts.pipes, layouts.one_cell_per_line, layouts.pdf_text])
@pytest.mark.parametrize("seed", range(12))
def test_every_cell_comes_back_in_every_layout(layout, seed):
    report = synth_report(seed)
    parsed = parse_text(layout(report))
    assert parsed.agency == report.agency
    assert parsed.year == report.year
    assert parsed.values() == report.values()


def test_each_cell_knows_the_line_it_came_from():
    report = synth_report(3)
    text = layouts.tabs(report)
    parsed = parse_text(text)
    lines = text.splitlines()
    cell = parsed.cells["applications.new.total"]
    assert cell.provenance.line is not None
    line = lines[cell.provenance.line - 1]
    assert line.startswith("一、本年新收政府信息公开申请数量")
    assert text[cell.provenance.start:cell.provenance.end] == str(report.value("applications.new.total"))


# --- label variants -------------------------------------------------------------------------


def test_label_variants_brackets_spaces_and_punctuation():
    text = doc(
        f"{T}{T}{T}自然人{T}法人或其他组织{T}{T}{T}{T}{T}总计",
        f"{T}{T}{T}{T}商业企业{T}科研机构{T}社会组织{T}法律服务机构{T}其它{T}",
        f"一 、本年新收政府信息 公开申请数量{T}{T}{T}5{T}1{T}0{T}0{T}0{T}0{T}6",
        f"三、本年度办理结果{T}(一) 予以公开{T}{T}4{T}1{T}0{T}0{T}0{T}0{T}5",
        f"{T}（三）不予公 开{T}2.其他法律法规禁止公开{T}1{T}0{T}0{T}0{T}0{T}0{T}1",
        f"{T}(六) 其他处理{T}1. 申请人无正当理由逾期不补正，行政机关不再处理其政府信息公开申请{T}0{T}0{T}0{T}0{T}0{T}0{T}0",
        f"{T}{T}2．申请人逾期未按收费通知要求缴纳费用,行政机关不再处理其政府信息公开申请{T}2{T}0{T}0{T}0{T}0{T}0{T}2",
        f"{T}{T}3. 其 他{T}3{T}0{T}0{T}0{T}0{T}0{T}3",
        f"（七）总  计{T}{T}{T}10{T}1{T}0{T}0{T}0{T}0{T}11",
    )
    r = parse_text(text)
    assert r.value("applications.new.natural_person") == 5
    assert r.value("applications.new.total") == 6
    assert r.value("applications.granted.commercial_enterprise") == 1
    assert r.value("applications.withheld.prohibited_by_law.natural_person") == 1
    assert r.value("applications.other.no_correction.total") == 0
    assert r.value("applications.other.no_fee_paid.natural_person") == 2
    assert r.value("applications.other.other.total") == 3
    assert r.value("applications.total_processed.total") == 11
    # 社会组织 and 其它 are the format's 社会公益组织 and 其他 columns: all seven are present.
    assert r.tables["applications"].missing_columns == []


def test_other_processing_printed_as_one_row():
    text = doc(*HEADER, f"{T}（六）其他处理{T}{T}1{T}0{T}0{T}0{T}0{T}0{T}1")
    r = parse_text(text)
    assert r.value("applications.other.all.natural_person") == 1
    assert r.value("applications.other.other.natural_person") is None


# --- blanks, missing columns, short rows ---------------------------------------------------------


def test_blank_cells_are_null_and_printed_zeros_are_zero():
    text = doc(*HEADER, f"一、本年新收政府信息公开申请数量{T}{T}{T}3{T}{T}0{T}{T}0{T}—{T}3")
    r = parse_text(text)
    assert r.value("applications.new.natural_person") == 3
    assert r.value("applications.new.commercial_enterprise") is None
    assert r.value("applications.new.research_institution") == 0
    assert r.value("applications.new.social_welfare_org") is None
    assert r.value("applications.new.other_org") is None
    assert r.cells["applications.new.other_org"].raw == "—"
    # A row the document never prints is null throughout, not zero.
    assert r.value("applications.carried_over.total") is None


def test_a_table_missing_its_other_column():
    header = [
        f"{T}{T}自然人{T}法人或其他组织{T}{T}{T}{T}总计",
        f"{T}{T}{T}商业企业{T}科研机构{T}社会公益组织{T}法律服务机构{T}",
    ]
    text = doc(*header,
               f"一、本年新收政府信息公开申请数量{T}{T}7{T}1{T}0{T}2{T}0{T}10",
               # five figures for six columns: the first equals the total, so the rest are 0
               f"{T}(四) 无法提供{T}1.本机关不掌握相关政府信息{T}4{T}0{T}0{T}0{T}4",
               # five figures that do not force the lost cell: it stays unknown
               f"{T}{T}2.没有现成信息需要另行制作{T}2{T}1{T}0{T}0{T}3")
    r = parse_text(text)
    assert r.tables["applications"].missing_columns == ["other_org"]
    assert r.value("applications.new.social_welfare_org") == 2
    assert r.value("applications.new.total") == 10
    assert r.value("applications.new.other_org") is None
    assert [r.value(f"applications.unable.not_held.{c}") for c in
            ("natural_person", "commercial_enterprise", "legal_service_org", "other_org", "total")] == [4, 0, 0, None, 4]
    assert "推定" in r.cells["applications.unable.not_held.legal_service_org"].note
    assert r.value("applications.unable.needs_creation.natural_person") == 2
    assert r.value("applications.unable.needs_creation.total") == 3
    assert r.value("applications.unable.needs_creation.commercial_enterprise") is None


def test_a_row_with_only_its_total():
    text = doc(*HEADER, f"本年{T}（一）予以公开{T}{T}{T}{T}{T}{T}20")
    r = parse_text(text)
    assert r.value("applications.granted.total") == 20
    assert r.value("applications.granted.natural_person") is None


# --- rows broken across lines ----------------------------------------------------------------------


def test_pdf_text_with_labels_broken_across_lines():
    text = doc(
        "自然人 法人或其他组织 总计",
        "商业企业 科研机构 社会公益组织 法律服务机构 其他",
        "一、本年新收政府信息公开申请数量 9 0 0 0 0 0 9",
        "三、",
        "本年 （一）予以公开 5 0 0 0 0 0 5",
        "(五) 不予处理 5.要求行政机关确认或重新",
        "出具已获取信息 1 0 0 0 0 0 1",
        "(六) 其他处理 2.申请人逾期未按收费通知要求缴纳费",
        "用、行政机关不再处理其政府信息公开申请 2 0 0 0 0 0 2",
    )
    r = parse_text(text)
    assert r.value("applications.new.total") == 9
    assert r.value("applications.granted.natural_person") == 5
    assert r.value("applications.not_processed.confirm_or_reissue.total") == 1
    assert r.value("applications.other.no_fee_paid.natural_person") == 2


def test_one_figure_per_line():
    text = doc("一、本年新收政府信息公开申请数量", *[str(v) for v in (3, 1, 0, 0, 0, 0, 4)],
               "二、上年结转政府信息公开申请数量", *["0"] * 7)
    r = parse_text(text)
    assert r.value("applications.new.commercial_enterprise") == 1
    assert r.value("applications.new.total") == 4
    assert r.value("applications.carried_over.total") == 0


# --- numbers -------------------------------------------------------------------------------------------


def test_thousands_separators_full_width_digits_and_units():
    text = "\n".join([
        "某局2024年政府信息公开工作年度报告", "二、主动公开政府信息情况",
        f"第二十条第（一）项{T}{T}{T}", f"信息内容{T}本年制发件数{T}本年废止件数{T}现行有效件数",
        f"规章{T}１２{T}０{T}1,234", f"行政规范性文件{T}3件{T}0{T}12，345",
        f"行政许可{T}10,431{T}", f"行政事业性收费{T}16,085.100735万元",
        "三、收到和处理政府信息公开申请情况", *HEADER,
        f"一、本年新收政府信息公开申请数量{T}{T}{T}１,０２０{T}0{T}0{T}0{T}0{T}0{T}1020",
    ])
    r = parse_text(text)
    assert r.value("proactive.rules.issued") == 12
    assert r.value("proactive.rules.in_force") == 1234
    assert r.value("proactive.normative_documents.issued") == 3
    assert r.value("proactive.normative_documents.in_force") == 12345
    assert r.value("proactive.licensing.decisions") == 10431
    assert r.value("proactive.fees.amount_10k_yuan") == pytest.approx(16085.100735)
    assert r.value("applications.new.natural_person") == 1020


# --- metadata -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("title", "agency", "year"), [
    ("西峡县人民政府 2024 年政府信息公开工作年度报告", "西峡县人民政府", 2024),
    ("2023年宛城区人民政府办公室政府信息公开工作年度报告", "宛城区人民政府办公室", 2023),
    ("# 某某市教育局2022年度政府信息公开工作年度报告", "某某市教育局", 2022),
    ("某某县人民政府二〇二一年政府信息公开工作年度报告", "某某县人民政府", 2021),
    ("2024年度某镇人民政府信息公开工作年度报告", "某镇人民政府", 2024),
])
def test_agency_and_year_from_the_title(title, agency, year):
    r = parse_text(doc(*HEADER, f"一、本年新收政府信息公开申请数量{T}{T}{T}1{T}0{T}0{T}0{T}0{T}0{T}1", title=title))
    assert (r.agency, r.year) == (agency, year)


def test_sections_are_split_by_their_headings():
    report = synth_report(5)
    parsed = parse_text(layouts.tabs(report))
    assert [s.number for s in parsed.sections] == list("一二三四五六")
    assert "未收取信息处理费" in parsed.section("六").text
    assert "共收到政府信息公开申请" in parsed.section("一").text


# --- errors -------------------------------------------------------------------------------------------------


def test_a_document_without_tables_is_a_clear_error():
    with pytest.raises(LoadError, match="未找到年度报告的统计表格"):
        parse_text("某某县2024年政府信息公开工作年度报告\n\n一、总体情况\n\n今年我县认真落实条例。\n", "plain.txt")


def test_cli_reports_a_bad_file_and_parses_the_rest(tmp_path):
    good = tmp_path / "good.md"
    good.write_text(layouts.pipes(synth_report(1)), encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    prose = tmp_path / "prose.txt"
    prose.write_text("这是一封信，没有任何表格。\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "gongkai", "parse", str(empty), str(good), str(prose)],
                         capture_output=True, text=True)
    assert run.returncode == 1
    out = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(out) == 1 and out[0]["applications"]["new"]["total"] == synth_report(1).value("applications.new.total")
    errors = run.stderr.strip().splitlines()
    assert len(errors) == 2
    assert str(empty) in errors[0] and "文件为空" in errors[0]
    assert str(prose) in errors[1] and "未找到" in errors[1]


def test_cli_table_output_prints_the_three_tables(tmp_path):
    path = tmp_path / "r.md"
    path.write_text(layouts.pipes(synth_report(2)), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "gongkai", "parse", str(path), "--format", "table"],
                         capture_output=True, text=True, env={"COLUMNS": "200", "PATH": ""})
    assert run.returncode == 0, run.stderr
    for words in ("表二", "表三", "表四", "行政复议", "自然人"):
        assert words in run.stdout


# --- the seeds, scored against their gold --------------------------------------------------------------


def test_seed_reports_match_their_gold(shared):
    run = subprocess.run([sys.executable, str(shared / "spec" / "score.py"), str(shared / "spec" / "gold"),
                          str(shared / "seeds"), "--cmd", f"{sys.executable} -m gongkai parse {{file}} --format json"],
                         capture_output=True, text=True, timeout=300)
    last = run.stdout.strip().splitlines()[-1]
    assert last.startswith("cells 1000/1000"), run.stdout
    assert "metadata 5/5" in last


def test_a_title_without_a_year_takes_the_year_the_text_speaks_of():
    text = doc(*HEADER, f"一、本年新收政府信息公开申请数量{T}{T}{T}1{T}0{T}0{T}0{T}0{T}0{T}1",
               title="某某县人民政府政府信息公开工作年度报告").replace("无。", "2023年，我县收到申请1件。2023年度未收费。")
    report = parse_text(text)
    assert (report.agency, report.year) == ("某某县人民政府", 2023)


def test_grand_total_printed_as_heji_but_not_a_group_subtotal():
    text = doc(*HEADER, f"（三）不予公开{T}合计{T}{T}1{T}0{T}0{T}0{T}0{T}0{T}1",
               f"（七）合计{T}{T}{T}5{T}0{T}0{T}0{T}0{T}0{T}5")
    r = parse_text(text)
    assert r.value("applications.total_processed.total") == 5
    assert any("无法确定一行数字所在的行「（三）不予公开 合计」" in note for note in r.notes)


@pytest.mark.parametrize("layout", [layouts.tabs, layouts.one_cell_per_line])
@pytest.mark.parametrize("seed", range(8))
def test_blank_cells_anywhere_stay_in_their_columns(layout, seed):
    """Blanks at a row's ends (a blank 总计, a blank 自然人) beside a merged label's blanks."""
    import random

    report = synth_report(seed)
    rng = random.Random(seed)
    applications = [k for k in report.cells if k.startswith("applications.")]
    blanks = rng.sample(applications, 6) + [k for k in applications if k.endswith(".total")][seed:seed + 1] + \
        [k for k in applications if k.endswith(".natural_person")][seed + 2:seed + 3]
    for key in blanks:
        report.cells[key].value = None
    assert parse_text(layout(report)).values() == report.values()


# --- a row printing more figures than the table has columns -------------------------------------------------------

NEW = "一、本年新收政府信息公开申请数量"


@pytest.mark.parametrize(("figures", "why"), [
    (["2024", "3", "0", "1", "0", "0", "0", "4"], "前 1 个数"),  # the year of a label split off
    (["7", "3", "0", "1", "0", "0", "0", "4"], "前 1 个数"),  # a row number printed after the label
    (["3", "0", "1", "0", "0", "0", "4", "2"], "后 1 个数"),  # a footnote number after the total
    (["3", "0", "1", "0", "0", "1", "0", "4"], "小计"),  # a 法人或其他组织 subtotal column
])
def test_extra_figures_set_aside_where_the_row_then_adds_up(figures, why):
    report = parse_text(doc(*HEADER, T.join([NEW, *figures])))
    columns = load_format("2021").table("applications").blocks[0].columns
    assert [report.value(f"applications.new.{c.key}") for c in columns] == [3, 0, 1, 0, 0, 0, 4]
    assert why in report.cells["applications.new.total"].note


@pytest.mark.parametrize("figures", [
    ["9", "3", "0", "1", "0", "0", "0", "5"],  # no way of setting one aside makes the row add up
    ["1", "0", "0", "0", "0", "0", "1", "1"],  # two ways do, with different figures
])
def test_extra_figures_nothing_explains_leave_the_row_blank_with_a_note(figures):
    report = parse_text(doc(*HEADER, T.join([NEW, *figures])))
    cells = [c for k, c in report.cells.items() if k.startswith("applications.new.")]
    assert cells and all(c.value is None for c in cells)
    assert all("多出的数无法确定" in c.note for c in cells)
