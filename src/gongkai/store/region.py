"""Where an agency sits: its GB/T 2260 division (province, city, county) read from its name.

The full division table ships as data (data/gb2260.csv, see its SOURCE file), so a name that states
only its county places it: "西峡县人民政府" → 411323 河南省南阳市西峡县. A county name several
divisions share (鼓楼区) is placed only when the name also states its city or province; otherwise it
stays unknown, with a note saying why. Nothing beyond the name is guessed.
"""

from __future__ import annotations

import csv
import re
from functools import cache
from importlib import resources
from typing import NamedTuple

# GB/T 2260 province-level divisions: code, official name, short name.
PROVINCES: tuple[tuple[str, str, str], ...] = (
    ("11", "北京市", "北京"),
    ("12", "天津市", "天津"),
    ("13", "河北省", "河北"),
    ("14", "山西省", "山西"),
    ("15", "内蒙古自治区", "内蒙古"),
    ("21", "辽宁省", "辽宁"),
    ("22", "吉林省", "吉林"),
    ("23", "黑龙江省", "黑龙江"),
    ("31", "上海市", "上海"),
    ("32", "江苏省", "江苏"),
    ("33", "浙江省", "浙江"),
    ("34", "安徽省", "安徽"),
    ("35", "福建省", "福建"),
    ("36", "江西省", "江西"),
    ("37", "山东省", "山东"),
    ("41", "河南省", "河南"),
    ("42", "湖北省", "湖北"),
    ("43", "湖南省", "湖南"),
    ("44", "广东省", "广东"),
    ("45", "广西壮族自治区", "广西"),
    ("46", "海南省", "海南"),
    ("50", "重庆市", "重庆"),
    ("51", "四川省", "四川"),
    ("52", "贵州省", "贵州"),
    ("53", "云南省", "云南"),
    ("54", "西藏自治区", "西藏"),
    ("61", "陕西省", "陕西"),
    ("62", "甘肃省", "甘肃"),
    ("63", "青海省", "青海"),
    ("64", "宁夏回族自治区", "宁夏"),
    ("65", "新疆维吾尔自治区", "新疆"),
    ("71", "台湾省", "台湾"),
    ("81", "香港特别行政区", "香港"),
    ("82", "澳门特别行政区", "澳门"),
)
MUNICIPALITIES = {"11", "12", "31", "50"}
PROVINCE_NAMES = {code: short for code, _, short in PROVINCES}


class Region(NamedTuple):
    province_code: str | None
    province: str | None
    city: str | None


class Placement(NamedTuple):
    """A name's division: code (6 digits) or None, and why it is None when the name names one."""

    code: str | None
    note: str | None = None


@cache
def divisions() -> dict[str, str]:
    """GB/T 2260 code → official name, every province, city and county."""
    with resources.files(__package__).joinpath("data/gb2260.csv").open(encoding="utf-8") as f:
        return {row["code"]: row["name"] for row in csv.DictReader(f)}


def level(code: str) -> str:
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


def parent(code: str) -> str | None:
    """The division above: a county's city (or its province where the city level is a grouping
    such as 419001 济源市 or a municipality's 110100), a city's province."""
    if level(code) == "province":
        return None
    city = code[:4] + "00"
    if level(code) == "county" and city in divisions() and not _grouping(city):
        return city
    return code[:2] + "0000"


def _grouping(code: str) -> bool:
    """A city-level code that is no city of its own: a municipality's 市辖区/县 grouping."""
    return level(code) == "city" and (code[:2] in MUNICIPALITIES or code not in divisions())


def lineage(code: str) -> list[str]:
    """Province first, down to the code itself."""
    out = [code]
    while (up := parent(out[-1])) is not None:
        out.append(up)
    return out[::-1]


def full_name(code: str) -> str:
    """河南省南阳市西峡县."""
    return "".join(divisions()[c] for c in lineage(code) if c in divisions())


@cache
def _names() -> tuple[dict[str, tuple[str, ...]], int]:
    """Every name a division goes by at the start of an agency's name → codes; the longest name's length.
    Provinces by official and short names (河南省, 河南); cities and counties by official names."""
    by_name: dict[str, list[str]] = {}
    for code, name in divisions().items():
        if _grouping(code):
            continue
        by_name.setdefault(name, []).append(code)
    for code, full, short in PROVINCES:
        for alias in {short, short + "省"} - {full}:
            by_name.setdefault(alias, []).append(code + "0000")
    return {k: tuple(v) for k, v in by_name.items()}, max(map(len, by_name))


def _within(code: str, ancestor: str | None) -> bool:
    return ancestor is None or (code != ancestor and ancestor in lineage(code))


def place(agency: str | None) -> Placement:
    """The deepest division the name states from its start, one level after another: 河南省南阳市西峡县…,
    南阳市…, 西峡县… . Each step takes the longest name that fits under what is placed so far."""
    if not agency:
        return Placement(None)
    name = re.sub(r"\s+", "", agency)
    by_name, longest = _names()
    code: str | None = None
    while name:
        for size in range(min(longest, len(name)), 1, -1):
            found = [c for c in by_name.get(name[:size], ()) if _within(c, code)]
            if not found:
                continue
            if len(found) > 1:
                places = "、".join(full_name(c) for c in sorted(found))
                note = f"「{name[:size]}」有多个同名行政区（{places}），名称中未写明所属省市"
                return Placement(code, note)
            code, name = found[0], name[size:]
            break
        else:
            break
    return Placement(code)


def region_of(code: str | None) -> Region:
    """Province (code, short name) and city (name; none for a municipality or a county-level city
    directly under its province) of a division."""
    if code is None:
        return Region(None, None, None)
    city = next((divisions()[c] for c in lineage(code) if level(c) == "city"), None)
    return Region(code[:2], PROVINCE_NAMES.get(code[:2]), city)


def derive_region(agency: str | None) -> Region:
    """Province and city as far as the agency's name places it."""
    return region_of(place(agency).code)


def region_prefix(region: str) -> str | None:
    """A region filter as a code prefix: 41 / 河南 / 河南省 → "41", 南阳市 → "4113", 西峡县 → "411323"
    (None when the text names no division, or several)."""
    region = region.strip()
    if region.isdigit():
        return region[:6]
    code = place(region).code
    if code is None:
        return None
    return code[:2] if level(code) == "province" else code[:4] if level(code) == "city" else code
