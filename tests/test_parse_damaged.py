"""Given a synthetic report damaged the ways real files arrive (tests/damage.py), every cell comes
back right, or null with a note saying why; never a figure in a wrong cell."""

from __future__ import annotations

import math
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import parse_text
from damage import damaged
from gongkai.synth import synth_report


def wrong_cells(truth, parsed) -> list[str]:
    out = []
    for key, cell in truth.cells.items():
        got = parsed.cells.get(key)
        if got is None:
            out.append(f"{key}: missing")
        elif got.value is None:
            if not got.note:
                out.append(f"{key}: null without a note (printed {cell.value})")
        elif not math.isclose(got.value, cell.value, abs_tol=1e-9):
            out.append(f"{key}: {got.value} instead of {cell.value} ({got.note})")
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), damage_seed=st.integers(0, 10**6), format_id=st.sampled_from(["2021", "2019"]))
def test_damaged_layouts_give_right_cells_or_null_with_a_note(seed, damage_seed, format_id):
    report = synth_report(seed, format_id)
    text, done = damaged(report, random.Random(damage_seed))
    parsed = parse_text(text)
    assert wrong_cells(report, parsed) == [], done
