"""A report as PDF in the official layout (its DOCX converted by LibreOffice), and a page of a PDF
as a PNG image (pypdfium2).

LibreOffice runs headless with a profile of its own in a temporary directory, so conversions do
not touch, or wait for, a user's running office; a conversion that hangs is killed at the timeout.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from gongkai.model import Report

CONVERT_TIMEOUT = float(os.environ.get("GONGKAI_SOFFICE_TIMEOUT", 180))


class RenderError(RuntimeError):
    """A report that could not be rendered; the message says why (in Chinese and English)."""


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


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
    soffice = soffice_path()
    if soffice is None:
        raise RenderError("未找到 LibreOffice (soffice)，无法生成 PDF (LibreOffice is not installed: apt-get install libreoffice-writer)")
    stems = [Path(name).stem for name, _ in documents]
    if len(set(stems)) != len(stems):
        raise RenderError("待转换的文件重名 (two documents with the same name)")
    with tempfile.TemporaryDirectory(prefix="gongkai-soffice-") as tmp:
        sources = []
        for name, data in documents:
            source = Path(tmp) / "in" / Path(name).name
            source.parent.mkdir(exist_ok=True)
            source.write_bytes(data)
            sources.append(source)
        out = Path(tmp) / "out"
        command = [soffice, "--headless", "--norestore", "--nolockcheck", "--nodefault",
                   f"-env:UserInstallation={(Path(tmp) / 'profile').as_uri()}",
                   "--convert-to", export_filter, "--outdir", str(out), *map(str, sources)]
        # A session of its own: on a timeout the whole office process group is killed.
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                                   env={**os.environ, "HOME": tmp})
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise RenderError(f"LibreOffice 转换超时（{timeout:.0f} 秒） (conversion timed out)") from exc
        pdfs = [out / (source.stem + ".pdf") for source in sources]
        missing = [pdf.name for pdf in pdfs if not pdf.is_file()]
        if process.returncode != 0 or missing:
            detail = (stderr or stdout).decode("utf-8", "replace").strip().splitlines()
            raise RenderError(f"LibreOffice 转换失败 (conversion failed, exit {process.returncode}, missing {missing}: "
                              f"{detail[-1] if detail else 'no output'})")
        return [pdf.read_bytes() for pdf in pdfs]


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
