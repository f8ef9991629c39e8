"""Legacy Office formats through LibreOffice: Word (.doc, WPS .wps, .rtf) converted to DOCX and read
as DOCX, workbooks (.xls, WPS .et) converted to XLSX and read as XLSX. Each conversion runs in its
own temporary directory with its own LibreOffice profile, so conversions running side by side do not
fight over a profile lock, and is killed when it overruns."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from gongkai.document import Document, LoadError
from gongkai.read.docx import read_docx
from gongkai.read.xlsx import read_xlsx

TIMEOUT_SECONDS = float(os.environ.get("GONGKAI_SOFFICE_TIMEOUT", 120))
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


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


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
    program = soffice()
    if program is None:
        raise LoadError(path, "需要安装 LibreOffice 才能读取 DOC/WPS 文件 (LibreOffice not found)")
    with tempfile.TemporaryDirectory(prefix="gongkai-office-") as tmp:
        work = Path(tmp)
        source = work / _input_name(data, path)
        source.write_bytes(data)
        out_dir = work / "out"
        command = [program, "--headless", "--norestore", "--nologo", f"-env:UserInstallation={(work / 'profile').as_uri()}",
                   *([f"--infilter={import_filter}"] if import_filter else []),
                   "--convert-to", target, "--outdir", str(out_dir), str(source)]
        # A session of its own: soffice starts soffice.bin, and a timeout must end both.
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                   start_new_session=True, env={**os.environ, "HOME": str(work)})
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise LoadError(path, f"LibreOffice 转换超时（{timeout:g} 秒）(conversion timed out)") from exc
        result = out_dir / f"{source.stem}.{target}"
        if process.returncode != 0 or not result.is_file() or result.stat().st_size == 0:
            said = (stderr + stdout).decode("utf-8", "replace").strip().splitlines()
            errors = [line for line in said if "rror" in line]  # not the javaldx warning it always prints
            detail = (errors or said or [f"exit status {process.returncode}"])[-1]
            raise LoadError(path, f"LibreOffice 无法转换该文件，可能已损坏或不是 Office 文档 "
                                  f"(conversion to {target.upper()} failed: {detail})")
        return result.read_bytes()


def read_office(data: bytes, path: str | None = None) -> Document:
    if not data.startswith((_OLE2, _RTF)):
        raise LoadError(path, "不是 DOC/WPS/RTF 文件 (not an OLE2 or RTF document)")
    if is_spreadsheet(data):
        doc = read_xlsx(convert_to_docx(data, path, target="xlsx"), path)
        doc.kind = "office"
        return doc
    doc = read_docx(convert_to_docx(data, path), path)
    doc.kind = "office"
    return doc
