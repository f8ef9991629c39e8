"""Rules as data: one typed model per rule kind, and the term syntax their cells are named in.

A rule's `kind` picks its model from RULE_KINDS; a kind no model is registered for is an error when
the format loads. A new kind is a model here (its fields, which of them hold terms) and one function
in gongkai.check.engine.

Terms name cells: `table.row.column` (`applications.new.total`); `-` in front subtracts; `prev:`
reads last year's report; `*` matches one part of a key (in the column's place it leaves out the
total column: `applications.$row.*` is every applicant column); `$row` / `$column` stand for each
row / column of the rule's `for_each`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from gongkai.formats.schema import Strict

if TYPE_CHECKING:
    from gongkai.formats.format import Format

Severity = Literal["error", "warning", "info"]


class ForEach(Strict):
    table: str
    over: Literal["columns", "rows"]


class Rule(Strict):
    """What every rule has. Subclasses add their kind's fields."""

    id: str
    kind: str
    severity: Severity = "error"
    title: str
    message: str
    # The fields of this kind that hold terms: each is resolved to cells when the format loads.
    term_fields: ClassVar[tuple[str, ...]] = ()

    def terms(self) -> Iterator[tuple[str, str]]:
        """(field, term) for every term the rule names."""
        for name in self.term_fields:
            for term in getattr(self, name):
                yield name, term

    @property
    def cross_year(self) -> bool:
        return any(term.lstrip("-").startswith("prev:") for _, term in self.terms())

    def bindings(self, fmt: Format) -> list[dict[str, str]]:
        return [{}]


class SumRule(Rule):
    """Σ lhs = Σ rhs (the 勾稽关系). One blank term is inferred from the others."""

    kind: Literal["sum"]
    for_each: ForEach | None = None
    lhs: tuple[str, ...]
    rhs: tuple[str, ...]
    term_fields: ClassVar[tuple[str, ...]] = ("lhs", "rhs")

    def bindings(self, fmt: Format) -> list[dict[str, str]]:
        if self.for_each is None:
            return [{}]
        table = fmt.table(self.for_each.table)
        if self.for_each.over == "columns":
            return [{"column": col.key} for col in table.blocks[0].columns]
        return [{"row": row.key} for row in table.all_rows]

    def instances(self, fmt: Format) -> list[tuple[list[Term], list[Term]]]:
        """(lhs, rhs) for each binding, resolved to the format's canonical cells (a binding whose
        terms name no cell, as a row without that column, is left out)."""
        canonical = set(fmt.keys)
        out = []
        for binding in self.bindings(fmt):
            sides = []
            for terms in (self.lhs, self.rhs):
                side = []
                for term in terms:
                    sign, previous, pattern = split_term(term, binding)
                    side += [Term(key, sign, previous) for key in match_keys(fmt, pattern) if key in canonical]
                sides.append(side)
            if sides[0] and sides[1]:
                out.append((sides[0], sides[1]))
        return out


class NarrativeRule(Rule):
    """What the text states (the format's `statements`, formats/subjects.py) against the tables:
    narrative, the statements whose subject names this rule; narrative_parts, the parts after 其中
    against their whole; narrative_ratio, a share (占X%) against the figures it is of."""

    kind: Literal["narrative", "narrative_parts", "narrative_ratio"]


class SectionContentRule(Rule):
    """Each of `sections` has every one of `patterns`, and is not only words that state nothing."""

    kind: Literal["section_content"]
    sections: tuple[str, ...]
    patterns: tuple[str, ...]
    none_patterns: tuple[str, ...] = ()


class NarrativeConflictRule(Rule):
    """One sentence states none (未收取…), another an amount: they contradict."""

    kind: Literal["narrative_conflict"]
    sections: tuple[str, ...]
    none_patterns: tuple[str, ...]
    amount_patterns: tuple[str, ...]


class LowConfidenceRule(Rule):
    kind: Literal["low_confidence"]
    threshold: float


class FormRule(Rule):
    """The report's shape against the format; nothing to configure but the message."""

    kind: Literal["table_missing", "column_missing", "row_missing", "blank_cells", "total_only_rows",
                  "nonstandard_labels", "value_type", "format_year", "section_order"]


RULE_KINDS: dict[str, type[Rule]] = {}
for _model in (SumRule, NarrativeRule, NarrativeConflictRule, SectionContentRule, LowConfidenceRule, FormRule):
    for _kind in _model.model_fields["kind"].annotation.__args__:  # type: ignore[union-attr]
        RULE_KINDS[_kind] = _model


def rule_model(data: Any) -> type[Rule]:
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind not in RULE_KINDS:
        raise ValueError(f"unknown rule kind {kind!r}; the kinds are {', '.join(sorted(RULE_KINDS))}")
    return RULE_KINDS[kind]


# ---- terms -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    key: str
    sign: int  # +1 or -1
    previous: bool  # read from last year's report


def split_term(text: str, binding: dict[str, str] | None = None) -> tuple[int, bool, str]:
    """'-prev:applications.$row.total' → (-1, True, 'applications.new.total') for row=new."""
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("-")
    previous = text.startswith("prev:")
    text = text.removeprefix("prev:")
    for name, value in (binding or {}).items():
        text = text.replace(f"${name}", value)
    return sign, previous, text


def match_keys(fmt: Format, pattern: str) -> list[str]:
    """The format's cell keys (optional rows' too) a term matches, in the format's order."""
    if "*" not in pattern:
        return [pattern] if pattern in fmt.all_cells else []
    return list(_matcher(fmt, pattern))


def _matcher(fmt: Format, pattern: str) -> tuple[str, ...]:
    memo = ("term", pattern)
    if memo not in fmt.memo:
        regex = re.compile("^" + re.escape(pattern).replace(r"\*", r"[^.]+") + "$")
        wild_column = pattern.rsplit(".", 1)[-1] == "*"
        fmt.memo[memo] = tuple(key for key, cell in fmt.all_cells.items()
                               if regex.match(key) and not (wild_column and cell.column.role == "total"))
    return fmt.memo[memo]


def unresolved_terms(rule: Rule, fmt: Format) -> Iterator[tuple[str, str]]:
    """(field, term) for each term that names no cell of the format under any of the rule's bindings
    (a `for_each` over table 二's rows may name a column only some of its blocks have)."""
    bindings = rule.bindings(fmt)
    for name, term in rule.terms():
        patterns = [split_term(term, binding)[2] for binding in bindings]
        if not any("$" not in p and match_keys(fmt, p) for p in patterns):
            yield name, term
