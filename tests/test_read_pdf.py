"""Given a PDF with a text layer, in the official layout as agencies publish it, these rows and these cells.

The PDFs are reports rendered by LibreOffice from their DOCX (render_pdf), once per test session.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import docx
import pdfplumber
import pytest
from docx.oxml import OxmlElement

from gongkai.document import Document, Paragraph, TableRow
from gongkai.formats import load_format
from gongkai.model import Report
from gongkai.parse import parse
from gongkai.read import read, sniff
from gongkai.read.pdf import read_pdf
from gongkai.render.docx import render_docx
from gongkai.render.layout import dense, table_grid
from gongkai.render.pdf import convert_to_pdf, render_pdfs
from gongkai.synth import synth_report

SEEDS = (0, 7, 21)
# Every 17th cell of the contract: some in each table, including a table 二 and a table 四 figure.
BLANKED = load_format("2021").keys[::17]


def blanked_report(seed: int) -> Report:
    report = synth_report(seed)
    for key in BLANKED:
        report.cells[key].value = None
    return report


def _no_space(text: str) -> str:
    # LibreOffice sets a gap between Chinese and Latin text that a space in the source also makes.
    return re.sub(r"[ \t]", "", text)


@pytest.fixture(scope="session")
def reports() -> dict[str, Report]:
    return {**{f"seed{s}": synth_report(s) for s in SEEDS}, "blanks": blanked_report(4)}


@pytest.fixture(scope="session")
def pdfs(reports, tmp_path_factory) -> dict[str, Path]:
    """Each report as a PDF file (one LibreOffice run for all)."""
    out = tmp_path_factory.mktemp("pdf")
    paths = {}
    for (name, _), data in zip(reports.items(), render_pdfs(list(reports.values())), strict=True):
        paths[name] = out / f"{name}.pdf"
        paths[name].write_bytes(data)
    return paths


@pytest.fixture(scope="session")
def seed0(pdfs) -> Document:
    return read(pdfs["seed0"])


# --- round trip: render_pdf → read (by content) → parse ----------------------------------------------


@pytest.mark.parametrize("name", [f"seed{s}" for s in SEEDS] + ["blanks"])
def test_every_cell_agency_and_year_come_back(name, reports, pdfs):
    report = reports[name]
    doc = read(pdfs[name])
    assert doc.kind == "pdf"
    parsed = parse(doc)
    assert (parsed.agency, parsed.year) == (report.agency, report.year)
    assert parsed.values() == report.values()
    assert [_no_space(s.text) for s in parsed.sections] == [_no_space(s.text) for s in report.sections]


def test_blank_cells_come_back_null_and_zeros_zero(reports, pdfs):
    parsed = parse(read(pdfs["blanks"]))
    for key in BLANKED:
        assert parsed.value(key) is None, key
        assert parsed.cells[key].raw == "", key
    zeros = [k for k, v in reports["blanks"].values().items() if v == 0]
    assert zeros and all(parsed.value(k) == 0 for k in zeros)


def test_the_seed_reports_come_back_through_a_pdf(shared, tmp_path):
    from gongkai.parse import parse_file

    paths = sorted((shared / "seeds").glob("*.txt"))
    reports = [parse_file(str(p)) for p in paths]
    for path, report, data in zip(paths, reports, render_pdfs(reports), strict=True):
        parsed = parse(read_pdf(data, path.name))
        assert (parsed.agency, parsed.year) == (report.agency, report.year), path.name
        assert parsed.values() == report.values(), path.name
        # Paragraphs wrapped over lines and over page breaks are whole again.
        assert [_no_space(s.text) for s in parsed.sections] == [_no_space(s.text) for s in report.sections], path.name


# --- where each cell came from -----------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["applications.new.total", "proactive.rules.in_force", "appeals.review.total",
                                 "applications.other.other.natural_person"])
def test_a_cell_knows_its_page_and_box(key, seed0, pdfs, reports):
    cell = parse(seed0).cells[key]
    source = cell.provenance
    assert source.page is not None and source.bbox is not None
    assert None not in (source.table, source.row, source.col)
    with pdfplumber.open(pdfs["seed0"]) as pdf:
        page = pdf.pages[source.page - 1]
        x0, top, x1, bottom = source.bbox
        assert 0 <= x0 < x1 <= page.width and 0 <= top < bottom <= page.height
        # The box holds exactly the figure: nothing from the next cell glued on, nothing cut off.
        assert page.crop(source.bbox).extract_text().strip() == cell.raw == str(reports["seed0"].value(key))


def test_paragraphs_know_their_page(seed0):
    paragraphs = seed0.paragraphs
    assert paragraphs[0].text == synth_report(0).title
    pages = [p.source.page for p in paragraphs]
    assert pages == sorted(pages) and pages[-1] >= 2
    assert all(p.source.bbox is not None for p in paragraphs)


# --- tables as grids -----------------------------------------------------------------------------------------


def _tables(doc: Document) -> dict[int, list[TableRow]]:
    out: dict[int, list[TableRow]] = {}
    for row in doc.rows:
        out.setdefault(row.table, []).append(row)
    return out


def test_each_table_is_a_rectangular_grid(seed0):
    for rows in _tables(seed0).values():
        assert len({len(r.cells) for r in rows}) == 1
        for i, row in enumerate(rows):
            assert [c.source.col for c in row.cells] == list(range(len(row.cells)))
            assert all(c.source.row == i for c in row.cells)


def test_table_four_reads_as_the_official_layout_draws_it(seed0, reports):
    """Merged cells: the text at the top-left position, span copies where the merge reaches."""
    fmt = load_format("2021")
    expected = dense(table_grid(fmt.table("appeals"), reports["seed0"], fmt))
    last = _tables(seed0)[max(_tables(seed0))]
    got = [["" if c.span_copy else c.text.replace("\n", "") for c in row.cells] for row in last]
    assert got == expected
    header = last[0].cells
    assert header[1].span_copy and header[1].text == header[0].text  # 行政复议 spans its five columns


def test_a_label_spanning_columns_is_copied_into_them(seed0, reports):
    label = load_format("2021").table("applications").all_rows[0].label
    row = next(r for r in seed0.rows if r.cells[0].text == label)
    assert [c.span_copy for c in row.cells[:3]] == [False, True, True]
    assert [c.text for c in row.cells[:3]] == [label] * 3
    columns = load_format("2021").table("applications").blocks[0].columns
    assert [c.text for c in row.cells[3:]] == [str(reports["seed0"].value(f"applications.new.{c.key}")) for c in columns]


# --- a table that runs onto the next page ------------------------------------------------------------------------


def _repeat_headers(report: Report) -> bytes:
    """The report's DOCX with each table's header rows marked to repeat on every page it reaches."""
    fmt = load_format(report.format)
    document = docx.Document(io.BytesIO(render_docx(report)))
    for table, fmt_table in zip(document.tables, fmt.tables, strict=True):
        grid = table_grid(fmt_table, report, fmt)
        header_rows = next(i for i, row in enumerate(grid) if not all(c.header for c in row))
        for row in table.rows[:header_rows]:
            row._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_a_table_continued_on_the_next_page_with_its_header_repeated(reports, tmp_path):
    report = reports["seed0"]
    path = tmp_path / "repeated.pdf"
    path.write_bytes(convert_to_pdf([("repeated.docx", _repeat_headers(report))])[0])
    doc = read(path)
    parsed = parse(doc)
    assert parsed.values() == report.values()
    pages = {c.provenance.page for k, c in parsed.cells.items() if k.startswith("applications.")}
    assert len(pages) == 2  # table 三 starts on one page and ends on the next
    # The header's first row is printed once on each page the table reaches.
    first_header = load_format("2021").table("applications").note
    header_pages = [r.source.page for r in doc.rows
                    if r.cells[0].text.replace("\n", "") == first_header and not r.cells[0].span_copy]
    assert sorted(header_pages) == sorted(pages)


# --- the file, by content and through the command line ----------------------------------------------------------


def test_a_pdf_is_known_by_its_content_not_its_name(pdfs, tmp_path, reports):
    renamed = tmp_path / "report.txt"
    renamed.write_bytes(pdfs["seed7"].read_bytes())
    assert sniff(renamed.read_bytes()) == "pdf"
    assert parse(read(renamed)).values() == reports["seed7"].values()


def test_cli_parses_a_pdf_to_json(pdfs, reports):
    run = subprocess.run([sys.executable, "-m", "gongkai", "parse", str(pdfs["blanks"]), "--format", "json"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    printed = json.loads(run.stdout)
    assert printed["file"] == str(pdfs["blanks"]) and printed["sections"]  # each line names its file
    assert {k: v for k, v in printed.items() if k not in ("file", "title", "sections")} == reports["blanks"].nested()


def test_cli_full_output_has_page_and_box(pdfs):
    run = subprocess.run([sys.executable, "-m", "gongkai", "parse", str(pdfs["seed21"]), "--format", "full"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    cell = json.loads(run.stdout)["cells"]["applications.new.total"]
    assert cell["provenance"]["page"] >= 1 and len(cell["provenance"]["bbox"]) == 4


def test_text_before_a_table_stays_before_it(seed0):
    """Reading order: each section heading comes before its table's rows."""
    items = seed0.items
    heading = next(i for i, item in enumerate(items) if isinstance(item, Paragraph) and item.text.startswith("三、"))
    first_row = next(i for i, item in enumerate(items) if isinstance(item, TableRow) and item.table == 1)
    assert heading < first_row


