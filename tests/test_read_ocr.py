"""Given an image of a report (a clean 150-dpi render, a scanned PDF, a tight table), these cells.

OCR is slow on a shared machine: the report is rendered and each of its pages recognised once per
test session; the other images are small.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from gongkai.document import Document, TableRow
from gongkai.formats import load_format
from gongkai.model import Report
from gongkai.parse import parse
from gongkai.read import read, sniff
from gongkai.read.ocr import engine, read_image, skew, value_text
from gongkai.render.pdf import render_pdfs, render_png
from gongkai.synth import synth_report

DPI = 150
BLANKED = load_format("2021").keys[5::23]
FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


@pytest.fixture(scope="session")
def report() -> Report:
    report = synth_report(11)
    for key in BLANKED:
        report.cells[key].value = None
    return report


@pytest.fixture(scope="session")
def pages(report, tmp_path_factory) -> list[Path]:
    """The report's pages as PNG files at 150 dpi."""
    pdf = render_pdfs([report])[0]
    out = tmp_path_factory.mktemp("png")
    paths = []
    page = 1
    while True:
        try:
            png = render_png(pdf, page, dpi=DPI)
        except Exception:
            break
        paths.append(out / f"page{page}.png")
        paths[-1].write_bytes(png)
        page += 1
    assert len(paths) >= 2
    return paths


@pytest.fixture(scope="session")
def page_documents(pages) -> list[Document]:
    return [read(p) for p in pages]


def _joined(documents: list[Document]) -> Document:
    """Pages read one by one, as one document: tables numbered on."""
    items = []
    offset = 0
    for doc in documents:
        for item in doc.items:
            if isinstance(item, TableRow):
                item = TableRow(item.cells, item.table + offset, item.source)
            items.append(item)
        offset += 1 + max((r.table for r in doc.rows), default=-1)
    return Document(path="pages.png", kind="ocr", items=items)


# --- a clean render: every cell ------------------------------------------------------------------------------


def test_every_cell_from_clean_150_dpi_renders(page_documents, report):
    assert all(doc.kind == "ocr" for doc in page_documents)
    parsed = parse(_joined(page_documents))
    assert (parsed.agency, parsed.year) == (report.agency, report.year)
    assert parsed.values() == report.values()
    assert all(parsed.value(key) is None for key in BLANKED)


def test_each_cell_carries_its_ocr_confidence(page_documents):
    cells = [c for doc in page_documents for row in doc.rows for c in row.cells]
    assert cells and all(0 < c.confidence <= 1 for c in cells)
    parsed = parse(_joined(page_documents))
    figures = [c for c in parsed.cells.values() if c.value is not None]
    assert all(0 < c.confidence <= 1 for c in figures)


def test_boxes_of_an_image_are_in_pixels(page_documents, pages, report):
    width, height = Image.open(pages[0]).size
    parsed = parse(_joined(page_documents))
    columns = load_format("2021").table("applications").blocks[0].columns
    boxes = [parsed.cells[f"applications.new.{c.key}"].provenance.bbox for c in columns]
    for x0, top, x1, bottom in boxes:
        assert 0 <= x0 < x1 <= width and 0 <= top < bottom <= height
    # One row, left to right.
    assert [b[0] for b in boxes] == sorted(b[0] for b in boxes)
    assert max(b[1] for b in boxes) - min(b[1] for b in boxes) < 5
    # Plain numbers, as `gongkai parse --format full` writes them.
    dumped = json.loads(parsed.model_dump_json())
    assert dumped["cells"]["applications.new.total"]["provenance"]["bbox"] == list(boxes[-1])


def test_a_scanned_pdf_is_read_by_ocr_page_by_page(pages, report, tmp_path):
    images = [Image.open(p).convert("RGB") for p in pages]
    scan = tmp_path / "scan.pdf"
    images[0].save(scan, "PDF", resolution=DPI, save_all=True, append_images=images[1:])
    doc = read(scan)
    assert doc.kind == "ocr"
    parsed = parse(doc)
    assert (parsed.agency, parsed.year) == (report.agency, report.year)
    assert parsed.values() == report.values()
    # Boxes of a PDF page are in points, whatever resolution the page was read at.
    pages_seen = set()
    for cell in parsed.cells.values():
        if cell.value is not None:
            x0, top, x1, bottom = cell.provenance.bbox
            assert 0 <= x0 < x1 <= 596 and 0 <= top < bottom <= 842
            pages_seen.add(cell.provenance.page)
    assert pages_seen == {1, 2}


# --- a tight table: figures against the borders -----------------------------------------------------------------

