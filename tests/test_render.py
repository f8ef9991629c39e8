"""Given report data (a report, YAML, JSON, a filled xlsx template or a stored report), the rendered
document parses back to every cell; data that breaks the rules is refused unless forced; data that
cannot be used is refused naming the file and the problem.

The PDF round trips (LibreOffice) are in test_render_pdf.py."""

from __future__ import annotations

import io
import json
import random
import re

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from gongkai.cli import app
from gongkai.formats import all_formats, load_format
from gongkai.model import Report
from gongkai.parse import parse, parse_file
from gongkai.read import read_bytes
from gongkai.read.data import COL_MARK, ROW_MARK, DataError, read_data
from gongkai.render.docx import render_docx
from gongkai.render.html import render_html
from gongkai.render.layout import anchors, dense, table_grid
from gongkai.render.markdown import render_markdown
from gongkai.render.template import blank_report, for_rendering, template_xlsx, template_yaml
from gongkai.synth import synth_report

RENDERERS = {
    "md": lambda r: render_markdown(r).encode("utf-8"),
    "html": lambda r: render_html(r).encode("utf-8"),
    "docx": render_docx,
}
runner = CliRunner()


def blanked(seed: int, count: int = 20) -> Report:
    """A generated report with `count` cells not stated (null), chosen at random."""
    report = synth_report(seed)
    for key in random.Random(seed).sample(load_format(report.format).keys, count):
        report.cells[key].value = None
    return report


GENERATED = {"synth1": synth_report(1), "synth6": synth_report(6), "synth13": synth_report(13),
             "blanks5": blanked(5), "blanks9": blanked(9), "blanks17": blanked(17, 60)}


def round_trip(report: Report, to: str) -> Report:
    return parse(read_bytes(RENDERERS[to](report), f"report.{to}"))


def assert_same(parsed: Report, report: Report, name: str = "") -> None:
    assert (parsed.agency, parsed.year) == (report.agency, report.year), name
    differences = {k: (report.value(k), parsed.value(k)) for k in report.cells if report.value(k) != parsed.value(k)}
    assert differences == {}, name
    assert parsed.values() == report.values(), name


def seed_reports(shared) -> dict[str, Report]:
    return {path.name: parse_file(str(path)) for path in sorted((shared / "seeds").glob("*.txt"))}


def cli(*args: str):
    return runner.invoke(app, list(args))


# --- round trip: render → read → parse ------------------------------------------------------------


@pytest.mark.parametrize("to", RENDERERS)
@pytest.mark.parametrize("name", GENERATED)
def test_every_cell_of_a_generated_report_comes_back(name, to):
    report = GENERATED[name]
    parsed = round_trip(report, to)
    assert_same(parsed, report, name)
    blanks = [k for k, v in report.values().items() if v is None]
    assert all(parsed.value(k) is None for k in blanks)  # null stays null, never 0


@pytest.mark.parametrize("to", RENDERERS)
def test_every_cell_of_each_seed_comes_back(shared, to):
    for name, report in seed_reports(shared).items():
        assert_same(round_trip(report, to), report, name)


@pytest.mark.parametrize("to", RENDERERS)
def test_a_row_printed_as_one_line_instead_of_its_sub_rows_comes_back(to):
    # （六）其他处理 printed as one row, as some reports do: the optional row of the format.
    report = synth_report(4)
    fmt = load_format(report.format)
    table = fmt.table("applications")
    for col in table.blocks[0].columns:
        parts = [report.value(f"applications.{r.key}.{col.key}") for r in table.all_rows
                 if r.key.startswith("other.") and not r.optional]
        report.cells[f"applications.other.all.{col.key}"] = report.cells[f"applications.other.other.{col.key}"].model_copy(
            update={"key": f"applications.other.all.{col.key}", "value": sum(parts)})
    for key in [k for k in report.cells if k.startswith("applications.other.") and ".all." not in k]:
        report.cells[key].value = None
    parsed = round_trip(report, to)
    for key, cell in report.cells.items():
        assert parsed.value(key) == cell.value, key


def test_decimals_print_without_float_noise_and_blanks_print_blank():
    report = synth_report(2)
    report.cells["proactive.fees.amount_10k_yuan"].value = 0.1 + 0.2
    report.cells["applications.new.total"].value = None
    page = render_html(report)
    assert re.search(r'data-key="proactive\.fees\.amount_10k_yuan">0\.3</td>', page)
    assert re.search(r'data-key="applications\.new\.total"></td>', page)
    markdown = render_markdown(report)
    assert "0.30000000000000004" not in markdown and "| 0.3 |" in markdown
    parsed = round_trip(report, "md")
    assert parsed.value("proactive.fees.amount_10k_yuan") == pytest.approx(0.3)
    assert parsed.value("applications.new.total") is None


