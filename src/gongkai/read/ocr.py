"""Images and scanned pages → Document by offline OCR (rapidocr; its ONNX models ship in its wheel).

The engine detects text lines and recognises each with a box per character. Tables are rebuilt
from the ruling lines the image shows: OpenCV morphology keeps the long horizontal and vertical
strokes, and pdfplumber's own edge → intersection → cell logic turns them into cells, so the
grid is built exactly as for a PDF with a text layer (gongkai.read.page). Each recognised
character goes to the cell holding its centre: a line the detector drew across a cell border is
split at the border, and a cell with nothing in it stays blank. A table without ruling lines is
read as in a PDF: rows from the wide gaps in a line, columns from the figures' positions. A scan
turned by up to 10° is first straightened by its table lines.

In a cell that holds a figure, the letters OCR confuses with digits (O for 0, l for 1) are read as
the digits, and digits split by a space are joined; nothing else is changed. A low-confidence
figure stays a figure: its TextCell carries the recognition score as `confidence`.

Boxes in provenance: pixels of the image for read_image (x0, top, x1, bottom from its top-left
corner; of the straightened image when it was turned); PDF points for scanned PDF pages.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import threading
import warnings
from collections.abc import Callable, Iterator, Set
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gongkai.document import Document, Item, LoadError, PageImage, TableRow
from gongkai.read import limits
from gongkai.read.page import MAX_PAGES, Glyph, PageContent, RuledGrid, append_page, page_items, usable
from gongkai.text import parse_number

# Recognitions scoring below this are noise; anything above is kept with its score.
MIN_SCORE = 0.1
# Larger images are refused before they are decoded (a decompression bomb fits in a few kB).
MAX_PIXELS = 80_000_000
# Images are OCR'd at most this size on their longer side; larger scans are scaled down.
MAX_SIDE = 3500
# The models rapidocr 3.10 ships: named here so a missing file is a clear error, never a download.
_MODELS = {"Det": "PP-OCRv6_det_small.onnx", "Rec": "PP-OCRv6_rec_small.onnx", "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx"}

_engine: Any = None
_engine_lock = threading.Lock()  # the engine keeps per-call settings on itself: one call at a time


def _load_engine() -> Any:
    import rapidocr
    from rapidocr import RapidOCR

    logging.getLogger("RapidOCR").setLevel(logging.ERROR)
    models = Path(rapidocr.__file__).parent / "models"
    params: dict[str, Any] = {
        "Global.log_level": "error",
        "Global.use_cls": False,  # pages are upright; the classifier only turns upside-down lines
        "Global.text_score": MIN_SCORE,
        # The detector scores a lone small figure (a 0 in a narrow cell) lower than a line of text:
        # its default threshold (0.5) drops some of them, and a dropped figure would read as blank.
        "Det.box_thresh": 0.35,
        "Global.model_root_dir": str(models),
        # All cores by default; a process among several (a parallel ingest) may ask for fewer.
        "EngineConfig.onnxruntime.intra_op_num_threads": int(os.environ.get("GONGKAI_OCR_THREADS", -1)),
    }
    for stage, name in _MODELS.items():
        model = models / name
        if not model.is_file():
            raise LoadError(None, f"OCR 模型文件缺失 (OCR model missing from the rapidocr wheel: {model})")
        params[f"{stage}.model_path"] = str(model)
    return RapidOCR(params=params)


def engine() -> Any:
    """The OCR engine, loaded once per process."""
    global _engine
    if _engine is None:
        with _engine_lock:
            if _engine is None:
                _engine = _load_engine()
    return _engine


# --- reading an image file -------------------------------------------------------------------------


def read_image(data: bytes, path: str | None = None) -> Document:
    return read_pages([(path, data)], path)


def read_pages(pages: list[tuple[str | None, bytes]], path: str | None = None) -> Document:
    """Images, each of one page or more (TIFF frames), read as the pages of one report in order."""
    from PIL import Image

    items: list[Item] = []
    images: dict[int, PageImage] = {}
    previous: PageContent | None = None
    margins: set[str] = set()
    tables = 0
    number = 0
    for name, data in pages:
        try:
            for frame in _frames(data, name):
                number += 1
                if number > MAX_PAGES:
                    raise LoadError(path, f"图片页数过多，上限 {MAX_PAGES} 页 (too many frames)")
                pixels, ratio = _rgb(frame)
                content = ocr_image(pixels, number, tables, scale=1 / ratio, furniture=margins)  # boxes in the file's pixels
                append_page(items, previous, content)
                previous = content
                tables += content.tables
                margins |= content.margins
                if content.image is not None:
                    images[number] = content.image
        except LoadError as exc:
            raise LoadError(name, exc.problem) from exc
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
            raise LoadError(name, f"图片文件已损坏，无法读取 (corrupt image: {exc})") from exc
    if not items:
        raise LoadError(path, "图片中未识别出文字 (no text recognised in the image)")
    return Document(path=path, kind="ocr", items=items, page_images=images,
                    text="\n".join("\t".join(i.texts) if isinstance(i, TableRow) else i.text for i in items))


def _frames(data: bytes, path: str | None):
    """The frames of an image file (a TIFF's pages), the first turned upright as its EXIF says."""
    from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # refused below, by a lower limit
            image = Image.open(io.BytesIO(data))
        width, height = image.size
    except Image.DecompressionBombError as exc:
        raise LoadError(path, f"图片过大 (image too large: {exc})") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise LoadError(path, f"无法识别的图片文件 (cannot decode image: {exc})") from exc
    if width * height > MAX_PIXELS:
        raise LoadError(path, f"图片过大：{width}×{height} 像素 (image too large)")
    try:
        frames = getattr(image, "n_frames", 1)
    except (OSError, ValueError, EOFError, SyntaxError) as exc:
        raise LoadError(path, f"图片文件已损坏，无法读取 (corrupt image: {exc})") from exc
    limits.check_ocr_pages(path, frames, "图片帧")  # before the first frame is read
    for number, frame in enumerate(ImageSequence.Iterator(image), 1):
        yield ImageOps.exif_transpose(frame) if number == 1 else frame


def _rgb(frame) -> tuple[np.ndarray, float]:
    """Pixels as 8-bit RGB on white, scaled down to MAX_SIDE, and the scale applied."""
    from PIL import Image

    if frame.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        # 16-bit and float scans: stretched to 8 bits (a plain conversion clips them to white).
        values = np.asarray(frame, dtype=np.float64)
        low, high = float(values.min()), float(values.max())
        frame = Image.fromarray(((values - low) * (255 / max(high - low, 1e-9))).astype(np.uint8))
    if frame.mode in ("RGBA", "LA", "PA") or (frame.mode == "P" and "transparency" in frame.info):
        rgba = frame.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        frame = Image.alpha_composite(background, rgba)
    frame = frame.convert("RGB")
    ratio = 1.0
    if max(frame.size) > MAX_SIDE:
        ratio = MAX_SIDE / max(frame.size)
        frame = frame.resize((round(frame.width * ratio), round(frame.height * ratio)), Image.Resampling.LANCZOS)
    return np.asarray(frame), ratio


# --- one page ---------------------------------------------------------------------------------------


def ocr_image(rgb: np.ndarray, page: int, first_table: int, scale: float = 1.0,
              furniture: Set[str] = frozenset()) -> PageContent:
    """One page image (H×W×3 RGB) → its items in reading order (and the tables found).

    Boxes in the items are pixel positions multiplied by scale (72/dpi gives PDF points)."""
    return page_content(recognise_page(rgb), page, first_table, scale, furniture)


@dataclass
class RecognisedPage:
    """What OCR saw on a page, before it is placed among the pages around it: the costly half of
    ocr_image, which needs nothing from the other pages (so pages can be recognised anywhere)."""

    glyphs: list[Glyph]
    grids: list[RuledGrid]
    height: float
    image: bytes  # the page as read (PNG): where a doubtful figure is read again
    text_height: float


def recognise_page(rgb: np.ndarray) -> RecognisedPage | None:
    """The text and tables on one page image; None when no text is found."""
    if rgb.ndim == 3:
        rgb = remove_seals(rgb)
    gray = rgb.mean(axis=2).astype(np.uint8) if rgb.ndim == 3 else rgb
    if (flat := perspective(gray)) is not None:
        rgb = _warp(rgb, flat)
        gray = rgb.mean(axis=2).astype(np.uint8) if rgb.ndim == 3 else rgb
    angle = skew(gray)
    if angle:
        rgb = _rotate(rgb, -angle)  # turned back level
        gray = rgb.mean(axis=2).astype(np.uint8)
    found = ruling(gray)
    if found.lines is not None:
        rgb = rgb.copy()
        rgb[found.lines] = 255
    boxes = _recognise(rgb)
    if not boxes:
        return None
    grids = [g for g in (RuledGrid(cells, 2.0) for cells in found.tables) if usable(g)]
    glyphs: list[Glyph] = []
    for box in boxes:
        glyphs += _split(box, grids)
    glyphs += _missed(rgb, grids, glyphs, found.text_height)
    return RecognisedPage(glyphs, grids, float(rgb.shape[0]), _png(rgb), found.text_height)


def _png(rgb: np.ndarray) -> bytes:
    import cv2

    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(rgb[:, :, ::-1]) if rgb.ndim == 3 else rgb)
    return encoded.tobytes() if ok else b""