TIGHT = [["信息内容", "甲", "乙", "丙", "丁"],
         ["本年新收", "12", "", "7", "O"],
         ["上年结转", "305", "41", "", "9"]]


def _tight_table(rows: list[list[str]] = TIGHT) -> Image.Image:
    """A ruled table whose figures stand against the borders between cells (right-aligned, then
    left-aligned), so that the detector sees '305 41' as one line of text."""
    font = ImageFont.truetype(FONT, 22)
    widths, height = [170, 60, 60, 60, 60], 40
    image = Image.new("RGB", (sum(widths) + 40, height * len(rows) + 40), "white")
    draw = ImageDraw.Draw(image)
    for r, row in enumerate(rows):
        x = 20
        for c, text in enumerate(row):
            top = 20 + r * height
            draw.rectangle([x, top, x + widths[c], top + height], outline="black", width=2)
            if text:
                left, _, right, _ = draw.textbbox((0, 0), text, font=font)
                tx = x + widths[c] - (right - left) - 4 if c % 2 else x + 4
                draw.text((tx - left, top + 8), text, fill="black", font=font)
            x += widths[c]
    return image


def _png(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def test_figures_against_a_border_stay_in_their_cells():
    doc = read_image(_png(_tight_table()), "tight.png")
    # The blank cells stay blank; the O read in a figure cell is 0; nothing is glued across a border.
    assert [row.texts for row in doc.rows] == [TIGHT[0], ["本年新收", "12", "", "7", "0"], ["上年结转", "305", "41", "", "9"]]
    assert [c.source.col for c in doc.rows[1].cells] == [0, 1, 2, 3, 4]
    assert all(c.source.page == 1 for row in doc.rows for c in row.cells)


def test_a_jpeg_and_a_multi_page_tiff(tmp_path):
    jpeg = tmp_path / "table.jpg"
    jpeg.write_bytes(_png(_tight_table(), "JPEG", quality=80))
    assert sniff(jpeg.read_bytes()) == "image"
    assert [row.texts for row in read(jpeg).rows][2] == ["上年结转", "305", "41", "", "9"]
    second = [TIGHT[0], ["本年新收", "8", "1", "", "0"]]
    tiff = tmp_path / "table.tiff"
    tiff.write_bytes(_png(_tight_table(), "TIFF", save_all=True, append_images=[_tight_table(second)]))
    doc = read(tiff)
    assert [r.source.page for r in doc.rows] == [1, 1, 1, 2, 2]
    assert doc.rows[-1].texts == ["本年新收", "8", "1", "", "0"]
    assert len({r.table for r in doc.rows}) == 2


@pytest.mark.parametrize("angle", [-1.5, 2.0])
def test_a_scan_turned_by_a_degree_or_two_is_straightened(angle):
    turned = _tight_table().rotate(angle, expand=True, fillcolor="white", resample=Image.Resampling.BICUBIC)
    assert abs(skew(np.asarray(turned.convert("L"))) - angle) < 0.3
    assert skew(np.asarray(_tight_table().convert("L"))) == 0
    doc = read_image(_png(turned), "turned.png")
    assert [row.texts for row in doc.rows] == [TIGHT[0], ["本年新收", "12", "", "7", "0"], ["上年结转", "305", "41", "", "9"]]


def test_a_figure_the_detector_passed_over_is_read_from_its_cell():
    """The detector now and then misses a lone small figure; a cell with ink and no text found in
    it is recognised on its own (here: as if the detector had found nothing at all)."""
    from gongkai.read.ocr import _missed, ruling
    from gongkai.read.page import RuledGrid as Grid

    pixels = np.asarray(_tight_table())
    found = ruling(pixels.mean(axis=2).astype(np.uint8))
    grid = Grid(found.tables[0], 2.0)
    erased = pixels.copy()
    erased[found.lines] = 255
    recovered = _missed(erased, [grid], [], found.text_height)
    texts = {grid.locate(g.cx, g.cy).bbox: value_text(g.text) for g in recovered}
    # Every cell with something printed in it, and only those.
    assert sorted(texts.values()) == sorted(value_text(t) for row in TIGHT for t in row if t)
    assert all(0 < g.confidence <= 1 for g in recovered)
    # The engine's settings do not leak from one call to the next: whole pages are still detected.
    assert [row.texts for row in read_image(_png(_tight_table()), "again.png").rows][1] == ["本年新收", "12", "", "7", "0"]


# --- figures --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("read_as", "figure"), [
    ("1O", "10"), ("O", "0"), ("o", "0"), ("1 2", "12"), ("l2", "12"), ("3,O00", "3,000"), ("一", "—"),
    ("12", "12"), ("自然人", "自然人"), ("O型", "O型"), ("l", "l"), ("", ""), ("1.属于国家秘密", "1.属于国家秘密"),
])
def test_digit_confusions_are_undone_only_in_figure_cells(read_as, figure):
    assert value_text(read_as) == figure