# --- a PDF written by hand: characters printed twice, a ruled table ------------------------------------------------


def minimal_pdf(content: str, width: int = 595, height: int = 842) -> bytes:
    """A one-page PDF drawing `content` (PDF operators) with Helvetica as font F1."""
    stream = content.encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] /Contents 4 0 R "
        f"/Resources << /Font << /F1 5 0 R >> >> >>".encode(),
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _bold(text: str, x: float, y: float) -> str:
    """Text printed twice, 0.4 pt apart: how many PDFs make bold."""
    return f"BT /F1 10 Tf {x} {y} Td ({text}) Tj ET\nBT /F1 10 Tf {x + 0.4} {y} Td ({text}) Tj ET\n"


def test_characters_printed_twice_are_read_once_and_a_ruled_grid_keeps_its_blank():
    xs, ys = [100, 250, 320, 390], [700, 680, 660]
    rules = "".join(f"{xs[0]} {y} m {xs[-1]} {y} l S\n" for y in ys) + "".join(f"{x} {ys[0]} m {x} {ys[-1]} l S\n" for x in xs)
    content = ("0.5 w\n" + rules + _bold("Annual Report 2024", 100, 760)
               + _bold("Label", 104, 686) + _bold("12", 254, 686)
               + _bold("Other", 104, 666) + _bold("305", 254, 666) + _bold("41", 324, 666))
    doc = read_pdf(minimal_pdf(content), "hand.pdf")
    assert [p.text for p in doc.paragraphs] == ["Annual Report 2024"]
    assert [r.texts for r in doc.rows] == [["Label", "12", ""], ["Other", "305", "41"]]
    blank = doc.rows[0].cells[2]
    assert blank.source.bbox == (320.0, 142.0, 390.0, 162.0)  # the empty cell's own box, top-down in points


