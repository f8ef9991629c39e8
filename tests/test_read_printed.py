"""Given a report's web page printed to PDF (Chromium's print-to-PDF, LibreOffice's export) with table
三's spanned header broken the way printing breaks it, these cells: every one right.

The page is a synthetic report rendered by gongkai's HTML renderer with some cells blank (so that
figures cannot be placed by counting them), then broken: the table printed without ruling lines
and in a larger type (so the sub-column labels wrap onto a second and third line: 社会公 / 益组织),
or with the rowspans of 自然人 and 总计 dropped, as converters drop them (the sub-column labels then
stand one column to the left of their figures).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gongkai.formats import load_format
from gongkai.libreoffice import convert, soffice
from gongkai.parse import parse
from gongkai.read import read, read_bytes
from gongkai.render.html import render_html
from gongkai.synth import synth_report

CHROMIUM = Path("/usr/bin/chromium")
APPLICATIONS = [k for k in load_format("2021").keys if k.startswith("applications.")]


def _borderless(html: str) -> str:
    return html.replace("th, td { border: 1px solid #000;", "th, td { border: none;").replace('border="1"', 'border="0"')


def _large_type(html: str) -> str:
    return html.replace("font-size: 13px", "font-size: 19px")


def _rowspans_dropped(html: str) -> str:
    for label in ("自然人", "总计"):
        html = html.replace(f'<th rowspan="2" class="column">{label}</th>', f'<th class="column">{label}</th>')
    return html


def _report(seed: int, blank_every: int):
    report = synth_report(seed)
    for key in APPLICATIONS[1::blank_every]:
        report.cells[key].value = None
    return report


def _chromium(html: str, tmp_path: Path) -> Path:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed")
    page, pdf = tmp_path / "report.html", tmp_path / "report.pdf"
    page.write_text(html, encoding="utf-8")
    subprocess.run([str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", f"--print-to-pdf={pdf}",
                    "--no-pdf-header-footer", page.as_uri()], capture_output=True, timeout=180, check=True)
    return pdf


def _libreoffice(html: str, tmp_path: Path) -> Path:
    if soffice() is None:
        pytest.skip("LibreOffice is not installed")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(convert([("report.html", html.encode())], "pdf:writer_web_pdf_Export")[0])
    return pdf


@pytest.mark.parametrize(("printer", "breaks", "seed", "blank_every"), [
    (_chromium, (_borderless, _large_type), 1, 11),
    (_chromium, (_borderless, _rowspans_dropped), 4, 5),
    # LibreOffice wraps 2.其他法律行政法规 / 禁止公开 below its figures, and the next row's label
    # above its own: the row above, which printed figures, must lend it no words.
    (_libreoffice, (_borderless,), 4, 5),
])
def test_a_printed_web_page_with_its_header_broken(printer, breaks, seed, blank_every, tmp_path):
    report = _report(seed, blank_every)
    html = render_html(report)
    for damage in breaks:
        html = damage(html)
    parsed = parse(read(printer(html, tmp_path)))
    assert {k: parsed.value(k) for k in APPLICATIONS} == {k: report.value(k) for k in APPLICATIONS}


def test_a_garbled_sub_column_label_takes_its_place_from_the_labels_around_it():
    """A web page whose 社会公益组织 and 法律服务机构 labels came out garbled (two wrapped lines read
    across: 社公会益组织): rows with blanks are set under the labels that were read, the two
    columns between them taking the two cells between."""
    report = _report(1, 11)
    html = render_html(report).replace(">社会公益组织<", ">社公会益组织<").replace(">法律服务机构<", ">法服律务机构<")
    parsed = parse(read_bytes(html.encode(), "garbled.html"))
    assert {k: parsed.value(k) for k in APPLICATIONS} == {k: report.value(k) for k in APPLICATIONS}
    # A row whose first figure is blank: placed by where each cell stands, not by counting.
    row = next(k.rpartition(".")[0] for k in APPLICATIONS if k.endswith(".natural_person") and report.value(k) is None)
    assert parsed.cells[f"{row}.total"].note == "按表头各列的位置取数"
