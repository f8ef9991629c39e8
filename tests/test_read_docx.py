"""Given a Word document as agencies write them, these rows and these cells; and the documents
that are not what their name says, refused clearly."""

from __future__ import annotations

import io
import os
import time
import zipfile

import docx
import pytest
from docx.oxml.ns import qn
from docx.shared import Twips

from gongkai.document import LoadError, Paragraph, TableRow
from gongkai.parse import parse, parse_file
from gongkai.read import read, sniff
from gongkai.read.docx import read_docx
from gongkai.render.docx import render_docx
from gongkai.synth import synth_report

BLANKED = ["applications.new.research_institution", "applications.unable.not_held.total",
           "appeals.litigation_direct.other", "proactive.licensing.decisions", "proactive.normative_documents.in_force"]


def blanked_report(seed: int):
    report = synth_report(seed)
    for key in BLANKED:
        report.cells[key].value = None
    return report


def _save(document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --- round trip: render_docx → read_docx → parse --------------------------------------------------


@pytest.mark.parametrize("report", [synth_report(seed) for seed in (1, 6, 13)] + [blanked_report(9)],
                         ids=["seed1", "seed6", "seed13", "blanks"])
def test_every_cell_comes_back_from_the_rendered_document(report):
    parsed = parse(read_docx(render_docx(report), "report.docx"))
    assert (parsed.agency, parsed.year) == (report.agency, report.year)
    assert parsed.values() == report.values()
    for key in BLANKED if report.value(BLANKED[0]) is None else []:
        assert parsed.value(key) is None


def test_the_seed_reports_come_back_through_a_document(shared):
    for path in sorted((shared / "seeds").glob("*.txt")):
        report = parse_file(str(path))
        parsed = parse(read_docx(render_docx(report), "seed.docx"))
        assert (parsed.agency, parsed.year) == (report.agency, report.year), path.name
        assert parsed.values() == report.values(), path.name
        assert [s.text for s in parsed.sections] == [s.text for s in report.sections], path.name


def test_the_rendered_document_merges_cells_as_the_format_draws_them():
    data = render_docx(synth_report(2))
    body = docx.Document(io.BytesIO(data))
    section = body.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    applications = body.tables[1]
    corner = applications.rows[0].cells[0]
    # The note spans three label columns and the three header rows.
    assert corner._tc.grid_span == 3 and corner.text.startswith("（本列数据")
    assert applications.rows[2].cells[0]._tc is corner._tc
    # 三、本年度办理结果 is one cell down its rows.
    outcome = [row.cells[0]._tc for row in applications.rows if row.cells[0].text == "三、本年度办理结果"]
    assert len(outcome) > 20 and len({id(tc) for tc in outcome}) == 1
    fonts = body.element.body.xpath(".//w:rFonts/@w:eastAsia")
    assert fonts and set(fonts) <= {"仿宋_GB2312", "SimSun", "SimHei"}
    assert body.tables[1].style.name == "Table Grid"


# --- a document written in Word, with merges both ways ----------------------------------------------


def _word_report() -> bytes:
    """Table 三 as agencies draw it: header cells merged across and down, group labels merged down."""
    document = docx.Document()
    document.add_paragraph("西山县人民政府2024年政府信息公开工作年度报告")
    document.add_paragraph("一、总体情况")
    document.add_paragraph("全年共收到申请9件。")
    document.add_paragraph("三、收到和处理政府信息公开申请情况")
    table = document.add_table(rows=7, cols=10)
    table.cell(0, 0).merge(table.cell(2, 2)).text = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
    table.cell(0, 3).merge(table.cell(0, 9)).text = "申请人情况"
    table.cell(1, 3).merge(table.cell(2, 3)).text = "自然人"
    table.cell(1, 4).merge(table.cell(1, 8)).text = "法人或其他组织"
    table.cell(1, 9).merge(table.cell(2, 9)).text = "总计"
    for i, label in enumerate(["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]):
        table.cell(2, 4 + i).text = label
    table.cell(3, 0).merge(table.cell(3, 2)).text = "一、本年新收政府信息公开申请数量"
    table.cell(4, 0).merge(table.cell(6, 0)).text = "三、本年度办理结果"
    table.cell(4, 1).merge(table.cell(4, 2)).text = "（一）予以公开"
    table.cell(5, 1).merge(table.cell(6, 1)).text = "（四）无法提供"
    table.cell(5, 2).text = "1.本机关不掌握相关政府信息"
    table.cell(6, 2).text = "2.没有现成信息需要另行制作"
    figures = {3: ["7", "2", "0", "", "0", "0", "9"], 4: ["5", "1", "0", "0", "0", "0", "6"],
               5: ["1", "0", "0", "0", "0", "0", "1"], 6: ["1", "1", "0", "0", "0", "0", "2"]}
    for r, values in figures.items():
        for c, value in enumerate(values):
            table.cell(r, 3 + c).text = value
    document.add_paragraph("五、存在的主要问题及改进情况")
    document.add_paragraph("无。")
    return _save(document)


def test_a_word_table_with_merges_both_ways():
    data = _word_report()
    assert sniff(data) == "docx"
    doc = read_docx(data, "word.docx")
    rows = doc.rows
    assert {len(r.cells) for r in rows} == {10}
    corner = rows[0].cells[0]
    assert corner.text.startswith("（本列数据") and not corner.span_copy
    assert all(rows[r].cells[c].span_copy and rows[r].cells[c].text == corner.text
               for r in range(3) for c in range(3) if (r, c) != (0, 0))
    assert [(c.text, c.span_copy) for c in rows[0].cells[3:5]] == [("申请人情况", False), ("申请人情况", True)]
    assert (rows[2].cells[3].text, rows[2].cells[3].span_copy) == ("自然人", True)  # merged down
    assert rows[2].texts[4:9] == ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]
    assert [(r.cells[0].text, r.cells[0].span_copy) for r in rows[4:7]] == [
        ("三、本年度办理结果", False), ("三、本年度办理结果", True), ("三、本年度办理结果", True)]
    assert [(r.cells[1].text, r.cells[1].span_copy) for r in rows[5:7]] == [("（四）无法提供", False), ("（四）无法提供", True)]
    assert (rows[3].cells[1].source.table, rows[3].cells[1].source.row, rows[3].cells[1].source.col) == (0, 3, 1)

    report = parse(doc)
    assert (report.agency, report.year) == ("西山县人民政府", 2024)
    assert [report.value(f"applications.new.{c}") for c in
            ("natural_person", "commercial_enterprise", "research_institution", "social_welfare_org", "total")] == [7, 2, 0, None, 9]
    assert report.value("applications.granted.total") == 6
    assert report.value("applications.unable.not_held.natural_person") == 1
    assert report.value("applications.unable.needs_creation.commercial_enterprise") == 1
    assert report.value("applications.unable.needs_creation.total") == 2
    assert report.value("applications.carried_over.total") is None  # not printed: null


def test_paragraphs_and_tables_come_in_document_order():
    document = docx.Document()
    document.add_paragraph("甲")
    document.add_table(rows=1, cols=2).rows[0].cells[0].text = "表一"
    document.add_paragraph("乙")
    second = document.add_table(rows=1, cols=1)
    second.cell(0, 0).text = "表二"
    document.add_paragraph("丙")
    doc = read_docx(_save(document), "order.docx")
    assert [(type(i).__name__, i.text if isinstance(i, Paragraph) else i.texts) for i in doc.items] == [
        ("Paragraph", "甲"), ("TableRow", ["表一", ""]), ("Paragraph", "乙"), ("TableRow", ["表二"]), ("Paragraph", "丙")]
    assert [r.table for r in doc.rows] == [0, 1]


def test_a_table_nested_in_a_cell_gives_its_own_rows():
    document = docx.Document()
    document.add_paragraph("某局2024年政府信息公开工作年度报告")
    layout = document.add_table(rows=1, cols=2)
    layout.cell(0, 0).text = "行政复议"
    holder = layout.cell(0, 1)
    holder.text = "行政诉讼"
    inner = holder.add_table(rows=2, cols=5)
    for c, label in enumerate(["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]):
        inner.cell(0, c).text = label
        inner.cell(1, c).text = str([1, 0, 2, 0, 3][c])
    doc = read_docx(_save(document), "nested.docx")
    rows = doc.rows
    assert rows[0].texts == ["行政复议", ""] and rows[0].table == 0
    assert rows[-1].texts == ["1", "0", "2", "0", "3"] and rows[-1].table == 1
    assert rows[-2].texts == ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
    assert Paragraph in {type(i) for i in doc.items} and any(
        isinstance(i, Paragraph) and i.text == "行政诉讼" for i in doc.items)


def test_a_sliver_grid_column_does_not_split_a_figure():
    """Cell edges a hair apart in two rows leave a 1-twip grid column: the figure spanning it is one cell."""
    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    for grid_col, width in zip(table._tbl.tblGrid.gridCol_lst, (2000, 1, 2000), strict=True):
        grid_col.w = Twips(width)
    table.cell(0, 0).text = "总计"
    table.cell(0, 1).merge(table.cell(0, 2)).text = "标签"
    table.cell(1, 0).merge(table.cell(1, 1)).text = "12"
    table.cell(1, 2).text = "3"
    rows = read_docx(_save(document), "sliver.docx").rows
    assert [[(c.text, c.span_copy) for c in r.cells] for r in rows] == [
        [("总计", False), ("标签", False)], [("12", False), ("3", False)]]


def test_cells_with_several_paragraphs_and_line_breaks_keep_their_lines():
    document = docx.Document()
    cell = document.add_table(rows=1, cols=2).cell(0, 0)
    cell.text = "（二）部分公开"
    cell.add_paragraph("（区分处理的，只计这一情形，不计其他情形）")
    run = document.tables[0].cell(0, 1).paragraphs[0].add_run("1,234")
    run.add_break()
    document.add_paragraph().add_run("第一行").add_break()
    document.paragraphs[-1].add_run("第二行")
    doc = read_docx(_save(document), "lines.docx")
    assert doc.rows[0].texts == ["（二）部分公开\n（区分处理的，只计这一情形，不计其他情形）", "1,234"]
    assert [p.text for p in doc.paragraphs] == ["第一行", "第二行"]


# --- refused before parsing ---------------------------------------------------------------------------


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _bomb(size: int) -> bytes:
    """A .docx-looking zip with one member of `size` zero bytes, streamed so the test stays cheap."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        with archive.open("word/media/image1.png", "w", force_zip64=True) as member:
            chunk = bytes(1 << 20)
            for _ in range(size >> 20):
                member.write(chunk)
    return out.getvalue()


@pytest.mark.parametrize(("size", "problem"), [(210 << 20, "解压后过大"), (8 << 20, "压缩比异常")])
def test_a_zip_bomb_named_docx_is_refused(tmp_path, size, problem):
    path = tmp_path / "report.docx"
    path.write_bytes(_bomb(size))
    assert path.stat().st_size < 2 << 20
    start = time.perf_counter()
    with pytest.raises(LoadError, match=problem) as caught:
        read(path)
    assert time.perf_counter() - start < 2
    assert caught.value.path == str(path) and "zip bomb" in caught.value.problem


def test_a_truncated_docx_is_refused(tmp_path):
    path = tmp_path / "cut.docx"
    path.write_bytes(render_docx(synth_report(3))[:6000])
    with pytest.raises(LoadError, match=r"损坏|不完整") as caught:
        read(path)
    assert caught.value.path == str(path)


def test_random_bytes_named_docx_are_refused(tmp_path):
    path = tmp_path / "random.docx"
    path.write_bytes(os.urandom(40_000))
    with pytest.raises(LoadError) as caught:
        read(path)  # not a zip: the bytes decide the reader, and no reader accepts them
    assert caught.value.path == str(path)
    with pytest.raises(LoadError, match="不是 DOCX 文件"):
        read_docx(path.read_bytes(), str(path))


def test_a_zip_that_is_not_a_docx(tmp_path):
    path = tmp_path / "book.docx"
    path.write_bytes(_zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"}))
    with pytest.raises(LoadError, match=r"不是 DOCX 文件 \(zip without word/document.xml\)") as caught:
        read(path)
    assert caught.value.path == str(path)


def test_a_docx_with_broken_xml_is_a_clear_error(tmp_path):
    good = zipfile.ZipFile(io.BytesIO(render_docx(synth_report(3))))
    members = {name: good.read(name) for name in good.namelist()}
    members["word/document.xml"] = members["word/document.xml"][:2000]
    path = tmp_path / "broken.docx"
    path.write_bytes(_zip(members))
    with pytest.raises(LoadError, match="无法读取 DOCX") as caught:
        read(path)
    assert caught.value.path == str(path)


def test_a_docx_nested_beyond_the_parsers_depth_is_refused():
    document = docx.Document()
    document.add_paragraph("x")
    body = document.element.body
    element = body
    for _ in range(400):  # content controls inside content controls
        sdt = element.makeelement(qn("w:sdt"), {})
        content = sdt.makeelement(qn("w:sdtContent"), {})
        sdt.append(content)
        element.insert(0, sdt)
        element = content
    start = time.perf_counter()
    with pytest.raises(LoadError, match="无法读取 DOCX"):
        read_docx(_save(document), "deep.docx")
    assert time.perf_counter() - start < 2


def test_rows_are_table_rows():
    doc = read_docx(render_docx(synth_report(2)), "r.docx")
    assert doc.kind == "docx"
    assert sorted({row.table for row in doc.rows}) == [0, 1, 2]
    assert all(isinstance(i, TableRow | Paragraph) for i in doc.items)


def test_tables_typed_as_tabbed_paragraphs_read_like_the_same_text():
    """A DOCX whose tables are paragraphs of tab-separated cells (pasted from a spreadsheet, never made
    into a Word table) gives the cells the same text gives as .txt."""
    import layouts
    from gongkai.parse import parse
    from gongkai.read import read_bytes
    from gongkai.synth import synth_report

    report = synth_report(3)
    text = layouts.tabs(report).replace("# ", "", 1)  # the title as a plain line, as Word prints it
    document = docx.Document()
    for line in text.splitlines():
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    from_docx = parse(read_bytes(out.getvalue(), "tabbed.docx"))
    from_text = parse(read_bytes(text.encode(), "tabbed.txt"))
    assert from_docx.values() == from_text.values() == report.values()
    assert (from_docx.agency, from_docx.year) == (report.agency, report.year)