def test_a_table_without_ruling_lines_gets_its_columns_from_the_figures_and_header():
    def text(s: str, x: float, y: float) -> str:
        return f"BT /F1 10 Tf {x} {y} Td ({s}) Tj ET\n"

    content = (text("Item", 104, 706) + text("A", 256, 706) + text("B", 326, 706) + text("C", 396, 706)
               + text("Label", 104, 686) + text("12", 254, 686) + text("7", 396, 686)
               + text("Other", 104, 666) + text("305", 254, 666) + text("41", 324, 666))
    doc = read_pdf(minimal_pdf(content), "plain.pdf")
    assert [p.text for p in doc.paragraphs] == ["Item A B C"]
    # 'Label' prints nothing under B, 'Other' nothing under C: each gets a blank there.
    assert [r.texts for r in doc.rows] == [["Label", "12", "", "7"], ["Other", "305", "41", ""]]


def test_a_report_whose_tables_have_no_ruling_lines(tmp_path):
    """Labels wrapped around their figures, blanks in rows: read by the figures' positions."""
    report = blanked_report(6)
    document = docx.Document(io.BytesIO(render_docx(report)))
    for table in document.tables:
        table.style = document.styles["Normal Table"]  # no borders
    out = io.BytesIO()
    document.save(out)
    data = convert_to_pdf([("plain.docx", out.getvalue())])[0]
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert not any(page.find_tables() for page in pdf.pages)
    parsed = parse(read_pdf(data, "plain.pdf"))
    assert parsed.values() == report.values()


