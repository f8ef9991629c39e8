"""A report as PDF in the official layout (its DOCX converted by LibreOffice, gongkai.libreoffice),
and a page of a PDF as a PNG image (pypdfium2)."""

from __future__ import annotations

from gongkai import libreoffice
from gongkai.model import Report

CONVERT_TIMEOUT = libreoffice.TIMEOUT_SECONDS


class RenderError(RuntimeError):
    """A report that could not be rendered; the message says why (in Chinese and English)."""


def render_pdf(report: Report, timeout: float = CONVERT_TIMEOUT) -> bytes:
    """The report's DOCX (gongkai.render.docx) converted to PDF by LibreOffice."""
    return render_pdfs([report], timeout)[0]


def render_pdfs(reports: list[Report], timeout: float = CONVERT_TIMEOUT) -> list[bytes]:
    """Several reports as PDFs in one LibreOffice run (starting LibreOffice costs more than a page)."""
    from gongkai.render.docx import render_docx

    return convert_to_pdf([(f"report{i}.docx", render_docx(r)) for i, r in enumerate(reports)], timeout)


def convert_to_pdf(documents: list[tuple[str, bytes]], timeout: float = CONVERT_TIMEOUT,
                   export_filter: str = "pdf") -> list[bytes]:
    """Convert documents LibreOffice can open (DOCX, HTML, ODT, …), given as (file name, bytes),
    to PDFs, in one run.

    export_filter is LibreOffice's --convert-to argument: "pdf", or "pdf:writer_pdf_Export:{…}"
    with export options (a password, PDF/A)."""
    try:
        return libreoffice.convert(documents, export_filter, timeout)
    except libreoffice.ConversionError as exc:
        raise RenderError(str(exc)) from exc


def render_png(pdf: bytes, page: int = 1, dpi: int = 150) -> bytes:
    """Page `page` (1-based) of a PDF as a PNG at `dpi`."""
    import io

    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        if not 1 <= page <= len(document):
            raise RenderError(f"PDF 没有第 {page} 页 (no page {page}; the PDF has {len(document)})")
        bitmap = document[page - 1].render(scale=dpi / 72)
        image = bitmap.to_pil().convert("RGB")
        out = io.BytesIO()
        image.save(out, "PNG", dpi=(dpi, dpi))
        return out.getvalue()
    finally:
        document.close()
