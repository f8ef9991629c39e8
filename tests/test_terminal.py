"""The terminal's tables: drawn from the format's grid, group labels kept, nothing cut, money as stored."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from gongkai.render.terminal import print_report
from gongkai.synth import synth_report
from gongkai.text import figure_text

FEES = "proactive.fees.amount_10k_yuan"


def printed(report, width: int) -> list[str]:
    console = Console(file=io.StringIO(), width=width, force_terminal=False, color_system=None)
    print_report(report, console)
    return console.file.getvalue().splitlines()


@pytest.mark.parametrize(("value", "text"), [(1671.2179, "1671.2179"), (1234567.89, "1234567.89"), (1e-05, "0.00001"),
                                             (1e16, "10000000000000000"), (0.1 + 0.2, "0.3"), (5.0, "5"), (125, "125"),
                                             (None, ""), (float("nan"), "")])
def test_one_figure_formatter_prints_as_stored(value, text):
    assert figure_text(value) == text


def test_money_prints_as_stored():
    report = synth_report(1)
    report.cells[FEES].value = 1671.2179
    assert any("1671.2179" in line for line in printed(report, 240))


def test_nested_rows_sit_under_their_group_label():
    lines = printed(synth_report(1), 240)
    withheld = next(i for i, line in enumerate(lines) if "（三）不予公开" in line)
    assert "1.属于国家秘密" in lines[withheld + 1]
    assert lines[withheld + 1].index("1.") > lines[withheld].index("（三）")  # indented under it
    starts = [line.split("│")[1].strip() for line in lines if line.startswith("│") and line.count("│") > 2]
    assert sum(label.startswith("1.") for label in starts) == 4  # four groups, each under its label


def test_nothing_is_cut_in_an_80_column_terminal():
    report = synth_report(1)
    report.cells[FEES].value = 1671.2179
    lines = printed(report, 80)
    assert all(len(line) <= 80 for line in lines)
    assert not any("…" in line for line in lines)  # rich marks a cut cell with an ellipsis
