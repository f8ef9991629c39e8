"""Legacy Word files (.doc/.wps) read through LibreOffice, and the DOCX we write opening cleanly in it.

LibreOffice conversions take seconds each on a shared machine: these tests run few of them.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from gongkai.document import LoadError
from gongkai.parse import parse
from gongkai.read import read, sniff
from gongkai.read.office import convert_to_docx, read_office
from gongkai.render.docx import render_docx
from gongkai.synth import synth_report

needs_libreoffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")


def _soffice_convert(source: Path, target_format: str, out_dir: Path) -> Path:
    """What a person does with LibreOffice: convert a file and keep the result."""
    run = subprocess.run(["soffice", "--headless", f"-env:UserInstallation={(out_dir / 'profile').as_uri()}",
                          "--convert-to", target_format, "--outdir", str(out_dir), str(source)],
                         capture_output=True, text=True, timeout=180)
    result = out_dir / f"{source.stem}.{target_format}"
    assert run.returncode == 0 and result.is_file(), run.stderr
    return result


@pytest.fixture(scope="module")
def blanked_report():
    report = synth_report(17)
    for key in ("applications.new.legal_service_org", "applications.not_processed.duplicate.total",
                "appeals.review.pending", "proactive.punishment.decisions"):
        report.cells[key].value = None
    return report


@needs_libreoffice
def test_a_doc_saved_by_libreoffice_gives_back_every_cell(tmp_path, blanked_report):
    source = tmp_path / "report.docx"
    source.write_bytes(render_docx(blanked_report))
    doc_file = _soffice_convert(source, "doc", tmp_path)
    # A name that says nothing: the content decides the reader.
    unnamed = tmp_path / "attachment.bin"
    unnamed.write_bytes(doc_file.read_bytes())
    assert sniff(unnamed.read_bytes()) == "office"
    document = read(unnamed)
    assert document.kind == "office"
    parsed = parse(document)
    assert (parsed.agency, parsed.year) == (blanked_report.agency, blanked_report.year)
    assert parsed.values() == blanked_report.values()
    assert parsed.value("appeals.review.pending") is None
    assert parsed.value("proactive.punishment.decisions") is None


@needs_libreoffice
def test_the_rendered_docx_converts_to_pdf_without_complaint(tmp_path):
    report = synth_report(12)
    source = tmp_path / "report.docx"
    source.write_bytes(render_docx(report))
    pdf = _soffice_convert(source, "pdf", tmp_path)
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, timeout=60).stdout
        assert report.agency in text
        assert "收到和处理政府信息公开申请情况" in text and "未经复议直接起诉" in text


OLE2_HEADER = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@needs_libreoffice
def test_a_broken_doc_is_a_clear_error():
    # An OLE2 file naming a WordDocument stream, with nothing readable in it: LibreOffice must not
    # fall back to importing the bytes as text.
    junk = OLE2_HEADER + bytes(range(256)) * 8 + "WordDocument".encode("utf-16-le") + bytes(2000)
    with pytest.raises(LoadError, match="LibreOffice 无法转换") as caught:
        read_office(junk, "broken.doc")
    assert caught.value.path == "broken.doc"


def test_an_ole2_file_that_is_no_word_document_nor_workbook_is_refused_before_conversion():
    slides = OLE2_HEADER + bytes(500) + "PowerPoint Document".encode("utf-16-le") + bytes(500)
    start = time.perf_counter()
    with pytest.raises(LoadError, match="OLE2 文件中没有文字处理文档或工作簿"):
        read_office(slides, "slides.ppt")
    assert time.perf_counter() - start < 1


def test_a_broken_workbook_fails_in_libreoffice_with_its_name():
    spreadsheet = OLE2_HEADER + bytes(500) + "Workbook".encode("utf-16-le") + bytes(500)
    with pytest.raises(LoadError, match="LibreOffice 无法转换") as caught:
        read_office(spreadsheet, "table.et")
    assert caught.value.path == "table.et" and "XLSX" in caught.value.problem


@needs_libreoffice
def test_a_workbook_on_a_libreoffice_without_calc_says_that_calc_is_missing(monkeypatch):
    # Debian installs Writer and Calc apart: with Writer alone, every workbook fails to load, and
    # "maybe it is broken" would send the user after the wrong thing.
    import gongkai.libreoffice

    monkeypatch.setattr(gongkai.libreoffice, "lacks_calc", lambda: True)
    spreadsheet = OLE2_HEADER + bytes(500) + "Workbook".encode("utf-16-le") + bytes(500)
    with pytest.raises(LoadError, match="需要安装 LibreOffice Calc") as caught:
        read_office(spreadsheet, "table.xls")
    assert caught.value.path == "table.xls"


@needs_libreoffice
def test_a_conversion_that_overruns_is_killed():
    start = time.perf_counter()
    with pytest.raises(LoadError, match="超时"):
        convert_to_docx(b"{\\rtf1\\ansi hello}", "slow.rtf", timeout=0.05)
    assert time.perf_counter() - start < 10


def test_without_libreoffice_the_error_says_so(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(LoadError, match=r"需要安装 LibreOffice 才能读取 DOC/WPS/XLS 文件 \(LibreOffice not found\)") as caught:
        read_office(OLE2_HEADER + "WordDocument".encode("utf-16-le") + bytes(512), "old.wps")
    assert caught.value.path == "old.wps"


def test_what_is_neither_ole2_nor_rtf_is_not_sent_to_libreoffice():
    with pytest.raises(LoadError, match="不是 DOC/WPS/XLS/RTF 文件"):
        read_office(b"just some text", "notes.doc")
