"""The intermediate form every loader produces and the parser reads.

A Document is the report's content in reading order: paragraphs of text and table rows, each
piece with the place it came from. Loaders differ in how they find rows (tabs, one cell per
line, HTML/DOCX grids, PDF geometry, OCR boxes); the parser sees only this.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gongkai.model import Provenance


@dataclass(slots=True)
class TextCell:
    text: str
    source: Provenance
    # A copy of a merged cell's text in a position the merge covers (not its top-left anchor).
    span_copy: bool = False
    confidence: float = 1.0  # OCR confidence; 1.0 for text that was in the file


@dataclass(slots=True)
class Paragraph:
    text: str
    source: Provenance


@dataclass(slots=True)
class TableRow:
    cells: list[TextCell]
    table: int  # index of the table in the document
    source: Provenance

    @property
    def texts(self) -> list[str]:
        return [c.text for c in self.cells]


Item = Paragraph | TableRow


@dataclass(slots=True)
class PageImage:
    """A page as OCR read it (straightened, seals and ruling lines removed), kept so that a doubtful
    figure can be read again from its box: the pixels as PNG bytes, the pixels per unit of the
    page's boxes, and the regions (in those units) OCR read (None: the whole page, a scan)."""

    png: bytes
    scale: float
    text_height: float
    regions: list[tuple[float, float, float, float]] | None = None

    def covers(self, bbox: tuple[float, float, float, float]) -> bool:
        """Whether a box's centre lies in what OCR read of the page."""
        if self.regions is None:
            return True
        x, y = (bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2
        return any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in self.regions)


@dataclass
class Document:
    path: str | None
    kind: str  # text, markdown, html, docx, pdf, ocr
    items: list[Item] = field(default_factory=list)
    # The whole text as the parser's line numbers count it (text-like sources).
    text: str = ""
    # Text the pages show outside the report's body: an HTML page's <title>, a PDF's running
    # header. Where a title may be when the body prints none.
    headers: list[Paragraph] = field(default_factory=list)
    # What the reader had to repair (bytes no encoding could decode, …), for the report's notes.
    notes: list[str] = field(default_factory=list)
    # The pages read by OCR that hold tables, by page number: where a figure can be read again.
    page_images: dict[int, PageImage] = field(default_factory=dict)

    @property
    def rows(self) -> list[TableRow]:
        return [item for item in self.items if isinstance(item, TableRow)]

    @property
    def paragraphs(self) -> list[Paragraph]:
        return [item for item in self.items if isinstance(item, Paragraph)]


class LoadError(Exception):
    """A file that cannot be read as a report; the message names the file and the problem."""

    def __init__(self, path: str | None, problem: str):
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}" if path else problem)
