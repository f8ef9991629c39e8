"""PDF → Document: tables by their ruling lines, the text around them in reading order.

- Tables are the grids pdfplumber finds from ruling lines. Every character goes to the grid cell
  that holds its centre, so a figure is never split or glued across a cell border. A merged cell's
  text is at its top-left position and repeated, flagged span_copy, at each position it covers:
  every table's rows are as wide as its grid.
- A table drawn without ruling lines: a line with wide gaps ending in figures is a row; columns
  come from where the figures stand (and the header above), so an empty cell is still a blank.
- Text outside tables: characters grouped into lines, lines wrapped from one paragraph joined
  (also over a page break), page numbers and repeated headers and footers dropped; tables and
  paragraphs in the order they stand on the page.
- A table that runs onto the next page goes on emitting rows there (the parser reads rows in
  order); a header repeated on the new page is a row of labels the parser passes over.
- A page without a text layer (a scan, or text drawn without Unicode) is rendered with pypdfium2
  and read by OCR (gongkai.read.ocr), keeping its page number; so is a large picture among the
  text of a page (a table pasted as an image).
- Encrypted files are opened with the empty password (owner-only restrictions do not stop
  reading); damaged, truncated, password-protected or over-long files are a LoadError.

The page geometry (Glyph, RuledGrid, page_items) lives in gongkai.read.page, shared with the OCR
reader, which feeds it recognised text.
"""
from __future__ import annotations

import io
import logging
import os
import re

from gongkai.document import Document, Item, LoadError, PageImage, Paragraph, TableRow
from gongkai.read import limits
from gongkai.read.page import MAX_PAGES, BBox, Glyph, PageContent, RuledGrid, append_page, page_items, usable

# pdfminer logs what it tolerates in a file (`Could not get FontBBox from font descriptor`) at
# WARNING, which Python prints to the terminal when the program configured no logging: dozens of
# lines per file a user cannot act on. What the reader cannot tolerate it raises, and we report.
logging.getLogger("pdfminer").setLevel(logging.ERROR)

# A page with more drawn objects than this is a drawing or a map, not a report page.
MAX_OBJECTS_PER_PAGE = 300_000
MAX_EDGES_PER_PAGE = 4_000
OCR_DPI = int(os.environ.get("GONGKAI_OCR_DPI", 150))
# Larger pages are rendered for OCR at a lower resolution (a poster-sized page at 150 dpi would
# not fit in memory).
MAX_RENDER_PIXELS = 40_000_000
# Characters a PDF prints for glyphs it has no Unicode for: such a page is read by OCR.
_UNMAPPED = re.compile(r"^\(cid:\d+\)$|^[\ufffd\x00-\x08]$")
_TABLE_SETTINGS = {
    "vertical_strategy": "lines",
    "horizontal_strategy": "lines",
    # Borders drawn as thin rectangles or double lines: within 3 pt they are one line.
    "snap_tolerance": 3,
    "join_tolerance": 3,
    "intersection_tolerance": 3,
    "edge_min_length": 3,
}

# --- reading the file ---------------------------------------------------------------------------


def read_pdf(data: bytes, path: str | None = None) -> Document:
    import pdfplumber

    document = _open_pdfium(data, path)
    reader = _PdfReader(path, document)
    try:
        try:
            pdf = pdfplumber.open(io.BytesIO(data), password="")
            pages = pdf.pages
        except Exception as exc:  # pdfminer raises many kinds on a damaged file
            problem = _problem(path, exc)
            if "加密" in problem.problem:
                raise problem from exc
            # PDFium repaired what pdfminer could not parse: its pages can still be seen, and read by OCR.
            for number in range(1, len(document) + 1):
                reader.read_by_ocr(number, exc)
        else:
            with pdf:
                limits_checked(path, document, pages)
                reader.prepare(data, pages)
                for number, page in enumerate(pages, 1):
                    try:
                        reader.read_page(page, number)
                    except LoadError:
                        raise
                    except Exception as exc:  # a page pdfminer cannot parse: what PDFium renders of it
                        reader.read_by_ocr(number, exc)
                    finally:
                        page.close()
    finally:
        document.close()
    if not reader.items:
        raise LoadError(path, "PDF 中没有可读的文字 (no text in the PDF)")
    return Document(path=path, kind=reader.kind, items=reader.items, text=_text(reader.items), page_images=reader.images)


