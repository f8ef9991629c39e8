"""Text normalisation shared by every stage: labels, numbers, headings."""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import lru_cache

# Punctuation that reports use inconsistently inside labels; dropped before matching.
_LABEL_DROP = re.compile(r"[\s、，,。.．:：;；“”\"'‘’`*#|]+")
_BRACKETS = str.maketrans({"【": "(", "】": ")", "〔": "(", "〕": ")", "［": "(", "］": ")", "[": "(", "]": ")"})


def nfkc(text: str) -> str:
    """Full-width digits, letters and brackets to their ASCII forms."""
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


@lru_cache(maxsize=8192)
def normalize_label(text: str) -> str:
    """The form labels are matched in: NFKC, ASCII brackets, no white space or separators."""
    return _LABEL_DROP.sub("", nfkc(text).translate(_BRACKETS))


_NUMBERING = re.compile(r"^(?:\(?[一二三四五六七八九十\d]+\)?)+")


def printed_as(official: str, printed: str) -> bool:
    """Whether a printed label has all of the official wording, in order (its numbering aside):
    fragments of a vertical header printed in between (PDF text) do not make it another label,
    a word left out does."""
    rest = iter(normalize_label(printed))
    return all(ch in rest for ch in _NUMBERING.sub("", normalize_label(official)))


# A printed figure: optional sign, digits with thousands separators, optional decimals and a unit.
_NUMBER = re.compile(
    r"^(?P<sign>[+-]?)¥?(?P<int>\d{1,3}(?:[,，]\d{3})+|\d+)(?P<frac>\.\d+)?"
    r"(?:件|条|个|项|次|家|人次|人|宗|份|亿元|万元|元|%|[(（](?:件|个|万元|元)[)）])?$"
)
# Scientific notation, as spreadsheets export figures: 1e5, 1.5E+3.
_EXPONENT = re.compile(r"^[+-]?\d+(?:\.\d+)?[eE][+-]?\d{1,4}$")
# Printed where a figure belongs though it does not read as one ("(125)", "1.5万件", "12.5.3"): not
# a label, so the row's figures keep their columns; the cell is left null.
_FIGURE_LIKE = re.compile(r"^[(（]?[+-]?[\d,，.]*\d(?:[eE][+-]?\d+)?[)）]?[件条个项次家人宗份户元万亿%]{0,3}$")
# Minus signs besides "-" (NFKC maps the full-width and small forms already).
_MINUS = str.maketrans({"\u2212": "-", "\u2012": "-", "\u2013": "-"})
# No figure in a report has more digits; more would not be exact as a float nor fit every store.
MAX_FIGURE_DIGITS = 15
FIGURE_LIMIT = 10**MAX_FIGURE_DIGITS
# What reports print in a cell that states no figure.
PLACEHOLDERS = frozenset({"", "-", "--", "—", "——", "–", "/", "／", "\\", "无", "空", "×", "x", "X"})


def _compact(text: str) -> str:
    return nfkc(text).translate(_MINUS).strip().replace(" ", "")


@lru_cache(maxsize=4096)
def parse_number(text: str) -> int | float | None:
    """The figure a cell prints, or None when it prints none or none that can be read (see is_value):
    beyond MAX_FIGURE_DIGITS digits a figure is a misprint or garbage, never a report's count."""
    t = _compact(text)
    if _EXPONENT.match(t):
        value = float(t)
        if not in_range(value):
            return None
        return int(value) if value.is_integer() else value
    m = _NUMBER.match(t)
    if not m:
        return None
    digits = m["int"].replace(",", "").replace("，", "").lstrip("0") or "0"
    if len(digits) > MAX_FIGURE_DIGITS:
        return None
    if m["frac"]:
        try:
            return float(Decimal(m["sign"] + digits + m["frac"]))
        except InvalidOperation:  # pragma: no cover - the regex admits only digits
            return None
    return int(m["sign"] + digits)


def in_range(value: int | float) -> bool:
    """A figure a report can hold: finite and under FIGURE_LIMIT in size."""
    return (math.isfinite(value) if isinstance(value, float) else True) and -FIGURE_LIMIT < value < FIGURE_LIMIT


def is_number(text: str) -> bool:
    return parse_number(text) is not None


@lru_cache(maxsize=4096)
def is_value(text: str) -> bool:
    """A cell that holds a figure or stands for one (a blank, a dash, a figure that cannot be read): not a label."""
    t = _compact(text)
    return t in PLACEHOLDERS or is_number(t) or bool(_FIGURE_LIKE.match(t))


_CN_DIGITS = {"〇": "0", "零": "0", "○": "0", "O": "0", "一": "1", "二": "2", "三": "3", "四": "4",
              "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}


def chinese_year(text: str) -> int | None:
    """二〇二四 → 2024; only the digit-by-digit form years are written in."""
    if len(text) != 4 or any(ch not in _CN_DIGITS for ch in text):
        return None
    return int("".join(_CN_DIGITS[ch] for ch in text))


def figure_text(value: int | float | None) -> str:
    """A figure as every output prints it: as stored, never in exponent form (1671.2179, 1234567.89,
    0.00001), without float noise (a sum's 0.30000000000000004 prints 0.3: nine decimals is more
    than any report prints); "" for none. Not-a-number and infinities state no figure a report
    could print, so they print as none too."""
    if value is None:
        return ""
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        text = format(Decimal(repr(round(value, 9) + 0.0)), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)


# Characters XML 1.0 cannot hold (C0 controls but tab and line breaks, lone surrogates, U+FFFE/F):
# DOCX, XLSX and the PDF made from DOCX fail on them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def printable(text: str) -> str:
    """Text an XML-based document (DOCX, XLSX) can hold: the characters XML forbids dropped."""
    return _NOT_XML.sub("", text)


# What makes a spreadsheet read a cell as a formula (OWASP "CSV injection"): = + - @ and a leading
# tab or carriage return, which some programs strip before looking.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def spreadsheet_text(text: str) -> str:
    """Text for a CSV cell a spreadsheet will open: a leading apostrophe where the text would
    otherwise be read as a formula (Excel, WPS and LibreOffice show the rest as text)."""
    return "'" + text if text.startswith(FORMULA_START) else text
