"""The national report formats, loaded from the YAML definitions beside this file.

A format is data: sections, tables (rows × columns, labels and their variants) and rules.
Every other stage (parser, checker, store, renderer) reads it through these models, so adding
a format means adding a YAML file here.
"""

from __future__ import annotations

import re
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from gongkai.formats.subjects import Statements
from gongkai.text import normalize_label


class _Labelled(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    label: str
    group: str | None = None
    match: str | None = None

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(self.match or re.escape(normalize_label(self.label)))

    def match_length(self, normalized: str) -> int:
        """How much of a normalized label this definition recognises (0: not at all)."""
        best = 0
        for m in self.pattern.finditer(normalized):
            best = max(best, len(m.group(0)) or 1)
        return best


class Column(_Labelled):
    type: Literal["count", "decimal", "signed"] = "count"
    unit: str | None = None
    role: Literal["value", "total"] = "value"


class Row(_Labelled):
    # A row some reports print instead of others (（六）其他处理 as one row); not a cell of the
    # format's canonical list, but parsed and stored when a report prints it.
    optional: bool = False


class Block(BaseModel):
    """Part of a table whose rows share one column header (table 二's 第二十条 blocks)."""

    model_config = ConfigDict(frozen=True)
    heading: str | None = None
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]


class Table(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    number: str
    section: str
    title: str
    # blocks: rows with their own columns (table 二); grid: rows × shared columns (table 三);
    # line: rows × shared columns printed side by side on one line (table 四).
    layout: Literal["blocks", "grid", "line"]
    note: str | None = None
    row_header: str | None = None
    column_header: str | None = None
    blocks: tuple[Block, ...] = ()
    columns: tuple[Column, ...] = ()
    rows: tuple[Row, ...] = ()

    def model_post_init(self, __context: Any) -> None:
        if self.layout != "blocks" and not self.blocks:
            object.__setattr__(self, "blocks", (Block(columns=self.columns, rows=self.rows),))

    def cells(self, include_optional: bool = False) -> list[CellDef]:
        return list(self._cells(include_optional))

    @lru_cache(maxsize=4)  # noqa: B019 - tables are frozen and live as long as their format
    def _cells(self, include_optional: bool) -> tuple[CellDef, ...]:
        out = []
        for block in self.blocks:
            for row in block.rows:
                if row.optional and not include_optional:
                    continue
                for col in block.columns:
                    out.append(CellDef(key=f"{self.key}.{row.key}.{col.key}", table=self, block=block,
                                       row=row, column=col))
        return tuple(out)

    @property
    def all_rows(self) -> list[Row]:
        return [row for block in self.blocks for row in block.rows]


class CellDef(BaseModel):
    """One figure of the format: where it sits and what it is called."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    key: str
    table: Table
    block: Block
    row: Row
    column: Column

    @property
    def row_label(self) -> str:
        return f"{self.row.group} {self.row.label}" if self.row.group else self.row.label

    @property
    def column_label(self) -> str:
        return f"{self.column.group} {self.column.label}" if self.column.group else self.column.label

    @property
    def label(self) -> str:
        """How a person names the cell: 表三 （三）不予公开 1.属于国家秘密 / 自然人."""
        return f"表{self.table.number} {self.row_label} / {self.column_label}"


class Section(BaseModel):
    model_config = ConfigDict(frozen=True)
    number: str
    title: str
    match: str


class ForEach(BaseModel):
    model_config = ConfigDict(frozen=True)
    table: str
    over: Literal["columns", "rows"]


class Rule(BaseModel):
    """A check on a report: data read by gongkai.check.engine, which has one function per kind.

    Fields beyond the common ones belong to particular kinds (see formats/rules/common.yaml).
    """

    model_config = ConfigDict(frozen=True)
    id: str
    kind: str
    severity: Literal["error", "warning", "info"] = "error"
    title: str
    message: str
    # sum
    for_each: ForEach | None = None
    lhs: tuple[str, ...] = ()
    rhs: tuple[str, ...] = ()
    # narrative, narrative_conflict
    sections: tuple[str, ...] = ()
    context: str | None = None
    patterns: tuple[str, ...] = ()
    compare: tuple[str, ...] = ()
    none_patterns: tuple[str, ...] = ()
    amount_patterns: tuple[str, ...] = ()
    # low_confidence
    threshold: float | None = None

    @property
    def cross_year(self) -> bool:
        return any(term.lstrip("-").startswith("prev:") for term in (*self.lhs, *self.rhs))


class Format(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    basis: str
    first_year: int | None = None
    last_year: int | None = None
    signature: tuple[str, ...] = ()
    sections: tuple[Section, ...]
    tables: tuple[Table, ...]
    rules: tuple[Rule, ...] = Field(default=())
    statements: Statements | None = None  # what the text states, for the narrative rules

    def table(self, key: str) -> Table:
        for table in self.tables:
            if table.key == key:
                return table
        raise KeyError(key)

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


@lru_cache
def load_format(format_id: str) -> Format:
    for fmt in all_formats():
        if fmt.id == format_id:
            return fmt
    raise KeyError(f"unknown report format {format_id!r}")


def _read_yaml(path: Any) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@lru_cache
def all_formats() -> tuple[Format, ...]:
    """Every format beside this file, newest first. A format's `rule_sets` name files in rules/
    whose rules come before its own."""
    here = resources.files(__package__)
    formats = []
    for path in sorted(p for p in here.iterdir() if p.name.endswith(".yaml")):
        data = _read_yaml(path)
        shared = [rule for name in data.pop("rule_sets", []) for rule in _read_yaml(here / "rules" / f"{name}.yaml")["rules"]]
        data["rules"] = shared + list(data.get("rules") or [])
        formats.append(Format.model_validate(data))
    return tuple(sorted(formats, key=lambda f: f.first_year or 0, reverse=True))


DEFAULT_FORMAT = "2021"