def _open_pdfium(data: bytes, path: str | None):
    """The document opened by PDFium: the page count and, for scans, the renderer."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data, password="")
    except pdfium.PdfiumError as exc:
        raise _problem(path, exc) from exc
    if len(document) == 0:
        document.close()
        raise LoadError(path, "PDF 没有页面 (no pages)")
    if len(document) > MAX_PAGES:
        count = len(document)
        document.close()
        raise LoadError(path, f"PDF 页数过多：{count} 页，上限 {MAX_PAGES} 页 (too many pages)")
    return document


def limits_checked(path: str | None, document, pages) -> None:
    """Refuse, before any page is parsed, a PDF whose drawing instructions inflate beyond the limits
    (a Flate bomb, millions of text objects) or with more pages to OCR than the limit."""
    total = 0
    for number, page in enumerate(pages, 1):
        size = sum(_inflated(stream, limits.MAX_PAGE_CONTENT_BYTES) for stream in _content_streams(page.page_obj))
        if size > limits.MAX_PAGE_CONTENT_BYTES:
            raise LoadError(path, f"第{number}页的绘制指令过大：解压后超过 {limits.MAX_PAGE_CONTENT_BYTES} 字节 "
                                  f"(page content beyond GONGKAI_MAX_PAGE_CONTENT_BYTES)")
        total += size
        if total > limits.MAX_PDF_CONTENT_BYTES:
            raise LoadError(path, f"PDF 的绘制指令过大：解压后超过 {limits.MAX_PDF_CONTENT_BYTES} 字节 "
                                  f"(content beyond GONGKAI_MAX_PDF_CONTENT_BYTES)")
    # Pages without a character are read by OCR: counted before the first is read.
    blank = 0
    for index in range(len(document)):
        page = document[index]
        try:
            text = page.get_textpage()
            blank += text.count_chars() == 0
            text.close()
        finally:
            page.close()
    limits.check_ocr_pages(path, blank)


def _content_streams(page) -> list:
    """A page's content streams and those of the forms it draws (each once)."""
    from pdfminer.pdftypes import PDFStream, resolve1

    streams, seen = [], set()
    todo = [resolve1(s) for s in page.contents]
    resources = [resolve1(page.resources)]
    while resources:
        found = resolve1(resources.pop())
        xobjects = resolve1(found.get("XObject")) if isinstance(found, dict) else None
        for ref in (xobjects or {}).values() if isinstance(xobjects, dict) else ():
            stream = resolve1(ref)
            if isinstance(stream, PDFStream) and getattr(stream.get("Subtype"), "name", None) == "Form":
                todo.append(stream)
        while todo:
            stream = todo.pop()
            if not isinstance(stream, PDFStream) or id(stream) in seen:
                continue
            seen.add(id(stream))
            streams.append(stream)
            if stream.get("Resources") is not None:
                resources.append(stream.get("Resources"))
    return streams


def _inflated(stream, limit: int) -> int:
    """What a stream inflates to (no further than limit + 1): Flate is measured without inflating
    more; other filters grow their input a bounded number of times and are counted as stored."""
    names = [getattr(f, "name", f) for f, _ in stream.get_filters()]
    raw = stream.rawdata if stream.rawdata is not None else (stream.data or b"")
    if names and names[-1] in ("FlateDecode", "Fl") and len(names) == 1:
        return limits.inflated_size(raw, limit)
    return len(raw)


def _problem(path: str | None, exc: BaseException) -> LoadError:
    """A clear LoadError for what PDFium or pdfminer said about the file."""
    message = f"{type(exc).__name__} {exc} {type(exc.__cause__).__name__ if exc.__cause__ else ''}"
    for inner in (exc, exc.__cause__, exc.__context__, *(getattr(exc, "args", ()) or ())):
        if inner is not None:
            message += f" {type(inner).__name__} {inner}"
    if re.search(r"password|encrypt", message, re.IGNORECASE):
        return LoadError(path, "PDF 已加密，无法读取 (encrypted)")
    detail = str(exc).strip() or type(exc).__name__
    return LoadError(path, f"PDF 文件已损坏或不完整，无法读取 (corrupt or truncated PDF: {detail})")


