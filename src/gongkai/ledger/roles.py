"""What the records count into: table 三's applicant columns and result rows, table 四's rows and
columns, table 二's measures — read from the format definition and data/roles.yaml, never listed in code."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources

import yaml

from gongkai.formats import Format, Row, Table, all_formats, format_for, load_format


class LedgerError(ValueError):
    """A record or request the ledger cannot accept; the message is for people (Chinese first)."""


@dataclass(frozen=True)
class Roles:
    """A format's tables as the ledger counts into them (properties computed once per format)."""

    fmt: Format
    applications: dict[str, str]  # role → table 三 row key
    closing_outcomes: dict[str, str]  # closing event kind (Chinese value) → result row key
    appeals: dict[str, str]
    proactive: dict[str, str]  # table 二 column key → measure

    @cached_property
    def applications_table(self) -> Table:
        return self.fmt.table("applications")

    @cached_property
    def appeals_table(self) -> Table:
        return self.fmt.table("appeals")

    @cached_property
    def applicant_types(self) -> dict[str, str]:
        """Value column key → label (自然人, 商业企业 …), in the table's order."""
        return {c.key: c.label for c in self.applications_table.columns if c.role == "value"}

    @cached_property
    def total_column(self) -> str:
        return next(c.key for c in self.applications_table.columns if c.role == "total")

    @cached_property
    def application_cells(self) -> tuple[tuple[str, str, str], ...]:
        """(cell key, row key, column key) of table 三's canonical cells."""
        table = self.applications_table
        return tuple((c.key, c.row.key, c.column.key) for c in table.cells())

    @cached_property
    def outcome_rows(self) -> dict[str, Row]:
        """Result row key → row: table 三's rows other than the ones named by role, optional ones aside."""
        named = set(self.applications.values())
        return {r.key: r for r in self.applications_table.rows if not r.optional and r.key not in named}

    def outcome_label(self, key: str) -> str:
        row = self.outcome_rows[key]
        return f"{row.group}{row.label}" if row.group and row.group.startswith("（") else row.label

    def fold_outcome(self, key: str) -> str:
        """An outcome recorded under another format's rows, as this format counts it: the same key, or
        the one row of this format under the same heading (2021's other.no_correction → 2019's other.all)."""
        if key in self.outcome_rows:
            return key
        head = key.split(".")[0]
        same = [k for k in self.outcome_rows if k.split(".")[0] == head]
        if len(same) == 1:
            return same[0]
        raise LedgerError(f"答复结果 {key!r} 不是{self.fmt.name}表三的结果行 (unknown outcome)")

    @cached_property
    def appeal_kinds(self) -> dict[str, str]:
        return {r.key: (f"{r.group}{r.label}" if r.group else r.label) for r in self.appeals_table.rows}

    @cached_property
    def appeal_outcomes(self) -> dict[str, str]:
        """Decided outcomes: table 四's value columns except the pending one."""
        return {c.key: c.label for c in self.appeals_table.columns
                if c.role == "value" and c.key != self.appeals["pending"]}


@lru_cache
def _roles_data() -> dict:
    path = resources.files(__package__) / "data" / "roles.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def format_for_year(year: int) -> Format:
    """The format a report of that year uses."""
    try:
        return format_for(year)
    except KeyError as exc:
        raise LedgerError(f"{year} 年没有适用的年度报告格式 (no format for {year})") from exc


@lru_cache
def roles(format_id: str) -> Roles:
    data = _roles_data().get(format_id)
    if data is None:
        raise LedgerError(f"台账不知道格式 {format_id} 的表格如何计数：请在 gongkai/ledger/data/roles.yaml 中补充")
    return Roles(fmt=load_format(format_id), applications=data["applications"],
                 closing_outcomes=data.get("closing_outcomes") or {}, appeals=data["appeals"],
                 proactive=data.get("proactive") or {})


def roles_for_year(year: int) -> Roles:
    return roles(format_for_year(year).id)


def current_roles() -> Roles:
    """The roles of the newest format: what new records are checked against."""
    return roles(all_formats()[0].id)
