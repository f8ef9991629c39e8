"""Reports whose text states their tables in many phrasings: the checker raises nothing on them, and
names exactly the statement whose figure is changed."""

from __future__ import annotations

import random

import pytest

from gongkai.check import evaluate
from gongkai.synth import synth_report
from narrative_gen import Slot, chinese, narrate

NARRATIVE = ("N-", "S-")


def text_outcomes(report):
    return [o for o in evaluate(report) if o.rule.startswith(NARRATIVE)]


def test_chinese_numerals_of_the_generator():
    assert [chinese(n) for n in (1, 10, 12, 20, 103, 110, 2300, 9999)] == \
        ["一", "十", "十二", "二十", "一百零三", "一百一十", "二千三百", "九千九百九十九"]


@pytest.mark.parametrize("format_id", ["2021", "2019"])
@pytest.mark.parametrize("seed", range(30))
def test_a_consistent_report_raises_nothing_and_one_changed_figure_names_its_statement(seed, format_id):
    rng = random.Random(seed)
    report = synth_report(seed, format_id=format_id)
    narrative = narrate(report, rng)
    consistent = narrative.apply(report)
    outcomes = text_outcomes(consistent)
    assert [o for o in outcomes if o.status in ("failed", "uncertain")] == []
    stated = [o for o in outcomes if o.rule.startswith("N-") and o.status == "passed" and o.rule != "N-fees"]
    assert len(stated) >= len(narrative.slots)  # every figure was read (and none, all statements besides)

    index = rng.randrange(len(narrative.slots))
    original = narrative.slots[index]
    wrong = Slot(original.value + 1000 + rng.randrange(50) if original.percent_digits is None
                 else round(original.value + 7.5, original.percent_digits),
                 original.rule, original.chinese, original.percent_digits)
    changed = narrative.apply(report, [*narrative.slots[:index], wrong, *narrative.slots[index + 1:]])
    failed = [o for o in text_outcomes(changed) if o.status == "failed"]
    assert [o.rule for o in failed] == [original.rule], narrative.render()
    assert failed[0].message and "「" in failed[0].message
    assert [o for o in text_outcomes(changed) if o.status == "uncertain" and o.rule not in ("N-parts", "N-ratio")] == []