class _PdfReader:
    def __init__(self, path: str | None, document):
        self.path = path
        self.document = document  # pypdfium2, for rendering pages that need OCR
        self.items: list[Item] = []
        self.previous: PageContent | None = None
        self.margins: set[str] = set()  # margin lines of the pages read so far
        self.footers: list[tuple[str, Paragraph]] = []
        self.tables = 0
        self.ocr_pages = 0
        self.ocr_runs = 0  # pages and pictures read by OCR
        self.text_pages = 0
        self.prepared: dict[int, tuple[object, float]] = {}  # page → (RecognisedPage, scale), see prepare()
        self.images: dict[int, PageImage] = {}  # pages with tables read by OCR, to read a doubtful figure again

    @property
    def kind(self) -> str:
        return "ocr" if self.ocr_pages and not self.text_pages else "pdf"

    def scanned(self, page, number: int) -> bool | None:
        """True: the page is read by OCR as a whole; None: it is empty; False: it has text."""
        objects = page.objects
        if sum(len(v) for v in objects.values()) > MAX_OBJECTS_PER_PAGE:
            raise LoadError(self.path, f"第{number}页对象过多，无法读取 (page {number} has too many objects)")
        chars = [c for c in page.chars if c["text"].strip()]
        unmapped = sum(1 for c in chars if _UNMAPPED.match(c["text"]))
        if not chars or unmapped > len(chars) / 2:
            return True if chars or page.images or page.curves or page.rects or page.lines else None
        return False

    def prepare(self, data: bytes, pages) -> None:
        """With a page mapper (a cluster), the pages to be read by OCR are recognised first, in
        parallel; the pages are then joined in order as they would be one by one."""
        from gongkai.read.ocr import page_mapper

        mapper = page_mapper()
        if mapper is None:
            return
        numbers = []
        for number, page in enumerate(pages, 1):
            try:
                if self.scanned(page, number):
                    numbers.append(number)
            except Exception:  # the page is read (or refused) in its turn
                continue
        if len(numbers) > 1:
            self.prepared = dict(zip(numbers, mapper(recognise_pdf_page, data, numbers), strict=True))

    def read_page(self, page, number: int) -> None:
        scanned = self.scanned(page, number)
        if scanned is not False:
            if scanned:
                self._ocr_page(number)
            return
        chars = [c for c in page.chars if c["text"].strip()]
        self.text_pages += 1
        glyphs = _dedupe([Glyph(c["text"], c["x0"], c["top"], c["x1"], c["bottom"]) for c in chars
                          if not _UNMAPPED.match(c["text"])])
        # Meeting every line with every other costs the square of their number: a page drawn with
        # tens of thousands of strokes (a map, a hatched chart) is not searched for ruled tables.
        tables = page.find_tables(_TABLE_SETTINGS) if len(page.edges) <= MAX_EDGES_PER_PAGE else []
        grids = [g for g in (RuledGrid(t.cells, 1.0) for t in tables) if usable(g)]
        content = page_items(number, glyphs, grids, self.tables, float(page.height), furniture=self.margins)
        # A table pasted as a picture among the text: the picture is read by OCR, in its place.
        pictures = _pictures(page, glyphs)
        if pictures:
            scanned = self._ocr(number, self.tables + content.tables, pictures)
            content.items = _merge(content.items, scanned.items)
            content.tables += scanned.tables
        self._add(content)

    def _add(self, content: PageContent) -> None:
        # A footer met again: its copies on the pages before go too (a header on the first page
        # stays, it may be the title).
        repeated = content.margins & {key for key, _ in self.footers}
        if repeated:
            dropped = {id(p) for key, p in self.footers if key in repeated}
            self.items = [item for item in self.items if id(item) not in dropped]
        append_page(self.items, self.previous, content)
        self.previous = content
        self.tables += content.tables
        self.margins |= content.margins
        self.footers += content.footers

    def _ocr_page(self, number: int) -> None:
        self._add(self._ocr(number, self.tables))
        self.ocr_pages += 1

    def read_by_ocr(self, number: int, failure: Exception) -> None:
        """A page pdfminer failed on, read by OCR from PDFium's rendering of it."""
        try:
            self._ocr_page(number)
        except LoadError:
            raise
        except Exception as exc:
            raise LoadError(self.path, f"第{number}页无法解析 (cannot read page {number}: "
                                       f"{type(failure).__name__}: {failure}; {type(exc).__name__}: {exc})") from exc

    def _ocr(self, number: int, first_table: int, regions: list[BBox] | None = None) -> PageContent:
        """The page rendered and read by OCR; only the given regions (in points) when there are any."""
        self.ocr_runs += 1
        limits.check_ocr_pages(self.path, self.ocr_runs)
        from gongkai.read.ocr import ocr_image, page_content

        if regions is None and number in self.prepared:
            recognised, scale = self.prepared.pop(number)
            content = page_content(recognised, number, first_table, scale=1 / scale, furniture=self.margins)
        else:
            image, scale = render_page(self.document, number, regions)
            content = ocr_image(image, number, first_table, scale=1 / scale, furniture=self.margins)
        if content.image is not None:
            content.image.regions = regions
            self.images[number] = content.image
        return content


