"""Place printed rows whose labels the format's patterns do not recognise, by the format's order.

A table's rows come in the format's fixed order. Rows recognised by their label (the anchors) cut
the printed table into gaps; a printed row in a gap can only be one of the format's rows between
the two anchors around it. Within a gap a row is placed

1. by its label, where what survives of it (characters in order, its numbering 1./（三）) points to
   one free row clearly better than to any other, or
2. by order alone, where the gap holds as many unplaced printed rows as free format rows, so the
   order leaves exactly one place for each, and no row's label or numbering contradicts its place.

Anything else stays unplaced: its figures are not used and the caller says so.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from gongkai.text import normalize_label

# A label must share this many characters (in order) with an official label to count as evidence.
_MIN_COMMON = 4
_LABEL_SURE = 0.75  # share of the printed label found in the official one
_LABEL_MARGIN = 0.25  # how much better than the next candidate
_CONTRADICTS = 0.5  # a label this unlike its place (while like another) forbids placing it there

LABEL_CONFIDENCE = 0.95
ORDER_CONFIDENCE = 0.8

# 一、 （三） 2. — normalized: 一 (三) 2
_NUMBERING = re.compile(r"^(?:\([一二三四五六七八九十]+\)|[一二三四五六七八九十]+(?=[^一二三四五六七八九十])|\d{1,2}(?!\d))")


@dataclass(frozen=True)
class Official:
    """A format row as the aligner sees it: its own words and numbering, without its group's."""

    words: str
    numbering: str | None


@dataclass(frozen=True)
class Printed:
    label: str
    anchor: int | None  # the format row its label's pattern recognised
    width: int  # how many figures it prints


@dataclass(frozen=True)
class Placement:
    row: int
    by: str  # "label" or "order"
    similarity: float


def official(label: str) -> Official:
    words, numbering = split_numbering(normalize_label(label))
    return Official(words, numbering)


def split_numbering(normalized: str) -> tuple[str, str | None]:
    m = _NUMBERING.match(normalized)
    return (normalized[m.end():], m.group(0)) if m else (normalized, None)