# --- the YAML template ----------------------------------------------------------------------------


@pytest.mark.parametrize("format_id", [f.id for f in all_formats()])
def test_the_yaml_template_is_the_json_form_with_title_and_sections(format_id):
    blank = blank_report(format_id)
    text = template_yaml(blank)
    data = yaml.safe_load(text)
    expected = blank.nested()
    assert {k: data[k] for k in expected} == expected  # every cell key, nested, all null
    assert set(data) == set(expected) | {"title", "sections"}
    fmt = load_format(format_id)
    assert list(data["sections"]) == [s.number for s in fmt.sections]
    # The official labels are in the comments, taken from the format.
    for cell in fmt.cells:
        assert f"# {cell.column_label}" in text
        assert cell.row.label in text
    report = read_data(text.encode("utf-8"), "template.yaml")
    assert report.values() == blank.values() and all(v is None for v in report.values().values())


def test_a_filled_yaml_template_renders_and_parses_back(tmp_path):
    source = blanked(21)
    data = yaml.safe_load(template_yaml(blank_report()))
    data.update(agency=source.agency, year=source.year)
    for key, value in source.values().items():
        node = data
        *parents, leaf = key.split(".")
        for part in parents:
            node = node[part]
        node[leaf] = value
    data["sections"] = {s.number: s.text for s in source.sections}
    path = tmp_path / "filled.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    run = cli("render", str(path), "--to", "html")
    assert run.exit_code == 0, run.stderr
    parsed = parse(read_bytes((tmp_path / "filled.html").read_bytes(), "filled.html"))
    assert_same(parsed, source)
    assert [s.text for s in parsed.sections] == [s.text for s in source.sections]


def test_a_report_written_as_yaml_reads_back_with_its_text(shared):
    for name, report in seed_reports(shared).items():
        back = read_data(template_yaml(report).encode("utf-8"), name + ".yaml")
        assert back.values() == report.values(), name
        assert (back.agency, back.year, back.title) == (report.agency, report.year, report.title), name
        assert [s.text for s in back.sections] == [s.text for s in report.sections], name


# Paragraphs of Chinese text with the characters YAML treats specially.
PARAGRAPHS = st.lists(st.sampled_from(["年", "公开", "\n", " ", "\t", "#", ": ", "|", "- ", "\x1b", "\r", "\u2028", "\""])).map("".join)


@settings(max_examples=80, deadline=None)
@given(agency=st.text(), text=st.text() | PARAGRAPHS)
def test_any_text_survives_the_yaml_template(agency, text):
    report = blank_report()
    report.agency = agency
    report.sections[0].text = text
    back = read_data(template_yaml(report).encode("utf-8"), "any.yaml")
    assert back.agency == (agency.strip() or None)
    assert back.sections[0].text == text.strip()


# --- the xlsx template ----------------------------------------------------------------------------


def _visible_grid(ws) -> tuple[list[int], list[int]]:
    """The sheet rows and columns of the official table: visible rows from the third, columns from B."""
    rows = [r for r in range(3, ws.max_row + 1) if not ws.row_dimensions[r].hidden]
    return rows, list(range(2, ws.max_column + 1))


