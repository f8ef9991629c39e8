"""Given a web page as government sites publish it, these rows and these cells."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from gongkai.document import LoadError, Paragraph, TableRow
from gongkai.parse import parse, parse_file
from gongkai.read import read, sniff
from gongkai.read.html import read_html
from gongkai.render.html import render_html
from gongkai.synth import synth_report

# Cells some reports leave blank: they must come back as null, not 0.
BLANKED = ["applications.new.commercial_enterprise", "applications.withheld.state_secret.total",
           "applications.other.no_fee_paid.other_org", "appeals.review.upheld", "appeals.litigation_after_review.total",
           "proactive.fees.amount_10k_yuan", "proactive.rules.repealed"]


def blanked_report(seed: int):
    report = synth_report(seed)
    for key in BLANKED:
        report.cells[key].value = None
    return report


# --- round trip: render_html → read_html → parse -------------------------------------------------


@pytest.mark.parametrize("report", [synth_report(seed) for seed in (0, 3, 8, 21)] + [blanked_report(5)],
                         ids=["seed0", "seed3", "seed8", "seed21", "blanks"])
def test_every_cell_comes_back_from_the_rendered_page(report):
    parsed = parse(read_html(render_html(report).encode("utf-8"), "report.html"))
    assert (parsed.agency, parsed.year) == (report.agency, report.year)
    assert parsed.values() == report.values()
    assert parsed.notes == []


def test_the_seed_reports_come_back_through_a_page(shared):
    """Real reports (their blanks, decimals and narrative) written as pages and read back."""
    for path in sorted((shared / "seeds").glob("*.txt")):
        report = parse_file(str(path))
        parsed = parse(read_html(render_html(report).encode("utf-8"), "seed.html"))
        assert (parsed.agency, parsed.year) == (report.agency, report.year), path.name
        assert parsed.values() == report.values(), path.name
        assert [s.text for s in parsed.sections] == [s.text for s in report.sections], path.name


def test_blank_cells_of_the_rendered_page_are_null_not_zero():
    parsed = parse(read_html(render_html(blanked_report(5)).encode("utf-8"), "report.html"))
    for key in BLANKED:
        assert parsed.value(key) is None, key
        assert parsed.cells[key].raw == ""


def test_the_rendered_page_carries_the_narrative_and_real_spans():
    report = synth_report(4)
    page = render_html(report)
    assert '<meta charset="utf-8">' in page
    assert 'rowspan="3" colspan="3"' in page  # table 三's corner cell over its three header rows
    assert 'colspan="10"' in page  # table 四's 行政诉讼 over its two groups of five
    assert 'border="1"' in page
    parsed = parse(read_html(page.encode("utf-8"), "report.html"))
    assert [s.number for s in parsed.sections] == list("一二三四五六")
    assert parsed.section("六").text == report.section("六").text


# --- hand-written pages -----------------------------------------------------------------------------

GOV_PAGE = """<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN">
<html><head>
<meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>某某县人民政府门户网站</title>
<script type="text/javascript">var t = "一、本年新收政府信息公开申请数量 99";</script>
<style>td { font-size: 12px; }</style>
</head>
<body>
<div class="nav">首页 &gt; 政务公开 &gt; 政府信息公开年度报告</div>
<div class="article-title"><h1>某某县人民政府2023年政府信息公开工作年度报告</h1></div>
<div class="article-content">
<p style="text-indent:2em">本报告根据《中华人民共和国政府信息公开条例》编制。<br>全年共收到申请<span>12</span>件。</p>
<p><strong>一、总体情况</strong></p>
<p>2023年，全县政务公开工作稳步推进。</p>
<p><strong>三、收到和处理政府信息公开申请情况</strong></p>
<table border="1" cellspacing="0" cellpadding="0" width="600">
<tbody>
<tr>
  <td colspan="3" rowspan="3"><p><span>（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）</span></p></td>
  <td colspan="7"><p align="center"><span>申请人情况</span></p></td>
</tr>
<tr>
  <td rowspan="2"><p><span>自然人</span></p></td>
  <td colspan="5"><p><span>法人或其他组织</span></p></td>
  <td rowspan="2"><p><span>总计</span></p></td>
</tr>
<tr>
  <td><span>商业</span><span>企业</span></td><td>科研机构</td><td>社会公益组织</td><td>法律服务机构</td><td>其他</td>
