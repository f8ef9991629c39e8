"""Where an agency sits, read from its name: province (GB/T 2260 code) and city, or None.

Only what the name itself says is used: "河南省南阳市西峡县人民政府" gives 41 河南 and 南阳市;
"西峡县人民政府" gives nothing, since no county table is shipped and nothing is guessed.
"""

from __future__ import annotations

import re
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

# Short names that no other place name starts with: autonomous regions and SARs, written bare.
_BARE = {"15", "45", "54", "64", "65", "81", "82"}
# The official name, the short name followed by 省/市/自治区, or a bare short name from _BARE:
# 海南藏族自治州 (in 青海) is not 海南省, and 吉林市 is the city of that name in 吉林省.
_PROVINCE = re.compile("^(?:" + "|".join(
    f"(?P<p{code}>{re.escape(full)}|{re.escape(short)}(?:省|(?P<c{code}>市)|(?:[^省市县区]{{0,4}})?自治区){'?' if code in _BARE else ''})"
    for code, full, short in PROVINCES
) + ")")
_CITY = re.compile(r"^([^\s省市县区旗镇乡街道局委办厅院署部]{1,8}?(?:市|自治州|地区|盟))")


class Region(NamedTuple):
    province_code: str | None
    province: str | None
    city: str | None


def derive_region(agency: str | None) -> Region:
    """Province and city as far as the agency's name states them."""
    if not agency:
        return Region(None, None, None)
    name = re.sub(r"\s+", "", agency)
    code = None
    m = _PROVINCE.match(name)
    city = None
    if m:
        code = next(k[1:] for k, v in m.groupdict().items() if v and k.startswith("p"))
        name = name[m.end():]
        if m.group(f"c{code}") and code not in MUNICIPALITIES:  # 吉林市: a city named like its province
            city = m.group(0)
    if city is None and code not in MUNICIPALITIES:
        c = _CITY.match(name)
        city = c.group(1) if c else None
    return Region(code, PROVINCE_NAMES[code] if code else None, city)