def fill_by_layout(workbook_bytes: bytes, report: Report) -> bytes:
    """Fill a template as a person does: into the places the official grid puts each figure,
    found from the layout (not from the template's markers)."""
    fmt = load_format(report.format)
    workbook = load_workbook(io.BytesIO(workbook_bytes))
    for table in fmt.tables:
        ws = workbook[f"表{table.number}"]
        rows, cols = _visible_grid(ws)
        # Figures sit where the grid puts their keys.
        for r, c, cell in anchors(table_grid(table, report, fmt)):
            if cell.key:
                ws.cell(rows[r], cols[c]).value = report.value(cell.key)
    meta = workbook["基本信息"]
    for row in meta.iter_rows():
        label = row[1].value
        if label == "单位名称":
            row[2].value = report.agency
        elif label == "报告年度":
            row[2].value = str(report.year)  # typed as text, as people do
        for section in report.sections:
            if label == f"{section.number}、{section.title}":
                row[2].value = section.text
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.mark.parametrize("format_id", [f.id for f in all_formats()])
def test_the_xlsx_template_draws_each_table_as_the_format_does(format_id):
    blank = blank_report(format_id)
    fmt = load_format(format_id)
    workbook = load_workbook(io.BytesIO(template_xlsx(blank)))
    assert workbook.sheetnames == ["基本信息", *[f"表{t.number}" for t in fmt.tables]]
    for table in fmt.tables:
        ws = workbook[f"表{table.number}"]
        rows, cols = _visible_grid(ws)
        expected = dense(table_grid(table, blank, fmt))
        printed = [[ws.cell(r, c).value or "" for c in cols[:len(expected[0])]] for r in rows[:len(expected)]]
        assert printed == expected, table.number
        # Merged cells exactly where the grid spans, in grid coordinates.
        row_index = {r: i for i, r in enumerate(rows)}
        merged = set()
        for rng in ws.merged_cells.ranges:
            if rng.min_row < 3:
                continue  # the title line
            height = sum(1 for r in range(rng.min_row, rng.max_row + 1) if r in row_index)
            merged.add((row_index[rng.min_row], rng.min_col - 2, height, rng.max_col - rng.min_col + 1))
        spans = {(r, c, cell.rowspan, cell.colspan) for r, c, cell in anchors(table_grid(table, blank, fmt))
                 if cell.rowspan > 1 or cell.colspan > 1}
        assert merged == spans, table.number
    sections = [row[1].value for row in workbook["基本信息"].iter_rows()]
    assert all(f"{s.number}、{s.title}" in sections for s in fmt.sections)
    filled = synth_report(3, format_id=format_id)
    assert read_data(fill_by_layout(template_xlsx(blank), filled), "filled.xlsx").values() == filled.values()


@pytest.mark.parametrize("name", ["synth3", "blanks11"])
def test_a_filled_xlsx_template_renders_and_parses_back(name, tmp_path):
    source = synth_report(3) if name == "synth3" else blanked(11)
    path = tmp_path / f"{name}.xlsx"
    path.write_bytes(fill_by_layout(template_xlsx(blank_report()), source))
    run = cli("render", str(path), "--to", "docx")
    assert run.exit_code == 0, run.stderr
    parsed = parse(read_bytes((tmp_path / f"{name}.docx").read_bytes(), "x.docx"))
    assert_same(parsed, source, name)
    assert [s.text for s in parsed.sections] == [s.text for s in source.sections]


def test_the_xlsx_template_is_read_by_its_markers_where_rows_and_columns_moved():
    source = blanked(8)
    data = fill_by_layout(template_xlsx(blank_report()), source)
    workbook = load_workbook(io.BytesIO(data))
    for ws in workbook.worksheets:
        for rng in list(ws.merged_cells.ranges):  # openpyxl does not move merges on insertion
            ws.unmerge_cells(str(rng))
        ws.insert_rows(1, 2)
        ws.insert_cols(1)
        ws.insert_rows(9)  # a blank row inside the table
    workbook.move_sheet("表四", offset=-3)
    workbook["表三"].title = "申请情况"
    out = io.BytesIO()
    workbook.save(out)
    report = read_data(out.getvalue(), "moved.xlsx")
    assert report.values() == source.values()
    assert (report.agency, report.year) == (source.agency, source.year)


def test_a_report_written_as_xlsx_reads_back(shared):
    for name, report in seed_reports(shared).items():
        back = read_data(template_xlsx(report), name + ".xlsx")
        assert back.values() == report.values(), name
        assert [s.text for s in back.sections] == [s.text for s in report.sections], name


def test_the_cli_writes_templates_and_does_not_overwrite_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = cli("template", "--to", "xlsx")
    assert run.exit_code == 0, run.stderr
    assert read_data((tmp_path / "template-2021.xlsx").read_bytes(), "t.xlsx").values() == blank_report().values()
    again = cli("template", "--to", "xlsx")
    assert again.exit_code == 2 and "已存在" in again.stderr
    run = cli("template", "--to", "yaml", "-o", "-")
    assert run.exit_code == 0 and yaml.safe_load(run.stdout)["applications"]["new"]["total"] is None
    source = tmp_path / "data.json"
    source.write_text(json.dumps(synth_report(5).nested(), ensure_ascii=False), encoding="utf-8")
    run = cli("template", "--to", "xlsx", "--from", str(source))
    assert run.exit_code == 0, run.stderr
    assert read_data((tmp_path / "data.xlsx").read_bytes(), "data.xlsx").values() == synth_report(5).values()