def page_content(recognised: RecognisedPage | None, page: int, first_table: int, scale: float = 1.0,
                 furniture: Set[str] = frozenset()) -> PageContent:
    if recognised is None:
        return PageContent([])
    content = page_items(page, recognised.glyphs, recognised.grids, first_table, recognised.height, scale, value_text,
                         furniture)
    if content.tables and recognised.image:
        content.image = PageImage(recognised.image, 1 / scale, recognised.text_height)
    return content


# --- pages recognised elsewhere ---------------------------------------------------------------------
# A scanned PDF's pages can be recognised in parallel (on a Dask cluster: gongkai.store.cluster) and
# joined in order. The mapper is given the function, the bytes every call shares and the page numbers.

PageMapper = Callable[[Callable[..., Any], bytes, list[int]], list[Any]]
_page_mapper: ContextVar[PageMapper | None] = ContextVar("gongkai_page_mapper", default=None)


@contextlib.contextmanager
def page_map(mapper: PageMapper) -> Iterator[None]:
    """Within the block, a scanned PDF's pages are recognised through `mapper`."""
    token = _page_mapper.set(mapper)
    try:
        yield
    finally:
        _page_mapper.reset(token)


def page_mapper() -> PageMapper | None:
    return _page_mapper.get()


# Red seal ink: red well above green and blue. Black print under it stays black (dark in all three).
_SEAL_RED = 60
_SEAL_MIN_RED = 120


