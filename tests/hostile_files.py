"""Hostile files, generated: each is small on disk and built to cost a reader unbounded time or memory
(a grid, a page count, a decompressed size, a frame count, a nesting depth, an alias expansion)."""

from __future__ import annotations

import io
import zipfile
import zlib

# ---- PDF ------------------------------------------------------------------------------------------


def _deflate(content: bytes | tuple[bytes, int]) -> bytes:
    """Flate data of the content, or of (chunk, times) repeated, built without holding it inflated."""
    chunk, times = content if isinstance(content, tuple) else (content, 1)
    packer = zlib.compressobj(6)
    return b"".join(packer.compress(chunk) for _ in range(times)) + packer.flush()


def pdf(pages: list[bytes | tuple[bytes, int]], *, image: bool = False) -> bytes:
    """A PDF whose pages have these content streams (Flate-compressed), with a Type1 font and,
    when `image`, a small grey picture drawn over the page (what a scan is)."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below
    pages_id = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    picture = add(b"<< /Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceGray "
                  b"/BitsPerComponent 8 /Length 64 >>\nstream\n" + bytes([200]) * 64 + b"\nendstream") if image else 0
    kids = []
    for content in pages:
        data = _deflate(content)
        stream = add(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream")
        resources = b"<< /Font << /F1 %d 0 R >>%s >>" % (font, b" /XObject << /Im1 %d 0 R >>" % picture if image else b"")
        kids.append(add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Resources %s /Contents %d 0 R >>"
                        % (pages_id, resources, stream)))
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id
    objects[pages_id - 1] = b"<< /Type /Pages /Count %d /Kids [%s] >>" % (len(kids), b" ".join(b"%d 0 R" % k for k in kids))
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, catalog, xref))
    return out.getvalue()


def pdf_text_objects(count: int) -> bytes:
    """One page drawing `count` one-character text objects."""
    return pdf([(b"BT /F1 1 Tf 10 10 Td (1) Tj ET\n" * 1000, count // 1000)])


def pdf_flate_bomb(megabytes: int) -> bytes:
    """One page whose content stream inflates to `megabytes` MB of `q Q` (save, restore: nothing drawn)."""
    return pdf([(b"q Q " * (1024 * 1024 // 4), megabytes)])


def pdf_scan(pages: int) -> bytes:
    """A scanned document: every page a picture and no text."""
    return pdf([b"q 595 0 0 842 0 0 cm /Im1 Do Q"] * pages, image=True)


# ---- HTML -----------------------------------------------------------------------------------------


def html_wide_row(width: int, rows: int) -> bytes:
    """A table whose first row has `width` cells and whose other rows have one."""
    first = "<tr>" + "<td>1</td>" * width + "</tr>"
    rest = "<tr><td>1</td></tr>" * rows
    return f"<html><body><p>报告</p><table>{first}{rest}</table></body></html>".encode()


# ---- DOCX -----------------------------------------------------------------------------------------

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)


def docx(body: str) -> bytes:
    """A minimal DOCX with this body XML (w: prefix)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("word/document.xml", f'<w:document xmlns:w="{_W}"><w:body>{body}</w:body></w:document>')
    return out.getvalue()


def _tc(text: str, span: int = 1) -> str:
    props = f'<w:tcPr><w:gridSpan w:val="{span}"/></w:tcPr>' if span > 1 else ""
    return f"<w:tc>{props}<w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:tc>"


def docx_grid_before(columns: int) -> bytes:
    """A row that starts `columns` grid columns to the right."""
    row = f'<w:tr><w:trPr><w:gridBefore w:val="{columns}"/></w:trPr>{_tc("1")}</w:tr>'
    return docx(f"<w:p><w:r><w:t>报告</w:t></w:r></w:p><w:tbl><w:tr>{_tc('a')}</w:tr>{row}</w:tbl>")


def docx_grid_span(rows: int, cells: int, span: int) -> bytes:
    """`rows` rows of `cells` cells, each spanning `span` grid columns."""
    row = "<w:tr>" + _tc("1", span) * cells + "</w:tr>"
    return docx(f"<w:p><w:r><w:t>报告</w:t></w:r></w:p><w:tbl>{row * rows}</w:tbl>")


# ---- images ---------------------------------------------------------------------------------------


def gif_frames(frames: int) -> bytes:
    from PIL import Image

    images = [Image.new("L", (32, 32), 255 - (i % 2)) for i in range(frames)]
    out = io.BytesIO()
    images[0].save(out, format="GIF", save_all=True, append_images=images[1:], duration=10)
    return out.getvalue()


# ---- YAML / JSON data -----------------------------------------------------------------------------


def yaml_laughs_lists(levels: int = 9) -> bytes:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return ("\n".join(lines) + "\n").encode()


def yaml_laughs_mappings(levels: int = 9) -> bytes:
    lines = ["a0: &a0 {k0: lol, k1: lol, k2: lol, k3: lol, k4: lol, k5: lol, k6: lol, k7: lol, k8: lol}"]
    lines += [f"a{i}: &a{i} {{{', '.join(f'k{j}: *a{i - 1}' for j in range(9))}}}" for i in range(1, levels)]
    return ("\n".join(lines) + "\n").encode()


def nested_json(depth: int) -> bytes:
    return ('{"agency": "x", "a": ' + "[" * depth + "]" * depth + "}").encode()


def nested_yaml(depth: int) -> bytes:
    return ("agency: x\na: " + "{b: " * depth + "1" + "}" * depth + "\n").encode()


# ---- xlsx -----------------------------------------------------------------------------------------

_XLSX_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
_XLSX_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>'
)


def xlsx(cells: str, dimension: str = "A1", shared: str = "<si><t>x</t></si>", shared_count: int = 1) -> bytes:
    """A one-sheet workbook with these <row> elements and shared strings (<si> elements)."""
    strings, count = shared, shared_count
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _XLSX_TYPES)
        archive.writestr("_rels/.rels", _XLSX_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/sharedStrings.xml",
                         '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                         f'count="{count}" uniqueCount="{count}">{strings}</sst>')
        archive.writestr("xl/worksheets/sheet1.xml",
                         '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                         f'<dimension ref="{dimension}"/><sheetData>{cells}</sheetData></worksheet>')
    return out.getvalue()


def xlsx_dimension_bomb() -> bytes:
    return xlsx('<row r="1"><c r="A1" t="s"><v>0</v></c></row>', dimension="A1:XFD1048576")


def xlsx_far_cell() -> bytes:
    return xlsx('<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="100000"><c r="ZZ100000" t="s"><v>0</v></c></row>')


def xlsx_shared_strings_bomb(count: int = 5_000_000) -> bytes:
    return xlsx('<row r="1"><c r="A1" t="s"><v>0</v></c></row>', shared="<si><t>x</t></si>" * count, shared_count=count)