# --- the checker runs first -----------------------------------------------------------------------


def _broken(tmp_path):
    report = synth_report(7)
    report.cells["applications.new.total"].value += 5  # the row no longer adds up, nor the column
    path = tmp_path / "broken.yaml"
    path.write_text(template_yaml(report), encoding="utf-8")
    return path


def test_data_that_breaks_a_sum_is_refused_with_the_findings(tmp_path):
    path = _broken(tmp_path)
    run = cli("render", str(path), "--to", "md")
    assert run.exit_code == 1
    assert "A3-row-total" in run.stderr and "未生成" in run.stderr
    assert "一、本年新收政府信息公开申请数量" in run.stderr
    assert not (tmp_path / "broken.md").exists()


def test_force_renders_anyway_and_lists_the_findings(tmp_path):
    path = _broken(tmp_path)
    run = cli("render", str(path), "--to", "md", "--force", "-o", "-")
    assert run.exit_code == 0
    assert "A3-row-total" in run.stderr and "--force" in run.stderr
    parsed = parse(read_bytes(run.stdout.encode("utf-8"), "broken.md"))
    assert parsed.value("applications.new.total") == synth_report(7).value("applications.new.total") + 5


@pytest.mark.parametrize("value", [2.5, -1])
def test_a_count_that_is_no_count_is_refused(tmp_path, value):
    data = synth_report(7).nested()
    data["appeals"]["review"]["pending"] = value
    path = tmp_path / "count.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    run = cli("render", str(path), "--to", "md")
    assert run.exit_code == 1
    assert "F-value" in run.stderr and "表四 行政复议 / 尚未审结" in run.stderr


def test_warnings_are_listed_but_do_not_block(tmp_path):
    report = synth_report(7)
    report.cells["applications.new.research_institution"].value = None  # a blank: a warning
    path = tmp_path / "blank.json"
    path.write_text(json.dumps(report.nested(), ensure_ascii=False), encoding="utf-8")
    run = cli("render", str(path), "--to", "html")
    assert run.exit_code == 0
    assert "F-blank" in run.stderr and "警告" in run.stderr
    assert (tmp_path / "blank.html").is_file()


def test_the_check_sees_the_document_to_be_rendered_not_the_source_layout(shared):
    # A seed parsed with its own layout; rendered, every table and row of the format is printed.
    report = parse_file(str(sorted((shared / "seeds").glob("*.txt"))[0]))
    prepared = for_rendering(report, "seed")
    fmt = load_format(report.format)
    for table in fmt.tables:
        layout = prepared.tables[table.key]
        assert layout.found and not layout.missing_columns
        assert {r.key for r in table.all_rows if not r.optional} <= set(layout.rows)
    assert prepared.values() == report.values()


# --- every seed through the data path: parse → JSON → render → parse ---------------------------------


@pytest.mark.parametrize("to", ["md", "html"])
def test_each_seed_regenerates_from_its_parsed_json(shared, tmp_path, to):
    for name, report in seed_reports(shared).items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(report.nested(), ensure_ascii=False), encoding="utf-8")
        run = cli("render", str(path), "--to", to, "--force")
        assert run.exit_code == 0, run.stderr
        parsed = parse(read_bytes(path.with_suffix(f".{to}").read_bytes(), f"x.{to}"))
        assert_same(parsed, report, name)


def test_the_full_json_form_keeps_the_text(shared, tmp_path):
    report = parse_file(str(sorted((shared / "seeds").glob("*.txt"))[0]))
    path = tmp_path / "full.json"
    path.write_text(report.model_dump_json(exclude_none=True), encoding="utf-8")
    back = read_data(path.read_bytes(), str(path))
    assert back.values() == report.values()
    assert [s.text for s in back.sections] == [s.text for s in report.sections]


def test_a_stored_report_renders_by_its_id(shared, tmp_path):
    seed = sorted((shared / "seeds").glob("*.txt"))[0]
    db = tmp_path / "corpus.db"
    run = cli("ingest", str(seed), "--db", str(db), "--workers", "1")
    assert run.exit_code == 0, run.stderr
    out = tmp_path / "stored.md"
    run = cli("render", "--report", seed.name, "--db", str(db), "--to", "md", "-o", str(out), "--force")
    assert run.exit_code == 0, run.stderr
    assert_same(parse(read_bytes(out.read_bytes(), "stored.md")), parse_file(str(seed)))
    missing = cli("render", "--report", "no-such-report.txt", "--db", str(db), "--to", "md")
    assert missing.exit_code == 2 and "no-such-report.txt" in missing.stderr


