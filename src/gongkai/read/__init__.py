"""File → Document. The reader is chosen by what the bytes are, not by the file's name.

Each reader is a function `(data: bytes, path: str | None) -> Document` registered under a kind
in READERS; sniff() names the kind. Readers for heavy formats import their libraries lazily so
that reading a text report costs nothing more.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path

from gongkai.document import Document, LoadError
from gongkai.read.text import decode_noting, read_text

# Larger files are refused before they are read: no report comes near it.
MAX_BYTES = int(os.environ.get("GONGKAI_MAX_BYTES", 100 * 1024 * 1024))

Reader = Callable[[bytes, "str | None"], Document]


def _text(data: bytes, path: str | None) -> Document:
    text, notes = decode_noting(data, path)
    kind = "markdown" if path and path.lower().endswith((".md", ".markdown")) else "text"
    document = read_text(text, path, kind)
    document.notes.extend(notes)
    return document


# kind → "module:function" (imported when first needed) or a function.
READERS: dict[str, str | Reader] = {
    "text": _text,
    "html": "gongkai.read.html:read_html",
    "docx": "gongkai.read.docx:read_docx",
    "xlsx": "gongkai.read.xlsx:read_xlsx",
    "office": "gongkai.read.office:read_office",
    "pdf": "gongkai.read.pdf:read_pdf",
    "image": "gongkai.read.ocr:read_image",
    "pages": "gongkai.read.pages:read_image_zip",
}


def sniff(data: bytes, path: str | None = None) -> str:
    """The kind of document the bytes hold."""
    head = data[:4096]
    if head.startswith(b"%PDF") or b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        from gongkai.read.pages import is_image_zip
        from gongkai.read.xlsx import is_workbook

        # The DOCX reader says so clearly when the zip is none of these.
        return "xlsx" if is_workbook(data) else "pages" if is_image_zip(data) else "docx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "office"  # OLE2: .doc, .wps, .xls, .et
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"BM", b"GIF8")) or (
        head.startswith(b"RIFF") and head[8:12] == b"WEBP"
    ):
        return "image"
    if head.startswith(b"{\\rtf"):
        return "office"
    lowered = head.lower()
    if any(tag in lowered for tag in (b"<html", b"<!doctype html", b"<table", b"<body", b"<p>", b"<div")):
        return "html"
    return "text"


def _resolve(kind: str) -> Reader:
    target = READERS.get(kind)
    if target is None:
        raise LoadError(None, f"不支持的文件类型 {kind} (unsupported document type)")
    if callable(target):
        return target
    module, _, func = target.partition(":")
    try:
        return getattr(importlib.import_module(module), func)
    except ImportError as exc:
        raise LoadError(None, f"读取 {kind} 文件所需的组件未安装 (reader for {kind} unavailable: {exc})") from exc


def read_bytes(data: bytes, path: str | None = None, kind: str | None = None) -> Document:
    kind = kind or sniff(data, path)
    try:
        return _resolve(kind)(data, path)
    except LoadError as exc:
        if exc.path is None:
            raise LoadError(path, exc.problem) from exc
        raise


def read(path: str | os.PathLike[str], kind: str | None = None) -> Document:
    """Read a report file into a Document; LoadError names the file and the problem."""
    p = Path(path)
    name = str(path)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise LoadError(name, f"无法读取文件 (cannot read: {exc.strerror or exc})") from exc
    if p.is_dir():
        from gongkai.read.pages import folder_pages

        if pages := folder_pages(p):  # a report photographed page by page
            return read_pages(pages, name)
        raise LoadError(name, "是目录而不是文件，且其中没有页面图片 (is a directory without page images)")
    if size > MAX_BYTES:
        raise LoadError(name, f"文件过大：{size} 字节，上限 {MAX_BYTES} 字节 (file too large)")
    if size == 0:
        raise LoadError(name, "文件为空 (empty file)")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise LoadError(name, f"无法读取文件 (cannot read: {exc.strerror or exc})") from exc
    return read_bytes(data, name, kind)


def read_pages(paths: list[str | os.PathLike[str]], name: str | None = None) -> Document:
    """Page images read as one report, in the order given (`gongkai parse --pages p1.jpg p2.jpg`)."""
    from gongkai.read.ocr import read_pages as ocr_pages

    if not paths:
        raise LoadError(name, "没有页面图片 (no page images)")
    pages = []
    for path in paths:
        p = Path(path)
        try:
            size = p.stat().st_size
            if size > MAX_BYTES:
                raise LoadError(str(path), f"文件过大：{size} 字节，上限 {MAX_BYTES} 字节 (file too large)")
            pages.append((str(path), p.read_bytes()))
        except OSError as exc:
            raise LoadError(str(path), f"无法读取文件 (cannot read: {exc.strerror or exc})") from exc
    return ocr_pages(pages, name or (str(paths[0]) if paths else None))
