"""What the pages show, as plain data: the report list (filtered, sorted, paged), a report's tables
as the official layout with each cell's state, where a cell came from, and the statistics."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, func, select

from gongkai.document import Document, LoadError
from gongkai.formats import Format, load_format
from gongkai.model import Provenance
from gongkai.render.layout import anchors, table_grid
from gongkai.store.db import decompress
from gongkai.store.query import Filters, Stored, _count, label_for, metrics, stat_columns, stats
from gongkai.store.schema import contents, corrections, documents, reports

PAGE_SIZE = 50

# Sortable columns of the report list: name in the address → the expressions to order by.
SORTS = {
    "agency": (reports.c.agency,),
    "year": (reports.c.year,),
    "region": (reports.c.province_code, reports.c.city),
    "errors": (_count("error"),),
    "id": (reports.c.id,),
}


@dataclass
class Page:
    rows: list[Any]
    total: int
    page: int
    pages: int


def report_page(conn: Connection, filters: Filters, sort: str = "agency", descending: bool = False,
                page: int = 1, size: int = PAGE_SIZE) -> Page:
    """One page of the report list: the filters' reports in the chosen order, with error and warning counts."""
    total = conn.scalar(filters.apply(select(func.count()).select_from(reports)))
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    order = [c.desc() if descending else c.asc() for c in SORTS.get(sort, SORTS["agency"])]
    # The page's ids first, then their columns: the error and warning counts are computed for the
    # rows shown, not for every row an OFFSET skips.
    ids = list(conn.scalars(filters.apply(select(reports.c.id).order_by(*order, reports.c.id))
                            .limit(size).offset((page - 1) * size)))
    query = (select(reports.c.id, reports.c.agency, reports.c.year, reports.c.province, reports.c.city,
                    reports.c.format, reports.c.title, documents.c.name, _count("error").label("errors"),
                    _count("warning").label("warnings"))
             .join(documents, documents.c.id == reports.c.document_id).where(reports.c.id.in_(ids)))
    rows = {row.id: row for row in conn.execute(query)}
    return Page([rows[i] for i in ids if i in rows], total, page, pages)


# ---- a report's tables -----------------------------------------------------------------------

STATE_NAMES = {
    "failed": "涉及未通过的规则",
    "corrected": "已更正",
    "low": "识别置信度低",
    "inferred": "推算或调整所得",
    "blank": "空白（未填报）",
    "printed": "原文所印",
}


@dataclass
class ShownCell:
    text: str
    rowspan: int
    colspan: int
    header: bool
    key: str | None
    states: list[str] = field(default_factory=list)
    hint: str = ""

    @property
    def state(self) -> str:
        """The state that colours the cell: the first that applies, in the order of STATE_NAMES."""
        return next((s for s in STATE_NAMES if s in self.states), "printed")


def low_confidence_threshold(fmt: Format) -> float:
    """Below this an OCR figure is doubtful: the format's low_confidence rule says (none: nothing is flagged)."""
    rule = next((r for r in fmt.rules if r.kind == "low_confidence"), None)
    return getattr(rule, "threshold", 0.0)


def cell_states(stored: Stored, fmt: Format) -> dict[str, tuple[list[str], str]]:
    """Each cell key → (its states, a line saying why) from the report and its findings."""
    threshold = low_confidence_threshold(fmt)
    failed: dict[str, list[str]] = {}
    implied: dict[str, Any] = {}
    for finding in stored.findings:
        if finding.severity in ("error", "warning"):
            for key in finding.cells:
                failed.setdefault(key, []).append(finding.rule)
        for key, value in (finding.inferred or {}).items():
            implied[key] = value
    out: dict[str, tuple[list[str], str]] = {}
    for key in fmt.all_cells:
        cell = stored.report.cells.get(key)
        states, hints = [], []
        if key in failed:
            states.append("failed")
            hints.append("规则：" + "、".join(dict.fromkeys(failed[key])))
        if cell is not None and cell.value is not None and cell.confidence < threshold:
            states.append("low")
            hints.append(f"置信度 {cell.confidence:.2f}")
        if key in implied or (cell is not None and cell.value is not None and cell.note):
            states.append("inferred")
            hints.append(f"其他数字推出应为 {implied[key]}" if key in implied else cell.note or "")
        states.append("blank" if cell is None or cell.value is None else "printed")
        out[key] = (states, "；".join(h for h in hints if h))
    return out


def report_tables(stored: Stored) -> list[tuple[str, list[list[ShownCell]]]]:
    """The format's tables as the official layout (render.layout.table_grid), each figure with its state."""
    fmt = load_format(stored.report.format)
    states = cell_states(stored, fmt)
    out = []
    for table in fmt.tables:
        grid = table_grid(table, stored.report, fmt)
        rows: list[list[ShownCell]] = [[] for _ in grid]
        for r, _, cell in anchors(grid):
            shown = ShownCell(cell.text, cell.rowspan, cell.colspan, cell.header, cell.key)
            if cell.key is not None:
                shown.states, shown.hint = states.get(cell.key, (["blank" if not cell.text else "printed"], ""))
            rows[r].append(shown)
        out.append((table.title, rows))
    return out


# ---- where a cell came from ------------------------------------------------------------------


def document_bytes(conn: Connection, report_id: int) -> tuple[str, str | None, bytes]:
    """(name, kind, bytes) of the document a report was read from."""
    row = conn.execute(select(documents.c.name, documents.c.kind, contents.c.compression, contents.c.data)
                       .join(reports, reports.c.document_id == documents.c.id)
                       .join(contents, contents.c.document_id == documents.c.id)
                       .where(reports.c.id == report_id)).one()
    return row.name, row.kind, decompress(row.data, row.compression)


