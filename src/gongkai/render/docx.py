"""A report as a Word document in the official layout: A4, title, the six sections and the three
tables with their merged cells where the format draws them (from render/layout.py's grids)."""

from __future__ import annotations

import io

from docx import Document as new_document
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.styles.style import BaseStyle
from docx.table import Table as DocxTable
from docx.table import _Cell
from docx.text.run import Run
from lxml import etree

from gongkai.formats import Table, load_format
from gongkai.model import Report
from gongkai.render.layout import Grid, anchors, table_grid
from gongkai.text import printable

# The fonts Chinese government documents are set in; the fonts table names the free CJK fonts
# as their alternates, and LibreOffice falls back to the installed Noto CJK glyphs in any case.
BODY_FONT = "仿宋_GB2312"
TITLE_FONT = "SimSun"
HEADING_FONT = "SimHei"
LATIN_FONT = "Times New Roman"
_ALTERNATES = {BODY_FONT: "Noto Serif CJK SC", TITLE_FONT: "Noto Serif CJK SC", HEADING_FONT: "Noto Sans CJK SC"}

_PAGE_WIDTH, _PAGE_HEIGHT = Mm(210), Mm(297)
_MARGIN_TOP, _MARGIN_SIDE = Mm(25), Mm(22)
_TEXT_WIDTH = _PAGE_WIDTH - 2 * _MARGIN_SIDE
_TABLE_FONT_SIZE = Pt(9)
_NARROW_TABLE_FONT_SIZE = Pt(7.5)  # table 四 prints fifteen columns side by side
_THEME_ATTRIBUTES = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")


def _set_fonts(r_pr: etree._Element, east_asia: str, latin: str = LATIN_FONT) -> None:
    """Name the fonts of a run or style explicitly: theme fonts would win over a plain name."""
    fonts = r_pr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        r_pr.insert(0, fonts)
    for attribute in _THEME_ATTRIBUTES:
        fonts.attrib.pop(qn(attribute), None)
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    fonts.set(qn("w:cs"), latin)
    fonts.set(qn("w:eastAsia"), east_asia)


def style_fonts(style: BaseStyle, east_asia: str, size: Pt, bold: bool = False) -> None:
    """A style in the official fonts, in black, marked Simplified Chinese."""
    style.font.size = size
    style.font.bold = bold
    style.font.color.rgb = RGBColor(0, 0, 0)
    r_pr = style.element.get_or_add_rPr()
    _set_fonts(r_pr, east_asia)
    # The language picks Simplified Chinese glyphs when a viewer falls back to another CJK font.
    lang = r_pr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        r_pr.append(lang)
    lang.set(qn("w:val"), "zh-CN")
    lang.set(qn("w:eastAsia"), "zh-CN")


def run_fonts(run: Run, east_asia: str) -> Run:
    """A run in the given CJK font (and the Latin one): the same fonts in every viewer."""
    _set_fonts(run._r.get_or_add_rPr(), east_asia)
    return run


def _add_run(paragraph, text: str, east_asia: str) -> Run:
    """A run of text from the report: characters XML cannot hold dropped, the rest as written."""
    return run_fonts(paragraph.add_run(printable(text)), east_asia)


def declare_alternate_fonts(document) -> None:
    """Add the CJK fonts to word/fontTable.xml with their free alternates (w:altName)."""
    part = next((p for p in document.part.package.iter_parts() if p.partname.endswith("/fontTable.xml")), None)
    if part is None:
        return
    root = etree.fromstring(part.blob)
    known = {font.get(qn("w:name")) for font in root.findall(qn("w:font"))}
    for name, alternate in _ALTERNATES.items():
        if name in known:
            continue
        font = etree.SubElement(root, qn("w:font"))
        font.set(qn("w:name"), name)
        alt = etree.SubElement(font, qn("w:altName"))
        alt.set(qn("w:val"), alternate)
        charset = etree.SubElement(font, qn("w:charset"))
        charset.set(qn("w:val"), "86")  # GB2312
        family = etree.SubElement(font, qn("w:family"))
        family.set(qn("w:val"), "modern" if name == HEADING_FONT else "roman")
    # python-docx keeps parts it does not model as bytes; replacing them is how to edit one.
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)




def _column_widths(table: Table, width: int) -> list[int]:
    """Label columns as wide as the format says; figure columns share the rest."""
    labels = [Mm(w) for w in table.label_widths]
    rest = _TEXT_WIDTH - sum(labels)
    figures = width - len(labels)
    return labels + [int(rest / figures)] * figures