def render_page(document, number: int, regions: list[BBox] | None = None):
    """Page `number` rendered for OCR: (RGB pixels, pixels per point); only the given regions (in
    points) are kept when there are any."""
    import numpy as np

    pdf_page = document[number - 1]
    try:
        width, height = pdf_page.get_size()
        scale = OCR_DPI / 72
        if width * height * scale * scale > MAX_RENDER_PIXELS:
            scale = (MAX_RENDER_PIXELS / (width * height)) ** 0.5
        bitmap = pdf_page.render(scale=scale, rev_byteorder=True)  # RGB, as the OCR reader takes it
        image = np.array(bitmap.to_pil().convert("RGB"))
        bitmap.close()
    finally:
        pdf_page.close()
    if regions:
        keep = np.zeros(image.shape[:2], dtype=bool)
        for x0, top, x1, bottom in regions:
            keep[max(0, int(top * scale)):int(bottom * scale) + 1, max(0, int(x0 * scale)):int(x1 * scale) + 1] = True
        image[~keep] = 255  # the text layer around the pictures is read already
    return image, scale


def recognise_pdf_page(data: bytes, number: int):
    """(RecognisedPage | None, pixels per point) of one page of a PDF: a piece of work that runs
    anywhere (see _PdfReader.prepare)."""
    from gongkai.read.ocr import recognise_page

    document = _open_pdfium(data, None)
    try:
        image, scale = render_page(document, number)
    finally:
        document.close()
    return recognise_page(image), scale


# A picture covering this share of the page may be a table pasted as an image.
_PICTURE_SHARE = 0.05


def _pictures(page, glyphs: list[Glyph]) -> list[BBox]:
    """Large pictures on a page with text that no text of the page lies on (a picture under an
    invisible OCR layer, or a logo behind the title, is not read again)."""
    area = float(page.width * page.height)
    out: list[BBox] = []
    for image in page.images:
        box = (max(float(image["x0"]), 0.0), max(float(image["top"]), 0.0),
               min(float(image["x1"]), float(page.width)), min(float(image["bottom"]), float(page.height)))
        if (box[2] - box[0]) * (box[3] - box[1]) < _PICTURE_SHARE * area:
            continue
        if any(box[0] <= g.cx <= box[2] and box[1] <= g.cy <= box[3] for g in glyphs):
            continue
        out.append(box)
    return out


def _merge(items: list[Item], inserted: list[Item]) -> list[Item]:
    """Insert a picture's items, as one block, before the first item that stands below its top."""
    if not inserted:
        return items
    top = _top(inserted[0])
    at = next((i for i, item in enumerate(items) if _top(item) > top), len(items))
    return items[:at] + inserted + items[at:]


def _top(item: Item) -> float:
    box = item.source.bbox
    return box[1] if box else 0.0


def _dedupe(glyphs: list[Glyph]) -> list[Glyph]:
    """Drop a character printed again on itself (fake bold: the same text, offset by a point or less).

    pdfplumber's dedupe_chars does this too, at a tenth of the whole read's time; sorting by
    character and line puts each copy next to its original."""
    ordered = sorted(glyphs, key=lambda g: (g.text, round(g.top), g.x0))
    kept: list[Glyph] = []
    for g in ordered:
        last = kept[-1] if kept else None
        if last is not None and last.text == g.text and abs(g.x0 - last.x0) <= 1 and abs(g.top - last.top) <= 1:
            continue
        kept.append(g)
    return kept


def _text(items: list[Item]) -> str:
    return "\n".join("\t".join(item.texts) if isinstance(item, TableRow) else item.text for item in items)
