"""A whole national format: its sections, tables, rules and metrics."""

from __future__ import annotations

from functools import cached_property
from typing import Annotated, Any, Union

from pydantic import Field, PrivateAttr

from gongkai.formats.rules import RULE_KINDS, Rule
from gongkai.formats.schema import CellDef, Metric, Section, Strict, Table
from gongkai.formats.subjects import Statements

# One model per rule kind, chosen by `kind` (pydantic's discriminated union names the kinds when
# a file uses one that does not exist).
_RULE_MODELS = tuple(dict.fromkeys(RULE_KINDS.values()))
RuleOfAnyKind = Annotated[Union[_RULE_MODELS], Field(discriminator="kind")]  # noqa: UP007 - built from data


class Format(Strict):
    id: str
    name: str
    basis: str
    first_year: int | None = None
    last_year: int | None = None
    # Header words only this format prints; detection weighs them against the other formats'.
    signature: tuple[str, ...] = ()
    # The title a report gets when it prints none.
    title_template: str = "{agency}{year}年政府信息公开工作年度报告"
    sections: tuple[Section, ...]
    tables: tuple[Table, ...]
    rules: tuple[RuleOfAnyKind, ...] = ()
    metrics: tuple[Metric, ...] = ()
    statements: Statements | None = None  # what the text states, for the narrative rules
    # Where the definition came from (set by the loader; for messages).
    source: str | None = Field(default=None, exclude=True)

    _memo: dict[Any, Any] = PrivateAttr(default_factory=dict)

    @property
    def memo(self) -> dict[Any, Any]:
        """What stages compute once from the format (resolved terms, sum instances): lives as long as it."""
        # Read from the private store directly: `self._memo` goes through pydantic's descriptor lookup,
        # which costs more than the lookups the memo saves.
        return self.__pydantic_private__["_memo"]

    def table(self, key: str) -> Table:
        for table in self.tables:
            if table.key == key:
                return table
        raise KeyError(key)

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def metric(self, metric_id: str) -> Metric:
        for metric in self.metrics:
            if metric.id == metric_id:
                return metric
        raise KeyError(metric_id)

    @cached_property
    def cells(self) -> list[CellDef]:
        """The format's canonical cells, in the order the tables print them."""
        return [cell for table in self.tables for cell in table.cells()]

    @cached_property
    def all_cells(self) -> dict[str, CellDef]:
        """Canonical and optional cells by key."""
        return {cell.key: cell for table in self.tables for cell in table.cells(include_optional=True)}

    @cached_property
    def keys(self) -> list[str]:
        return [cell.key for cell in self.cells]

    @property
    def section_numbers(self) -> str:
        """一二三四五六: the numbers the format gives its sections, in order."""
        return "".join(s.number for s in self.sections)

    def default_title(self, agency: str | None, year: int | None) -> str:
        return self.title_template.format(agency=agency or "", year=year or "")

    def covers(self, year: int) -> bool:
        return (self.first_year is None or year >= self.first_year) and (self.last_year is None or year <= self.last_year)