# --- the engine: loaded once, offline, quiet -----------------------------------------------------------------------


def test_the_engine_is_loaded_once():
    assert engine() is engine()


def test_ocr_runs_offline_and_quietly(tmp_path):
    """With every network connection refused, OCR still works, and says nothing on stderr."""
    image = tmp_path / "t.png"
    image.write_bytes(_png(_tight_table()))
    script = textwrap.dedent(f"""
        import socket

        def refuse(*args, **kwargs):
            raise OSError("network disabled in this test")

        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse

        from gongkai.read import read
        print([row.texts for row in read({str(image)!r}).rows][1])
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(["本年新收", "12", "", "7", "0"])
    assert run.stderr == ""


# --- a table pasted as a picture into a PDF with text -------------------------------------------------------------


def test_a_table_pasted_as_a_picture_among_text_is_read_by_ocr(tmp_path):
    """Tables 二 and 三 are text; table 四 is a picture of itself: every cell still comes back."""
    import docx
    import pdfplumber
    from docx.shared import Mm

    from gongkai.render.docx import render_docx
    from gongkai.render.pdf import convert_to_pdf

    report = synth_report(3)
    pdf = render_pdfs([report])[0]
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        number, box = [(page.page_number, table.bbox) for page in document.pages for table in page.find_tables()][-1]
    dpi = 200
    zoom = dpi / 72
    page = Image.open(io.BytesIO(render_png(pdf, number, dpi)))
    picture = page.crop((int(box[0] * zoom) - 4, int(box[1] * zoom) - 4, int(box[2] * zoom) + 4, int(box[3] * zoom) + 4))
    word = docx.Document(io.BytesIO(render_docx(report)))
    table = word.tables[-1]._tbl
    paragraph = word.add_paragraph()
    paragraph.add_run().add_picture(io.BytesIO(_png(picture)), width=Mm((box[2] - box[0]) * 25.4 / 72))
    table.addprevious(paragraph._p)
    table.getparent().remove(table)
    out = io.BytesIO()
    word.save(out)
    path = tmp_path / "picture.pdf"
    path.write_bytes(convert_to_pdf([("picture.docx", out.getvalue())])[0])

    doc = read(path)
    assert doc.kind == "pdf"
    parsed = parse(doc)
    assert parsed.values() == report.values()
    appeals = [c for k, c in parsed.cells.items() if k.startswith("appeals.")]
    assert all(c.provenance.page == number and c.provenance.bbox[2] <= 596 for c in appeals)
    assert all(0 < c.confidence <= 1 for c in appeals)


def test_an_image_of_a_table_without_ruling_lines():
    font = ImageFont.truetype(FONT, 22)
    widths, height = [170, 80, 80, 80, 80], 40
    image = Image.new("RGB", (sum(widths) + 40, height * len(TIGHT) + 40), "white")
    draw = ImageDraw.Draw(image)
    for r, row in enumerate(TIGHT):
        x = 20
        for c, text in enumerate(row):
            if text:
                left, _, right, _ = draw.textbbox((0, 0), text, font=font)
                tx = x + (widths[c] - (right - left)) / 2 if c else x + 4
                draw.text((tx - left, 20 + r * height + 8), text, fill="black", font=font)
            x += widths[c]
    doc = read_image(_png(image), "plain.png")
    # The header stays text; the rows get blank cells where the figures' columns are empty.
    assert [p.text for p in doc.paragraphs] == ["信息内容 甲 乙 丙 丁"]
    assert [row.texts for row in doc.rows] == [["本年新收", "12", "", "7", "0"], ["上年结转", "305", "41", "", "9"]]


def test_a_pdf_pdfminer_cannot_parse_is_read_from_pdfiums_rendering(monkeypatch):
    """PDFium repairs files pdfminer gives up on: their pages are still read, by OCR."""
    import pdfplumber

    from gongkai.read.pdf import read_pdf

    scan = _png(_tight_table(), "PDF", resolution=150)

    def broken(*args, **kwargs):
        raise ValueError("pdfminer gave up")

    monkeypatch.setattr(pdfplumber, "open", broken)
    doc = read_pdf(scan, "repaired.pdf")
    assert doc.kind == "ocr"
    assert [row.texts for row in doc.rows][1] == ["本年新收", "12", "", "7", "0"]
    assert all(c.source.page == 1 for row in doc.rows for c in row.cells)


def _stamped(image: Image.Image) -> Image.Image:
    """A red seal printed over the table's figures: ring, star and words, ink over ink."""
    seal = Image.new("RGB", image.size, "white")
    draw = ImageDraw.Draw(seal)
    cx, cy, radius = 300, 95, 70
    draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], outline=(215, 30, 40), width=6)
    draw.regular_polygon((cx, cy - 10, 22), 5, fill=(215, 30, 40))
    draw.text((cx - 44, cy + 20), "政务公开专用章", font=ImageFont.truetype(FONT, 14), fill=(215, 30, 40))
    return Image.fromarray(np.minimum(np.asarray(image), np.asarray(seal)))


