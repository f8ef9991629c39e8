"""A scanned table's figures checked against the format's sums, and read again where they fail.

OCR misreads a digit now and then: a seal over 20 leaves 2, a speckled 48 reads 49, a reviewer's
pen tick turns a figure into letters. After a report read by OCR is parsed, its sum rules are
evaluated (gongkai.check.evaluate) on the figures as read. Each figure OCR read that stands in a
failing sum, and each one OCR could not read as a figure where a sum needs it, is read again from
its box on the page image (gongkai.read.ocr.reread: the crop alone, enlarged, smoothed, without
coloured marks).

A reading from those replaces the first only when it makes a sum hold that did not, and makes
none fail that did not; when two readings of one cell, or two cells, would each mend the same sum,
none is taken (the sums cannot tell which digit was misread). A figure whose readings disagree,
none of them mending anything, keeps its first reading with its confidence lowered by the share
of readings that disagree, so the checker makes its sums uncertain rather than failed. What was
read again, and what came of it, is in the report's notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gongkai.document import Document
from gongkai.formats import Format
from gongkai.model import Cell, Number, Outcome, Report
from gongkai.text import PLACEHOLDERS, nfkc, parse_number

# Figures read again per report at most: a table misread throughout is not a matter of a digit.
MAX_REREAD = 40
_SUMS = frozenset({"sum"})

if TYPE_CHECKING:
    from gongkai.read.ocr import Reading

SumId = tuple[str, tuple[str, ...]]


@dataclass
class _Mend:
    key: str
    value: Number
    text: str
    score: float
    how: str
    mended: list[SumId]


def recheck(report: Report, doc: Document, fmt: Format) -> None:
    """Read again, from the page images, the OCR figures the sums doubt; keep a reading only where
    it makes the sums hold. Changes the report's cells and adds to its notes."""
    if not doc.page_images:
        return
    from gongkai.check import evaluate
    from gongkai.read.ocr import reread

    def sums() -> dict[SumId, Outcome]:
        outcomes = evaluate(report, fmt=fmt, kinds=_SUMS, doubt_low_confidence=False)
        return {(o.rule, tuple(o.cells)): o for o in outcomes}

    suspects = _suspects(report, doc, list(sums().values()))
    if not suspects:
        return
    readings: dict[str, list[Reading]] = {}
    for page, keys in _by_page(report, suspects).items():
        boxes = [report.cells[k].provenance.bbox for k in keys]  # type: ignore[union-attr]
        readings.update(zip(keys, reread(doc.page_images[page], boxes), strict=True))
    first = {key: (report.cells[key].value, report.cells[key].raw) for key in suspects}
    mends = _mend(report, readings, sums)
    titles = {rule.id: rule.title for rule in fmt.rules}
    still_failing = {k for o in sums().values() if o.status == "failed" for k in o.cells}
    confirmed = []
    for key in suspects:
        cell, (value, raw) = report.cells[key], first[key]
        where = cell.provenance.describe() if cell.provenance else ""
        if key not in mends and value is not None and not _disagree(value, readings[key]):
            confirmed.append(f"{_label(fmt, key)}（{where}）")
            continue
        head = f"图像识别复核：{_label(fmt, key)}（{where}）首次识别为「{(raw or '').strip()}」，单独重读得{_seen(readings[key])}"
        if key in mends:
            mend = mends[key]
            rules = "、".join(f"「{titles.get(rule, rule)}」" for rule, _ in mend.mended)
            cell.value, cell.raw, cell.confidence = mend.value, mend.text, mend.score
            cell.note = f"{head}；{mend.text} 使{rules}成立，已采用"
        elif value is not None and key in still_failing:
            agree = 1 + sum(parse_number(r.text) == value for r in readings[key])
            cell.confidence = round(cell.confidence * agree / (1 + len(readings[key])), 3)
            cell.note = f"{head}；与首次识别不一致且均不能使合计相符，保留首次识别，置信度降为 {cell.confidence}"
        else:
            kept = "仍留空" if value is None else "保留首次识别"
            cell.note = f"{head}；均不能使合计相符，{kept}"
        report.notes.append(cell.note)
    if confirmed:
        report.notes.append(f"图像识别复核：{len(confirmed)} 个数字单独重读与首次识别一致：{'；'.join(confirmed)}")


