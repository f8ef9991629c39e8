"""Legacy Word formats (.doc, WPS .wps, .rtf) through LibreOffice (gongkai.libreoffice): converted to
DOCX, then read as DOCX."""

from __future__ import annotations

from pathlib import Path

from gongkai import libreoffice
from gongkai.document import Document, LoadError
from gongkai.read.docx import read_docx

TIMEOUT_SECONDS = libreoffice.TIMEOUT_SECONDS
# The suffix tells LibreOffice which import filter to try first; the content decides in the end.
_SUFFIXES = (".doc", ".wps", ".rtf", ".dot", ".wpt")
_OLE2 = b"\xd0\xcf\x11\xe0"
_RTF = b"{\\rtf"
# Directory names (UTF-16LE) of the streams that hold a word-processing document in an OLE2 file:
# Word and Kingsoft WPS write "WordDocument", Microsoft Works "CONTENTS".
_WORD_STREAM = "WordDocument".encode("utf-16-le")
_WORKS_STREAM = "CONTENTS".encode("utf-16-le")


def _input_name(data: bytes, path: str | None) -> str:
    suffix = Path(path).suffix.lower() if path else ""
    if suffix not in _SUFFIXES:
        suffix = ".rtf" if data.startswith(_RTF) else ".doc"
    return "input" + suffix


def _import_filter(data: bytes, path: str | None) -> str | None:
    """The LibreOffice import filter to insist on. Left to itself, LibreOffice imports a file it does
    not recognise as plain text and 'converts' garbage; with the filter named, a broken file fails."""
    if data.startswith(_RTF):
        return "Rich Text Format"
    if _WORD_STREAM in data:
        return "MS Word 97"
    if _WORKS_STREAM in data:
        return None  # Microsoft Works: LibreOffice's detection picks the right one of its filters
    raise LoadError(path, "OLE2 文件中没有文字处理文档（可能是表格、演示文稿或已损坏）(OLE2 file without a WordDocument stream)")


def convert_to_docx(data: bytes, path: str | None, timeout: float = TIMEOUT_SECONDS) -> bytes:
    """The file as DOCX bytes, converted by LibreOffice headless."""
    import_filter = _import_filter(data, path)
    if libreoffice.soffice() is None:
        raise LoadError(path, "需要安装 LibreOffice 才能读取 DOC/WPS 文件 (LibreOffice not found)")
    try:
        return libreoffice.convert([(_input_name(data, path), data)], "docx", timeout, import_filter)[0]
    except libreoffice.ConversionError as exc:
        if "超时" in str(exc):
            raise LoadError(path, str(exc)) from exc
        raise LoadError(path, f"LibreOffice 无法转换该文件，可能已损坏或不是 Word 文档 ({exc})") from exc


def read_office(data: bytes, path: str | None = None) -> Document:
    if not data.startswith((_OLE2, _RTF)):
        raise LoadError(path, "不是 DOC/WPS/RTF 文件 (not an OLE2 or RTF document)")
    doc = read_docx(convert_to_docx(data, path), path)
    doc.kind = "office"
    return doc