# --- data that cannot be used: the file and the problem, in Chinese ---------------------------------


def test_an_unknown_cell_key_is_named_with_a_suggestion(tmp_path):
    text = template_yaml(synth_report(1)).replace("  carried_over:", "  carried_ovr:")
    path = tmp_path / "typo.yaml"
    path.write_text(text, encoding="utf-8")
    run = cli("render", str(path), "--to", "md")
    assert run.exit_code == 2
    assert str(path) in run.stderr
    assert "未知的单元格键 applications.carried_ovr.natural_person" in run.stderr
    assert "是否为 applications.carried_over.natural_person" in run.stderr
    group = next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith("  carried_ovr:"))
    assert f"第{group + 1}行" in run.stderr  # the line of its first cell


def test_a_value_that_is_no_number_is_named(tmp_path):
    data = synth_report(1).nested()
    data["appeals"]["review"]["total"] = "三件"
    data["applications"]["new"]["total"] = "1,234"  # a printed figure is a number
    path = tmp_path / "words.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(DataError) as raised:
        read_data(path.read_bytes(), str(path))
    assert raised.value.path == str(path)
    assert "表四 行政复议 / 总计" in raised.value.problem and "「三件」不是数字" in raised.value.problem
    assert "1,234" not in raised.value.problem


def test_blank_and_placeholder_values_are_null_not_zero():
    data = synth_report(1).nested()
    data["applications"]["new"]["natural_person"] = ""
    data["applications"]["new"]["research_institution"] = "—"
    data["applications"]["new"]["total"] = 0
    report = read_data(json.dumps(data, ensure_ascii=False).encode("utf-8"), "x.json")
    assert report.value("applications.new.natural_person") is None
    assert report.value("applications.new.research_institution") is None
    assert report.value("applications.new.total") == 0


def test_files_that_are_not_report_data_are_refused(tmp_path, shared):
    plain = Workbook()
    plain.active["A1"] = "自然人"
    buffer = io.BytesIO()
    plain.save(buffer)
    cases = {
        "other.xlsx": (buffer.getvalue(), "不是 gongkai 的 xlsx 模板"),
        # A document goes through parse (tests/test_cli.py renders one); one with no report in it is refused.
        "notes.txt": ("会议纪要：今天讨论了明年的工作安排。".encode(), "未找到"),
        "list.yaml": (b"- 1\n- 2\n", "不是报告数据"),
        "broken.json": (b'{"agency": "x", ', "YAML/JSON 格式错误"),
        "empty.yaml": (b"", "文件为空"),
    }
    for name, (content, problem) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        run = cli("render", str(path), "--to", "md")
        assert run.exit_code == 2, name
        assert f"gongkai: {path}:" in run.stderr and problem in run.stderr, (name, run.stderr)


def test_an_unknown_format_and_a_bad_year_are_named():
    with pytest.raises(DataError, match="未知的报告格式「1999」"):
        read_data(b"format: '1999'\n", "f.yaml")
    with pytest.raises(DataError, match="报告年度「明年」不是年份"):
        read_data("year: 明年\n".encode(), "y.yaml")
    assert read_data("year: 2024年\n".encode(), "y.yaml").year == 2024


def test_a_formula_without_a_computed_value_is_named():
    workbook = load_workbook(io.BytesIO(template_xlsx(synth_report(1))))
    ws = workbook["表三"]
    marks = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1) if isinstance(ws.cell(r, 1).value, str)}
    row = marks[ROW_MARK + "applications.new"]
    column = next(c for c in range(1, ws.max_column + 1) if ws.cell(1, c).value == COL_MARK + "total")
    ws.cell(row, column).value = "=SUM(D8:I8)"
    out = io.BytesIO()
    workbook.save(out)
    with pytest.raises(DataError, match="公式 =SUM"):
        read_data(out.getvalue(), "formula.xlsx")


def test_figures_the_layout_cannot_print_are_refused():
    report = synth_report(2)
    report.cells["applications.other.all.total"] = report.cells["applications.other.other.total"].model_copy(
        update={"key": "applications.other.all.total"})
    with pytest.raises(DataError, match="没有位置"):
        for_rendering(report, "both.yaml")
