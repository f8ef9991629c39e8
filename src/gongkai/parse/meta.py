"""The reporting body and year, from the report's title."""

from __future__ import annotations

import re
from collections import Counter

from gongkai.document import Document, Paragraph
from gongkai.model import Provenance
from gongkai.text import chinese_year, nfkc

_YEAR = r"(?P<year>(?:19|20)\d{2}|[〇零○O一二三四五六七八九]{4})"
_REPORT = r"(?:年度)?(?:的)?(?:政府)?(?:信息公开|政务公开)(?:工作)?(?:年度)?(?:报告|年报)"
# 西峡县人民政府2024年政府信息公开工作年度报告 / 2024年宛城区人民政府办公室政府信息公开工作年度报告
_AGENCY_FIRST = re.compile(rf"^(?P<agency>.*?)(?:关于)?{_YEAR}\s*年(?:度)?\s*{_REPORT}")
_YEAR_FIRST = re.compile(rf"^{_YEAR}\s*年(?:度)?\s*(?P<agency>.+?)\s*{_REPORT}")
# 某某县人民政府政府信息公开工作年度报告: no year in the title (the text gives it).
_NO_YEAR = re.compile(rf"^(?P<agency>[^\d\s>＞»/|]{{2,40}}?)\s*{_REPORT}$")
_TITLE_WORDS = re.compile(r"年度报告|年报")
# Title lines come first; a body paragraph is long.
_TITLE_WINDOW = 12
_MAX_TITLE = 80


def _year(text: str) -> int | None:
    return int(text) if text.isdigit() else chinese_year(text)


def _clean_agency(text: str) -> str:
    text = re.sub(r"^[《〈“\"\s]+|[》〉”\"\s]+$", "", text)
    text = re.sub(r"\s+", "", text)
    text = re.sub(r"(关于|的)$", "", text)
    if text.endswith("人民"):  # 西峡县人民政府信息公开…: the 政府 was read as the report's
        text += "政府"
    return text


def find_title(doc: Document) -> tuple[str | None, str | None, int | None, Provenance | None]:
    """(title, agency, year, where) from the first lines of the document."""
    paragraphs = [p for p in doc.items[:_TITLE_WINDOW * 3] if isinstance(p, Paragraph)][:_TITLE_WINDOW]
    fallback: tuple[str, str | None, None, Provenance] | None = None
    for i, para in enumerate(paragraphs):
        text = nfkc(para.text).strip()
        if len(text) > _MAX_TITLE or not _TITLE_WORDS.search(text):
            continue
        for pattern in (_YEAR_FIRST, _AGENCY_FIRST):
            m = pattern.search(text)
            if not m:
                continue
            agency = _clean_agency(m["agency"])
            if not agency and i > 0 and len(paragraphs[i - 1].text) <= 40:
                # The body's name on a line of its own above the title.
                agency = _clean_agency(nfkc(paragraphs[i - 1].text))
            return text, agency or None, _year(m["year"]), para.source
        # A web page's breadcrumb (首页 > 政务公开 > 年度报告) comes before the real title.
        if fallback is None:
            m = _NO_YEAR.search(text)
            fallback = (text, _clean_agency(m["agency"]) if m else None, None, para.source)
    return fallback or (None, None, None, None)


def guess_year(text: str) -> int | None:
    """The year the body text speaks of most, for a report whose title lacks one."""
    counts = Counter(int(y) for y in re.findall(r"((?:19|20)\d{2})\s*年", nfkc(text)))
    return counts.most_common(1)[0][0] if counts else None
