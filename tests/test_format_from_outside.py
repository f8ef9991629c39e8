"""Given a third format dropped into a $GONGKAI_FORMATS folder — a province's variant built on the 2021
format with one more row in table 三's （四）无法提供 group and one more group of applicant columns —
every stage follows without a code change: parse (every input kind), check (the new cells' sums),
render (every output kind, parsed back to the same cells), the YAML and xlsx templates, the corpus and
its export."""

from __future__ import annotations

import csv
import random

import pytest
from typer.testing import CliRunner

import layouts
from gongkai.check import check_report
from gongkai.cli import app
from gongkai.formats import ENV_VAR, load_format
from gongkai.model import Report
from gongkai.parse import parse
from gongkai.read import read_bytes
from gongkai.read.data import read_data
from gongkai.render.docx import render_docx
from gongkai.render.html import render_html
from gongkai.render.markdown import render_markdown
from gongkai.render.pdf import convert_to_pdf
from gongkai.render.template import template_xlsx, template_yaml
from gongkai.store.db import connect
from gongkai.store.ingest import ingest
from gongkai.synth import synth_report

LOCAL_FORMAT = """\
# 某省的地方增补格式：（四）无法提供多一项，申请人多一组「个体工商户及其他」。
extends: "2021"
id: "2021-local"
name: 政府信息公开工作年度报告格式（2021年版·地方增补）
basis: 某省政务公开办函〔2024〕1号
first_year: 2024
signature: [本年制发件数, 本年废止件数, 现行有效件数, 本年收费金额, 个体工商户, 申请人已死亡]
changes:
  - table: applications
    after: unable.unclear_after_correction
    add_rows:
      - {key: unable.applicant_deceased, label: 4.申请人已死亡或终止, match: "申请人已死亡"}
  - table: applications
    before: total
    add_columns:
      - group: 个体工商户及其他
        columns:
          - {key: sole_trader, label: 个体工商户, match: "个体工商户"}
          - {key: village_committee, label: 村居委会, match: "村居委会"}
"""

NEW_ROW = "applications.unable.applicant_deceased"
runner = CliRunner()


@pytest.fixture(autouse=True)
def local_format(tmp_path_factory, monkeypatch):
    folder = tmp_path_factory.mktemp("formats")
    (folder / "local.yaml").write_text(LOCAL_FORMAT, encoding="utf-8")
    monkeypatch.setenv(ENV_VAR, str(folder))
    return load_format("2021-local")


def local_report(seed: int, blanks: int = 0) -> Report:
    report = synth_report(seed, "2021-local", year=2024)
    # The new cells hold figures, so a round trip that loses them cannot pass.
    report.cells[f"{NEW_ROW}.sole_trader"].value = report.cells[f"{NEW_ROW}.sole_trader"].value or 0
    for key in random.Random(seed).sample(load_format("2021-local").keys, blanks):
        report.cells[key].value = None
    return report


def assert_same_cells(parsed: Report, report: Report) -> None:
    assert parsed.format == "2021-local"
    assert (parsed.agency, parsed.year) == (report.agency, report.year)
    assert {k: v for k, v in parsed.values().items() if k in report.cells} == report.values()


def test_the_new_row_and_columns_sit_where_the_change_puts_them(local_format):
    table = local_format.table("applications")
    rows = [r.key for r in table.all_rows]
    assert rows[rows.index("unable.unclear_after_correction") + 1] == "unable.applicant_deceased"
    assert table.blocks[0].rows[rows.index("unable.applicant_deceased")].groups == ("三、本年度办理结果", "（四）无法提供")
    assert [c.key for c in table.blocks[0].columns][-3:] == ["sole_trader", "village_committee", "total"]
    assert len(local_format.keys) == len(load_format("2021").keys) + 9 + 2 * 25  # a row of 9, two columns of 25
    assert [r.id for r in local_format.rules] == [r.id for r in load_format("2021").rules]


def test_the_sums_cover_the_new_cells():
    report = local_report(4)
    assert [f for f in check_report(report) if f.rule.startswith("A")] == []
    report.cells[f"{NEW_ROW}.village_committee"].value += 3
    fired = {f.rule for f in check_report(report) if f.rule.startswith("A")}
    assert fired == {"A3-row-total", "A3-outcomes"}  # its row's total and its column's （七）总计
    messages = " ".join(f.message for f in check_report(report) if f.rule == "A3-row-total")
    assert "4.申请人已死亡或终止" in messages


TEXT_LAYOUTS = {"tabs": layouts.tabs, "pipes": layouts.pipes, "one_cell_per_line": layouts.one_cell_per_line,
                "pdf_text": layouts.pdf_text}
RENDERERS = {"md": lambda r: render_markdown(r).encode(), "html": lambda r: render_html(r).encode(), "docx": render_docx}


@pytest.mark.parametrize("layout", TEXT_LAYOUTS)
def test_text_layouts_parse_to_every_cell(layout):
    report = local_report(7)
    assert_same_cells(parse(read_bytes(TEXT_LAYOUTS[layout](report).encode(), "report.txt")), report)


@pytest.mark.parametrize("to", RENDERERS)
def test_every_rendered_kind_parses_back(to):
    report = local_report(9, blanks=15)
    assert_same_cells(parse(read_bytes(RENDERERS[to](report), f"report.{to}")), report)


def test_the_pdf_parses_back():
    report = local_report(11)
    [pdf] = convert_to_pdf([("report.docx", render_docx(report))])
    assert_same_cells(parse(read_bytes(pdf, "report.pdf")), report)


@pytest.mark.parametrize("template", ["yaml", "xlsx"])
def test_the_templates_carry_the_new_cells(template):
    report = local_report(13, blanks=10)
    data = template_yaml(report).encode() if template == "yaml" else template_xlsx(report)
    back = read_data(data, f"report.{template}")
    assert back.format == "2021-local"
    assert back.values() == report.values()


def test_a_blank_local_template_names_the_new_row_and_columns():
    result = runner.invoke(app, ["template", "--to", "yaml", "--report-format", "2021-local", "-o", "-"])
    assert result.exit_code == 0, result.output
    assert "申请人已死亡或终止" in result.output and "个体工商户" in result.output


def test_the_corpus_stores_and_exports_the_local_format(tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    reports = [local_report(seed) for seed in (21, 22)]
    for i, report in enumerate(reports):
        (folder / f"r{i}.html").write_text(render_html(report), encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'corpus.db'}"
    summary = ingest(connect(db), [folder], workers=2)
    assert summary.parsed == 2
    out = tmp_path / "reports.csv"
    result = runner.invoke(app, ["export", "--db", db, "--to", "csv", "--out", str(out), "--headers", "zh"])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    label = load_format("2021-local").all_cells[f"{NEW_ROW}.sole_trader"].label
    assert sorted(int(r[label]) for r in rows) == sorted(r.value(f"{NEW_ROW}.sole_trader") for r in reports)
    assert {r["格式"] for r in rows} == {"2021-local"}