def _seen(readings: list[Reading]) -> str:
    """「48」（单独裁切、平滑）「43」（放大两倍）: each text read, with the ways that read it."""
    ways: dict[str, list[str]] = {}
    for r in readings:
        ways.setdefault(r.text, []).append(r.how)
    return "".join(f"「{text}」（{'、'.join(how)}）" for text, how in ways.items()) or "无可读文字"


def _suspects(report: Report, doc: Document, outcomes: list[Outcome]) -> list[str]:
    """The OCR figures in failing sums, then the OCR cells unreadable as figures that a sum needs."""
    failing = [k for o in outcomes if o.status == "failed" for k in o.cells]
    in_sums = [k for o in outcomes for k in o.cells]
    unreadable = [k for k in in_sums if (c := report.cells.get(k)) is not None and c.value is None and _printed(c)]
    keys = [k for k in dict.fromkeys(failing + unreadable) if _read_by_ocr(report.cells.get(k), doc)]
    return keys[:MAX_REREAD]


def _printed(cell: Cell) -> bool:
    return bool(cell.raw) and nfkc(cell.raw or "").strip().replace(" ", "") not in PLACEHOLDERS


def _read_by_ocr(cell: Cell | None, doc: Document) -> bool:
    if cell is None or cell.provenance is None or cell.provenance.bbox is None or not _printed(cell):
        return False
    image = doc.page_images.get(cell.provenance.page or 0)
    return image is not None and image.covers(cell.provenance.bbox)


def _by_page(report: Report, keys: list[str]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for key in keys:
        out.setdefault(report.cells[key].provenance.page or 0, []).append(key)  # type: ignore[union-attr]
    return out


def _disagree(value: Number, readings: list[Reading]) -> bool:
    return any(parse_number(r.text) != value for r in readings)


def _mend(report: Report, readings: dict[str, list[Reading]], sums) -> dict[str, _Mend]:
    """The readings taken, one at a time: each round, among the readings that mend a sum, the first
    whose cell has no other such reading and whose mended sums no other cell's reading mends."""
    options: dict[str, dict[Number, tuple[str, float, str]]] = {}
    for key, found in readings.items():
        current = report.cells[key].value
        for r in found:
            value = parse_number(r.text)
            if value is None or value == current:
                continue
            best = options.setdefault(key, {}).get(value)
            if best is None or r.score > best[1]:
                options[key][value] = (r.text, r.score, r.how)
    taken: dict[str, _Mend] = {}
    while True:
        before = sums()
        candidates = [m for key, values in options.items() if key not in taken
                      for value, reading in values.items()
                      if (m := _try(report, key, value, reading, before, sums)) is not None]
        per_cell: dict[str, int] = {}
        per_sum: dict[SumId, int] = {}
        for m in candidates:
            per_cell[m.key] = per_cell.get(m.key, 0) + 1
            for s in m.mended:
                per_sum[s] = per_sum.get(s, 0) + 1
        sure = next((m for m in candidates if per_cell[m.key] == 1 and all(per_sum[s] == 1 for s in m.mended)), None)
        if sure is None:
            return taken
        report.cells[sure.key].value = sure.value
        taken[sure.key] = sure


def _try(report: Report, key: str, value: Number, reading: tuple[str, float, str],
         before: dict[SumId, Outcome], sums) -> _Mend | None:
    """The reading as a mend: the sums it makes hold, none made to fail; None when it mends nothing."""
    cell = report.cells[key]
    kept = cell.value
    cell.value = value
    try:
        after = sums()
    finally:
        cell.value = kept
    if any(o.status == "failed" and before[i].status != "failed" for i, o in after.items() if i in before):
        return None
    mended = [i for i, o in after.items() if key in o.cells and o.status == "passed" and before[i].status != "passed"]
    return _Mend(key, value, *reading, mended=mended) if mended else None


def _label(fmt: Format, key: str) -> str:
    cell = fmt.all_cells.get(key)
    return cell.label if cell is not None else key
