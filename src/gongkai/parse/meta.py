"""The reporting body and year: from the report's title, else from where a report also names them.

Sources in the order they are trusted: the title printed before the report's body (across line
breaks, after stray lines and a web page's navigation), the page's header (an HTML page's <title>,
a PDF's running header), the signature (落款) at the end, the file's name. Each value keeps the
source it came from.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePath

from gongkai.document import Document, Paragraph, TableRow
from gongkai.model import Provenance
from gongkai.text import chinese_year, nfkc

_YEAR = r"(?P<year>(?:19|20)\d{2}|[〇零○O一二三四五六七八九]{4})"
_REPORT = r"(?:年度)?(?:的)?(?:政府)?(?:信息公开|政务公开)(?:工作)?(?:年度)?(?:报告|年报)"
# 西峡县人民政府2024年政府信息公开工作年度报告 / 2024年宛城区人民政府办公室政府信息公开工作年度报告
_AGENCY_FIRST = re.compile(rf"^(?P<agency>.*?)(?:关于)?{_YEAR}\s*年(?:度)?\s*{_REPORT}")
# The agency after the year never starts with 度: 2023年度政府信息公开工作年度报告 names no body.
_YEAR_FIRST = re.compile(rf"^{_YEAR}\s*年(?:度)?\s*(?P<agency>(?!度|(?:政府)?(?:信息|政务)公开).+?)\s*{_REPORT}")
# 某某县人民政府政府信息公开工作年度报告: no year in the title (the text gives it).
# Its body may hold digits (郑州市第2中学), never a year.
_NO_YEAR = re.compile(rf"^(?!.*(?:19|20)\d{{2}}\s*年)(?P<agency>[^\s>＞»/|]{{2,40}}?)\s*{_REPORT}$")
_TITLE_WORDS = re.compile(r"年度报告|年报")
_TITLE_START = re.compile(r"(?:19|20)\d{2}|[〇零○一二三四五六七八九]{4}|信息公开|政务公开")
# Navigation around a web page's title: breadcrumbs, menus, the site's name after the title.
_CRUMB = re.compile(r"[>＞»›|｜/\\:：_]|\s[-—]\s")
_NAVIGATION = re.compile(r"首页|当前位置|所在位置|登录|注册|发布时间|来源|浏览|字号|打印|关闭|分享")
_MAX_TITLE = 80
_MAX_PIECE = 40  # a title broken across lines: each piece is short
_MAX_AGENCY = 40
# How far into a document the title is looked for when no section heading stops the search first.
_TITLE_SEARCH = 200
_SECTION = re.compile(r"^\s*[一1]\s*[、.．]\s*总体情况")
# The signature: the body's name on a line of its own near a date at the end.
_DATE = re.compile(r"^\s*(?:(?:19|20)\d{2}|[〇零○O一二三四五六七八九]{4})\s*年\s*[\d一二三四五六七八九十]{1,3}\s*月"
                   r"(?:\s*[\d一二三四五六七八九十]{1,3}\s*日)?\s*$")
_BODY = re.compile(r"(?:政府|办公室|办公厅|局|委员会|委|厅|部|署|院|办事处|管委会|中心|镇|乡|街道|集团|公司|所|站|队|处|会)$")
_SIGNATURE_WINDOW = 12


@dataclass
class Meta:
    title: str | None = None
    agency: str | None = None
    year: int | None = None
    where: Provenance | None = None  # where the title was read
    title_source: str | None = None  # title, page_header, signature, file_name
    agency_source: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class _Found:
    title: str
    agency: str | None
    year: int | None
    where: Provenance | None


def _year(text: str) -> int | None:
    return int(text) if text.isdigit() else chinese_year(text)


def _clean_agency(text: str) -> str:
    text = re.sub(r"^[《〈“\"\s]+|[》〉”\"\s]+$", "", text)
    text = re.sub(r"\s+", "", text)
    text = re.sub(r"(关于|的)$", "", text)
    if text.endswith("人民"):  # 西峡县人民政府信息公开…: the 政府 was read as the report's
        text += "政府"
    return text


def _valid_agency(text: str) -> bool:
    return 2 <= len(text) <= _MAX_AGENCY and not _CRUMB.search(text) and not _NAVIGATION.search(text)


def read_title(text: str, where: Provenance | None = None) -> _Found | None:
    """A title's parts, from a line that may carry navigation around it."""
    text = nfkc(text).strip()
    if not _TITLE_WORDS.search(text):
        return None
    # A breadcrumb or a site name beside the title: the piece that holds the title words.
    pieces = [p.strip() for p in _CRUMB.split(text) if p and p.strip()]
    first: _Found | None = None
    for piece in [text, *(p for p in pieces if _TITLE_WORDS.search(p) and p != text)]:
        for pattern in (_YEAR_FIRST, _AGENCY_FIRST):
            m = pattern.search(piece)
            if m:
                agency = _clean_agency(m["agency"])
                found = _Found(m.group(0).strip(), agency if _valid_agency(agency) else None, _year(m["year"]), where)
                if found.agency:
                    return found
                first = first or found
    if first is not None:
        return first
    m = _NO_YEAR.search(pieces[-1] if pieces else text)
    if m and len(text) <= _MAX_TITLE:
        agency = _clean_agency(m["agency"])
        return _Found(m.group(0), agency if _valid_agency(agency) else None, None, where)
    return None