# --- rendering: LibreOffice missing or stuck ---------------------------------------------------------------------


def test_render_pdf_says_clearly_when_libreoffice_is_missing(monkeypatch):
    import gongkai.libreoffice
    import gongkai.render.pdf as render

    monkeypatch.setattr(gongkai.libreoffice, "soffice", lambda: None)
    with pytest.raises(render.RenderError, match="LibreOffice"):
        render.render_pdf(synth_report(0))


def test_a_conversion_that_hangs_is_killed_at_its_timeout(monkeypatch, tmp_path):
    import time

    import gongkai.libreoffice
    import gongkai.render.pdf as render

    stuck = tmp_path / "soffice"
    stuck.write_text("#!/bin/sh\nsleep 60\n")
    stuck.chmod(0o755)
    monkeypatch.setattr(gongkai.libreoffice, "soffice", lambda: str(stuck))
    start = time.perf_counter()
    with pytest.raises(render.RenderError, match="超时"):
        render.convert_to_pdf([("r.docx", b"PK")], timeout=1)
    assert time.perf_counter() - start < 10


def test_render_png_draws_a_page_at_the_resolution_asked(pdfs):
    from PIL import Image

    from gongkai.render.pdf import RenderError, render_png

    data = pdfs["seed0"].read_bytes()
    image = Image.open(io.BytesIO(render_png(data, 1, dpi=100)))
    width, height = image.size  # A4 at 100 dpi
    assert abs(width - 595.3 * 100 / 72) <= 1 and abs(height - 841.9 * 100 / 72) <= 1
    with pytest.raises(RenderError):
        render_png(data, 99)


# --- running headers and footers -----------------------------------------------------------------------------------


def test_running_headers_and_footers_are_dropped(shared):
    """A footer goes from every page once it repeats; a header stays on the first page only (it
    may be the title there). Paragraphs run on over the page breaks between them."""
    from gongkai.parse import parse_file

    report = parse_file(str(sorted((shared / "seeds").glob("*.txt"))[0]))
    document = docx.Document(io.BytesIO(render_docx(report)))
    section = document.sections[0]
    section.header.paragraphs[0].text = f"{report.agency}政务公开"
    section.footer.paragraphs[0].text = "本报告电子版可在政府门户网站查阅"
    out = io.BytesIO()
    document.save(out)
    doc = read_pdf(convert_to_pdf([("furniture.docx", out.getvalue())])[0], "furniture.pdf")
    assert max(p.source.page for p in doc.paragraphs) >= 3
    assert [p.source.page for p in doc.paragraphs if p.text == f"{report.agency}政务公开"] == [1]
    assert [p for p in doc.paragraphs if p.text == "本报告电子版可在政府门户网站查阅"] == []
    parsed = parse(doc)
    assert parsed.values() == report.values()
    assert [_no_space(s.text) for s in parsed.sections] == [_no_space(s.text) for s in report.sections]


def pdf_with_a_font_lacking_its_bbox() -> bytes:
    """A one-page PDF whose font descriptor has no FontBBox: pdfminer warns about it."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        None,
        b"<< /Type /Font /Subtype /TrueType /BaseFont /Broken /FirstChar 32 /LastChar 126 /FontDescriptor 6 0 R >>",
        b"<< /Type /FontDescriptor /FontName /Broken /Flags 32 /ItalicAngle 0 /Ascent 800 /Descent -200 /CapHeight 700 /StemV 80 >>",
    ]
    stream = b"BT /F1 12 Tf 20 100 Td (hello 2024) Tj ET"
    objects[3] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_pdfminer_warnings_do_not_reach_the_terminal(tmp_path):
    pdf = tmp_path / "font.pdf"
    pdf.write_bytes(pdf_with_a_font_lacking_its_bbox())
    run = subprocess.run([sys.executable, "-m", "gongkai", "parse", str(pdf)], capture_output=True, text=True,
                         timeout=120)
    assert "FontBBox" not in run.stderr
    assert run.stderr.strip() == f"gongkai: {pdf}: 未找到年度报告的统计表格 (no report tables found)"