def _add_table(document, table: Table, grid: Grid) -> DocxTable:
    placed = anchors(grid)
    height = max(r + cell.rowspan for r, _, cell in placed)
    width = max(c + cell.colspan for _, c, cell in placed)
    out = document.add_table(rows=height, cols=width)
    out.style = document.styles["Table Grid"]
    out.alignment = WD_TABLE_ALIGNMENT.CENTER
    out.autofit = False
    widths = _column_widths(table, width)
    for grid_col, column_width in zip(out._tbl.tblGrid.gridCol_lst, widths, strict=True):
        grid_col.w = column_width
    # A row split across a page break prints a label's last characters on the next page, where
    # neither readers nor people find them: each row stays whole. The header rows (those above the
    # first figure) repeat on every page the table runs onto.
    header_rows = next((r for r, row in enumerate(grid) if any(cell.key for cell in row)), 0)
    for r, tr in enumerate(out._tbl.tr_lst):
        tr_pr = tr.get_or_add_trPr()
        tr_pr.append(OxmlElement("w:cantSplit"))
        if r < header_rows and all(cell.header for cell in grid[r]):
            tr_pr.append(OxmlElement("w:tblHeader"))
    # The cells fetched once: Table.cell() walks the whole table on every call.
    cells = [[_Cell(tc, out) for tc in tr.tc_lst] for tr in out._tbl.tr_lst]
    for row in cells:
        for cell, column_width in zip(row, widths, strict=True):
            cell.width = column_width
    size = _NARROW_TABLE_FONT_SIZE if table.layout == "line" else _TABLE_FONT_SIZE
    for r, c, grid_cell in placed:
        # Merging in reading order never covers a cell still to be merged or filled.
        cell = cells[r][c]
        if grid_cell.rowspan > 1 or grid_cell.colspan > 1:
            cell = cell.merge(cells[r + grid_cell.rowspan - 1][c + grid_cell.colspan - 1])
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        paragraph = cell.paragraphs[0]
        # Row labels read left to right; headers and figures are centred as the format prints them.
        row_label = grid_cell.header and c < width - 1 and not all(g.header for g in grid[r])
        paragraph.alignment = WD_ALIGN_PARAGRAPH.LEFT if row_label else WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.space_before = Pt(0)
        paragraph.paragraph_format.space_after = Pt(0)
        paragraph.paragraph_format.first_line_indent = Pt(0)
        # The header rows and the first row of figures stay on one page: a header never ends a page.
        paragraph.paragraph_format.keep_with_next = r < header_rows
        run = _add_run(paragraph, grid_cell.text, BODY_FONT)
        run.font.size = size
    return out


def render_docx(report: Report) -> bytes:
    fmt = load_format(report.format)
    title = report.title or fmt.default_title(report.agency, report.year)
    document = new_document()
    section = document.sections[0]
    section.page_width, section.page_height = _PAGE_WIDTH, _PAGE_HEIGHT
    section.top_margin = section.bottom_margin = _MARGIN_TOP
    section.left_margin = section.right_margin = _MARGIN_SIDE
    style_fonts(document.styles["Normal"], BODY_FONT, Pt(14))
    style_fonts(document.styles["Title"], TITLE_FONT, Pt(20), bold=True)
    style_fonts(document.styles["Heading 1"], HEADING_FONT, Pt(15))
    declare_alternate_fonts(document)
    # Word's document properties hold at most 255 characters.
    document.core_properties.title = printable(title)[:255]
    document.core_properties.author = printable(report.agency or "")[:255]

    heading = document.add_paragraph(style="Title")
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _add_run(heading, title, TITLE_FONT)
    texts = {s.number: s.text for s in report.sections}
    by_section = {t.section: t for t in fmt.tables}
    for fmt_section in fmt.sections:
        paragraph = document.add_paragraph(style="Heading 1")
        _add_run(paragraph, f"{fmt_section.number}、{fmt_section.title}", HEADING_FONT)
        for line in texts.get(fmt_section.number, "").splitlines():
            if line.strip():
                body = document.add_paragraph()
                body.paragraph_format.first_line_indent = Pt(28)  # two characters, as official documents indent
                _add_run(body, line.strip(), BODY_FONT)
        table = by_section.get(fmt_section.number)
        if table is not None:
            document.paragraphs[-1].paragraph_format.keep_with_next = True  # the heading stays with its table
            _add_table(document, table, table_grid(table, report, fmt))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
