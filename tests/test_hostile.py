"""Hostile input: every file ends within its limit with a one-line error naming the limit
(docs/limits.md), and no mutation of a report or of report data raises anything but LoadError."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hostile_files as hostile
from gongkai.check import check_report
from gongkai.document import LoadError
from gongkai.formats import load_format
from gongkai.parse import parse
from gongkai.read import read_bytes
from gongkai.read.data import DataError, read_data
from gongkai.render.markdown import render_markdown
from gongkai.render.template import template_yaml

SEED = next(iter(sorted((Path(__file__).resolve().parent.parent.parent / "shared" / "seeds").glob("*.txt"))))
CPU_SECONDS = 10  # the documented bound for a refused file (docs/limits.md)

DOCUMENTS = {
    "html_one_wide_row": (lambda: hostile.html_wide_row(100_000, 999), "html", "GONGKAI_MAX_TABLE_CELLS"),
    "docx_grid_before_2e7": (lambda: hostile.docx_grid_before(20_000_000), "docx", "GONGKAI_MAX_TABLE_COLUMNS"),
    "docx_grid_before_2e9": (lambda: hostile.docx_grid_before(2_000_000_000), "docx", "GONGKAI_MAX_TABLE_COLUMNS"),
    "docx_grid_span_1000x1000": (lambda: hostile.docx_grid_span(1000, 1, 1000), "docx", "GONGKAI_MAX_TABLE_CELLS"),
    "docx_grid_span_wide": (lambda: hostile.docx_grid_span(10, 100, 1000), "docx", "GONGKAI_MAX_TABLE_COLUMNS"),
    "pdf_2m_text_objects": (lambda: hostile.pdf_text_objects(2_000_000), "pdf", "GONGKAI_MAX_PAGE_CONTENT_BYTES"),
    "pdf_flate_bomb_200mb": (lambda: hostile.pdf_flate_bomb(200), "pdf", "GONGKAI_MAX_PAGE_CONTENT_BYTES"),
    "pdf_300_page_scan": (lambda: hostile.pdf_scan(300), "pdf", "GONGKAI_MAX_OCR_PAGES"),
    "pdf_many_pages_of_content": (lambda: hostile.pdf([(b"q Q " * 262_144, 3)] * 12), "pdf", "GONGKAI_MAX_PDF_CONTENT_BYTES"),
    "gif_300_frames": (lambda: hostile.gif_frames(300), "image", "GONGKAI_MAX_OCR_PAGES"),
}

DATA = {
    "yaml_laughs_lists": (hostile.yaml_laughs_lists, "GONGKAI_MAX_DATA_NODES"),
    "yaml_laughs_mappings": (hostile.yaml_laughs_mappings, "GONGKAI_MAX_DATA_NODES"),
    "yaml_recursive_alias": (lambda: b"a: &a [1, *a]\n", "recursive"),
    "json_nested": (lambda: hostile.nested_json(100_000), "GONGKAI_MAX_DATA_DEPTH"),
    "yaml_nested": (lambda: hostile.nested_yaml(100_000), "GONGKAI_MAX_DATA_DEPTH"),
    "xlsx_far_cell": (hostile.xlsx_far_cell, "GONGKAI_MAX_SHEET_CELLS"),
    "xlsx_shared_strings_bomb": (lambda: hostile.xlsx_shared_strings_bomb(1_000_000), "zip"),
    "figure_of_400_digits": (lambda: b"applications:\n  new:\n    total: " + b"9" * 400 + b"\n", "15 位"),
    "decimal_of_400_digits": (lambda: b"applications:\n  new:\n    total: '" + b"9" * 400 + b".5'\n", "15 位"),
    "integer_of_5000_digits": (lambda: b"year: " + b"9" * 5000 + b"\n", "unreadable number"),
    "huge_year": (lambda: b"year: 99999999999999999999\n", "不是年份"),
}


def _refused(call, limit: str) -> LoadError:
    start = time.process_time()
    with pytest.raises(LoadError) as caught:
        call()
    assert time.process_time() - start < CPU_SECONDS
    message = str(caught.value)
    assert "\n" not in message and limit in message, message
    return caught.value


@pytest.mark.parametrize("name", DOCUMENTS)
def test_a_hostile_document_is_refused_by_its_limit(name: str) -> None:
    make, kind, limit = DOCUMENTS[name]
    error = _refused(lambda: read_bytes(make(), f"{name}.{kind}"), limit)
    assert str(error).startswith(f"{name}.{kind}: ")


@pytest.mark.parametrize("name", DATA)
def test_hostile_report_data_is_refused_by_its_limit(name: str) -> None:
    make, limit = DATA[name]
    assert isinstance(_refused(lambda: read_data(make(), name), limit), DataError)


def test_the_xlsx_dimension_bomb_is_not_walked() -> None:
    """A declared dimension of the whole sheet costs nothing: only the cells present are read."""
    _refused(lambda: read_data(hostile.xlsx_dimension_bomb(), "dimension.xlsx"), "gongkai")


# ---- figures real files print -------------------------------------------------------------------

ROW = "一、本年新收政府信息公开申请数量\t\t125\t0\t0\t0\t0\t125"


def _with_first_figure(printed: str) -> dict:
    text = SEED.read_text(encoding="utf-8")
    assert ROW in text
    report = parse(read_bytes(text.replace(ROW, ROW.replace("\t125\t0", f"\t{printed}\t0", 1)).encode(), "x.txt"))
    return {k: report.cells[k] for k in report.cells if k.startswith("applications.new.")}


@pytest.mark.parametrize(("printed", "value"), [
    ("1e5", 100000), ("125人", 125), ("\u2212125", -125), ("1,250", 1250), ("(125)", None), ("9" * 5000, None),
    ("9" * 400 + ".5", None),
])
def test_a_figure_in_any_form_keeps_the_row_in_its_columns(printed: str, value: int | None) -> None:
    cells = list(_with_first_figure(printed).values())
    assert cells[0].value == value
    if value is None:
        assert "不是可读的数字" in (cells[0].note or "")
    # The next four figures and the total stay where they are printed.
    assert [c.value for c in cells[1:5]] == [0, 0, 0, 0]
    assert cells[-1].value == 125


def test_a_few_bad_bytes_do_not_reject_a_text_report() -> None:
    data = bytearray(SEED.read_bytes())
    data[len(data) // 2] = 0xFF
    report = parse(read_bytes(bytes(data[:-1] + b"\xe5"), "x.txt"))  # and cut inside its last character
    assert report.cells["applications.new.total"].value == 125
    assert any("无法按 UTF-8 解码" in note for note in report.notes)


def test_the_yaml_template_writes_floats_it_reads_back() -> None:
    fmt = load_format("2021")
    money = next(cell.key for cell in fmt.all_cells.values() if cell.column.type == "decimal")
    data = {"agency": "x", "year": 2024, money: 0.00001}
    report = read_data(json.dumps(data).encode(), "data.json")
    written = template_yaml(report)
    assert "e-05" not in written
    assert read_data(written.encode(), "back.yaml").value(money) == pytest.approx(0.00001)


# ---- fuzzing ------------------------------------------------------------------------------------

HOSTILE_TOKENS = ["9" * 5000, "9" * 400 + ".5", "1e400", "1.5e308", "(125)", "−125", "\x07", "\x00", "\ufffd",
                  "\t", "\n", "1.5亿元", "\u2028", "表三", "一、"]


@st.composite
def mutated_reports(draw) -> bytes:
    text = SEED.read_text(encoding="utf-8")
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 40))
        insert = draw(st.sampled_from(HOSTILE_TOKENS) | st.text(max_size=8))
        text = text[:at] + insert + text[at + cut:]
    data = text.encode("utf-8")
    if draw(st.booleans()):
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1:]
    return data


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated_reports())
def test_parse_of_a_mutated_report_raises_only_load_error(data: bytes) -> None:
    try:
        report = parse(read_bytes(data, "mutated.txt"))
    except LoadError:
        return
    json.loads(report.model_dump_json())  # valid JSON: no Infinity, no NaN
    check_report(report)


FIGURES = st.one_of(
    st.integers(-(10**20), 10**20), st.integers(10**300, 10**400), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(HOSTILE_TOKENS), st.text(max_size=6), st.none(), st.lists(st.integers(), max_size=2),
)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.dictionaries(st.sampled_from(sorted(load_format("2021").all_cells)), FIGURES, max_size=12),
       st.one_of(st.integers(), st.floats(), st.text(max_size=6), st.none()))
def test_check_of_mutated_report_data_raises_only_load_error(cells: dict, year) -> None:
    data = {"agency": "西峡县人民政府", "year": year, **cells}
    try:
        report = read_data(yaml.safe_dump(data, allow_unicode=True).encode(), "mutated.yaml")
    except DataError:
        return
    check_report(report)
    rendered = render_markdown(report)
    assert "inf" not in rendered.lower().replace("info", "") and "nan" not in rendered.lower()


def test_control_characters_and_a_long_title_render_to_docx_and_xlsx() -> None:
    import docx

    from gongkai.render.docx import render_docx
    from gongkai.render.template import for_rendering, template_xlsx

    title = "长" * 300
    data = json.dumps({"agency": "西峡\x07县", "year": 2024, "title": title, "sections": {"一": "第一段\x07。\x00"}})
    report = for_rendering(read_data(data.encode(), "data.json"), "data.json")
    written = docx.Document(io.BytesIO(render_docx(report)))
    text = "\n".join(p.text for p in written.paragraphs)
    assert title in text and "第一段。" in text and "\x07" not in text
    assert template_xlsx(read_data(data.encode(), "data.json")).startswith(b"PK")
