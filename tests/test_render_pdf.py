"""Given the seeds and generated reports rendered as PDF (their DOCX converted by LibreOffice headless,
once per session), every cell comes back, the text layer carries the official labels in CJK fonts,
and a page renders as a legible PNG (one is kept in docs/images/)."""

from __future__ import annotations

import io
import random
import re
from pathlib import Path

import pdfplumber
import pytest
from PIL import Image

from conftest import SHARED
from gongkai.formats import load_format
from gongkai.model import Report
from gongkai.parse import parse, parse_file
from gongkai.read import read_bytes
from gongkai.render.docx import render_docx
from gongkai.render.pdf import convert_to_pdf, render_png
from gongkai.synth import synth_report

DOC_IMAGE = Path(__file__).resolve().parents[1] / "docs" / "images" / "seed-table3.png"
_CJK = re.compile(r"[\u4e00-\u9fff]")
SEEDS = sorted(path.stem for path in (SHARED / "seeds").glob("*.txt"))


def _blanked(seed: int, count: int) -> Report:
    report = synth_report(seed)
    for key in random.Random(seed).sample(load_format(report.format).keys, count):
        report.cells[key].value = None
    return report


@pytest.fixture(scope="session")
def reports() -> dict[str, Report]:
    if not SEEDS:
        pytest.fail(f"the shared seeds are expected at {SHARED / 'seeds'}")
    out = {name: parse_file(str(SHARED / "seeds" / f"{name}.txt")) for name in SEEDS}
    out.update(synth6=synth_report(6), blanks5=_blanked(5, 25), split3=_pushed_down(1))
    return out


def _pushed_down(seed: int) -> Report:
    """A report whose section 三 is long enough that table 三 runs onto a second page."""
    report = synth_report(seed)
    report.sections[2].text = "\n".join(f"依申请公开工作情况说明第{i}段，内容较长，表格随之后移。" for i in range(20))
    return report


@pytest.fixture(scope="session")
def pdfs(reports) -> dict[str, bytes]:
    """Each report's DOCX converted to PDF by LibreOffice headless, all in one run."""
    documents = [(f"{name}.docx", render_docx(report)) for name, report in reports.items()]
    return dict(zip(reports, convert_to_pdf(documents), strict=True))


def _cells(pdf: bytes) -> list[str]:
    """The text of every table cell of the PDF, white space removed (labels wrap inside their cells)."""
    out = []
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        for page in document.pages:
            for table in page.extract_tables():
                out += [re.sub(r"\s", "", cell) for row in table for cell in row if cell]
    return out


def test_each_docx_converts_headless_to_a_multi_page_pdf(pdfs):
    for name, pdf in pdfs.items():
        assert pdf.startswith(b"%PDF"), name
        with pdfplumber.open(io.BytesIO(pdf)) as document:
            assert len(document.pages) >= 2, name
            assert document.pages[0].extract_text().strip(), name


@pytest.mark.parametrize("name", [*SEEDS, "synth6", "blanks5"])
def test_every_cell_comes_back_from_the_pdf(name, reports, pdfs):
    report = reports[name]
    parsed = parse(read_bytes(pdfs[name], f"{name}.pdf"))
    assert (parsed.agency, parsed.year) == (report.agency, report.year)
    assert {k: v for k, v in parsed.values().items() if k in report.cells} == report.values()
    assert all(parsed.value(k) is None for k, v in report.values().items() if v is None)


def test_the_text_layer_carries_every_row_and_column_label(reports, pdfs):
    fmt = load_format("2021")
    labels = {row.label for table in fmt.tables for row in table.all_rows if not row.optional}
    labels |= {col.label for table in fmt.tables for block in table.blocks for col in block.columns}
    labels |= {block.heading for table in fmt.tables for block in table.blocks if block.heading}
    for name in reports:
        cells = _cells(pdfs[name])
        joined = "\n".join(cells)
        assert "本年新收政府信息公开申请数量" in joined and "行政复议" in cells, name
        missing = [label for label in labels if re.sub(r"\s", "", label) not in joined]
        assert missing == [], name


def test_chinese_text_is_set_in_cjk_fonts(pdfs):
    for name, pdf in pdfs.items():
        with pdfplumber.open(io.BytesIO(pdf)) as document:
            chars = [c for page in document.pages for c in page.chars if _CJK.match(c["text"])]
        assert len(chars) > 500, name  # the labels of the three tables alone
        fonts = {c["fontname"].split("+")[-1] for c in chars}
        assert all("CJK" in font for font in fonts), (name, fonts)


def test_a_seed_page_renders_as_a_legible_png(reports, pdfs, tmp_path):
    pdf = pdfs[SEEDS[0]]
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        page = next(p.page_number for p in document.pages if "本年新收" in (p.extract_text() or ""))
    image = Image.open(io.BytesIO(render_png(pdf, page=page, dpi=110)))
    assert image.size == pytest.approx((910, 1287), abs=3)  # A4 at 110 dpi
    histogram = image.convert("L").histogram()
    dark = sum(histogram[:128]) / (image.size[0] * image.size[1])
    assert 0.01 < dark < 0.2  # ink on paper: text and ruled tables, not a blank or black page
    # The page kept in the docs is this page of the first seed.
    assert DOC_IMAGE.is_file()
    assert Image.open(DOC_IMAGE).size == image.size


def test_table_three_repeats_its_header_on_every_page_it_runs_onto(pdfs):
    with pdfplumber.open(io.BytesIO(pdfs["split3"])) as document:
        pages = [re.sub(r"\s", "", page.extract_text() or "") for page in document.pages]
    # The first and the last row of table 三, and its header's 自然人 column.
    with_rows = [i for i, text in enumerate(pages) if "本年新收" in text or "结转下年度" in text]
    assert len(with_rows) >= 2, "table 三 should run onto a second page here"
    assert all("自然人" in pages[i] for i in with_rows)
