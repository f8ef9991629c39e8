"""The data every stage passes on: a parsed Report of Cells, the Outcome of each rule instance a check
evaluates, and the Findings (failed outcomes) people read."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from json.encoder import c_make_encoder, encode_basestring, encode_basestring_ascii
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field

from gongkai.formats import DEFAULT_FORMAT

Number = int | float

_Model = TypeVar("_Model", bound=BaseModel)
_DEFAULTS: dict[type, list[tuple[str, Any, Any]]] = {}


def built(cls: type[_Model], **fields: Any) -> _Model:
    """A model from values the program computed itself, without validation: a check makes a hundred
    outcomes per report, each holding the values of the cells it read, and validating them (or
    pydantic's model_construct, slower still) costs more than the check. Fields not given take
    their defaults."""
    defaults = _DEFAULTS.get(cls)
    if defaults is None:
        defaults = _DEFAULTS[cls] = [(name, info.default, info.default_factory)
                                     for name, info in cls.model_fields.items()]
    given = set(fields)
    if len(given) < len(defaults):
        for name, default, factory in defaults:
            if name not in fields:
                fields[name] = factory() if factory is not None else default
    model = cls.__new__(cls)
    # BaseModel's own slots, set past its __setattr__ (which validates).
    object.__setattr__(model, "__dict__", fields)
    object.__setattr__(model, "__pydantic_fields_set__", given)
    object.__setattr__(model, "__pydantic_extra__", None)
    object.__setattr__(model, "__pydantic_private__", None)
    return model


@dataclass(slots=True, kw_only=True)
class Provenance:
    """Where a figure or a piece of text came from in its document.

    A plain dataclass rather than a pydantic model: loaders make one per cell, and pydantic
    validates and serialises it as part of the models that hold it.
    """

    line: int | None = None  # 1-based line of the document's text (text-like sources)
    start: int | None = None  # character offsets in the document's text
    end: int | None = None
    page: int | None = None  # 1-based page (PDF, scans)
    bbox: tuple[float, float, float, float] | None = None  # x0, top, x1, bottom in points
    table: int | None = None  # 0-based index of the table in the document
    row: int | None = None  # 0-based row and column in that table's grid
    col: int | None = None
    sheet: str | None = None  # a workbook's sheet and cell (C7) the value was filled in
    cell: str | None = None

    def describe(self) -> str:
        """第12行 / 第3页 — the place a person can look up."""
        parts = []
        if self.sheet is not None:
            parts.append(f"工作表「{self.sheet}」{self.cell or ''}")
        if self.page is not None:
            parts.append(f"第{self.page}页")
        if self.line is not None:
            parts.append(f"第{self.line}行")
        if self.table is not None and self.row is not None:
            parts.append(f"表格{self.table + 1}第{self.row + 1}行" + (f"第{self.col + 1}列" if self.col is not None else ""))
        return "，".join(parts) or "位置不详"


class Cell(BaseModel):
    key: str
    value: Number | None = None  # None: the document does not state it
    raw: str | None = None  # the text printed in the cell ("1,234件", "", "—")
    provenance: Provenance | None = None
    confidence: float = 1.0  # < 1 for OCR or deduced values
    note: str | None = None  # how the value was read when it was not plain (deduced, shifted)


class SectionParagraph(BaseModel):
    text: str
    provenance: Provenance | None = None


class Section(BaseModel):
    number: str  # 一 … 六
    title: str  # the heading as printed
    text: str
    provenance: Provenance | None = None
    paragraphs: list[SectionParagraph] = Field(default_factory=list)  # the text again, with where each came from


class TableSeen(BaseModel):
    """What the parser saw of one of the format's tables: the checker's completeness input."""

    found: bool = False
    columns: list[str] = Field(default_factory=list)  # column keys the header prints
    column_labels: dict[str, str] = Field(default_factory=dict)  # the header text printed for each
    missing_columns: list[str] = Field(default_factory=list)
    rows: dict[str, RowSeen] = Field(default_factory=dict)  # by row key, as printed
    provenance: Provenance | None = None


class RowSeen(BaseModel):
    label: str  # the label as printed
    printed: int  # how many value cells the row printed
    expected: int  # how many the format (and the header's columns) asks for
    provenance: Provenance | None = None


TableSeen.model_rebuild()


class Report(BaseModel):
    source: str | None = None
    agency: str | None = None
    year: int | None = None
    format: str = DEFAULT_FORMAT
    title: str | None = None
    title_provenance: Provenance | None = None
    # Where the title and the agency were read: title, page_header, signature (落款) or file_name.
    title_source: str | None = None
    agency_source: str | None = None
    cells: dict[str, Cell] = Field(default_factory=dict)
    sections: list[Section] = Field(default_factory=list)
    tables: dict[str, TableSeen] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)  # what the parser noticed about the layout
    parser_version: str | None = None

    def value(self, key: str) -> Number | None:
        cell = self.cells.get(key)
        return cell.value if cell else None

    def values(self) -> dict[str, Number | None]:
        return {key: cell.value for key, cell in self.cells.items()}

    def section(self, number: str) -> Section | None:
        return next((s for s in self.sections if s.number == number), None)

    def nested(self) -> dict[str, Any]:
        """The values nested by their dotted keys, with agency, year and format: the JSON contract."""
        out: dict[str, Any] = {"agency": self.agency, "year": self.year, "format": self.format}
        for key, cell in self.cells.items():
            node = out
            *parents, leaf = key.split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = cell.value
        return out


Severity = Literal["error", "warning", "info"]
# The severities as people read them, most severe first.
SEVERITY_NAMES: dict[str, str] = {"error": "错误", "warning": "警告", "info": "提示"}


class Finding(BaseModel):
    """One thing a check found: which rule, which cells, what was expected and found, and where."""

    rule: str
    severity: Severity
    message: str  # Chinese, for people
    cells: list[str] = Field(default_factory=list)
    expected: Any = None
    found: Any = None
    locations: list[Provenance] = Field(default_factory=list)
    inferred: dict[str, Number] | None = None  # values the sums imply for blank cells


OutcomeStatus = Literal["passed", "failed", "uncertain", "not_assessable"]


class Outcome(BaseModel):
    """One rule instance evaluated on one report, whatever came of it.

    passed: the cells hold the relation (or a statement has a reading that fits); failed: no reading
    fits; uncertain: the result hangs on a doubtful figure (low OCR confidence, a value inferred for a
    blank) or on words the grammar cannot pin down; not_assessable: the cells it needs are not stated.
    """

    rule: str
    status: OutcomeStatus
    severity: Severity  # the rule's severity, as it would count if the outcome were a failure
    message: str | None = None  # Chinese, for people: why it failed, or what was uncertain
    cells: list[str] = Field(default_factory=list)  # the cells the instance reads (its identity)
    values: dict[str, Number | None] = Field(default_factory=dict)  # their values when evaluated
    expected: Any = None
    found: Any = None
    reading: str | None = None  # which accepted reading of a statement fitted (受理 = 新收 + 上年结转)
    locations: list[Provenance] = Field(default_factory=list)
    inferred: dict[str, Number] | None = None

    def fingerprint(self) -> str:
        """Rule + cells + the values involved: a reviewer's decision on this outcome is kept while
        the fingerprint stays the same, and reopened when a value it names changes."""
        return outcome_fingerprint(self.rule, self.cells, self.values)

    def finding(self) -> Finding:
        return Finding(rule=self.rule, severity=self.severity, message=self.message or "", cells=self.cells,
                       expected=self.expected, found=self.found, locations=self.locations, inferred=self.inferred)


def json_encoder(**options: Any) -> Callable[[Any], str]:
    """json.JSONEncoder(**options).encode, the same text, with CPython's C encoder made once rather
    than on every call (making it costs as much as encoding a small dict, and a hierarchy check
    encodes outcomes by the ten thousand). Without the C encoder, the plain one. Circular
    structures are not looked for: the values are plain data."""
    encoder = json.JSONEncoder(**options)
    if c_make_encoder is None or encoder.indent is not None:
        return encoder.encode
    strings = encode_basestring_ascii if encoder.ensure_ascii else encode_basestring
    iterencode = c_make_encoder(None, encoder.default, strings, None, encoder.key_separator, encoder.item_separator,
                                encoder.sort_keys, encoder.skipkeys, encoder.allow_nan)
    return lambda value: "".join(iterencode(value, 0))


# json.dumps(..., ensure_ascii=False, default=str): the text fingerprints were first made from.
_FINGERPRINT_JSON = json_encoder(ensure_ascii=False, default=str)


def outcome_fingerprint(rule: str, cells: list[str], values: dict[str, Number | None]) -> str:
    """Outcome.fingerprint() without building an Outcome (a hierarchy check makes tens of thousands)."""
    basis = _FINGERPRINT_JSON([rule, sorted(cells), sorted(values.items())])
    return hashlib.sha256(basis.encode()).hexdigest()[:32]
