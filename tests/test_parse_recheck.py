"""Given a report read by OCR whose sums fail, and what reading its figures again finds, these cells.

The readings are given here (gongkai.read.ocr.reread replaced): what is tested is which reading
is taken, never a guess — tests/test_read_ocr.py reads real damaged images.
"""

from __future__ import annotations

import pytest

from gongkai.check import evaluate
from gongkai.document import Document, PageImage, Paragraph
from gongkai.formats import load_format
from gongkai.model import Provenance
from gongkai.parse.recheck import recheck
from gongkai.read import ocr
from gongkai.read.ocr import Reading
from gongkai.synth import synth_report

FMT = load_format("2021")
COLUMNS = [c.key for c in FMT.table("applications").blocks[0].columns]


@pytest.fixture
def scanned():
    """A consistent synthetic report whose table 三 was read by OCR from page 2 (each cell a box)."""
    report = synth_report(5)
    for n, key in enumerate(k for k in report.cells if k.startswith("applications.")):
        cell = report.cells[key]
        cell.raw = "" if cell.value is None else str(cell.value)
        cell.provenance = Provenance(page=2, bbox=(100.0 + 10 * (n % 7), 10.0 * n, 108.0 + 10 * (n % 7), 10.0 * n + 8))
        cell.confidence = 0.97
    doc = Document(path="scan.pdf", kind="ocr", items=[Paragraph("", Provenance())],
                   page_images={2: PageImage(b"", 1.0, 20.0)})
    return report, doc


def _readings(monkeypatch, report, found: dict[str, list[str]]):
    """Reading a box again finds `found[key]` (its first reading where not given)."""
    by_box = {report.cells[k].provenance.bbox: k for k in report.cells if report.cells[k].provenance}
    asked: list[str] = []

    def reread(image, boxes):
        keys = [by_box[b] for b in boxes]
        asked.extend(keys)
        return [[Reading(t, 0.96, "单独裁切") for t in found.get(k, [report.cells[k].raw or ""])] for k in keys]

    monkeypatch.setattr(ocr, "reread", reread)
    return asked


def _status(report, rule: str, key: str) -> str:
    (o,) = [o for o in evaluate(report) if o.rule == rule and key in o.cells]
    return o.status


def test_a_misread_total_is_mended_by_the_reading_that_makes_its_sums_hold(scanned, monkeypatch):
    report, doc = scanned
    key = "applications.new.total"
    right = report.value(key)
    report.cells[key].value, report.cells[key].raw = right + 1, str(right + 1)
    asked = _readings(monkeypatch, report, {key: [str(right + 1), str(right), str(right)]})
    recheck(report, doc, FMT)
    assert key in asked and all(k.startswith("applications.") for k in asked)
    cell = report.cells[key]
    assert (cell.value, cell.raw, cell.confidence) == (right, str(right), 0.96)
    assert "已采用" in cell.note and cell.note in report.notes
    assert _status(report, "A3-row-total", key) == "passed"


def test_a_figure_ocr_could_not_read_is_read_again_where_a_sum_needs_it(scanned, monkeypatch):
    report, doc = scanned
    key = "applications.new.natural_person"
    right = report.value(key)
    report.cells[key].value, report.cells[key].raw = None, "1\nB"
    _readings(monkeypatch, report, {key: [str(right), "18"]})
    recheck(report, doc, FMT)
    assert report.value(key) == right


def test_when_two_cells_could_each_be_the_misread_one_neither_is_changed(scanned, monkeypatch):
    """The row's total was misread; read again, the total and a part each read differently, each
    mending the row, and the part's column balance (新收 + 结转 = …) cannot be checked (its 新收
    is blank): the sums cannot tell which digit was misread."""
    report, doc = scanned
    total, part = "applications.carried_over.total", "applications.carried_over.natural_person"
    values = {k: report.value(k) for k in (total, part)}
    report.cells["applications.new.natural_person"].value = None
    report.cells["applications.new.natural_person"].raw = ""
    report.cells[total].value += 3
    report.cells[total].raw = str(report.cells[total].value)
    _readings(monkeypatch, report, {total: [str(values[total])], part: [str(values[part] + 3)]})
    recheck(report, doc, FMT)
    assert report.value(total) == values[total] + 3 and report.value(part) == values[part]
    assert not any("已采用" in note for note in report.notes)


def test_a_reading_that_breaks_another_sum_is_not_taken(scanned, monkeypatch):
    """The column's 总计 (（七）总计 = （一）…（六）) holds as read; a reading of a part that would mend
    the row but break the column is not taken, and the part's confidence drops for the checker."""
    report, doc = scanned
    key = "applications.granted.natural_person"
    right = report.value(key)
    total = "applications.granted.total"
    report.cells[total].value += 5
    report.cells[total].raw = str(report.cells[total].value)
    _readings(monkeypatch, report, {key: [str(right + 5), str(right)], total: [report.cells[total].raw]})
    recheck(report, doc, FMT)
    assert report.value(key) == right
    assert report.cells[key].confidence < 0.85 and "置信度降为" in report.cells[key].note
    assert _status(report, "A3-row-total", total) == "uncertain"  # hangs on a doubtful figure now


def test_a_report_without_page_images_is_not_touched(scanned, monkeypatch):
    report, doc = scanned
    doc.page_images = {}
    report.cells["applications.new.total"].value += 1
    asked = _readings(monkeypatch, report, {})
    recheck(report, doc, FMT)
    assert asked == []
    assert not any(n.startswith("图像识别复核") for n in report.notes)


def test_figures_outside_what_ocr_read_are_not_read_again(scanned, monkeypatch):
    """A PDF page with text and a table pasted as a picture: only the picture's figures were OCR's."""
    report, doc = scanned
    doc.page_images[2].regions = [(0.0, 0.0, 1.0, 1.0)]
    report.cells["applications.new.total"].value += 1
    asked = _readings(monkeypatch, report, {})
    recheck(report, doc, FMT)
    assert asked == []
