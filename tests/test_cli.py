"""The command line as a person meets it: every mistake one line on stderr naming the file or value,
with an exit code and no traceback; help in Chinese; outputs that never overwrite what they should not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from gongkai.cli import app
from gongkai.render.markdown import render_markdown
from gongkai.synth import synth_report

runner = CliRunner()


def cli(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env={"GONGKAI_DB": None, **(env or {})}, catch_exceptions=False)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    """A folder with two reports (markdown), a data file, and a database holding the reports."""
    root = tmp_path_factory.mktemp("cli")
    reports = root / "reports"
    reports.mkdir()
    for seed in (1, 2):
        report = synth_report(seed, year=2023 + seed)
        # No digits in the name: the parser reads a title's digits as its year.
        report.agency, report.title = f"测试县{'甲乙丙丁戊己庚辛壬癸'[seed]}人民政府", None
        (reports / f"r{seed}.md").write_text(render_markdown(report, tables="tabs"), encoding="utf-8")
    db = root / "corpus.db"
    result = cli("ingest", str(reports), "--db", str(db), "--workers", "1", "--no-progress")
    assert result.exit_code == 0, result.output
    data = root / "data.yaml"
    run = cli("parse", str(reports / "r1.md"))
    data.write_text(run.stdout.splitlines()[0], encoding="utf-8")
    return {"root": root, "reports": reports, "db": db, "data": data, "report": reports / "r1.md"}


def _setup_unreadable(paths: dict[str, Path]) -> None:
    link = paths["root"] / "dangling.txt"
    if not link.is_symlink():
        link.symlink_to(paths["root"] / "nowhere.txt")


def _setup_existing(paths: dict[str, Path]) -> None:
    for name in ("exists.md", "exists.csv", "exists.yaml"):
        (paths["root"] / name).write_text("keep me", encoding="utf-8")


# (what the person did, the arguments ({db}, {root}, {report}, {data} filled in), the exit code,
#  what the one line names).
MISTAKES = [
    ("unknown option", ["parse", "{report}", "--x"], 2, "--x"),
    ("missing file argument", ["parse"], 2, "文件或文件夹"),
    ("unknown command", ["nosuch"], 2, "nosuch"),
    ("option without its value", ["list", "--db"], 2, "--db"),
    ("a typo in a URL scheme", ["list", "--db", "htp://oops"], 2, "htp://oops"),
    ("an unsupported database", ["list", "--db", "mysql://user:secret@host/x"], 2, "mysql://"),
    ("sqlite:/// with a relative path that means an absolute one", ["list", "--db", "sqlite:///tmp/gk-none-x.db"], 2,
     "sqlite:////tmp/gk-none-x.db"),
    ("a database that does not exist", ["list", "--db", "{root}/none.db"], 2, "none.db"),
    ("a format that does not exist", ["rules", "--report-format", "1999"], 2, "1999"),
    ("an output kind that does not exist", ["parse", "{report}", "--to", "xml"], 2, "xml"),
    ("a 20-digit report number", ["show", "99999999999999999999", "--db", "{db}"], 1, "99999999999999999999"),
    ("a superscript digit as report number", ["show", "²", "--db", "{db}"], 1, "²"),
    ("a 20-digit year in 单位@年度", ["show", "测试县乙人民政府@99999999999999999999", "--db", "{db}"], 1, "@9999"),
    ("a report that is not there", ["compare", "1", "424242", "--db", "{db}"], 1, "424242"),
    ("a 20-digit --year", ["list", "--year", "99999999999999999999", "--db", "{db}"], 2, "99999999999999999999"),
    ("a 20-digit --limit", ["list", "--limit", "99999999999999999999", "--db", "{db}"], 2, "99999999999999999999"),
    ("a year that is no number", ["stats", "--year", "二〇二四", "--db", "{db}"], 2, "二〇二四"),
    ("a 20-digit --workers", ["ingest", "{reports}", "--workers", "99999999999999999999"], 2, "--workers"),
    ("an unknown grouping", ["stats", "--by", "city", "--db", "{db}"], 2, "city"),
    ("a file that is not there", ["parse", "{root}/missing.txt"], 2, "missing.txt"),
    ("a dangling link", ["check", "{root}/dangling.txt"], 2, "dangling.txt"),
    ("a folder as --previous", ["check", "{report}", "--previous", "{reports}"], 2, "reports"),
    ("render over an existing file", ["render", "{data}", "--to", "md", "-o", "{root}/exists.md"], 2, "exists.md"),
    ("export over an existing file", ["export", "--to", "csv", "-o", "{root}/exists.csv", "--db", "{db}"], 2,
     "exists.csv"),
    ("export over the open database", ["export", "--to", "csv", "--out", "{db}", "--db", "{db}", "--force"], 2,
     "corpus.db"),
    ("template over an existing file", ["template", "--to", "yaml", "-o", "{root}/exists.yaml"], 2, "exists.yaml"),
    ("render onto its own input", ["render", "{report}", "--to", "md", "-o", "{report}", "--force"], 2, "r1.md"),
    ("render with nothing to render", ["render", "--to", "md"], 2, "--report"),
    ("a full disk", ["export", "--to", "csv", "-o", "/dev/full", "--force", "--db", "{db}"], 2, "/dev/full"),
    ("an output folder that does not exist", ["export", "--to", "csv", "-o", "{root}/no/such/dir/x.csv", "--db", "{db}"],
     2, "no/such/dir"),
    ("last year's report missing", ["check", "{report}", "--previous", "{root}/last.txt"], 2, "last.txt"),
    ("a file that is no database", ["list", "--db", "{report}"], 2, "r1.md"),
    ("an empty report reference", ["show", " ", "--db", "{db}"], 2, "报告"),
    ("a folder to render", ["render", "{reports}", "--to", "md"], 2, "reports"),
    ("a read-only database", ["ingest", "{reports}", "--db", "sqlite:///file:{db}?mode=ro&uri=true", "--no-progress",
                              "--workers", "1"], 2, "只读"),
]


@pytest.mark.parametrize(("what", "args", "code", "named"), MISTAKES, ids=[m[0] for m in MISTAKES])
def test_every_mistake_is_one_line_with_an_exit_code(corpus, what, args, code, named):
    _setup_unreadable(corpus)
    _setup_existing(corpus)
    filled = [a.format(**{k: str(v) for k, v in corpus.items()}) for a in args]
    if what == "a read-only database":  # ingest of new bytes must write; these are stored already
        (corpus["reports"] / "new.md").write_text(render_markdown(synth_report(7, year=2022)), encoding="utf-8")
    try:
        result = cli(*filled)
    finally:
        (corpus["reports"] / "new.md").unlink(missing_ok=True)
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gongkai: ") and not lines[0].startswith("gongkai: gongkai")
    assert named in lines[0]
    assert "Traceback" not in result.output and "secret" not in result.output
    assert isinstance(result.exception, SystemExit | None)


def test_existing_files_are_kept(corpus):
    _setup_existing(corpus)
    cli("render", str(corpus["data"]), "--to", "md", "-o", str(corpus["root"] / "exists.md"))
    assert (corpus["root"] / "exists.md").read_text(encoding="utf-8") == "keep me"
    cli("export", "--to", "csv", "--out", str(corpus["db"]), "--db", str(corpus["db"]), "--force")
    assert cli("list", "--db", str(corpus["db"]), "--json").stdout.count("\n") == 2  # the database is intact
    forced = cli("render", str(corpus["data"]), "--to", "md", "-o", str(corpus["root"] / "exists.md"), "--force")
    assert forced.exit_code == 0, forced.stderr
    assert (corpus["root"] / "exists.md").read_text(encoding="utf-8").startswith("# ")


def test_a_batch_with_one_bad_file_reports_it_and_parses_the_rest(corpus):
    _setup_unreadable(corpus)
    result = cli("parse", str(corpus["root"] / "dangling.txt"), str(corpus["reports"]))
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "dangling.txt" in result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [Path(line["file"]).name for line in lines] == ["r1.md", "r2.md"]  # a folder, in name order


def test_check_takes_a_folder_and_names_each_file(corpus):
    result = cli("check", str(corpus["reports"]), "--to", "json")
    assert [Path(json.loads(line)["file"]).name for line in result.stdout.splitlines()] == ["r1.md", "r2.md"]


def test_old_spelling_of_the_output_option_still_works(corpus):
    new = cli("parse", str(corpus["report"]), "--to", "json").stdout
    assert cli("parse", str(corpus["report"]), "--format", "json").stdout == new
    assert "--format" not in cli("parse", "--help").stdout


def test_report_format_takes_a_year():
    by_year = cli("rules", "--report-format", "2020")
    assert by_year.exit_code == 0
    assert by_year.stdout == cli("rules", "--report-format", "2019").stdout


def test_version():
    result = cli("--version")
    assert result.exit_code == 0 and result.stdout.startswith("gongkai ")


@pytest.mark.parametrize("command", ["", "parse", "check", "rules", "ingest", "reparse", "list", "show", "compare",
                                     "stats", "export", "template", "render"])
def test_help_is_in_chinese_without_python_types(command):
    result = cli(*([command] if command else []), "--help")
    assert result.exit_code == 0
    for english in ("Show this message", "Usage:", "Options", "Arguments", "[default", "<bool>", "<list", "<str>",
                    "<int>", "<Path>", "[OPTIONS]", "COMMAND"):
        assert english not in result.stdout, (command, english)
    assert "用法：" in result.stdout and "显示本帮助并退出" in result.stdout


def test_parse_json_carries_file_and_sections_and_render_keeps_them(corpus, tmp_path):
    line = json.loads(cli("parse", str(corpus["report"])).stdout)
    assert line["file"] == str(corpus["report"])
    assert line["sections"]["一"]
    data = tmp_path / "x.json"
    data.write_text(json.dumps(line, ensure_ascii=False), encoding="utf-8")
    assert cli("render", str(data), "--to", "md").exit_code == 0
    markdown = (tmp_path / "x.md").read_text(encoding="utf-8")
    assert line["sections"]["一"].splitlines()[0] in markdown


def test_render_and_template_read_a_report_document(corpus, tmp_path):
    report = tmp_path / "report.txt"
    report.write_text(corpus["report"].read_text(encoding="utf-8"), encoding="utf-8")
    rendered = cli("render", str(report), "--to", "html")
    assert rendered.exit_code == 0, rendered.stderr
    assert "测试县乙人民政府" in (tmp_path / "report.html").read_text(encoding="utf-8")
    template = cli("template", "--to", "yaml", "--from", str(report))
    assert template.exit_code == 0, template.stderr
    filled = yaml.safe_load((tmp_path / "report.yaml").read_text(encoding="utf-8"))
    assert filled["agency"] == "测试县乙人民政府"
    assert filled["applications"]["new"]["total"] == json.loads(cli("parse", str(report)).stdout)["applications"]["new"]["total"]


@pytest.mark.parametrize(("year", "says"), [(2042, "尚未到来"), (2015, "早于")])
def test_a_year_that_cannot_be_right_is_a_warning(tmp_path, year, says):
    report = synth_report(3, year=2024)
    report.year, report.title = year, None
    path = tmp_path / "r.md"
    path.write_text(render_markdown(report, tables="tabs"), encoding="utf-8")
    result = cli("parse", str(path))
    assert result.exit_code == 0
    assert says in result.stderr and str(year) in result.stderr and "注意" in result.stderr


def test_reparse_and_compare_speak_of_what_they_did(corpus):
    reparsed = cli("reparse", "--all", "--db", str(corpus["db"]), "--workers", "1", "--no-progress")
    assert "新入库" not in reparsed.stdout and "重新解析报告 2 份" in reparsed.stdout
    same = cli("compare", "r1.md", "r1.md", "--db", str(corpus["db"]))
    assert "全部相同" in same.stdout and "数值不同的单元格 0" not in same.stdout


def test_no_database_problem_leaks_a_password(tmp_path):
    result = cli("list", "--db", "postgresql://gongkai:hunter2@127.0.0.1:9/none")
    assert result.exit_code == 2 and "hunter2" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_errors_go_to_stderr_only_once_per_file(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    result = cli("parse", str(empty), str(empty))
    assert result.exit_code == 2
    assert result.stderr.count("empty.txt") == 2 and result.stdout == ""


def test_the_readme_commands_exist():
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert "render --from" not in readme


def test_findings_on_a_filled_workbook_name_the_sheet_and_cell(corpus, tmp_path):
    from openpyxl import load_workbook

    workbook_path = tmp_path / "filled.xlsx"
    assert cli("template", "--to", "xlsx", "--from", str(corpus["data"]), "-o", str(workbook_path)).exit_code == 0
    workbook = load_workbook(workbook_path)
    sheet = next(ws for ws in workbook.worksheets if ws.title == "表三")
    figures = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, int) and not isinstance(c.value, bool)]
    figures[0].value += 1000  # the first figure of table 三 no longer adds up
    workbook.save(workbook_path)
    result = cli("render", str(workbook_path), "--to", "md")
    assert result.exit_code == 1
    assert f"工作表「表三」{figures[0].coordinate}" in result.stderr and "位置不详" not in result.stderr
