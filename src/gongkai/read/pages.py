"""A report photographed or scanned page by page: several images read as one report, by OCR.

Users hand them over as a folder of images, a zip of them, or the files named one after another
(`gongkai parse --pages p1.jpg p2.jpg`). Pages follow the names' natural order (p2 before p10).
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path, PurePosixPath

from gongkai.document import Document, LoadError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp"})
# What a zip of page images may inflate to: a few hundred phone photos.
MAX_UNCOMPRESSED = 1024 * 1024 * 1024


def natural(name: str) -> list[int | str]:
    """Sort key: p2.jpg before p10.jpg."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def _is_page(name: str) -> bool:
    pure = PurePosixPath(name)
    return pure.suffix.lower() in IMAGE_SUFFIXES and not pure.name.startswith(".") and "__MACOSX" not in pure.parts


def is_image_zip(data: bytes) -> bool:
    """Whether a zip holds page images and nothing else of a document (no DOCX or workbook parts)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return False
    return bool(names) and any(_is_page(n) for n in names) and "[Content_Types].xml" not in names


def zip_pages(data: bytes, path: str | None) -> list[tuple[str, bytes]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = sorted((i for i in archive.infolist() if _is_page(i.filename)), key=lambda i: natural(i.filename))
            if sum(i.file_size for i in entries) > MAX_UNCOMPRESSED:
                raise LoadError(path, f"压缩包解压后过大，上限 {MAX_UNCOMPRESSED} 字节 (zip inflates too far)")
            return [(f"{path}:{i.filename}" if path else i.filename, archive.read(i)) for i in entries]
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise LoadError(path, f"压缩包已损坏，无法读取 (unreadable zip: {exc})") from exc


def folder_pages(folder: Path) -> list[Path]:
    return sorted((p for p in folder.iterdir() if p.is_file() and _is_page(p.name)), key=lambda p: natural(p.name))


def read_image_zip(data: bytes, path: str | None = None) -> Document:
    from gongkai.read.ocr import read_pages

    pages = zip_pages(data, path)
    if not pages:
        raise LoadError(path, "压缩包中没有图片 (no page images in the zip)")
    return read_pages(pages, path)