def test_a_red_seal_over_the_figures_is_taken_off_before_recognition():
    from gongkai.read.ocr import remove_seals

    stamped = _stamped(_tight_table())
    pixels = np.asarray(stamped)
    cleaned = remove_seals(pixels)

    def red_ink(image: np.ndarray) -> int:
        r, g, b = (image[..., i].astype(int) for i in range(3))
        return int(((r - np.maximum(g, b) > 60) & (r > 120)).sum())

    assert red_ink(pixels) > 500 and red_ink(cleaned) == 0
    doc = read_image(_png(stamped), "stamped.png")
    assert [row.texts for row in doc.rows] == [TIGHT[0], ["本年新收", "12", "", "7", "0"], ["上年结转", "305", "41", "", "9"]]


def test_red_text_lines_are_not_taken_for_seals():
    from gongkai.read.ocr import remove_seals

    image = Image.new("RGB", (600, 200), "white")
    ImageDraw.Draw(image).text((20, 80), "东湖县人民政府办公室文件", font=ImageFont.truetype(FONT, 40), fill=(215, 30, 40))
    pixels = np.asarray(image)
    assert np.array_equal(remove_seals(pixels), pixels)


def _page(lines: list[str], rows: list[list[str]]) -> Image.Image:
    """A small page: lines of text, then a ruled table of a wide label column and figures."""
    font = ImageFont.truetype(FONT, 22)
    widths, height = [420] + [50] * (len(rows[0]) - 1), 40
    image = Image.new("RGB", (sum(widths) + 40, 50 * len(lines) + height * len(rows) + 60), "white")
    draw = ImageDraw.Draw(image)
    for n, line in enumerate(lines):
        draw.text((20, 20 + 50 * n), line, fill="black", font=font)
    for r, row in enumerate(rows):
        x, top = 20, 30 + 50 * len(lines) + r * height
        for c, text in enumerate(row):
            draw.rectangle([x, top, x + widths[c], top + height], outline="black", width=2)
            draw.text((x + 6, top + 8), text, fill="black", font=font)
            x += widths[c]
    return image


