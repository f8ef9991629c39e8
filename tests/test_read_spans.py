"""Given header cells that span grid columns and figures printed with their units, these cells."""

from __future__ import annotations

from gongkai.parse import parse
from gongkai.read import read_bytes


def page_2019(*rows: str) -> bytes:
    body = "".join(f"<tr>{r}</tr>" for r in rows)
    return ("<html><body><p>东湖县人民政府2020年政府信息公开工作年度报告</p><h3>二、主动公开政府信息情况</h3>"
            f"<table>{body}</table><h3>三、收到和处理政府信息公开申请情况</h3>"
            "<table><tr><td>一、本年新收政府信息公开申请数量</td><td>1</td><td>0</td><td>0</td><td>0</td><td>0</td>"
            "<td>0</td><td>1</td></tr></table></body></html>").encode()


FIRST_HEADER = ("<td colspan=4>第二十条第（一）项</td>",
                "<td>信息内容</td><td>本年新制作数量</td><td colspan=2>本年新公开数量</td><td>对外公开总数量</td>")
FIFTH_HEADER = ("<td colspan=5>第二十条第（五）项</td>",
                "<td>信息内容</td><td>上一年项目数量</td><td colspan=2>本年增/减</td><td>处理决定数量</td>")


def test_a_header_cell_spanning_two_columns_over_a_merged_figure():
    r = parse(read_bytes(page_2019(*FIRST_HEADER, "<td>规章</td><td>2</td><td colspan=2>3</td><td>40</td>"), "p.html"))
    assert r.format == "2019"
    assert [r.value(f"proactive.rules.{c}") for c in ("created", "published", "published_total")] == [2, 3, 40]


def test_a_header_cell_spanning_two_columns_over_a_figure_and_a_blank():
    r = parse(read_bytes(page_2019(
        *FIRST_HEADER, "<td>规章</td><td>2</td><td></td><td>3</td><td>40</td>",
        *FIFTH_HEADER, "<td>行政许可</td><td>12</td><td>-2</td><td></td><td>300</td>",
    ), "p.html"))
    assert [r.value(f"proactive.rules.{c}") for c in ("created", "published", "published_total")] == [2, 3, 40]
    assert [r.value(f"proactive.licensing.{c}") for c in ("previous_items", "change", "decisions")] == [12, -2, 300]
    assert "表头所跨的列" in r.cells["proactive.licensing.change"].note


def test_two_different_figures_under_one_header_cell_are_left_null():
    r = parse(read_bytes(page_2019(*FIRST_HEADER, "<td>规章</td><td>2</td><td>3</td><td>5</td><td>40</td>"), "p.html"))
    cell = r.cells["proactive.rules.published"]
    assert cell.value is None and "无法确定" in cell.note
    assert (r.value("proactive.rules.created"), r.value("proactive.rules.published_total")) == (2, 40)


def test_figures_with_units_in_their_cells_and_yuan_in_a_10k_yuan_column():
    html = ("<html><body><p>东湖县人民政府2023年政府信息公开工作年度报告</p><h3>二、主动公开政府信息情况</h3><table>"
            "<tr><td>信息内容</td><td>本年制发件数</td><td>本年废止件数</td><td>现行有效件数</td></tr>"
            "<tr><td>规章</td><td>2件</td><td>0 件</td><td>40个</td></tr>"
            "<tr><td>信息内容</td><td>本年收费金额（单位：万元）</td></tr>"
            "<tr><td>行政事业性收费</td><td>251000元</td></tr>"
            "</table></body></html>").encode()
    r = parse(read_bytes(html, "p.html"))
    assert [r.value(f"proactive.rules.{c}") for c in ("issued", "repealed", "in_force")] == [2, 0, 40]
    fees = r.cells["proactive.fees.amount_10k_yuan"]
    assert fees.value == 25.1 and "换算" in fees.note


def test_numbers_with_their_units_parse():
    from gongkai.text import parse_number

    assert [parse_number(t) for t in ("251000元", "25.1万元", "￥1,200", "3 件", "12个", "45%", "2（件）", "1.5亿元")] \
        == [251000, 25.1, 1200, 3, 12, 45, 2, 1.5]
    assert [parse_number(t) for t in ("元", "约3件", "3-5")] == [None, None, None]


def test_a_docx_header_cell_merged_over_two_columns():
    import io

    import docx

    document = docx.Document()
    document.add_paragraph("东湖县人民政府2020年政府信息公开工作年度报告")
    document.add_paragraph("二、主动公开政府信息情况")
    table = document.add_table(rows=3, cols=5)
    table.cell(0, 0).text = "第二十条第（一）项"
    table.cell(0, 0).merge(table.cell(0, 4))
    for c, text in enumerate(["信息内容", "本年新制作数量", "本年新公开数量", "", "对外公开总数量"]):
        table.cell(1, c).text = text
    table.cell(1, 2).merge(table.cell(1, 3))
    for c, text in enumerate(["规章", "2", "", "3", "40"]):
        table.cell(2, c).text = text
    document.add_paragraph("三、收到和处理政府信息公开申请情况")
    apps = document.add_table(rows=1, cols=8)
    for c, text in enumerate(["一、本年新收政府信息公开申请数量", "1", "0", "0", "0", "0", "0", "1"]):
        apps.cell(0, c).text = text
    out = io.BytesIO()
    document.save(out)
    r = parse(read_bytes(out.getvalue(), "report.docx"))
    assert r.format == "2019"
    assert [r.value(f"proactive.rules.{c}") for c in ("created", "published", "published_total")] == [2, 3, 40]
