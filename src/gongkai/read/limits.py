"""Limits on what one document may cost to read: every reader checks its input against these before
the work they bound, so a hostile file (a table a million columns wide, a page of two million text
objects, a stream that inflates to gigabytes, three hundred pages to OCR, a YAML alias bomb) ends
at once with an error naming the limit. docs/limits.md lists them; the environment variables
raise or lower them.

No report comes near any of them: the national format's largest table is 14 columns by 30 rows,
a report is a few to a few dozen pages.
"""

from __future__ import annotations

import io
import os
import zipfile
import zlib
from typing import Any

import yaml

from gongkai.document import LoadError


def _env(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


# Grid columns of one table (HTML's colspan limit is 1000 too) and positions (rows × columns).
MAX_TABLE_COLUMNS = _env("GONGKAI_MAX_TABLE_COLUMNS", 1000)
MAX_TABLE_CELLS = _env("GONGKAI_MAX_TABLE_CELLS", 200_000)
# Pages (or image frames) read by OCR in one document, counted before any is read.
MAX_OCR_PAGES = _env("GONGKAI_MAX_OCR_PAGES", 60)
# A PDF page's drawing instructions once inflated, and a whole document's (pdfminer parses about
# 150 KB of them a second).
MAX_PAGE_CONTENT_BYTES = _env("GONGKAI_MAX_PAGE_CONTENT_BYTES", 4 * 1024 * 1024)
MAX_PDF_CONTENT_BYTES = _env("GONGKAI_MAX_PDF_CONTENT_BYTES", 32 * 1024 * 1024)
# A zip (DOCX, xlsx): what its members inflate to, in all and as a ratio to their packed size.
MAX_UNCOMPRESSED = _env("GONGKAI_MAX_UNCOMPRESSED", 200 * 1024 * 1024)
MAX_RATIO = 100  # XML compresses about 10:1; far more means a member built to inflate
_RATIO_CHECKED_ABOVE = 1024 * 1024  # small members may compress well without harm
# Report data (YAML/JSON): nesting depth and nodes once aliases are expanded.
MAX_DATA_DEPTH = _env("GONGKAI_MAX_DATA_DEPTH", 32)
MAX_DATA_NODES = _env("GONGKAI_MAX_DATA_NODES", 100_000)
MAX_DATA_BYTES = _env("GONGKAI_MAX_DATA_BYTES", 20 * 1024 * 1024)
# A worksheet's used area (rows × columns) in a workbook read as report data.
MAX_SHEET_CELLS = _env("GONGKAI_MAX_SHEET_CELLS", 200_000)


def check_table(path: str | None, rows: int, columns: int, what: str = "表格") -> None:
    """Refuse a table grid before it is filled in."""
    if columns > MAX_TABLE_COLUMNS:
        raise LoadError(path, f"{what}过宽：{columns} 列，上限 {MAX_TABLE_COLUMNS} 列 "
                              f"(table wider than GONGKAI_MAX_TABLE_COLUMNS={MAX_TABLE_COLUMNS})")
    if rows * columns > MAX_TABLE_CELLS:
        raise LoadError(path, f"{what}过大：{rows} 行 × {columns} 列，上限 {MAX_TABLE_CELLS} 格 "
                              f"(table larger than GONGKAI_MAX_TABLE_CELLS={MAX_TABLE_CELLS})")


def check_ocr_pages(path: str | None, pages: int, what: str = "页") -> None:
    if pages > MAX_OCR_PAGES:
        raise LoadError(path, f"需要文字识别的{what}数过多：{pages}，上限 {MAX_OCR_PAGES} "
                              f"(more pages to OCR than GONGKAI_MAX_OCR_PAGES={MAX_OCR_PAGES})")


def check_zip(data: bytes, path: str | None, what: str, max_total: int | None = None) -> list[zipfile.ZipInfo]:
    """The members of a zip, refused before anything is inflated if it would inflate beyond the limits
    (MAX_UNCOMPRESSED in all unless max_total says less, MAX_RATIO for any large member)."""
    max_total = MAX_UNCOMPRESSED if max_total is None else max_total
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise LoadError(path, f"不是 {what} 文件，或文件已损坏、不完整 (not a readable zip: {exc})") from exc
    total = sum(m.file_size for m in members)
    if total > max_total:
        raise LoadError(path, f"{what} 解压后过大：{total} 字节，上限 {max_total} 字节 (zip bomb: inflates beyond the limit)")
    for member in members:
        if member.file_size > _RATIO_CHECKED_ABOVE and member.file_size > MAX_RATIO * max(member.compress_size, 1):
            raise LoadError(path, f"{what} 中 {member.filename} 压缩比异常，上限 {MAX_RATIO}:1 (zip bomb: compression ratio "
                                  f"{member.file_size // max(member.compress_size, 1)}:1)")
    return members


def inflated_size(raw: bytes, limit: int) -> int:
    """How many bytes a Flate stream inflates to, counting no further than limit + 1."""
    inflater = zlib.decompressobj()
    size = 0
    chunk = raw
    try:
        while chunk and size <= limit:
            size += len(inflater.decompress(chunk, 1024 * 1024))
            chunk = inflater.unconsumed_tail
    except zlib.error:
        pass  # a damaged stream: what came out of it is what a reader will get
    return size


class DataLimit(ValueError):
    """Report data beyond a limit: nesting, nodes after alias expansion, a recursive alias."""


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, counting depth and nodes (with aliases expanded) as it composes."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0
        self.sizes: dict[int, int] = {}  # id(node) → its node count with aliases expanded

    def compose_node(self, parent: Any, index: Any) -> Any:
        alias = self.check_event(yaml.AliasEvent)
        self.depth += 1
        try:
            if self.depth > MAX_DATA_DEPTH:
                raise DataLimit(f"数据嵌套超过 {MAX_DATA_DEPTH} 层 (nesting beyond GONGKAI_MAX_DATA_DEPTH={MAX_DATA_DEPTH})")
            node = super().compose_node(parent, index)
        finally:
            self.depth -= 1
        if alias:
            if id(node) not in self.sizes:
                raise DataLimit("数据中的别名引用了自身 (recursive YAML alias)")
            return node
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            children = []
        size = 1 + sum(self.sizes.get(id(child), 1) for child in children)
        if size > MAX_DATA_NODES:
            raise DataLimit(f"数据展开别名后超过 {MAX_DATA_NODES} 项 "
                            f"(more nodes than GONGKAI_MAX_DATA_NODES={MAX_DATA_NODES} once aliases are expanded)")
        self.sizes[id(node)] = size
        return node


def load_yaml(text: str) -> tuple[Any, yaml.Node | None]:
    """YAML (or JSON) as data and its node tree, refused past MAX_DATA_DEPTH levels of nesting or
    MAX_DATA_NODES nodes counted with every alias expanded (a billion-laughs file composes into a
    few nodes that any walk over the data would visit 9⁹ times). YAMLError for what is no YAML."""
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    finally:
        loader.dispose()