def remove_seals(rgb: np.ndarray) -> np.ndarray:
    """The image with red official seals (公章) turned white: the ring, the star and the words inside
    it, wherever red ink forms a roughly round shape many characters wide. Red text lines (a red
    letterhead) are thin and stay; black print under a seal stays, being dark in every channel."""
    import cv2

    channels = rgb.astype(np.int16)
    red = (channels[..., 0] - np.maximum(channels[..., 1], channels[..., 2]) > _SEAL_RED) & \
        (channels[..., 0] > _SEAL_MIN_RED)
    if np.count_nonzero(red) < 50:
        return rgb
    joined = cv2.dilate(red.astype(np.uint8), np.ones((7, 7), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    least = max(40, min(rgb.shape[:2]) / 25)  # a seal is some 4 cm across; a character far less
    out = rgb
    for label in range(1, count):
        x, y, w, h, _ = stats[label]
        if w >= least and h >= least and 0.5 <= w / h <= 2:
            if out is rgb:
                out = rgb.copy()
            area = out[y:y + h, x:x + w]
            area[red[y:y + h, x:x + w]] = 255
    return out


def _missed(rgb: np.ndarray, grids: list[RuledGrid], glyphs: list[Glyph], text_height: float) -> list[Glyph]:
    """Text in cells the detector found nothing in: each cell with ink in it (its lines erased) is
    read on its own. The detector passes over a lone small figure now and then (a 0 in a row of
    0s); without this the figure would read as a blank cell, a null."""
    import cv2

    taken = set()
    for g in glyphs:
        for grid in grids:
            anchor = grid.locate(g.cx, g.cy)
            if anchor is not None:
                taken.add(id(anchor))
    gray = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY) if rgb.ndim == 3 else rgb
    out = []
    for grid in grids:
        anchors = {id(a): a for row in grid.pos for a in row if a is not None and id(a) not in taken}
        for anchor in anchors.values():
            ink = _ink_box(gray, anchor.bbox, text_height)
            if ink is None:
                continue
            c0, y0, c1, y1 = ink
            text, score = _read_line(rgb[y0:y1, c0:c1])
            if text:
                out.append(Glyph(text, float(c0), float(y0), float(c1), float(y1), confidence=score))
    return out


def _ink_box(gray: np.ndarray, cell: tuple[float, float, float, float], text_height: float,
             inset: int | None = None) -> tuple[int, int, int, int] | None:
    """The ink inside a cell's box (x0, top, x1, bottom in pixels), padded; None when the cell is
    empty or holds a speck. What is left of a border, and anti-aliasing, along the edges is passed
    over (`inset`, by default an eighth of a character)."""
    inset = max(2, round(text_height / 8)) if inset is None else inset
    x0, top, x1, bottom = (max(0, round(v)) for v in cell)
    area = gray[top + inset:bottom - inset, x0 + inset:x1 - inset]
    if area.size == 0:
        return None
    ys, xs = np.nonzero(area < 128)
    if len(ys) < 8 or ys.max() - ys.min() < text_height / 3:
        return None
    pad = max(2, round(text_height / 4))
    return (max(0, x0 + inset + int(xs.min()) - pad), max(0, top + inset + int(ys.min()) - pad),
            x0 + inset + int(xs.max()) + pad + 1, top + inset + int(ys.max()) + pad + 1)


# --- reading a figure again -------------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    text: str  # with OCR's digit confusions undone (value_text)
    score: float
    how: str  # which way the crop was prepared, in Chinese for the report's notes


def _variants(crop: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """A figure's crop prepared the ways that undo what most often misleads the recogniser on a
    whole page: the crop alone (the page's text detector cut a digit off, or joined a mark to it),
    enlarged, smoothed (speckled or broken print), and with coloured marks left out (a reviewer's
    pen tick; black print is dark in every channel)."""
    import cv2

    channels = crop.astype(np.int16)
    ink_only = crop.copy()
    ink_only[channels.max(axis=2) - channels.min(axis=2) > 60] = 255
    return [
        ("单独裁切", crop),
        ("放大两倍", cv2.resize(crop, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)),
        ("平滑", cv2.GaussianBlur(crop, (3, 3), 0)),
        ("去除彩色笔迹", ink_only),
    ]


def reread(image: PageImage, boxes: list[tuple[float, float, float, float]]) -> list[list[Reading]]:
    """Each box of the page (in the page's units, as provenance gives them) read again on its own,
    the ways _variants prepares it: the readings of each box, empty where it holds no ink."""
    import cv2

    decoded = cv2.imdecode(np.frombuffer(image.png, np.uint8), cv2.IMREAD_COLOR)
    if decoded is None:
        return [[] for _ in boxes]
    rgb = np.ascontiguousarray(decoded[:, :, ::-1])
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    height = image.text_height
    crops: list[list[tuple[str, np.ndarray]]] = []
    for box in boxes:
        x0, top, x1, bottom = (v * image.scale for v in box)
        if bottom - top < 1.5 * height:
            # A box about a line high is the text's own (a table without ruling lines): look around it.
            pad = height / 2
            ink = _ink_box(gray, (x0 - pad, top - pad, x1 + pad, bottom + pad), height, inset=0)
        else:
            ink = _ink_box(gray, (x0, top, x1, bottom), height)
        crops.append(_variants(rgb[ink[1]:ink[3], ink[0]:ink[2]]) if ink is not None else [])
    texts = iter(_read_lines([pixels for variants in crops for _, pixels in variants]))
    return [[Reading(value_text(text), score, how) for how, _ in variants for text, score in [next(texts)] if text]
            for variants in crops]


def _read_lines(images: list[np.ndarray]) -> list[tuple[str, float]]:
    """Lines of text recognised without detection, in one batch: (text, score) of each."""
    if not images:
        return []
    ocr = engine()
    with _engine_lock:
        ocr.update_params(use_det=False, use_cls=False, use_rec=True, return_word_box=False, return_single_char_box=False)
        result = ocr.recognize_txt([ocr.preprocess_img(np.ascontiguousarray(rgb[:, :, ::-1]))[0] for rgb in images])
    found = [(str(text).strip(), float(score)) if text and float(score) >= MIN_SCORE else ("", 0.0)
             for text, score in zip(result.txts or [], result.scores, strict=False)]
    return found + [("", 0.0)] * (len(images) - len(found))


def _read_line(rgb: np.ndarray) -> tuple[str, float]:
    """One line of text recognised without detection: (text, score)."""
    ocr = engine()
    bgr = np.ascontiguousarray(rgb[:, :, ::-1]) if rgb.ndim == 3 else rgb
    with _engine_lock:
        result = ocr(bgr, use_det=False, use_cls=False, use_rec=True, return_word_box=False, return_single_char_box=False)
    texts, scores = getattr(result, "txts", None), getattr(result, "scores", None)
    if not texts or not scores or float(scores[0]) < MIN_SCORE:
        return "", 0.0
    return str(texts[0]).strip(), float(scores[0])


class _Box:
    """A detected text line: its text, score, box and its characters' boxes (when the engine gave them)."""

    __slots__ = ("chars", "glyph", "height")

    def __init__(self, glyph: Glyph, chars: list[Glyph]):
        self.glyph = glyph
        self.chars = chars
        self.height = glyph.height


def _recognise(rgb: np.ndarray) -> list[_Box]:
    ocr = engine()
    bgr = np.ascontiguousarray(rgb[:, :, ::-1]) if rgb.ndim == 3 else rgb
    with _engine_lock:
        # Every setting named on each call: the engine keeps the last call's settings on itself.
        result = ocr(bgr, use_det=True, use_cls=False, use_rec=True, return_word_box=True, return_single_char_box=True)
    if result is None or getattr(result, "boxes", None) is None or result.txts is None:
        return []
    words = list(result.word_results or [])
    out: list[_Box] = []
    w = 0
    for quad, text, score in zip(result.boxes, result.txts, result.scores, strict=False):
        text = text.strip()
        if not text:
            continue
        glyph = Glyph(text, *_bbox(quad), confidence=float(score))
        chars: list[Glyph] = []
        # The engine drops lines it found no character boxes for, so its lists can fall out of
        # step: take the next entry only when its characters lie in this line's box.
        if w < len(words) and _inside(words[w], glyph):
            chars = [Glyph(ch, *_bbox(q), confidence=float(s)) for ch, s, q in words[w] if ch.strip()]
            w += 1
        out.append(_Box(glyph, chars))
    return out


def _bbox(quad) -> tuple[float, float, float, float]:
    xs = [float(p[0]) for p in quad]
    ys = [float(p[1]) for p in quad]
    return min(xs), min(ys), max(xs), max(ys)


def _inside(word_line, glyph: Glyph) -> bool:
    slack = glyph.height
    for _, _, quad in word_line:
        x0, top, x1, bottom = _bbox(quad)
        cx, cy = (x0 + x1) / 2, (top + bottom) / 2
        if not (glyph.x0 - slack <= cx <= glyph.x1 + slack and glyph.top - slack <= cy <= glyph.bottom + slack):
            return False
    return True


def _split(box: _Box, grids: list[RuledGrid]) -> list[Glyph]:
    """A detected line as glyphs: whole when it lies in one cell (or outside tables), else one
    glyph per run of characters that share a cell, so no text crosses a cell border."""
    g = box.glyph
    grid = next((grid for grid in grids if _overlaps(grid, g)), None)
    if grid is None or not box.chars:
        return [g]
    cells = [grid.locate(c.cx, c.cy) for c in box.chars]
    if all(cell is cells[0] for cell in cells) and grid.locate(g.cx, g.cy) is cells[0]:
        return [g]
    runs: list[list[Glyph]] = []
    last: object = object()
    for char, cell in zip(box.chars, cells, strict=True):
        if runs and cell is last:
            runs[-1].append(char)
        else:
            runs.append([char])
        last = cell
    return [Glyph("".join(c.text for c in run), min(c.x0 for c in run), g.top, max(c.x1 for c in run), g.bottom,
                  confidence=sum(c.confidence for c in run) / len(run)) for run in runs]


def _overlaps(grid: RuledGrid, g: Glyph) -> bool:
    x0, top, x1, bottom = grid.bbox
    return g.x0 < x1 and g.x1 > x0 and g.top < bottom and g.bottom > top


# --- ruling lines -----------------------------------------------------------------------------------


@dataclass
class Ruling:
    """The tables an image draws with ruling lines: each table's cells as pixel boxes, and a mask
    of the lines' pixels (erased before OCR, so that no line is read as a 1 or an l, and no text
    box is glued to a border)."""

    tables: list[list[tuple[float, float, float, float]]]
    lines: np.ndarray | None
    text_height: float


def ruling(gray: np.ndarray) -> Ruling:
    """Find ruling lines by morphology, and cells where they meet (pdfplumber's edge → cell logic).

    A stroke counts as a ruling line when it is longer than the strokes of the text: three
    character heights across, three quarters of one down. A vertical stroke is kept only between
    the horizontal lines it meets, and only when it meets two: a stroke of a character stands free
    inside its cell, and pdfplumber would otherwise snap a column's border to the strokes of the
    text beside it."""
    import cv2
    from pdfplumber.table import cells_to_tables, edges_to_intersections, intersections_to_cells, merge_edges

    # Dark strokes on a light page, whatever the scan's brightness.
    binary = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 15)
    text_height = _text_height(binary)
    across = max(20, round(3 * text_height))
    down = max(8, round(0.75 * text_height))
    horizontal = cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (across, 1)))
    vertical = cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, down)))
    # A faded scan breaks lines: close gaps shorter than a third of a character first.
    gap = max(3, round(text_height / 3))
    horizontal = cv2.morphologyEx(horizontal, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (gap, 1)))
    vertical = cv2.morphologyEx(vertical, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (1, gap)))
    _, _, h_stats, _ = cv2.connectedComponentsWithStats(horizontal, connectivity=8)
    _, v_labels, v_stats, _ = cv2.connectedComponentsWithStats(vertical, connectivity=8)
    hs, vs = h_stats[1:, :4].astype(float), v_stats[1:, :4].astype(float)
    if not len(hs) or len(hs) + len(vs) > 20_000:  # no lines; or a photograph or noise
        return Ruling([], None, text_height)
    tolerance = max(3.0, text_height / 4)
    edges: list[dict[str, Any]] = [
        {"x0": float(x), "x1": float(x + w), "top": y + h / 2, "bottom": y + h / 2, "width": float(w), "height": 0.0,
         "orientation": "h", "object_type": "line"} for x, y, w, h in hs]
    hy = hs[:, 1] + hs[:, 3] / 2
    hx0, hx1 = hs[:, 0] - tolerance, hs[:, 0] + hs[:, 2] + tolerance
    kept_v: list[tuple[int, float, float]] = []  # label, top, bottom
    for i, (x, y, w, h) in enumerate(vs):
        mid = x + w / 2
        met = hy[(hx0 <= mid) & (mid <= hx1) & (hy >= y - tolerance) & (hy <= y + h + tolerance)]
        if met.size >= 2:
            kept_v.append((i + 1, float(met.min()), float(met.max())))
            edges.append({"x0": mid, "x1": mid, "top": float(met.min()), "bottom": float(met.max()), "width": 0.0,
                          "height": float(met.max() - met.min()), "orientation": "v", "object_type": "line"})
    edges = merge_edges(edges, tolerance, tolerance, tolerance, tolerance)
    cells = intersections_to_cells(edges_to_intersections(edges, tolerance, tolerance))
    tables = [group for group in cells_to_tables(cells)
              if max(c[2] for c in group) - min(c[0] for c in group) >= 6 * text_height]
    if not tables:
        return Ruling([], None, text_height)
    # The lines to erase: kept vertical strokes between the lines they meet (a character glued to
    # a border beyond them stays), and horizontal lines within a table.
    lines = np.zeros(gray.shape, dtype=bool)
    margin = round(tolerance)
    for label, top, bottom in kept_v:
        x, _, w, _ = v_stats[label, :4]
        rows = slice(max(0, round(top) - margin), round(bottom) + margin + 1)
        lines[rows, x:x + w] |= v_labels[rows, x:x + w] == label
    for t in tables:
        x0, x1 = round(min(c[0] for c in t)) - margin, round(max(c[2] for c in t)) + margin + 1
        y0, y1 = round(min(c[1] for c in t)) - margin, round(max(c[3] for c in t)) + margin + 1
        area = (slice(max(0, y0), y1), slice(max(0, x0), x1))
        lines[area] |= horizontal[area] > 0
    lines = cv2.dilate(lines.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))) > 0
    return Ruling(tables, lines, text_height)


