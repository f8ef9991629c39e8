"""The models of a format definition: sections, tables (rows × columns, their groups and labels),
metrics. Rules live in rules.py. Every model is strict: a key the schema does not know is an error
when the format loads (loading.py turns it into one line naming the file, the line and the nearest
valid key), never a silently ignored setting.
"""

from __future__ import annotations

import copy
import re
from functools import cached_property, lru_cache
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from gongkai.text import normalize_label


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


def _path(value: Any) -> Any:
    """A group given as one label or as its path from the outermost group."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return value


class Labelled(Strict):
    key: str
    label: str
    # The groups the item sits in, outermost first: （三）不予公开 sits in 三、本年度办理结果.
    groups: tuple[str, ...] = Field(default=(), validation_alias=AliasChoices("group", "groups"))
    # A regular expression tried against the printed label after normalize_label(); the normalized
    # official label itself when absent.
    match: str | None = None

    @field_validator("groups", mode="before")
    @classmethod
    def _group_path(cls, value: Any) -> Any:
        return _path(value)

    @property
    def group(self) -> str | None:
        """The innermost group's printed label."""
        return self.groups[-1] if self.groups else None

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(self.match or re.escape(normalize_label(self.label)))

    def match_length(self, normalized: str) -> int:
        """How much of a normalized label this definition recognises (0: not at all)."""
        best = 0
        for m in self.pattern.finditer(normalized):
            best = max(best, len(m.group(0)) or 1)
        return best

    @field_validator("match")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"match is not a regular expression: {exc}") from None
        return value


class Column(Labelled):
    type: Literal["count", "decimal", "signed"] = "count"
    unit: str | None = None
    # total: the column that sums the others (wildcards over columns leave it out).
    role: Literal["value", "total"] = "value"


class Row(Labelled):
    # A row some reports print instead of others (（六）其他处理 as one row); not a cell of the
    # format's canonical list, but parsed, stored and drawn when a report prints it.
    optional: bool = False
    # The rows an optional row stands for: where a report prints it, they are not expected.
    replaces: tuple[str, ...] = ()


class Block(Strict):
    """Part of a table whose rows share one column header (table 二's 第二十条 blocks)."""

    heading: str | None = None
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]


def flatten_tree(items: Any, leaf_key: str, outer: tuple[str, ...] = ()) -> Any:
    """Rows or columns given as a tree (`{group: 三、本年度办理结果, rows: [...]}`) → a flat list whose
    items carry their group path (`groups`). Items already flat pass through; each item keeps its
    own type (the loader's mappings remember their lines)."""
    if not isinstance(items, list | tuple):
        return items
    out: list[Any] = []
    for item in items:
        if isinstance(item, dict) and leaf_key in item and "key" not in item:
            unknown = set(item) - {"group", leaf_key}
            if unknown:
                raise ValueError(f"a group of {leaf_key} takes only 'group' and '{leaf_key}', not {sorted(unknown)}")
            out += flatten_tree(item[leaf_key], leaf_key, (*outer, *_path(item.get("group"))))
        elif isinstance(item, dict) and outer:
            flat = copy.copy(item)
            inner = _path(flat.pop("group", None) or flat.pop("groups", None))
            flat["groups"] = (*outer, *inner)
            out.append(flat)
        else:
            out.append(item)
    return out


class Table(Strict):
    key: str
    number: str
    section: str
    title: str
    # blocks: rows with their own columns (table 二); grid: rows × shared columns (table 三);
    # line: rows × shared columns printed side by side on one line (table 四).
    layout: Literal["blocks", "grid", "line"]
    note: str | None = None  # printed in the grid's top-left corner (table 三's 勾稽 note)
    row_header: str | None = None  # the label over the rows' names in each block
    column_header: str | None = None  # the label over all the columns (申请人情况)
    # Widths of the label columns on the printed page, in millimetres (A4 portrait); the figure
    # columns share the rest of the text width.
    label_widths: tuple[float, ...] = ()
    blocks: tuple[Block, ...] = ()
    columns: tuple[Column, ...] = ()
    rows: tuple[Row, ...] = ()

    @field_validator("columns", mode="before")
    @classmethod
    def _column_tree(cls, value: Any) -> Any:
        return flatten_tree(value, "columns")

    @field_validator("rows", mode="before")
    @classmethod
    def _row_tree(cls, value: Any) -> Any:
        return flatten_tree(value, "rows")

    def model_post_init(self, __context: Any) -> None:
        if self.layout == "blocks":
            if not self.blocks or self.columns or self.rows:
                raise ValueError(f"table {self.key}: a blocks table lists its columns and rows in `blocks`")
        else:
            if self.blocks or not self.columns or not self.rows:
                raise ValueError(f"table {self.key}: a {self.layout} table lists `columns` and `rows`, not `blocks`")
            object.__setattr__(self, "blocks", (Block(columns=self.columns, rows=self.rows),))
        for block in self.blocks:
            for kind, items in (("column", block.columns), ("row", block.rows)):
                keys = [item.key for item in items]
                duplicate = next((k for k in keys if keys.count(k) > 1), None)
                if duplicate:
                    raise ValueError(f"table {self.key}: {kind} {duplicate!r} is defined twice")
            row_keys = {row.key for row in block.rows}
            for row in block.rows:
                unknown = [k for k in row.replaces if k not in row_keys]
                if unknown:
                    raise ValueError(f"table {self.key}: row {row.key} replaces {unknown}, which are not rows of the table")

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

    @cached_property
    def _rows_by_key(self) -> dict[str, Row]:
        return {row.key: row for row in self.all_rows}

    def row(self, key: str) -> Row | None:
        """The table's row of this key (optional rows included), or None."""
        return self._rows_by_key.get(key)

    def printed_rows(self, block: Block, stated_rows: set[str]) -> list[Row]:
        """The rows of a block as a report prints them: an optional row where the report states it,
        in place of the rows it replaces; otherwise the canonical rows."""
        replaced = {key for row in block.rows if row.optional and row.key in stated_rows for key in row.replaces}
        return [row for row in block.rows
                if (row.key in stated_rows if row.optional else row.key not in replaced)]

    def stated_rows(self, cell_keys: Any) -> set[str]:
        """Row keys of this table among a report's cell keys (`applications.other.all.total` → other.all)."""
        prefix = f"{self.key}."
        rows = {row.key for row in self.all_rows}
        out = set()
        for key in cell_keys:
            if key.startswith(prefix):
                row = key[len(prefix):].rsplit(".", 1)[0]
                if row in rows:
                    out.add(row)
        return out


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
        return " ".join((*self.row.groups[-1:], self.row.label))

    @property
    def column_label(self) -> str:
        return " ".join((*self.column.groups[-1:], self.column.label))

    @property
    def label(self) -> str:
        """How a person names the cell: 表三 （三）不予公开 1.属于国家秘密 / 自然人."""
        return f"表{self.table.number} {self.row_label} / {self.column_label}"


class Section(Strict):
    number: str
    title: str
    match: str  # a regular expression that recognises the printed heading's title


class Metric(Strict):
    """A figure computed from a report's cells, for statistics: Σ numerator, or Σ numerator / Σ denominator.

    Terms are the rules' term syntax (`-key` subtracts, `*` matches any key part). A report counts
    towards a metric only where it states every cell the metric reads (a blank is not 0)."""

    id: str
    label: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...] = ()

    @property
    def is_ratio(self) -> bool:
        return bool(self.denominator)
