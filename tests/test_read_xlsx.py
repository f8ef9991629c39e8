"""Given a report's tables as a workbook (merged header cells; a sheet per table or one sheet), the
same cells as the report."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from openpyxl import Workbook

from gongkai.formats import load_format
from gongkai.parse import parse
from gongkai.read import read, read_bytes, sniff
from gongkai.read.data import read_data
from gongkai.render.layout import anchors, table_grid
from gongkai.render.template import template_xlsx
from gongkai.synth import synth_report


def write_table(ws, table, report, fmt, top: int = 1) -> int:
    """The table's official grid on the sheet from row `top`, merged cells merged; the next free row."""
    grid = table_grid(table, report, fmt)
    for r, c, cell in anchors(grid):
        value = cell.text
        ws.cell(top + r, 1 + c, int(value) if value.lstrip("-").isdigit() else value or None)
        if cell.rowspan > 1 or cell.colspan > 1:
            ws.merge_cells(start_row=top + r, start_column=1 + c,
                           end_row=top + r + cell.rowspan - 1, end_column=c + cell.colspan)
    return top + len(grid) + 1


def workbook(report, one_sheet: bool) -> bytes:
    fmt = load_format(report.format)
    book = Workbook()
    ws = book.active
    ws.title = "表二" if not one_sheet else "统计表"
    top = 1
    for n, table in enumerate(fmt.tables):
        if not one_sheet and n:
            ws, top = book.create_sheet(f"表{table.number}"), 1
        ws.cell(top, 1, f"{table.number}、{table.title}")
        top = write_table(ws, table, report, fmt, top + 1)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("one_sheet", [False, True])
@pytest.mark.parametrize("seed, format_id", [(1, "2021"), (2, "2019")])
def test_a_bodys_workbook_reads_as_its_report(seed, format_id, one_sheet):
    report = synth_report(seed, format_id)
    data = workbook(report, one_sheet)
    assert sniff(data) == "xlsx"
    parsed = parse(read_bytes(data, f"{report.agency}{report.year}年政府信息公开工作年度报告.xlsx"))
    assert parsed.format == format_id
    assert parsed.values() == report.values()
    assert (parsed.agency, parsed.year, parsed.agency_source) == (report.agency, report.year, "file_name")
    cell = parsed.cells["applications.new.total"]
    assert cell.provenance.table is not None and cell.provenance.col is not None


def test_gongkais_own_template_reads_both_ways():
    report = synth_report(3)
    data = template_xlsx(report)
    assert read_data(data, "t.xlsx").values() == report.values()  # the template's own reader
    parsed = parse(read_bytes(data, "t.xlsx"))  # any workbook's: hidden marker rows and columns unseen
    assert parsed.values() == report.values()
    assert (parsed.agency, parsed.year) == (report.agency, report.year)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_an_xls_workbook_reads_through_libreoffice(tmp_path):
    report = synth_report(4)
    (tmp_path / "tables.xlsx").write_bytes(workbook(report, one_sheet=False))
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
                    "--convert-to", "xls", "--outdir", str(tmp_path / "out"), str(tmp_path / "tables.xlsx")],
                   check=True, capture_output=True, timeout=180, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    xls = tmp_path / "out" / "tables.xls"
    assert sniff(xls.read_bytes()) == "office"
    assert parse(read(xls)).values() == report.values()
