"""The format definitions against the data contract in shared/spec."""

from __future__ import annotations

import csv

import pytest

from gongkai.formats import load_format


@pytest.mark.parametrize(("format_id", "contract_file"), [("2021", "cells.tsv"), ("2019", "cells-2019.tsv")])
def test_a_format_has_exactly_the_cells_of_the_contract(shared, format_id, contract_file):
    with open(shared / "spec" / contract_file, encoding="utf-8") as f:
        contract = list(csv.DictReader(f, delimiter="\t"))
    fmt = load_format(format_id)
    assert fmt.keys == [row["key"] for row in contract]
    for cell, row in zip(fmt.cells, contract, strict=True):
        assert cell.table.number == row["table"]
        assert cell.column.label in row["column"]
        # The official row label (without its numbering) is part of the contract's row text.
        assert cell.row.label.split(".", 1)[-1] in row["row"]


def test_rows_both_formats_share_are_read_alike():
    """Tables 三 and 四 are written out in both definitions; they must not drift apart."""
    new, old = load_format("2021"), load_format("2019")
    for key in ("applications", "appeals"):
        rows_2021 = {r.key: r for r in new.table(key).all_rows}
        for row in old.table(key).all_rows:
            assert (row.label, row.match) == (rows_2021[row.key].label, rows_2021[row.key].match), row.key
        assert old.table(key).blocks[0].columns == new.table(key).blocks[0].columns