def test_a_report_photographed_page_by_page_is_one_report(tmp_path):
    """`gongkai parse --pages p1.png p2.png`: the pages in the order given make one report."""
    first = _page(["东湖县人民政府2024年政府信息公开工作年度报告", "三、收到和处理政府信息公开申请情况"],
                  [["一、本年新收政府信息公开申请数量", "3", "0", "1", "0", "0", "0", "4"]])
    second = _page(["（续表）"], [["（七）总计", "2", "0", "1", "0", "0", "0", "3"]])
    paths = [tmp_path / "IMG_0412.jpg", tmp_path / "IMG_0409.jpg"]  # photo numbers out of page order
    paths[0].write_bytes(_png(first, "JPEG", quality=90))
    paths[1].write_bytes(_png(second, "JPEG", quality=90))
    run = subprocess.run([sys.executable, "-m", "gongkai", "parse", "--pages", *map(str, paths)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    (line,) = run.stdout.splitlines()
    out = json.loads(line)
    assert (out["agency"], out["year"]) == ("东湖县人民政府", 2024)
    assert out["applications"]["new"]["total"] == 4
    assert out["applications"]["total_processed"]["total"] == 3


def test_a_folder_or_a_zip_of_page_images_reads_in_the_names_natural_order(tmp_path):
    import zipfile

    second = [TIGHT[0], ["本年新收", "8", "1", "", "0"]]
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "p10.png").write_bytes(_png(_tight_table(second)))
    (folder / "p2.png").write_bytes(_png(_tight_table()))
    (folder / "notes.txt").write_text("not a page")
    doc = read(folder)
    assert [r.source.page for r in doc.rows] == [1, 1, 1, 2, 2]
    assert doc.rows[-1].texts == ["本年新收", "8", "1", "", "0"]
    archive = tmp_path / "scans.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for page in ("p10.png", "p2.png"):
            z.write(folder / page, f"scans/{page}")
    assert sniff(archive.read_bytes()) == "pages"
    assert [r.texts for r in read(archive).rows] == [r.texts for r in doc.rows]


def test_a_table_photographed_at_an_angle_is_made_rectangular_from_its_lines():
    import cv2

    from gongkai.read.ocr import perspective

    flat = np.asarray(_tight_table())
    height, width = flat.shape[:2]
    corners = np.float32([[20, 20], [width - 20, 20], [width - 20, height - 20], [20, height - 20]])
    photographed = np.float32([[45, 30], [width - 35, 18], [width - 15, height - 16], [22, height - 28]])
    tilted = cv2.warpPerspective(flat, cv2.getPerspectiveTransform(corners, photographed), (width, height),
                                 borderValue=(255, 255, 255))
    assert perspective(np.asarray(Image.fromarray(tilted).convert("L"))) is not None
    assert perspective(np.asarray(_tight_table().convert("L"))) is None  # a flat scan is left alone
    doc = read_image(_png(Image.fromarray(tilted)), "photo.png")
    assert [row.texts for row in doc.rows] == [TIGHT[0], ["本年新收", "12", "", "7", "0"], ["上年结转", "305", "41", "", "9"]]


# --- OCR that checks itself: figures the sums doubt are read again -------------------------------------------------

ROWS_三 = [["一、本年新收政府信息公开申请数量", "38", "0", "10", "0", "0", "0", "48"],
          ["二、上年结转政府信息公开申请数量", "5", "0", "1", "0", "0", "0", "6"]]
HEADING = ["东湖县人民政府2024年政府信息公开工作年度报告", "三、收到和处理政府信息公开申请情况"]


def _damaged_total(damage) -> bytes:
    """The two rows of table 三 with the 48 in 总计 of the first damaged by `damage(pixels, box)`."""
    image = _page(HEADING, ROWS_三)
    x0 = 20 + 420 + 50 * 6  # the 总计 column
    top = 30 + 50 * len(HEADING)
    box = ImageDraw.Draw(image).textbbox((x0 + 6, top + 8), "48", font=ImageFont.truetype(FONT, 22))
    pixels = np.asarray(image).copy()
    damage(pixels, box)
    return _png(Image.fromarray(pixels))


def _speckled(pixels: np.ndarray, box) -> None:
    """Toner dropout: nearly half the pixels of the figure gone white."""
    x0, top, x1, bottom = box
    gone = np.random.default_rng(3).random((bottom - top, x1 - x0)) < 0.45
    pixels[top:bottom, x0:x1][gone] = 255


def test_a_damaged_figure_the_sums_doubt_is_read_again_and_mended():
    """The page read turns the speckled 48 into 49, a wrong figure; read again on its own, the cell
    says 48, which makes its row add up: 48 is kept, and the cell and the report's notes say how."""
    doc = read_image(_damaged_total(_speckled), "damaged.png")
    assert doc.rows[0].cells[-1].text == "49"  # the damage does mislead the page's read
    report = parse(doc)
    cell = report.cells["applications.new.total"]
    assert cell.value == 48 and cell.raw == "48"
    assert "首次识别为" in cell.note and "已采用" in cell.note and "表三每行各类申请人之和等于总计" in cell.note
    assert cell.note in report.notes
    assert 0.85 <= cell.confidence <= 1
    # Nothing else moved: every other figure as printed.
    assert [report.value(f"applications.new.{c.key}") for c in
            load_format("2021").table("applications").blocks[0].columns] == [38, 0, 10, 0, 0, 0, 48]
    assert report.value("applications.carried_over.total") == 6


def test_a_figure_read_again_alike_is_left_as_printed():
    """A report whose own figures do not add up (47 printed for 38 + 10): read again, 47 it is;
    nothing is changed, and the printed sum still does not hold (failed, or uncertain where the
    page read some figure of the row with low confidence)."""
    from gongkai.check import evaluate

    rows = [[*ROWS_三[0][:-1], "47"], ROWS_三[1]]
    report = parse(read_image(_png(_page(HEADING, rows)), "printed.png"))
    assert report.value("applications.new.total") == 47
    assert not any("已采用" in note for note in report.notes)
    assert any(note.startswith("图像识别复核：") and "一致" in note and "总计" in note for note in report.notes)
    row_sum = [o for o in evaluate(report) if o.rule == "A3-row-total" and "applications.new.total" in o.cells]
    assert [(o.status in ("failed", "uncertain"), o.found, o.expected) for o in row_sum] == [(True, 47, 48)]
