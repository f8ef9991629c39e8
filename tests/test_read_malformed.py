"""Files that are not readable reports — truncated, encrypted, huge, random, noise — each end in a
clear LoadError that names the file, within a bounded time."""

from __future__ import annotations

import io
import json
import random
import signal
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import gongkai.read.pdf
from gongkai.document import LoadError
from gongkai.parse import parse_file
from gongkai.read import MAX_BYTES, read
from gongkai.render.docx import render_docx
from gongkai.render.pdf import convert_to_pdf, render_pdfs
from gongkai.synth import synth_report


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail the test when the block runs longer than `seconds` (instead of hanging the suite)."""

    def expired(signum, frame):
        raise TimeoutError(f"took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def refused(path: Path, seconds: float = 30) -> LoadError:
    """The LoadError reading and parsing the file ends in; it names the file."""
    with deadline(seconds), pytest.raises(LoadError) as caught:
        parse_file(str(path))
    assert caught.value.path == str(path)
    assert str(path) in str(caught.value)
    return caught.value


@pytest.fixture(scope="session")
def good_pdf() -> bytes:
    return render_pdfs([synth_report(2)])[0]


# --- PDF -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("keep", [0.5, 0.98, 0.01])
def test_a_truncated_pdf(good_pdf, tmp_path, keep):
    path = tmp_path / "truncated.pdf"
    path.write_bytes(good_pdf[: int(len(good_pdf) * keep)])
    assert "损坏或不完整" in refused(path).problem


def test_a_pdf_that_needs_a_password(tmp_path):
    options = '{"EncryptFile":{"type":"boolean","value":"true"},"DocumentOpenPassword":{"type":"string","value":"x"}}'
    data = convert_to_pdf([("locked.docx", render_docx(synth_report(2)))], export_filter=f"pdf:writer_pdf_Export:{options}")[0]
    path = tmp_path / "locked.pdf"
    path.write_bytes(data)
    assert refused(path).problem == "PDF 已加密，无法读取 (encrypted)"


def test_a_pdf_with_only_an_owner_password_is_read(tmp_path):
    """Permissions (no printing, no copying) do not stop reading: the empty user password opens it."""
    options = '{"RestrictPermissions":{"type":"boolean","value":"true"},"PermissionPassword":{"type":"string","value":"x"}}'
    report = synth_report(2)
    data = convert_to_pdf([("restricted.docx", render_docx(report))], export_filter=f"pdf:writer_pdf_Export:{options}")[0]
    assert b"/Encrypt" in data
    path = tmp_path / "restricted.pdf"
    path.write_bytes(data)
    assert parse_file(str(path)).values() == report.values()


def test_random_bytes_behind_a_pdf_header(tmp_path):
    path = tmp_path / "garbage.pdf"
    path.write_bytes(b"%PDF-1.7\n" + random.Random(1).randbytes(200_000))
    assert "损坏或不完整" in refused(path).problem


def test_random_bytes_named_pdf(tmp_path):
    path = tmp_path / "random.pdf"
    path.write_bytes(random.Random(2).randbytes(200_000))
    refused(path)


def test_too_many_pages(good_pdf, tmp_path, monkeypatch):
    monkeypatch.setattr(gongkai.read.pdf, "MAX_PAGES", 1)
    path = tmp_path / "long.pdf"
    path.write_bytes(good_pdf)
    assert "页数过多" in refused(path).problem


def test_a_pdf_of_blank_pages(tmp_path):
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument.new()
    for _ in range(3):
        document.new_page(595, 842)
    out = io.BytesIO()
    document.save(out)
    path = tmp_path / "blank.pdf"
    path.write_bytes(out.getvalue())
    assert "没有可读的文字" in refused(path).problem


# --- size ------------------------------------------------------------------------------------------------------


def test_a_200_mb_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.pdf"
    with open(path, "wb") as f:
        f.write(b"%PDF-1.7\n")
        f.truncate(200 * 1024 * 1024)  # sparse: no disk or memory spent
    assert path.stat().st_size > MAX_BYTES
    start = time.perf_counter()
    with deadline(5), pytest.raises(LoadError) as caught:
        read(path)
    assert time.perf_counter() - start < 1
    assert str(path) in str(caught.value) and "文件过大" in caught.value.problem


# --- images -----------------------------------------------------------------------------------------------------


def test_an_image_of_pure_noise(tmp_path):
    pixels = np.random.default_rng(3).integers(0, 256, size=(1754, 1240), dtype=np.uint8)
    path = tmp_path / "noise.png"
    Image.fromarray(pixels).save(path)
    refused(path, seconds=120)


def test_an_image_that_does_not_decode(tmp_path):
    path = tmp_path / "broken.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + random.Random(4).randbytes(5000))
    assert "图片" in refused(path).problem


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def test_an_image_claiming_ten_billion_pixels(tmp_path):
    """A decompression bomb: a PNG header that promises 100000 × 100000 pixels is refused before decoding."""
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + _chunk(b"IEND", b"")
    path = tmp_path / "bomb.png"
    path.write_bytes(data)
    start = time.perf_counter()
    assert "图片过大" in refused(path, seconds=10).problem
    assert time.perf_counter() - start < 2


# --- through the command line -------------------------------------------------------------------------------------


def test_cli_reports_the_bad_pdf_and_parses_the_good_one(good_pdf, tmp_path):
    good = tmp_path / "good.pdf"
    good.write_bytes(good_pdf)
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(good_pdf[: len(good_pdf) // 3])
    run = subprocess.run([sys.executable, "-m", "gongkai", "parse", str(bad), str(good), "--format", "json"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    assert json.loads(run.stdout)["agency"] == synth_report(2).agency
    assert str(bad) in run.stderr and "PDF 文件已损坏" in run.stderr
    assert "Traceback" not in run.stderr