</tr>
<tr>
  <td colspan="3"><p><span>一、本年新收</span><span>政府信息公开</span>
      <span>申请数量</span></p></td>
  <td><span>11</span></td><td>1</td><td>0</td><td>&nbsp;</td><td>0</td><td>0</td><td>12</td>
</tr>
<tr>
  <td colspan="3">二、上年结转政府信息公开申请数量</td>
  <td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td>
</tr>
<tr>
  <td rowspan="3"><p>三、本年度办理结果</p></td>
  <td colspan="2">（一）予以公开</td>
  <td>7</td><td>1</td><td>0</td><td>0</td><td>0</td><td>0</td><td>8</td>
</tr>
<tr>
  <td rowspan="2">（三）不予公开</td>
  <td>1.属于国家秘密</td>
  <td>&nbsp;</td><td>&nbsp;</td><td>&nbsp;</td><td>&nbsp;</td><td>&nbsp;</td><td>&nbsp;</td><td>&nbsp;</td>
</tr>
<tr>
  <td><b>4.</b><span>保护第三方</span><span>合法权益</span></td>
  <td>2</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>2</td>
</tr>
</tbody>
</table>
<p><strong>五、存在的主要问题及改进情况</strong></p>
<p>无。</p>
</div>
</body></html>
"""


def test_a_gbk_page_declaring_gb2312_with_a_merged_header():
    data = GOV_PAGE.encode("gbk")
    assert sniff(data) == "html"
    report = parse(read_html(data, "gov.html"))
    assert (report.agency, report.year) == ("某某县人民政府", 2023)
    assert [report.value(f"applications.new.{c}") for c in
            ("natural_person", "commercial_enterprise", "research_institution", "social_welfare_org",
             "legal_service_org", "other_org", "total")] == [11, 1, 0, None, 0, 0, 12]
    assert report.value("applications.carried_over.total") == 0
    assert report.value("applications.granted.commercial_enterprise") == 1
    assert report.value("applications.granted.total") == 8
    assert report.value("applications.withheld.third_party_rights.natural_person") == 2
    # The 商业<span>企业 header is one label: every column of the header was found.
    assert report.tables["applications"].missing_columns == []
    # The script's figures are not part of the page.
    assert report.value("applications.new.total") != 99


def test_nbsp_cells_are_null():
    report = parse(read_html(GOV_PAGE.encode("gbk"), "gov.html"))
    for column in ("natural_person", "commercial_enterprise", "other_org", "total"):
        assert report.value(f"applications.withheld.state_secret.{column}") is None
    # A row the page does not print at all is null too.
    assert report.value("applications.not_processed.duplicate.total") is None


def test_spans_become_a_rectangular_grid_of_copies():
    doc = read_html(GOV_PAGE.encode("gbk"), "gov.html")
    rows = doc.rows
    assert {len(r.cells) for r in rows} == {10}
    corner, people = rows[0].cells[0], rows[0].cells[3]
    assert corner.text.startswith("（本列数据的勾稽关系") and not corner.span_copy
    assert all(rows[r].cells[c].span_copy and rows[r].cells[c].text == corner.text
               for r in range(3) for c in range(3) if (r, c) != (0, 0))
    assert people.text == "申请人情况" and [c.span_copy for c in rows[0].cells[3:]] == [False] + [True] * 6
    # 自然人 spans two header rows: its copy sits under it in the third.
    assert (rows[2].cells[3].text, rows[2].cells[3].span_copy) == ("自然人", True)
    assert rows[2].texts[4:9] == ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]
    # Label spans broken over lines in the source are one label, with no spaces between the words.
    assert rows[3].cells[0].text == "一、本年新收政府信息公开申请数量"
    assert rows[3].cells[6].text == "" and not rows[3].cells[6].span_copy  # &nbsp;
    # 三、本年度办理结果 spans three rows, （三）不予公开 two.
    assert [(r.cells[0].text, r.cells[0].span_copy) for r in rows[5:8]] == [
        ("三、本年度办理结果", False), ("三、本年度办理结果", True), ("三、本年度办理结果", True)]
    assert [(r.cells[1].text, r.cells[1].span_copy) for r in rows[6:8]] == [("（三）不予公开", False), ("（三）不予公开", True)]
    assert rows[7].cells[2].text == "4.保护第三方合法权益"


def test_provenance_names_the_table_row_column_and_source_line():
    doc = read_html(GOV_PAGE.encode("gbk"), "gov.html")
    lines = GOV_PAGE.splitlines()
    cell = doc.rows[3].cells[3]
    assert (cell.text, cell.source.table, cell.source.row, cell.source.col) == ("11", 0, 3, 3)
    assert "<td><span>11</span></td>" in lines[cell.source.line - 1]
    title = next(p for p in doc.paragraphs if "年度报告" in p.text and "2023" in p.text)
    assert "<h1>" in lines[title.source.line - 1]


def test_paragraphs_in_reading_order_split_at_br_without_script_or_style():
    doc = read_html(GOV_PAGE.encode("gbk"), "gov.html")
    texts = [item.text for item in doc.items if isinstance(item, Paragraph)]
    assert texts[:4] == ["首页 > 政务公开 > 政府信息公开年度报告", "某某县人民政府2023年政府信息公开工作年度报告",
                         "本报告根据《中华人民共和国政府信息公开条例》编制。", "全年共收到申请12件。"]
    assert not any("var t" in t or "font-size" in t or "门户网站" in t for t in texts)
    kinds = [type(item).__name__ for item in doc.items]
    heading = texts.index("三、收到和处理政府信息公开申请情况")
    assert kinds[heading + 1] == "TableRow"  # the table follows its heading
    assert texts[-1] == "无。"


def _page(body: str, charset: str = "utf-8") -> bytes:
    return (f'<html><head><meta charset="{charset}"></head><body>'
            f"<p>某某区教育局2024年政府信息公开工作年度报告</p>{body}</body></html>").encode(charset)


HEADER_ROWS = """
<tr><td colspan="3" rowspan="3"></td><td colspan="7">申请人情况</td></tr>
<tr><td rowspan="2">自然人</td><td colspan="5">法人或其他组织</td><td rowspan="2">总计</td></tr>
<tr><td>商业企业</td><td>科研机构</td><td>社会公益组织</td><td>法律服务机构</td><td>其他</td></tr>
"""


def test_table_three_split_over_two_tables():
    page = _page(f"""
