"""The review commands, end to end on a corpus: what a reviewer types and reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import gongkai.check
from gongkai.cli import app
from test_review import evaluate_from_findings
from test_store import named
from test_store import write as write_report

runner = CliRunner()


@pytest.fixture(autouse=True)
def evaluate(monkeypatch):
    if not hasattr(gongkai.check, "evaluate"):
        monkeypatch.setattr(gongkai.check, "evaluate", evaluate_from_findings, raising=False)


def cli(*args: str, code: int = 0):
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def lines(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def write(folder: Path, name: str, agency: str, year: int, seed: int, **changes) -> Path:
    return write_report(folder, name, named(seed, agency, year, **changes))


def test_region_filters_and_stats_place_the_henan_seeds(shared, tmp_path):
    db = str(tmp_path / "seeds.db")
    cli("ingest", str(shared / "seeds"), "--db", db, "-j", "1", "--no-progress")
    henan = {r["agency"] for r in lines(cli("list", "--db", db, "--region", "河南", "--json"))}
    nanyang = {r["agency"] for r in lines(cli("list", "--db", db, "--region", "南阳市", "--json"))}
    xixia = [r["agency"] for r in lines(cli("list", "--db", db, "--region", "西峡县", "--json"))]
    assert henan == {"西峡县人民政府", "宛城区人民政府办公室", "南阳市城乡一体化示范区管委会", "三门峡市陕州区西李村乡人民政府"}
    assert nanyang == henan - {"三门峡市陕州区西李村乡人民政府"} and xixia == ["西峡县人民政府"]
    assert {r["region"]: r["reports"] for r in lines(cli("stats", "--by", "region", "--db", db, "--json"))} == {"河南": 4, "山西": 1}
    tree = lines(cli("regions", "show", "河南", "--db", db, "--json"))
    assert {n["name"]: n["region"] for n in tree}["西峡县人民政府"] == "河南省南阳市西峡县"


def test_check_previous_refuses_another_body_or_year_unless_forced(tmp_path):
    this = write(tmp_path, "a2024.txt", "西峡县人民政府", 2024, 1)
    other_body = write(tmp_path, "b2023.txt", "淅川县人民政府", 2023, 2)
    two_back = write(tmp_path, "a2022.txt", "西峡县人民政府", 2022, 3)
    last_year = write(tmp_path, "a2023.txt", "西峡县人民政府", 2023, 4)
    refused = cli("check", str(this), "--previous", str(other_body), code=2)
    assert "单位" in refused.stderr and "--force" in refused.stderr
    assert "上一年" in cli("check", str(this), "--previous", str(two_back), code=2).stderr
    forced = runner.invoke(app, ["check", str(this), "--previous", str(two_back), "--force", "--format", "json"])
    assert forced.exit_code in (0, 1) and json.loads(forced.stdout)["previous"] == str(two_back)
    assert runner.invoke(app, ["check", str(this), "--previous", str(last_year)]).exit_code in (0, 1)


def test_a_review_session(tmp_path):
    db = str(tmp_path / "corpus.db")
    folder = tmp_path / "in"
    write(folder, "2024.txt", "西峡县人民政府", 2024, 11, appeals__review__total=99)
    cli("ingest", str(folder), "--db", db, "-j", "1", "--no-progress", code=0)
    ref = "西峡县人民政府@2024"
    listed = lines(cli("review", ref, "--db", db, "--json"))
    assert {i["status"] for i in listed} >= {"passed", "failed"}
    failed = next(i for i in listed if i["rule"] == "A4-total" and i["status"] == "failed")
    assert "核查" in cli("review", ref, "--db", db).stdout
    cli("confirm", ref, failed["fingerprint"][:10], "--db", db, code=2)  # no reason: typer refuses
    cli("confirm", ref, failed["fingerprint"][:10], "--reason", "总计有误", "--user", "审核员", "--db", db)
    assert lines(cli("review", ref, "--status", "failed", "--db", db, "--json"))[0]["review"] == "confirmed"
    assert "错误" in cli("submit", ref, "--db", db, "--user", "作者", code=1).stderr
    out = tmp_path / "letter.docx"
    cli("letter", ref, "--db", db, "-o", str(out))
    from gongkai.review.letter import read_letter

    assert [r["规则"] for r in read_letter(out.read_bytes())] == ["A4-total"]
    corrected = lines(cli("correct", ref, "appeals.review.total", "98", "--reason", "原件为98", "--user", "作者",
                          "--db", db, "--json"))[0]
    assert (corrected["old"], corrected["new"]) == (99, 98)
    story = lines(cli("history", ref, "appeals.review.total", "--db", db, "--json"))[0]["history"]
    assert [e["value"] for e in story] == [99, 98]
    assert len(lines(cli("versions", ref, "--db", db, "--json"))) == 1
    cli("submit", ref, "--db", db, "--user", "管理员", "--admin", "--override", "已核实")
    cli("return", ref, "--db", db, "--user", "审核员", "--reason", "请更正")
    cli("accept", ref, "--db", db, code=1)
    summary = tmp_path / "summary.xlsx"
    cli("letter", "--region", "南阳市", "--year", "2024", "--to", "xlsx", "-o", str(summary), "--db", db)
    assert summary.stat().st_size > 0
    tree = tmp_path / "tree.csv"
    tree.write_text("单位,上级,汇总\n南阳市人民政府,,是\n西峡县人民政府,南阳市人民政府,\n", encoding="utf-8")
    cli("regions", "import", str(tree), "--db", db)
    assert lines(cli("hierarchy", "check", "--year", "2024", "--db", db, "--json")) == []  # the parent did not report
    edited = lines(cli("regions", "edit", "西峡县人民政府", "--parent", "", "--db", db, "--json"))[0]
    assert edited["parent"] is None and edited["placed_by"] == "edit"
    bad = tmp_path / "bad.csv"
    bad.write_text("名称\n甲\n", encoding="utf-8")
    assert "单位" in cli("regions", "import", str(bad), "--db", db, code=1).stderr