def _head(doc: Document) -> list[Paragraph]:
    """The paragraphs before the report's body (its first section); a table's cells count as
    paragraphs (a page laid out in a table, a workbook's form)."""
    out: list[Paragraph] = []
    for item in doc.items[:_TITLE_SEARCH]:
        if isinstance(item, TableRow):
            out += [Paragraph(text=c.text, source=c.source) for c in item.cells if c.text and not c.span_copy]
            continue
        if _SECTION.match(nfkc(item.text)):
            break
        out.append(item)
    return out


def _title_in(paragraphs: list[Paragraph]) -> _Found | None:
    """The report's title among the first paragraphs: the first naming its body and year, else the
    first naming its year, else one naming neither (a title without a year)."""
    best: tuple[int, _Found] | None = None
    for i, para in enumerate(paragraphs):
        text = nfkc(para.text).strip()
        if len(text) > _MAX_TITLE * 2 or not (_TITLE_START.search(text) or _TITLE_WORDS.search(text)):
            continue
        # A title broken across lines: its pieces until the title words close it.
        joined, j = text, i
        while not _TITLE_WORDS.search(joined) and j + 1 < len(paragraphs) and j < i + 2 \
                and len(nfkc(paragraphs[j + 1].text).strip()) <= _MAX_PIECE:
            j += 1
            joined += nfkc(paragraphs[j].text).strip()
        found = read_title(joined, para.source)
        if found is None:
            continue
        if found.agency is None and found.year is not None and i > 0:
            above = _clean_agency(nfkc(paragraphs[i - 1].text))
            if _valid_agency(above) and _BODY.search(above):  # the body's name on a line of its own
                found.agency = above
        rank = 2 if found.agency and found.year else 1 if found.year else 0
        if rank == 2:
            return found
        if best is None or rank > best[0]:
            best = (rank, found)
    return best[1] if best else None


def _signature(doc: Document) -> tuple[str, Provenance] | None:
    """The body named in the signature: a short line ending in a body's name next to the date."""
    paragraphs = [p for p in doc.items[-_SIGNATURE_WINDOW * 2:] if isinstance(p, Paragraph)][-_SIGNATURE_WINDOW:]
    for i in range(len(paragraphs) - 1, -1, -1):
        if not _DATE.match(nfkc(paragraphs[i].text)):
            continue
        for j in (i - 1, i + 1):
            if 0 <= j < len(paragraphs):
                name = _clean_agency(nfkc(paragraphs[j].text))
                if _valid_agency(name) and _BODY.search(name):
                    return name, paragraphs[j].source
    return None


def _file_title(path: str | None) -> _Found | None:
    if not path:
        return None
    stem = PurePath(path).stem
    return read_title(re.sub(r"^\d+[_\-. ]+", "", stem.replace("_", " ")))


def find_meta(doc: Document) -> Meta:
    """Title, body and year, each from the most trusted source that states it."""
    meta = Meta()
    sources: list[tuple[str, _Found | None]] = [
        ("title", _title_in(_head(doc))),
        ("page_header", _title_in(doc.headers) if doc.headers else None),
        ("file_name", _file_title(doc.path)),
    ]
    for source, found in sources:
        if found is None:
            continue
        if meta.title is None:
            meta.title, meta.where, meta.title_source = found.title, found.where, source
        if meta.agency is None and found.agency:
            meta.agency, meta.agency_source = found.agency, source
        if meta.year is None and found.year:
            meta.year = found.year
    # The signature is trusted after the page's header, before the file's name.
    signature = _signature(doc)
    if signature is not None:
        name, where = signature
        if meta.agency is None or meta.agency_source == "file_name":
            meta.agency, meta.agency_source = name, "signature"
            meta.notes.append(f"报告单位取自落款：{name}（{where.describe()}）")
        elif name != meta.agency:
            meta.notes.append(f"落款单位为「{name}」，标题为「{meta.agency}」")
    return meta


def guess_year(text: str) -> int | None:
    """The year the body text speaks of most, for a report whose title lacks one."""
    counts = Counter(int(y) for y in re.findall(r"((?:19|20)\d{2})\s*年", nfkc(text)))
    return counts.most_common(1)[0][0] if counts else None