<p>三、收到和处理政府信息公开申请情况</p>
<table>{HEADER_ROWS}
<tr><td colspan="3">一、本年新收政府信息公开申请数量</td><td>5</td><td>1</td><td>0</td><td>0</td><td>0</td><td>0</td><td>6</td></tr>
<tr><td rowspan="2">三、本年度办理结果</td><td colspan="2">（一）予以公开</td>
    <td>3</td><td>1</td><td>0</td><td>0</td><td>0</td><td>0</td><td>4</td></tr>
</table>
<p>（续表）</p>
<table>
<tr><td></td><td colspan="2">（二）部分公开（区分处理的，只计这一情形，不计其他情形）</td>
    <td>1</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>1</td></tr>
<tr><td colspan="3">四、结转下年度继续办理</td><td>1</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>1</td></tr>
</table>
<p>四、政府信息公开行政复议、行政诉讼情况</p>""")
    doc = read_html(page, "split.html")
    assert sorted({row.table for row in doc.rows}) == [0, 1]
    report = parse(doc)
    assert report.value("applications.new.total") == 6
    assert report.value("applications.granted.commercial_enterprise") == 1
    assert report.value("applications.partially_granted.natural_person") == 1
    assert report.value("applications.carried_forward.total") == 1
    assert report.value("applications.carried_forward.commercial_enterprise") == 0


def test_a_table_nested_in_a_cell_gives_its_own_rows():
    page = _page("""
<table class="layout"><tr><td>
  <p>四、政府信息公开行政复议、行政诉讼情况</p>
  <table>
    <tr><td colspan="5">行政复议</td><td colspan="10">行政诉讼</td></tr>
    <tr><td rowspan="2">结果维持</td><td rowspan="2">结果纠正</td><td rowspan="2">其他结果</td><td rowspan="2">尚未审结</td>
        <td rowspan="2">总计</td><td colspan="5">未经复议直接起诉</td><td colspan="5">复议后起诉</td></tr>
    <tr><td>结果维持</td><td>结果纠正</td><td>其他结果</td><td>尚未审结</td><td>总计</td>
        <td>结果维持</td><td>结果纠正</td><td>其他结果</td><td>尚未审结</td><td>总计</td></tr>
    <tr><td>2</td><td>1</td><td>0</td><td>0</td><td>3</td><td>0</td><td>0</td><td>0</td><td>1</td><td>1</td>
        <td>0</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>
  </table>
