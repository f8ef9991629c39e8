"""Split a document into the format's six sections by their headings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gongkai import model
from gongkai.document import Document, Item, Paragraph
from gongkai.formats import Format
from gongkai.model import Provenance, Section
from gongkai.text import nfkc

# A heading is a line of its own, not the start of a paragraph.
_MAX_HEADING = 40


@dataclass
class SectionSpan:
    number: str
    heading: str
    source: Provenance
    items: list[Item] = field(default_factory=list)


def _heading(fmt: Format) -> re.Pattern[str]:
    """A heading line: one of the format's section numbers, a separator, the title."""
    if "heading" not in fmt.memo:
        numbers = "|".join(re.escape(s.number) for s in fmt.sections)
        fmt.memo["heading"] = re.compile(rf"^\s*#*\s*\**\s*(?P<num>{numbers})\s*[、.．,，]\s*(?P<title>.+?)\s*\**\s*$")
    return fmt.memo["heading"]


# What a heading may print before its number (Markdown marks, full-width ones too).
_BEFORE_NUMBER = " \t\r\n\f\v\xa0\u2002\u2003\u2009\u3000#*＃＊"


def _numbers(fmt: Format) -> set[str]:
    """The first characters of the format's section numbers, as printed (full-width digits too)."""
    if "heading-starts" not in fmt.memo:
        starts = {s.number[:1] for s in fmt.sections}
        fmt.memo["heading-starts"] = starts | {chr(ord(c) + 0xFEE0) for c in starts if c.isascii() and c.isalnum()}
    return fmt.memo["heading-starts"]


def heading_number(text: str, fmt: Format) -> tuple[str, str] | None:
    """('三', '收到和处理政府信息公开申请情况') when the text is that section's heading."""
    if text.lstrip(_BEFORE_NUMBER)[:1] not in _numbers(fmt):
        return None  # most lines: not even the number a heading starts with
    m = _heading(fmt).match(nfkc(text).replace("\n", ""))
    if not m or len(m["title"]) > _MAX_HEADING:
        return None
    for section in fmt.sections:
        if section.number == m["num"] and re.search(section.match, m["title"]):
            return section.number, m["title"].strip("*# ")
    return None


def _item_heading(item: Item, fmt: Format) -> tuple[str, str] | None:
    if isinstance(item, Paragraph):
        return heading_number(item.text, fmt)
    texts = {c.text.strip() for c in item.cells if c.text.strip()}
    if len(texts) == 1:  # a heading printed as a table's caption row
        return heading_number(texts.pop(), fmt)
    return None


def split_sections(doc: Document, fmt: Format) -> tuple[list[Item], dict[str, SectionSpan]]:
    """The items before the first heading, and each section's items by its number.

    Headings must come in order: a second 一、总体情况 or a table row labelled 三、本年度办理结果
    does not start a section again.
    """
    preamble: list[Item] = []
    spans: dict[str, SectionSpan] = {}
    current: SectionSpan | None = None
    order = [s.number for s in fmt.sections]
    rank = -1
    for item in doc.items:
        found = _item_heading(item, fmt)
        if found and order.index(found[0]) > rank:
            rank = order.index(found[0])
            current = SectionSpan(found[0], found[1], item.source)
            spans[found[0]] = current
            continue
        (current.items if current else preamble).append(item)
    return preamble, spans


def narrative(spans: dict[str, SectionSpan], fmt: Format) -> list[Section]:
    """Each section's text (its paragraphs, not its table rows)."""
    out = []
    for section in fmt.sections:
        span = spans.get(section.number)
        if span is None:
            continue
        paragraphs = [model.SectionParagraph(text=item.text, provenance=item.source)
                      for item in span.items if isinstance(item, Paragraph)]
        out.append(Section(number=section.number, title=span.heading, text="\n".join(p.text for p in paragraphs),
                           provenance=span.source, paragraphs=paragraphs))
    return out