@lru_cache(maxsize=8)
def read_document(sha256: str, name: str, kind: str | None, data: bytes) -> Document | None:
    """The document read again from its stored bytes (the last few kept, by content hash: a
    reviewer clicks cell after cell)."""
    from gongkai.read import read_bytes

    try:
        return read_bytes(data, name, kind)
    except LoadError:
        return None


@dataclass
class Source:
    """What to show for a cell's provenance: lines of text with one marked, a table row, or a page image."""

    where: str
    lines: list[tuple[int, str, tuple[int, int] | None]] = field(default_factory=list)  # (number, text, marked span)
    marked_line: int | None = None
    row: list[tuple[str, bool]] = field(default_factory=list)  # a table row's cells, the cell's own marked
    page: int | None = None  # a page image to draw (PDF, scan)


def cell_source(document: Document | None, kind: str | None, provenance: Provenance | None, context: int = 5) -> Source:
    if provenance is None:
        return Source("原文中没有这个单元格（未找到或未填报）")
    source = Source(provenance.describe())
    if provenance.page is not None and provenance.bbox is not None and kind in ("pdf", "image"):
        source.page = provenance.page
    if document is None:
        return source
    if provenance.line is not None and document.text:
        lines = document.text.split("\n")
        n = provenance.line
        line_start = sum(len(line) + 1 for line in lines[: n - 1])
        for i in range(max(1, n - context), min(len(lines), n + context) + 1):
            span = None
            if i == n and provenance.start is not None and provenance.end is not None:
                span = (max(0, provenance.start - line_start), max(0, provenance.end - line_start))
            source.lines.append((i, lines[i - 1], span))
        source.marked_line = n
    elif provenance.table is not None and provenance.row is not None:
        row = next((r for r in document.rows if r.table == provenance.table
                    and r.cells and r.cells[0].source.row == provenance.row), None)
        if row is not None:
            source.row = [(c.text, c.source.col == provenance.col) for c in row.cells if not c.span_copy]
    return source


def page_image(kind: str | None, data: bytes, page: int, bbox: tuple[float, float, float, float] | None,
               width: int = 1100) -> bytes:
    """The page (PDF, via PDFium) or the scan, as PNG, with the cell's box drawn in red."""
    from PIL import Image, ImageDraw

    if kind == "pdf":
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(data)
        try:
            if not 1 <= page <= len(pdf):
                raise LookupError(page)
            pdf_page = pdf[page - 1]
            scale = width / pdf_page.get_width()
            image = pdf_page.render(scale=scale).to_pil().convert("RGB")
        finally:
            pdf.close()
    else:
        image = Image.open(io.BytesIO(data)).convert("RGB")
        scale = min(1.0, width / image.width)
        if scale < 1.0:
            image = image.resize((round(image.width * scale), round(image.height * scale)))
    if bbox is not None:
        x0, top, x1, bottom = (v * scale for v in bbox)
        ImageDraw.Draw(image).rectangle((x0 - 3, top - 3, x1 + 3, bottom + 3), outline=(220, 30, 30), width=3)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=False)
    return out.getvalue()


# ---- statistics ------------------------------------------------------------------------------

def charts() -> list[dict[str, Any]]:
    """A chart per metric the format defines (`metrics:`): counts as bars, ratios as lines."""
    return [{"id": m.id, "title": m.label, "kind": "line" if m.is_ratio else "bar", "ratio": m.is_ratio} for m in metrics()]


_STATS_CACHE: dict[tuple[Any, ...], list[dict[str, Any]]] = {}


def corpus_stamp(conn: Connection) -> tuple[Any, ...]:
    """Changes whenever a report is stored, re-parsed (new ids) or removed, or a cell is corrected:
    the stats' cache key."""
    return (*conn.execute(select(func.max(reports.c.id), func.count(reports.c.id))).one(),
            conn.scalar(select(func.max(corrections.c.id))))


def stats_rows(conn: Connection, by: tuple[str, ...], filters: Filters) -> list[dict[str, Any]]:
    """`gongkai stats`'s figures (gongkai.store.query.stats), region groups named; kept until the
    corpus changes (many people open 统计, the figures move only with an upload)."""
    key = (conn.engine.url, by, repr(filters), corpus_stamp(conn))
    if key not in _STATS_CACHE:
        if len(_STATS_CACHE) > 256:
            _STATS_CACHE.clear()
        _STATS_CACHE[key] = _stats_rows(conn, by, filters)
    return [dict(row) for row in _STATS_CACHE[key]]


def _stats_rows(conn: Connection, by: tuple[str, ...], filters: Filters) -> list[dict[str, Any]]:
    rows = stats(conn, by, filters)
    for row in rows:
        if "region" in by:
            row["region"] = row.get("region") or "（不详）"
    return rows


def stats_headings(by: tuple[str, ...]) -> dict[str, str]:
    """The columns of stats() grouped by `by`, with their Chinese headings."""
    return {k: v for k, v in stat_columns().items() if k in by or k not in ("year", "region")}


def label_of(format_id: str, key: str) -> str:
    cell = load_format(format_id).all_cells.get(key)
    return cell.label if cell is not None else label_for(key)


def report_xlsx(stored: Stored) -> bytes:
    """The report's data as the official-layout workbook `gongkai template --report` writes."""
    from gongkai.render.template import template_xlsx

    return template_xlsx(stored.report)
