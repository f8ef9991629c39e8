"""Given where a report names its body and year, this title, agency and year, and their source."""

from __future__ import annotations

import pytest

from conftest import parse_text
from gongkai.parse import parse
from gongkai.parse.meta import read_title
from gongkai.read import read_bytes

TABLE = "\n".join(["三、收到和处理政府信息公开申请情况", "",
                   "| 一、本年新收政府信息公开申请数量 | 1 | 0 | 0 | 0 | 0 | 0 | 1 |",
                   "| （七）总计 | 1 | 0 | 0 | 0 | 0 | 0 | 1 |", ""])


def report(*head: str, tail: tuple[str, ...] = (), name: str = "report.txt"):
    return parse_text("\n".join([*head, "", "一、总体情况", "", "本机关认真落实条例。", "", TABLE, *tail]), name)


@pytest.mark.parametrize("head, agency, year", [
    # split across lines after a stray line
    (("正文", "2024 年上海市科委政府信息公开工作", "年度报告"), "上海市科委", 2024),
    # 年度 before 政府, among a saved web page's navigation and a menu item naming no body
    (("首页", "政务公开", "登录 | 注册", "2023年度政府信息公开工作年度报告",
      "平潭综合实验区2023年度政府信息公开工作年度报告", "发布时间：2024-01-20 来源：本网"), "平潭综合实验区", 2023),
    # a breadcrumb before the title on the same line
    (("当前位置：首页 > 政府信息公开 > 平潭综合实验区2023年度政府信息公开工作年度报告",), "平潭综合实验区", 2023),
    # the body's name on a line of its own above a title without it
    (("西峡县人民政府", "2024年政府信息公开工作年度报告"), "西峡县人民政府", 2024),
])
def test_title_and_agency_from_the_title_lines(head, agency, year):
    r = report(*head)
    assert (r.agency, r.year, r.title_source, r.agency_source) == (agency, year, "title", "title")
    assert r.title_provenance is not None and r.title_provenance.line is not None


@pytest.mark.parametrize("title, agency, year", [
    ("郑州市第2中学2024年政府信息公开工作年度报告", "郑州市第2中学", 2024),
    ("郑州市第2中学政府信息公开工作年度报告", "郑州市第2中学", None),  # no year in the title: the text gives it
    ("国家税务总局郑州市税务局第1稽查局2023年度政府信息公开工作年度报告", "国家税务总局郑州市税务局第1稽查局", 2023),
])
def test_a_body_whose_name_holds_digits(title, agency, year):
    found = read_title(title)
    assert (found.agency, found.year) == (agency, year)


def test_a_title_naming_no_body_takes_it_from_the_signature():
    r = report("2023年度政府信息公开工作年度报告", tail=("", "平潭综合实验区管理委员会", "2024年1月20日"))
    assert (r.agency, r.year, r.agency_source, r.title_source) == ("平潭综合实验区管理委员会", 2023, "signature", "title")
    assert any("落款" in note for note in r.notes)


def test_an_abbreviated_body_in_the_title_stays_and_the_signature_is_noted():
    r = report("2024年上海市科委政府信息公开工作年度报告", tail=("", "上海市科学技术委员会", "2025年1月20日"))
    assert (r.agency, r.agency_source) == ("上海市科委", "title")
    assert any("上海市科学技术委员会" in note for note in r.notes)


def test_no_title_at_all_reads_the_file_name_after_the_signature():
    r = report(name="/reports/东湖区人民政府2022年政府信息公开工作年度报告.txt",
               tail=("", "东湖区人民政府办公室", "二〇二三年一月"))
    assert (r.title_source, r.year) == ("file_name", 2022)
    assert (r.agency, r.agency_source) == ("东湖区人民政府办公室", "signature")
    r = report(name="/reports/东湖区人民政府2022年政府信息公开工作年度报告.txt")
    assert (r.agency, r.agency_source, r.year) == ("东湖区人民政府", "file_name", 2022)


def test_a_web_page_titled_only_in_its_head():
    html = ("<html><head><title>平潭综合实验区2023年度政府信息公开工作年度报告_平潭综合实验区管理委员会</title></head>"
            "<body><div>首页 | 政务公开</div><h2>一、总体情况</h2><p>本机关认真落实条例。</p>"
            "<h2>三、收到和处理政府信息公开申请情况</h2><table>"
            "<tr><td>一、本年新收政府信息公开申请数量</td><td>1</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>1</td></tr>"
            "</table></body></html>").encode()
    r = parse(read_bytes(html, "page.html"))
    assert (r.agency, r.year, r.title_source) == ("平潭综合实验区", 2023, "page_header")
    assert r.title == "平潭综合实验区2023年度政府信息公开工作年度报告"