# A table whose corners stand this far (in pixels) from a rectangle's is photographed at an angle.
_KEYSTONE = 4.0


def perspective(gray: np.ndarray) -> np.ndarray | None:
    """The 3×3 transform that makes a photographed table rectangular again, from its ruling lines:
    the table's grid is the page's largest connected stroke, and its outline a quadrilateral.
    None when the page has no table, or its table is already a rectangle (a scan; a slight turn
    is skew()'s)."""
    import cv2

    binary = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 15)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if count < 2:
        return None
    label = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    w, h = stats[label, 2:4]
    if w * h < 0.1 * gray.size:
        return None  # the largest stroke is no table
    contours, _ = cv2.findContours((labels == label).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    hull = cv2.convexHull(max(contours, key=cv2.contourArea))
    quad = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True).reshape(-1, 2).astype(np.float32)
    if len(quad) != 4:
        return None
    # Corners in order: top-left, top-right, bottom-right, bottom-left.
    by_sum, by_diff = quad.sum(axis=1), np.diff(quad, axis=1).ravel()
    corners = np.array([quad[np.argmin(by_sum)], quad[np.argmin(by_diff)], quad[np.argmax(by_sum)],
                        quad[np.argmax(by_diff)]], dtype=np.float32)
    width = max(np.linalg.norm(corners[1] - corners[0]), np.linalg.norm(corners[2] - corners[3]))
    height = max(np.linalg.norm(corners[3] - corners[0]), np.linalg.norm(corners[2] - corners[1]))
    left, top = corners[:, 0].min(), corners[:, 1].min()
    target = np.array([[left, top], [left + width, top], [left + width, top + height], [left, top + height]],
                      dtype=np.float32)
    if np.abs(corners - target).max() < _KEYSTONE or _is_turned(corners):
        return None
    return cv2.getPerspectiveTransform(corners, target)


