"""The 2019 trial format (国办公开办函〔2019〕60号): its own table 二, （六）其他处理 as one row."""

from __future__ import annotations

import pytest

import layouts
from conftest import parse_text
from gongkai.check import check_report
from gongkai.synth import synth_report

T = "\t"


@pytest.mark.parametrize("layout", [layouts.tabs, layouts.pipes, layouts.one_cell_per_line, layouts.pdf_text])
@pytest.mark.parametrize("seed", range(6))
def test_a_2019_report_comes_back_in_every_layout(layout, seed):
    report = synth_report(seed, format_id="2019")
    parsed = parse_text(layout(report))
    assert parsed.format == "2019"
    assert parsed.values() == report.values()
    assert check_report(parsed) == []


def test_the_2019_table_two_with_a_procurement_amount_in_10k_yuan():
    text = "\n".join([
        "某县人民政府2020年政府信息公开工作年度报告", "二、主动公开政府信息情况",
        f"第二十条第（一）项{T}{T}{T}", f"信息内容{T}本年新制作数量{T}本年新公开数量{T}对外公开总数量",
        f"规章{T}0{T}0{T}3", f"规范性文件{T}5{T}5{T}41",
        f"第二十条第（五）项{T}{T}{T}", f"信息内容{T}上一年项目数量{T}本年增/减{T}处理决定数量",
        f"行政许可{T}120{T}-3{T}5,210", f"其他对外管理服务事项{T}12{T}0{T}88",
        f"第二十条第（九）项{T}{T}{T}", f"信息内容{T}采购项目数量{T}采购总金额（万元）{T}",
        f"政府集中采购{T}14{T}356.78{T}",
    ])
    r = parse_text(text)
    assert r.format == "2019"
    assert r.value("proactive.normative_documents.published_total") == 41
    assert r.value("proactive.licensing.change") == -3
    assert r.value("proactive.licensing.decisions") == 5210
    assert r.value("proactive.other_services.decisions") == 88
    assert r.value("proactive.procurement.items") == 14
    assert r.value("proactive.procurement.amount_yuan") == pytest.approx(3_567_800)
    assert "万元" in r.cells["proactive.procurement.amount_yuan"].note


def test_a_figure_with_its_own_unit_is_converted_too():
    text = "\n".join(["某县人民政府2020年政府信息公开工作年度报告", "二、主动公开政府信息情况",
                      f"信息内容{T}采购项目数量{T}采购总金额", f"政府集中采购{T}2{T}1.5万元"])
    assert parse_text(text).value("proactive.procurement.amount_yuan") == pytest.approx(15_000)


def test_other_processing_is_one_row_in_2019():
    report = synth_report(2, format_id="2019")
    assert "applications.other.all.total" in report.cells
    assert "applications.other.other.total" not in report.cells
    broken = report.model_copy(deep=True)
    broken.cells["applications.other.all.natural_person"].value += 1
    findings = check_report(parse_text(layouts.tabs(broken)))
    assert {f.rule for f in findings if "applications.other.all.natural_person" in f.cells} == {"A3-outcomes", "A3-row-total"}


def test_a_recent_report_in_the_2019_layout_is_flagged():
    report = synth_report(2, format_id="2019", year=2020)
    report.year = 2023
    report.title = None
    findings = [f for f in check_report(parse_text(layouts.tabs(report))) if f.rule == "F-format-year"]
    assert len(findings) == 1
    assert "2023 年度报告使用了政府信息公开工作年度报告格式（2019年试行）" in findings[0].message


def test_items_carry_over_from_last_year():
    last = parse_text(layouts.tabs(synth_report(3, format_id="2019", year=2019)))
    this_report = synth_report(4, format_id="2019", year=2020)
    this_report.agency, this_report.title = last.agency, None
    for row in ("licensing", "other_services", "punishment", "coercion", "fees"):
        this_report.cells[f"proactive.{row}.previous_items"].value = (
            last.value(f"proactive.{row}.previous_items") + last.value(f"proactive.{row}.change"))
    this = parse_text(layouts.tabs(this_report))
    assert [f for f in check_report(this, last) if f.rule == "X-items"] == []
    this.cells["proactive.fees.previous_items"].value += 1
    findings = [f for f in check_report(this, last) if f.rule == "X-items"]
    assert [f.cells for f in findings] == [["proactive.fees.previous_items"]]
