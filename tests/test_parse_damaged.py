"""Given a synthetic report damaged the ways real files arrive (tests/damage.py), every cell comes
back right, or null with a note saying why; never a figure in a wrong cell."""

from __future__ import annotations

import math
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import parse_text
from damage import damaged
from gongkai.synth import synth_report


def wrong_cells(truth, parsed) -> list[str]:
    out = []
    for key, cell in truth.cells.items():
        got = parsed.cells.get(key)
        if got is None:
            out.append(f"{key}: missing")
        elif got.value is None:
            if not got.note:
                out.append(f"{key}: null without a note (printed {cell.value})")
        elif not math.isclose(got.value, cell.value, abs_tol=1e-9):
            out.append(f"{key}: {got.value} instead of {cell.value} ({got.note})")
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), damage_seed=st.integers(0, 10**6), format_id=st.sampled_from(["2021", "2019"]))
def test_damaged_layouts_give_right_cells_or_null_with_a_note(seed, damage_seed, format_id):
    report = synth_report(seed, format_id)
    text, done = damaged(report, random.Random(damage_seed))
    parsed = parse_text(text)
    assert wrong_cells(report, parsed) == [], done
    assert (parsed.agency, parsed.year) == (report.agency, report.year), done


# --- the kinds of damage met in real reports, one by one ----------------------------------------

TITLE = "某某县人民政府2024年政府信息公开工作年度报告"
HEADER = ("| （本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和） "
          "| 自然人 | 商业企业 | 科研机构 | 社会公益组织 | 法律服务机构 | 其他 | 总计 |")


def table_three(*rows: str) -> str:
    return "\n".join([TITLE, "", "三、收到和处理政府信息公开申请情况", "", HEADER, *rows, "",
                      "四、政府信息公开行政复议、行政诉讼情况", "", "无。"])


def test_a_label_missing_words_is_placed_by_what_survives_and_its_place():
    r = parse_text(table_three(
        "| （三）不予公开 1.属于国家秘密 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |",
        "| 2.其他法律行政止公开 | 3 | 1 | 0 | 0 | 0 | 0 | 4 |",
        "| 3.危及“三安全一稳定” | 0 | 0 | 0 | 0 | 0 | 0 | 0 |",
    ))
    cell = r.cells["applications.withheld.prohibited_by_law.total"]
    assert cell.value == 4
    assert cell.confidence < 1 and "按其余文字与行序定位" in cell.note
    assert r.value("applications.withheld.prohibited_by_law.natural_person") == 3


def test_a_bare_figure_row_under_a_label_cut_mid_word_takes_the_one_place_left():
    r = parse_text(table_three(
        "| （六）其他处理 1.申请人无正当理由逾期不补正、 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |",
        "| 行政机关不再处理其政府信息公 |  |  |  |  |  |  |  |",
        "|  | 4 | 0 | 0 | 0 | 0 | 0 | 4 |",
        "| 3.其他 | 1 | 0 | 0 | 0 | 0 | 0 | 1 |",
    ))
    cell = r.cells["applications.other.no_fee_paid.natural_person"]
    assert cell.value == 4 and cell.confidence < 1
    assert "行序定位" in cell.note
    assert r.value("applications.other.no_correction.natural_person") == 0


def test_a_bare_figure_row_after_a_full_row_is_not_added_to_it():
    r = parse_text(table_three(
        "| 7.属于行政执法案卷 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |",
        "| 8.属于行政查询事项 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |",
        "|  | 4 | 0 | 0 | 0 | 0 | 0 | 4 |",
        "| 2.没有现成信息需要另行制作 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |",
    ))
    assert r.value("applications.withheld.administrative_query.natural_person") == 0
    assert r.value("applications.unable.not_held.natural_person") == 4  # the one row between


def test_figures_the_order_cannot_place_stay_out_with_a_note():
    r = parse_text(table_three(
        "| 1.信访举报投诉类申请 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |",
        "|  | 2 | 0 | 0 | 0 | 0 | 0 | 2 |",
        "| 5.要求行政机关确认或重新出具已获取信息 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |",
    ))
    for row in ("duplicate", "publication", "excessive_repeat"):
        cell = r.cells[f"applications.not_processed.{row}.natural_person"]
        assert cell.value is None and "无法确定所在行" in cell.note
    assert any("无法确定一行数字所在的行「（无标签）」" in note for note in r.notes)


def test_a_fragment_that_reads_as_another_rows_label_is_not_taken_for_it():
    # '2.其他' (the rest of the label lost) is what 3.其他 prints, but it stands where 2. belongs.
    r = parse_text(table_three(
        "| （三）不予公开 1.属于国家秘密 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |",
        "| 2.其他 | 1 | 0 | 0 | 0 | 0 | 0 | 1 |",
        "| 3.危及“三安全一稳定” | 0 | 0 | 0 | 0 | 0 | 0 | 0 |",
        "| （六）其他处理 1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |",
        "| 2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |",
        "| 3.其他 | 5 | 0 | 0 | 0 | 0 | 0 | 5 |",
    ))
    assert r.value("applications.other.other.natural_person") == 5
    assert r.value("applications.withheld.prohibited_by_law.natural_person") == 1