@lru_cache(maxsize=4096)
def _common(a: str, b: str) -> int:
    """Length of the longest common subsequence: the characters of a label that survive, in order."""
    previous = [0] * (len(b) + 1)
    for ch in a:
        current = [0]
        for j, other in enumerate(b):
            current.append(previous[j] + 1 if ch == other else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


_INNER_NUMBERING = re.compile(r"\([一二三四五六七八九十]+\)|(?<!\d)\d{1,2}(?!\d)")


def printed_parts(label: str) -> tuple[str, str | None]:
    """The printed label's words and numbering; what comes before its last numbering (a group label,
    fragments of a vertical header) is not its own."""
    text = normalize_label(label)
    last = None
    for last in _INNER_NUMBERING.finditer(text):  # noqa: B007 - the last one is wanted
        pass
    if last is not None:
        return text[last.end():], last.group(0)
    return split_numbering(text)


def similarity(words: str, numbering: str | None, row: Official) -> float:
    """How surely a printed label is this row: the share of its words found in order in the row's."""
    if numbering and row.numbering and numbering != row.numbering:
        return 0.0
    if not words:
        return 0.0
    common = _common(words, row.words)
    if common < min(_MIN_COMMON, len(row.words)):
        return 0.0
    return common / len(words)


def align(rows: list[Official], printed: list[Printed], fits) -> dict[int, Placement]:
    """Placements (printed index → format row index) for the printed rows without an anchor.

    `fits(row, width)` says whether a format row can hold that many figures (with 0: whether the
    row may be placed at all; a format's optional rows are not).
    """
    anchors = _increasing([(i, p.anchor) for i, p in enumerate(printed) if p.anchor is not None])
    parts = [printed_parts(p.label) for p in printed]
    # A recognised label with no figures (its figures on a row of their own below) leaves its row free.
    taken = {p.anchor for p in printed if p.anchor is not None and p.width}
    placements: dict[int, Placement] = {}
    bounds = [(-1, -1), *anchors, (len(printed), len(rows))]
    for (i0, r0), (i1, r1) in pairwise(bounds):
        loose = [i for i in range(i0 + 1, i1) if printed[i].anchor is None]
        free = [r for r in range(r0 if r0 >= 0 and r0 not in taken else r0 + 1, r1) if r not in taken and fits(r, 0)]
        if loose and free:
            placements.update(_place_gap(rows, printed, parts, loose, free, fits))
    return placements


def _increasing(anchors: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The anchors in the format's order: those in every longest chain of increasing rows. An anchor
    out of order, or one of two that could each be in order (a row printed twice), bounds no gap."""
    rows = [r for _, r in anchors]
    ends = _chain_lengths(rows)  # longest chain ending at each anchor
    starts = _chain_lengths([-r for r in reversed(rows)])[::-1]  # longest chain starting at each
    longest = max(ends, default=0)
    on_chain = [j for j in range(len(anchors)) if ends[j] + starts[j] - 1 == longest]
    level_count: dict[int, int] = {}
    for j in on_chain:
        level_count[ends[j]] = level_count.get(ends[j], 0) + 1
    return [anchors[j] for j in on_chain if level_count[ends[j]] == 1]


def _chain_lengths(values: list[int]) -> list[int]:
    """For each value, the length of the longest strictly increasing chain ending at it (patience
    sorting: tails[k] is the smallest last value of a chain of length k + 1)."""
    tails: list[int] = []
    out = []
    for value in values:
        k = bisect_left(tails, value)
        tails[k:k + 1] = [value]
        out.append(k + 1)
    return out


def in_order(anchors: list[int | None]) -> list[int | None]:
    """The anchors (format row of each printed row, or None) with those out of order set to None."""
    kept = set(_increasing([(i, r) for i, r in enumerate(anchors) if r is not None]))
    return [r if (i, r) in kept else None for i, r in enumerate(anchors)]


def _place_gap(rows, printed, parts, loose: list[int], free: list[int], fits) -> dict[int, Placement]:
    out: dict[int, Placement] = {}
    scores = {i: {r: similarity(*parts[i], rows[r]) if fits(r, printed[i].width) else -1.0 for r in free}
              for i in loose}
    # 1. By label: a clear best among the free rows, in order with the others placed so.
    for i in loose:
        ranked = sorted(scores[i].items(), key=lambda kv: -kv[1])
        best_row, best = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        if best >= _LABEL_SURE and best - second >= _LABEL_MARGIN and not _likes_elsewhere(rows, parts[i], best):
            out[i] = Placement(best_row, "label", best)
    placed_rows = [out[i].row for i in sorted(out)]
    if placed_rows != sorted(set(placed_rows)):  # two labels for one row, or crossed: trust neither
        out = {}
    # 2. By order: between the rows placed so far, as many printed rows as free places.
    edges = [(-1, -1), *sorted((i, p.row) for i, p in out.items()), (len(printed), len(rows))]
    for (i0, r0), (i1, r1) in pairwise(edges):
        left = [i for i in loose if i0 < i < i1 and i not in out]
        places = [r for r in free if r0 < r < r1]
        if not left or len(left) != len(places):
            continue
        pairs = list(zip(left, places, strict=True))
        if all(_may_stand(rows, parts[i], scores[i][r], r) for i, r in pairs):
            for i, r in pairs:
                out[i] = Placement(r, "order", max(scores[i][r], 0.0))
    return out


def _likes_elsewhere(rows: list[Official], part: tuple[str, str | None], here: float) -> bool:
    """Whether the label fits a row outside the gap clearly better (a repeated or stray row)."""
    return any(similarity(*part, row) >= here + _LABEL_MARGIN for row in rows)


def _may_stand(rows: list[Official], part: tuple[str, str | None], score: float, row: int) -> bool:
    """Whether nothing printed on a row forbids placing it by order at `row`."""
    words, numbering = part
    if score < 0:  # more figures than the row has columns
        return False
    if numbering and rows[row].numbering and numbering != rows[row].numbering:
        return False
    if len(words) >= _MIN_COMMON and score < _CONTRADICTS:
        # A label that says something: it must not look like another row more than like this one.
        return not any(similarity(words, numbering, other) >= _LABEL_SURE for other in rows)
    return True
