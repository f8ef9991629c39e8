"""Legacy Office formats through LibreOffice (gongkai.libreoffice): Word (.doc, WPS .wps, .rtf)
converted to DOCX and read as DOCX, workbooks (.xls, WPS .et) converted to XLSX and read as XLSX."""

from __future__ import annotations

from pathlib import Path

from gongkai import libreoffice
from gongkai.document import Document, LoadError
from gongkai.read.docx import read_docx
from gongkai.read.xlsx import read_xlsx

TIMEOUT_SECONDS = libreoffice.TIMEOUT_SECONDS
# The suffix tells LibreOffice which import filter to try first; the content decides in the end.
_SUFFIXES = (".doc", ".wps", ".rtf", ".dot", ".wpt", ".xls", ".et")
_OLE2 = b"\xd0\xcf\x11\xe0"
_RTF = b"{\\rtf"
# Directory names (UTF-16LE) of the streams that hold a word-processing document in an OLE2 file:
# Word and Kingsoft WPS write "WordDocument", Microsoft Works "CONTENTS".
_WORD_STREAM = "WordDocument".encode("utf-16-le")
_WORKS_STREAM = "CONTENTS".encode("utf-16-le")
# Excel 97 and WPS Spreadsheets write "Workbook", Excel 5/95 "Book".
_WORKBOOK_STREAMS = ("Workbook".encode("utf-16-le"), b"B\x00o\x00o\x00k\x00\x00\x00")


def is_spreadsheet(data: bytes) -> bool:
    return data.startswith(_OLE2) and _WORD_STREAM not in data and any(s in data for s in _WORKBOOK_STREAMS)


def _input_name(data: bytes, path: str | None) -> str:
    suffix = Path(path).suffix.lower() if path else ""
    if suffix not in _SUFFIXES:
        suffix = ".rtf" if data.startswith(_RTF) else ".xls" if is_spreadsheet(data) else ".doc"
    return "input" + suffix


def _import_filter(data: bytes, path: str | None) -> str | None:
    """The LibreOffice import filter to insist on. Left to itself, LibreOffice imports a file it does
    not recognise as plain text and 'converts' garbage; with the filter named, a broken file fails."""
    if data.startswith(_RTF):
        return "Rich Text Format"
    if is_spreadsheet(data):
        return "MS Excel 97"
    if _WORD_STREAM in data:
        return "MS Word 97"
    if _WORKS_STREAM in data:
        return None  # Microsoft Works: LibreOffice's detection picks the right one of its filters
    raise LoadError(path, "OLE2 文件中没有文字处理文档或工作簿（可能是演示文稿或已损坏）"
                          "(OLE2 file without a WordDocument or Workbook stream)")


def convert_to_docx(data: bytes, path: str | None, timeout: float = TIMEOUT_SECONDS, target: str = "docx") -> bytes:
    """The file as DOCX bytes (or `target`'s, e.g. xlsx), converted by LibreOffice headless."""
    import_filter = _import_filter(data, path)
    if libreoffice.soffice() is None:
        raise LoadError(path, "需要安装 LibreOffice 才能读取 DOC/WPS/XLS 文件 (LibreOffice not found)")
    try:
        return libreoffice.convert([(_input_name(data, path), data)], target, timeout, import_filter)[0]
    except libreoffice.ConversionError as exc:
        if "超时" in str(exc):
            raise LoadError(path, str(exc)) from exc
        if target == "xlsx" and libreoffice.lacks_calc():
            raise LoadError(path, "需要安装 LibreOffice Calc（libreoffice-calc）才能读取 XLS/ET 工作簿 "
                                  "(LibreOffice is installed without Calc)") from exc
        raise LoadError(path, f"LibreOffice 无法转换该文件，可能已损坏或不是 Office 文档 (to {target.upper()}: {exc})") from exc


def read_office(data: bytes, path: str | None = None) -> Document:
    if not data.startswith((_OLE2, _RTF)):
        raise LoadError(path, "不是 DOC/WPS/XLS/RTF 文件 (not an OLE2 or RTF document)")
    if is_spreadsheet(data):
        doc = read_xlsx(convert_to_docx(data, path, target="xlsx"), path)
    else:
        doc = read_docx(convert_to_docx(data, path), path)
    doc.kind = "office"
    return doc
