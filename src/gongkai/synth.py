"""Consistent synthetic reports, for tests, benchmarks and demos.

Every figure obeys the format's sums (the 勾稽关系), so a test can perturb one cell and know
exactly which rule must fire. No real report is copied: names and figures are drawn at random.
"""

from __future__ import annotations

import random

from gongkai.formats import Format, load_format
from gongkai.model import Cell, Report, Section
from gongkai.text import figure_text

_PLACES = ["东湖", "西山", "南城", "北江", "清河", "云台", "青石", "白沙", "金川", "玉泉", "长乐", "安平"]
_KINDS = ["县人民政府", "区人民政府", "市生态环境局", "县教育局", "区人民政府办公室", "镇人民政府", "市自然资源和规划局",
          "县卫生健康委员会", "乡人民政府", "街道办事处"]


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """total as `parts` non-negative integers, skewed towards the first like real reports."""
    out = []
    left = total
    for i in range(parts - 1):
        share = rng.randint(0, left) if i else rng.randint(left // 2, left)
        out.append(share)
        left -= share
    out.append(left)
    return out


def synth_values(fmt: Format, rng: random.Random, scale: int = 60) -> dict[str, int | float]:
    """Figures for every canonical cell of the format, consistent with its sums."""
    values: dict[str, int | float] = {}
    apps = fmt.table("applications")
    columns = [c.key for c in apps.blocks[0].columns if c.role != "total"]
    outcome_rows = [r.key for r in apps.all_rows
                    if not r.optional and r.key not in ("new", "carried_over", "total_processed", "carried_forward")]
    for col in columns:
        busy = col == "natural_person" or rng.random() < 0.3
        new = rng.randint(0, scale if busy else 3)
        carried_over = rng.randint(0, 3) if rng.random() < 0.3 else 0
        carried_forward = rng.randint(0, min(3, new + carried_over))
        processed = new + carried_over - carried_forward
        shares = _split(processed, len(outcome_rows), rng)
        values[f"applications.new.{col}"] = new
        values[f"applications.carried_over.{col}"] = carried_over
        values[f"applications.carried_forward.{col}"] = carried_forward
        values[f"applications.total_processed.{col}"] = processed
        for row, share in zip(outcome_rows, shares, strict=False):
            values[f"applications.{row}.{col}"] = share
    for row in apps.all_rows:
        if row.optional:
            continue
        values[f"applications.{row.key}.total"] = sum(values[f"applications.{row.key}.{c}"] for c in columns)
    appeals = fmt.table("appeals")
    for row in appeals.all_rows:
        parts = [rng.randint(0, 4) if rng.random() < 0.5 else 0 for _ in appeals.blocks[0].columns[:-1]]
        for col, v in zip(appeals.blocks[0].columns[:-1], parts, strict=False):
            values[f"appeals.{row.key}.{col.key}"] = v
        values[f"appeals.{row.key}.total"] = sum(parts)
    for cell in fmt.table("proactive").cells():
        if cell.column.type == "decimal":
            values[cell.key] = round(rng.uniform(0, 2000), 4) if rng.random() < 0.4 else 0
        elif cell.column.type == "signed":
            values[cell.key] = rng.randint(-5, 5)
        else:
            values[cell.key] = rng.randint(0, 3000) if rng.random() < 0.5 else rng.randint(0, 40)
    for doc in ("rules", "normative_documents"):
        issued, repealed = f"proactive.{doc}.issued", f"proactive.{doc}.repealed"
        if issued in values and f"proactive.{doc}.in_force" in values:
            values[f"proactive.{doc}.in_force"] = max(values[f"proactive.{doc}.in_force"], values[issued])
            values[repealed] = min(values[repealed], values[f"proactive.{doc}.in_force"])
    return values


def synth_report(seed: int = 0, format_id: str = "2021", year: int | None = None, scale: int = 60) -> Report:
    """A consistent report with a title, six sections of text and every cell filled."""
    rng = random.Random(seed)
    fmt = load_format(format_id)
    year = year or rng.randint(max(fmt.first_year or 2019, 2019), (fmt.last_year or 2025))
    agency = rng.choice(_PLACES) + rng.choice(_KINDS)
    values = synth_values(fmt, rng, scale)
    report = Report(agency=agency, year=year, format=fmt.id,
                    title=f"{agency}{year}年政府信息公开工作年度报告")
    for key in fmt.keys:
        report.cells[key] = Cell(key=key, value=values[key], raw=_raw(values[key]))
    new = values["applications.new.total"]
    granted = values["applications.granted.total"]
    review = values["appeals.review.total"]
    litigation = values["appeals.litigation_direct.total"] + values["appeals.litigation_after_review.total"]
    texts = {
        "一": f"{year}年，{agency}认真贯彻落实《中华人民共和国政府信息公开条例》，扎实推进政务公开工作。"
              f"全年共收到政府信息公开申请{new}件，予以公开{granted}件。",
        "二": "按照主动公开基本目录，及时公开各类政府信息。",
        "三": "严格按照法定程序和时限办理依申请公开。",
        "四": f"全年因政府信息公开被申请行政复议{review}件，被提起行政诉讼{litigation}件。",
        "五": "存在的主要问题是公开质量有待提升。下一步将加强培训，完善制度。",
        "六": f"{year}年度未收取信息处理费。",
    }
    report.sections = [Section(number=s.number, title=s.title, text=texts[s.number]) for s in fmt.sections]
    return report


def _raw(value: int | float) -> str:
    return figure_text(value)