</td></tr></table>""")
    doc = read_html(page, "nested.html")
    figures = doc.rows[-1]
    assert figures.texts == ["2", "1", "0", "0", "3", "0", "0", "0", "1", "1", "0", "0", "0", "0", "0"]
    assert figures.table == 1  # the inner table, after the layout table 0
    assert any(isinstance(i, Paragraph) and i.text.startswith("四、") for i in doc.items)
    report = parse(doc)
    assert report.value("appeals.review.upheld") == 2
    assert report.value("appeals.review.total") == 3
    assert report.value("appeals.litigation_direct.pending") == 1
    assert report.value("appeals.litigation_after_review.total") == 0


def test_a_page_declared_utf8_but_served_as_gbk_is_still_read():
    page = _page("<p>一、总体情况</p><p>全年共收到申请。</p>").decode("utf-8").encode("gbk")
    doc = read_html(page, "mislabelled.html")
    assert [p.text for p in doc.paragraphs] == ["某某区教育局2024年政府信息公开工作年度报告", "一、总体情况", "全年共收到申请。"]


def test_a_gbk_page_with_a_broken_character_is_still_gbk():
    # A character cut in two (a lead byte with no trail byte) in the narrative, as truncated pages have.
    data = GOV_PAGE.encode("gbk").replace("稳步推进".encode("gbk"), "稳步推进".encode("gbk") + b"\xb5<")
    report = parse(read_html(data, "cut.html"))
    assert (report.agency, report.year) == ("某某县人民政府", 2023)
    assert report.value("applications.new.total") == 12


def test_a_page_without_tables_is_a_clear_error(tmp_path):
    path = tmp_path / "notice.html"
    path.write_bytes(_page("<p>一、总体情况</p><p>本年度认真落实条例，没有表格。</p>"))
    with pytest.raises(LoadError, match="未找到年度报告的统计表格") as caught:
        parse(read(path))
    assert str(path) in str(caught.value)


# --- malformed input -----------------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["div", "span", "table"])
def test_a_hundred_thousand_nested_tags_is_refused_quickly(tmp_path, tag):
    path = tmp_path / "deep.html"
    path.write_bytes(b"<html><body>" + f"<{tag}>".encode() * 100_000 + b"x" + f"</{tag}>".encode() * 100_000
                     + b"</body></html>")
    start = time.perf_counter()
    with pytest.raises(LoadError, match="嵌套过深") as caught:
        read(path)
    assert time.perf_counter() - start < 2
    assert caught.value.path == str(path)


@pytest.mark.parametrize(("data", "problem"), [
    (b"<html><head><title>x</title></head><body>  &nbsp; </body></html>", "没有正文文字"),
    (b"<html>" + bytes(range(256)) * 200, "二进制|编码"),
    (b"<table><tr>" + b"<td colspan=1000 rowspan=60000>x</td></tr><tr><td>1</td></tr>" * 3000 + b"</table>", "表格过大"),
])
def test_empty_and_junk_pages_are_clear_errors(data, problem):
    start = time.perf_counter()
    with pytest.raises(LoadError, match=problem) as caught:
        read_html(data, "bad.html")
    assert time.perf_counter() - start < 2
    assert caught.value.path == "bad.html"


def test_random_bytes_named_html_are_a_clear_error(tmp_path):
    path = tmp_path / "junk.html"
    path.write_bytes(b"<html>" + os.urandom(50_000))
    with pytest.raises(LoadError) as caught:
        read_html(path.read_bytes(), str(path))
    assert str(path) in str(caught.value)


# --- through the command line ------------------------------------------------------------------------------


def test_cli_parses_an_html_file(tmp_path):
    report = synth_report(11)
    path = tmp_path / "report.html"
    path.write_text(render_html(report), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "gongkai", "parse", str(path), "--format", "json"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert (out["agency"], out["year"]) == (report.agency, report.year)
    assert out["applications"]["new"]["total"] == report.value("applications.new.total")
    assert out["appeals"]["litigation_direct"]["pending"] == report.value("appeals.litigation_direct.pending")
    assert out["proactive"]["fees"]["amount_10k_yuan"] == report.value("proactive.fees.amount_10k_yuan")


def test_rows_are_table_rows_and_paragraphs_paragraphs():
    doc = read_html(render_html(synth_report(2)).encode("utf-8"), "r.html")
    assert doc.kind == "html"
    assert sorted({row.table for row in doc.rows}) == [0, 1, 2]
    assert all(isinstance(i, TableRow | Paragraph) for i in doc.items)