def _is_turned(corners: np.ndarray) -> bool:
    """Whether the outline is a rectangle turned (every side as long as its opposite): skew()'s case."""
    sides = [np.linalg.norm(corners[(i + 1) % 4] - corners[i]) for i in range(4)]
    return abs(sides[0] - sides[2]) < _KEYSTONE and abs(sides[1] - sides[3]) < _KEYSTONE


def _warp(rgb: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    import cv2

    height, width = rgb.shape[:2]
    return cv2.warpPerspective(rgb, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                               borderValue=(255, 255, 255))


# A scan turned by less than this is left as it is; by more than the maximum, it is not a skew.
_MIN_SKEW, _MAX_SKEW = 0.1, 10.0


def skew(gray: np.ndarray) -> float:
    """The angle (degrees, counter-clockwise) a scan's table lines are turned by; 0 when they are
    level or when the page has none. A table that leans by a degree breaks its lines into steps
    that no longer meet at the corners of cells."""
    import cv2

    binary = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 15)
    across = max(20, round(3 * _text_height(binary)))
    lines = cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (across, 1)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
    angles, weights = [], []
    for label in range(1, count):
        x, y, w, h, _area = stats[label]
        if w < gray.shape[1] / 4 or h > w / 4:
            continue
        ys, xs = np.nonzero(labels[y:y + h, x:x + w] == label)
        slope = np.polyfit(xs.astype(float), ys.astype(float), 1)[0]
        angles.append(float(np.degrees(np.arctan(slope))))
        weights.append(float(w))
    if not angles:
        return 0.0
    order = np.argsort(angles)
    cumulative = np.cumsum(np.array(weights)[order])
    median = angles[order[int(np.searchsorted(cumulative, cumulative[-1] / 2))]]
    return -median if _MIN_SKEW <= abs(median) <= _MAX_SKEW else 0.0


