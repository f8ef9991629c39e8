"""The national report formats, as data: the YAML definitions beside this file, and any a user adds.

A format is sections, tables (rows × columns, their groups, labels and variants), rules and metrics.
Every other stage (parser, checker, store, renderers, templates, web pages, ledgers) reads it through
these models, so adding a format means adding a YAML file: here, or in a folder named by
$GONGKAI_FORMATS or `--formats` (see loading.py, and docs/formats.md for the schema).
"""

from __future__ import annotations

from gongkai.formats.format import Format
from gongkai.formats.loading import ENV_VAR, FormatError, format_dirs, load_all, use_format_dirs
from gongkai.formats.rules import RULE_KINDS, ForEach, Rule, Term, match_keys, split_term
from gongkai.formats.schema import Block, CellDef, Column, Labelled, Metric, Row, Section, Table

# The format a report gets when nothing says otherwise (a blank template, an empty data file).
DEFAULT_FORMAT = "2021"


def all_formats() -> tuple[Format, ...]:
    """Every format, built-in and added, newest first."""
    return load_all(format_dirs())


def load_format(format_id: str) -> Format:
    formats = all_formats()
    for fmt in formats:
        if fmt.id == format_id:
            return fmt
    raise KeyError(f"unknown report format {format_id!r}; the formats are {', '.join(f.id for f in formats)}")


def format_for(name: str | int) -> Format:
    """A format by its id, or the one a report of that year uses (2020 → the 2019 trial format)."""
    text = str(name).strip()
    formats = all_formats()
    for fmt in formats:
        if fmt.id == text:
            return fmt
    if text.isdigit() and len(text) == 4:
        covering = [f for f in formats if f.covers(int(text))]
        if covering:
            return covering[0]
    raise KeyError(f"没有报告格式「{text}」；可用的格式：{'、'.join(f.id for f in formats)}")


__all__ = [
    "DEFAULT_FORMAT", "ENV_VAR", "RULE_KINDS", "Block", "CellDef", "Column", "ForEach", "Format", "FormatError",
    "Labelled", "Metric", "Row", "Rule", "Section", "Table", "Term", "all_formats", "format_dirs", "format_for",
    "load_format", "match_keys", "split_term", "use_format_dirs",
]
