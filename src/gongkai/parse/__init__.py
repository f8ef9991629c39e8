"""Document → Report, driven by the format definition."""

from __future__ import annotations

from gongkai.document import Document, LoadError, Paragraph, TableRow
from gongkai.formats import DEFAULT_FORMAT, Format, all_formats, load_format
from gongkai.model import Report
from gongkai.parse.meta import find_meta, guess_year
from gongkai.parse.recheck import recheck
from gongkai.parse.sections import narrative, split_sections
from gongkai.parse.tables import TABLE_READERS
from gongkai.text import normalize_label

PARSER_VERSION = "1"


def document_text(doc: Document) -> str:
    if doc.text:
        return doc.text
    return "\n".join(
        "\t".join(item.texts) if isinstance(item, TableRow) else item.text for item in doc.items
    )


def detect_format(doc: Document, year: int | None = None) -> Format:
    """The format whose signature words the document prints most; the year breaks a tie."""
    text = normalize_label(document_text(doc))
    scores = [(sum(normalize_label(word) in text for word in fmt.signature), fmt) for fmt in all_formats()]
    best = max(score for score, _ in scores)
    candidates = [fmt for score, fmt in scores if score == best]
    if len(candidates) > 1 and year is not None:
        by_year = [f for f in candidates if (f.first_year or 0) <= year <= (f.last_year or 9999)]
        candidates = by_year or candidates
    if len(candidates) > 1:
        return load_format(DEFAULT_FORMAT) if any(f.id == DEFAULT_FORMAT for f in candidates) else candidates[0]
    return candidates[0]


def parse(doc: Document, format_id: str | None = None) -> Report:
    """Read a document into a Report. Raises LoadError when it holds no report tables."""
    meta = find_meta(doc)
    year = meta.year if meta.year is not None else guess_year(document_text(doc))
    fmt = load_format(format_id) if format_id else detect_format(doc, year)
    preamble, spans = split_sections(doc, fmt)
    report = Report(source=doc.path, agency=meta.agency, year=year, format=fmt.id, title=meta.title,
                    title_provenance=meta.where, title_source=meta.title_source, agency_source=meta.agency_source,
                    sections=narrative(spans, fmt), notes=[*doc.notes, *meta.notes], parser_version=PARSER_VERSION)
    claimed = {id(item) for t in fmt.tables if t.section in spans for item in spans[t.section].items}
    for table in fmt.tables:
        span = spans.get(table.section)
        read = TABLE_READERS[table.layout](table, span.items, anchored=True) if span is not None else None
        if read is None or not read.seen.found:
            # Without its heading, or not under it (tables attached as a workbook), a table is looked
            # for outside the other tables' sections.
            loose = [item for item in doc.items if id(item) not in claimed]
            read = TABLE_READERS[table.layout](table, loose, anchored=False)
            where = "未找到第{0}部分标题" if span is None else "第{0}部分中没有表格"
            report.notes.append(f"{where.format(table.section)}，表{table.number}在其余正文中查找")
        report.cells.update(read.cells)
        report.tables[table.key] = read.seen
        report.notes.extend(read.notes)
    if not any(layout.found for layout in report.tables.values()):
        raise LoadError(doc.path, "未找到年度报告的统计表格 (no report tables found)")
    # Cells in the format's order, optional ones (printed instead of others) after.
    if "cell-order" not in fmt.memo:
        fmt.memo["cell-order"] = {key: i for i, key in enumerate(fmt.all_cells)}
    order = fmt.memo["cell-order"]
    report.cells = dict(sorted(report.cells.items(), key=lambda kv: order.get(kv[0], len(order))))
    recheck(report, doc, fmt)  # figures read by OCR, read again where the sums doubt them
    if not report.agency and preamble:
        first = next((p for p in preamble if isinstance(p, Paragraph)), None)
        report.notes.append(f"标题中未找到报告单位：{first.text[:40] if first else ''}")
    return report


def parse_file(path: str, format_id: str | None = None) -> Report:
    from gongkai.read import read

    return parse(read(path), format_id)