def _rotate(rgb: np.ndarray, angle: float) -> np.ndarray:
    """The image turned by angle degrees (counter-clockwise) about its centre, on white."""
    import cv2

    height, width = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    return cv2.warpAffine(rgb, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=(255, 255, 255))


def _text_height(binary: np.ndarray) -> float:
    """About the height of a character: most marks on a page are characters or their parts."""
    import cv2

    count, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    heights, widths = stats[1:count, 3], stats[1:count, 2]
    marks = heights[(heights >= 4) & (heights <= binary.shape[0] / 10) & (widths <= 4 * heights)]
    return float(np.percentile(marks, 75)) if marks.size else 20.0


# --- figures ------------------------------------------------------------------------------------------

_LOOKALIKE_ZERO = "OoＯｏ〇○"
_LOOKALIKE_ONE = "lIｌＩ|"
_FIGURE_CHARS = re.compile(rf"^[\d\s,，.．{_LOOKALIKE_ZERO}{_LOOKALIKE_ONE}]+$")
_DASHES = {"一": "—", "-": "—", "_": "—"}


def value_text(text: str) -> str:
    """A cell's text with OCR's digit confusions undone, when the cell holds a figure and nothing else."""
    stripped = text.strip()
    if stripped in _DASHES:
        return _DASHES[stripped]  # a lone dash read as 一 would pass for a label
    if not _FIGURE_CHARS.match(stripped):
        return text
    has_digit = any(ch.isdigit() for ch in stripped)
    if not has_digit and stripped not in _LOOKALIKE_ZERO:
        return text
    figure = re.sub(r"\s+", "", stripped)
    figure = figure.translate(str.maketrans(_LOOKALIKE_ZERO, "0" * len(_LOOKALIKE_ZERO)))
    figure = figure.translate(str.maketrans(_LOOKALIKE_ONE, "1" * len(_LOOKALIKE_ONE)))
    return figure if parse_number(figure) is not None else text

