"""Given a broken format file, loading it fails at once with one line naming the file, the line and the
problem — never a rule that silently never fires. Given a format that extends another, it states
only how it differs."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from gongkai.cli import app
from gongkai.formats import ENV_VAR, FormatError, all_formats, load_format, loading

HEAD = """\
extends: "2021"
id: "broken"
name: 试验格式
basis: 无
"""


def load_with(tmp_path, monkeypatch, text: str):
    folder = tmp_path / "formats"
    folder.mkdir(exist_ok=True)
    (folder / "broken.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv(ENV_VAR, str(folder))
    return all_formats()


def error_of(tmp_path, monkeypatch, text: str) -> str:
    with pytest.raises(FormatError) as caught:
        load_with(tmp_path, monkeypatch, text)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_misspelt_key_names_the_file_the_line_and_the_nearest_key(tmp_path, monkeypatch):
    text = HEAD + """rules:
  - id: S-test
    kind: section_content
    title: 试验
    sections: [一]
    pattern: ["收到(?P<n>\\\\d+)件"]
    message: x
"""
    message = error_of(tmp_path, monkeypatch, text)
    assert message.startswith(f"{tmp_path / 'formats' / 'broken.yaml'}:10: ")
    assert "pattern" in message and "patterns" in message


def test_a_misspelt_key_in_a_row_is_found_on_its_line(tmp_path, monkeypatch):
    text = HEAD + """changes:
  - table: applications
    after: unable.unclear_after_correction
    add_rows:
      - {key: unable.extra, label: 4.其他, mach: "其他"}
"""
    message = error_of(tmp_path, monkeypatch, text)
    assert ":9: " in message and "mach" in message and "match" in message


def test_an_unknown_rule_kind_is_an_error_at_load(tmp_path, monkeypatch):
    text = HEAD + """rules:
  - id: S-test
    kind: summ
    title: 试验
    lhs: [applications.new.total]
    rhs: [applications.carried_over.total]
    message: x
"""
    message = error_of(tmp_path, monkeypatch, text)
    assert ":6: " in message and "summ" in message and "sum" in message


@pytest.mark.parametrize("term", ["applications.new.totl", "applications.$row.totl", "-prev:appeals.reviews.total"])
def test_a_rule_term_naming_no_cell_is_an_error_at_load(tmp_path, monkeypatch, term):
    text = HEAD + f"""rules:
  - id: S-test
    kind: sum
    title: 试验
    for_each: {{table: applications, over: rows}}
    lhs: [applications.new.total]
    rhs: ["{term}"]
    message: x
"""
    message = error_of(tmp_path, monkeypatch, text)
    assert ":11: " in message and term in message and "S-test" in message


def test_a_change_naming_no_row_is_an_error_at_load(tmp_path, monkeypatch):
    text = HEAD + "changes:\n  - {table: applications, remove_rows: [withheld.nothing]}\n"
    message = error_of(tmp_path, monkeypatch, text)
    assert ":6: " in message and "withheld.nothing" in message


def test_extending_a_format_that_does_not_exist(tmp_path, monkeypatch):
    message = error_of(tmp_path, monkeypatch, HEAD.replace('extends: "2021"', 'extends: "2022"'))
    assert ":1: " in message and "2022" in message and "2021" in message


def test_a_broken_format_file_stops_the_command_with_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(loading, "_extra_dirs", [])  # --formats adds to the process's folders
    (tmp_path / "formats").mkdir()
    (tmp_path / "formats" / "broken.yaml").write_text(HEAD + "colour: red\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["--formats", str(tmp_path / "formats"), "rules"])
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert "broken.yaml:5:" in line and "colour" in line and "Traceback" not in result.output


def test_the_2019_format_is_the_2021_format_with_its_differences():
    f2019, f2021 = load_format("2019"), load_format("2021")
    rows19 = [r.key for r in f2019.table("applications").all_rows]
    assert "other.all" in rows19 and "other.other" not in rows19
    assert not f2019.table("applications").all_rows[rows19.index("other.all")].optional
    assert f2019.table("appeals") == f2021.table("appeals")
    assert [c.key for c in f2019.table("proactive").cells()][:3] == ["proactive.rules.created", "proactive.rules.published",
                                                                    "proactive.rules.published_total"]
    assert "X-items" in {r.id for r in f2019.rules} and "X-rules-in-force" not in {r.id for r in f2019.rules}


def test_a_rule_set_taken_in_part(tmp_path, monkeypatch):
    formats = load_with(tmp_path, monkeypatch, """\
id: "partial"
name: 试验格式
basis: 无
sections: [{number: 一, title: 总体情况, match: 总体情况}]
tables:
  - key: appeals
    number: 四
    section: 一
    title: 复议诉讼
    layout: line
    columns:
      - {key: upheld, label: 结果维持}
      - {key: total, label: 总计, role: total}
    rows:
      - {key: review, label: 行政复议}
rule_sets: [{name: common, only: [F-table-missing, F-blank]}]
""")
    partial = next(f for f in formats if f.id == "partial")
    assert [r.id for r in partial.rules] == ["F-table-missing", "F-blank"]
