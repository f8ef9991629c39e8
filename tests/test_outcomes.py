"""Given a report, the outcome of every rule instance: passed, failed, uncertain, not assessable."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from decimal import Decimal

import layouts
from conftest import parse_text
from gongkai.check import check_report, evaluate
from gongkai.formats import load_format
from gongkai.model import Report, json_encoder, outcome_fingerprint
from gongkai.synth import synth_report

FMT = load_format("2021")


def reparse(report: Report) -> Report:
    return parse_text(layouts.tabs(report))


def with_value(report: Report, key: str, value) -> Report:
    changed = report.model_copy(deep=True)
    changed.cells[key].value = value
    return changed


def by_instance(outcomes, rule: str, cell: str):
    return [o for o in outcomes if o.rule == rule and cell in o.cells]


def test_every_rule_instance_of_a_consistent_report_passes():
    outcomes = evaluate(reparse(synth_report(3)))
    statuses = Counter(o.status for o in outcomes)
    assert set(statuses) == {"passed"}, [o for o in outcomes if o.status != "passed"]
    per_rule = Counter(o.rule for o in outcomes)
    # 表三 has 7 columns and 25 rows, 表四 3 rows: each binding of a sum is an instance.
    assert per_rule["A3-balance"] == 7 and per_rule["A3-outcomes"] == 7
    assert per_rule["A3-row-total"] == 25 and per_rule["A4-total"] == 3
    assert per_rule["F-table-missing"] == 3
    # Without last year's report the cross-year rules are not evaluated at all.
    assert not [o for o in outcomes if o.rule.startswith("X")]


def test_one_wrong_figure_fails_exactly_the_instances_it_takes_part_in():
    report = synth_report(8)
    key = "applications.granted.natural_person"
    outcomes = evaluate(reparse(with_value(report, key, report.value(key) + 4)))
    failed = {(o.rule, tuple(o.cells)) for o in outcomes if o.status == "failed"}
    assert {rule for rule, _ in failed} == {"A3-outcomes", "A3-row-total"}
    assert all(key in cells for _, cells in failed)
    row = by_instance(outcomes, "A3-row-total", key)[0]
    assert row.values[key] == report.value(key) + 4 and row.expected - row.found == 4  # 各类申请人之和 against 总计
    assert [f.rule for f in check_report(reparse(with_value(report, key, report.value(key) + 4)))] == \
        ["A3-outcomes", "A3-row-total"]


def test_a_blank_cell_makes_its_sums_not_assessable_with_the_value_they_imply():
    report = synth_report(11)
    key = "applications.unable.not_held.commercial_enterprise"
    outcomes = evaluate(reparse(with_value(report, key, None)))
    row = by_instance(outcomes, "A3-row-total", key)[0]
    assert row.status == "not_assessable" and row.inferred == {key: report.value(key)}
    assert row.values[key] is None
    column = by_instance(outcomes, "A3-outcomes", key)[0]
    assert column.status == "not_assessable"
    assert not [o for o in outcomes if o.status in ("failed", "uncertain") and o.rule != "F-blank"]


def test_a_failure_that_hangs_on_a_doubtful_ocr_figure_is_uncertain():
    report = synth_report(5)
    key = "appeals.review.upheld"
    parsed = reparse(with_value(report, key, report.value(key) + 1))
    parsed.cells[key].confidence = 0.5
    outcomes = evaluate(parsed)
    total = by_instance(outcomes, "A4-total", key)[0]
    assert total.status == "uncertain" and "置信度低" in total.message
    findings = check_report(parsed)
    assert "A4-total" not in {f.rule for f in findings}  # only the figure itself is flagged
    assert [f.cells for f in findings if f.rule == "F-ocr"] == [[key]]


def test_cross_year_rules_are_evaluated_with_last_years_report():
    last = reparse(synth_report(21, year=2022))
    this = reparse(synth_report(22, year=2023))
    outcomes = [o for o in evaluate(this, last) if o.rule == "X-carry-over"]
    assert len(outcomes) == 7
    for o in outcomes:
        column = o.cells[0].rsplit(".", 1)[1]
        assert o.values[f"prev:applications.carried_forward.{column}"] == last.value(f"applications.carried_forward.{column}")
        assert o.status == ("passed" if o.found == o.expected else "failed")


def test_the_fingerprint_stays_while_the_values_do_and_changes_with_them():
    report = synth_report(8)
    key = "applications.granted.natural_person"
    broken = with_value(report, key, report.value(key) + 4)
    first = {o.fingerprint() for o in evaluate(reparse(broken)) if o.status == "failed"}
    again = {o.fingerprint() for o in evaluate(reparse(broken)) if o.status == "failed"}
    other = {o.fingerprint() for o in evaluate(reparse(with_value(report, key, report.value(key) + 5)))
             if o.status == "failed"}
    assert first == again and not first & other


def test_the_fingerprint_is_the_one_decisions_were_kept_by():
    """Decisions stored earlier are found again by fingerprint: the text hashed is still json.dumps's,
    whatever encoder makes it (fractions, blanks, huge and odd figures, Chinese names, quotes)."""
    values = {"appeals.review.total": 12.5, "Σ下级:appeals.review.total": 10**20, "淮阴区:x": None,
              "y": float("inf"), "z": Decimal("3.10"), "w": True, "q": 'a"b\\c\n'}
    basis = json.dumps(["H-sum", ["a", "b"], sorted(values.items())], ensure_ascii=False, default=str)
    assert outcome_fingerprint("H-sum", ["b", "a"], values) == hashlib.sha256(basis.encode()).hexdigest()[:32]
    compact = json_encoder(ensure_ascii=False, separators=(",", ":"))
    plain = {k: v for k, v in values.items() if k != "z"}  # a Decimal is JSON only with default=
    for value in (plain, [plain, ["表三"], []], "淮安市", 7, -0.0, None, {"children": [], "missing": ["乙"]}):
        assert compact(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def test_figures_beyond_any_range_are_reported_not_crashed_on():
    report = reparse(synth_report(2))
    huge = report.model_copy(deep=True)
    huge.cells["applications.new.natural_person"].value = 10**400
    huge.cells["appeals.review.upheld"].value = float("1e400")  # inf
    outcomes = evaluate(huge)
    bad = {(o.rule, o.status) for o in outcomes if "applications.new.natural_person" in o.cells
           or "appeals.review.upheld" in o.cells}
    assert ("F-value", "failed") in bad
    assert ("A3-row-total", "uncertain") in bad and ("A4-total", "uncertain") in bad
    assert not [s for r, s in bad if s == "passed" and r.startswith("A")]
    assert any("超出" in f.message for f in check_report(huge))


def test_findings_are_ranked_errors_first_then_by_table():
    report = synth_report(8)
    broken = with_value(report, "appeals.review.upheld", report.value("appeals.review.upheld") + 2)  # 表四, error
    broken = with_value(broken, "applications.new.natural_person", None)  # 表三, warning (blank)
    key = "applications.granted.commercial_enterprise"
    broken = with_value(broken, key, broken.value(key) + 3)  # 表三, errors
    findings = check_report(reparse(broken))
    order = [(f.severity, f.cells[0].split(".")[0]) for f in findings]
    assert order == sorted(order, key=lambda x: ({"error": 0, "warning": 1, "info": 2}[x[0]],
                                                 ["proactive", "applications", "appeals"].index(x[1])))
    assert order[0] == ("error", "applications") and ("error", "appeals") in order and order[-1][0] == "warning"
