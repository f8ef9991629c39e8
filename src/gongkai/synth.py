"""Consistent synthetic reports, for tests, benchmarks and demos.

Every figure obeys the format's sum rules (the 勾稽关系): the cells no rule computes are drawn at
random and the rules compute the rest, so a format with other rows or columns gets consistent
reports without code, and a test can perturb one cell and know exactly which rule must fire. No real
report is copied: names and figures are drawn at random.
"""

from __future__ import annotations

import random

from gongkai.formats import DEFAULT_FORMAT, Format, load_format
from gongkai.model import Cell, Report, Section
from gongkai.text import figure_text

_PLACES = ["东湖", "西山", "南城", "北江", "清河", "云台", "青石", "白沙", "金川", "玉泉", "长乐", "安平"]
_KINDS = ["县人民政府", "区人民政府", "市生态环境局", "县教育局", "区人民政府办公室", "镇人民政府", "市自然资源和规划局",
          "县卫生健康委员会", "乡人民政府", "街道办事处"]


Instance = list[tuple[str, int]]  # Σ coefficient × value = 0 over these cells


def sum_instances(fmt: Format) -> list[Instance]:
    """The format's sum rules (this year's), each binding resolved to canonical cells: lhs − rhs = 0."""
    if "sum_instances" not in fmt.memo:
        fmt.memo["sum_instances"] = _sum_instances(fmt)
    return fmt.memo["sum_instances"]


def _sum_instances(fmt: Format) -> list[Instance]:
    return [[(t.key, t.sign) for t in lhs] + [(t.key, -t.sign) for t in rhs]
            for rule in fmt.rules if rule.kind == "sum" and not rule.cross_year
            for lhs, rhs in rule.instances(fmt)]


def _pivot(instance: Instance) -> str:
    """The cell an instance computes: a side's only cell (a total), else the first on the left."""
    for sign in (1, -1):
        side = [key for key, c in instance if c == sign]
        if len(side) == 1:
            return side[0]
    return instance[0][0]


def synth_values(fmt: Format, rng: random.Random, scale: int = 60) -> dict[str, int | float]:
    """Figures for every canonical cell of the format, consistent with its sums: the cells no sum
    computes are drawn, the rules compute the rest."""
    instances = sum_instances(fmt)
    computed = {_pivot(instance) for instance in instances}
    weight: dict[tuple[str, str], int] = {}
    drawn: dict[str, int | float] = {}
    for cell in fmt.cells:
        if cell.key in computed:
            continue
        if cell.column.type == "decimal":
            drawn[cell.key] = round(rng.uniform(0, 2000), 4) if rng.random() < 0.4 else 0
        elif cell.column.type == "signed":
            drawn[cell.key] = rng.randint(-5, 5)
        else:
            # Some columns are busy (自然人), most see a few cases, like real reports.
            busy = weight.setdefault((cell.table.key, cell.column.key), rng.choice((scale // 2, scale // 6, 3, 1)))
            drawn[cell.key] = rng.randint(0, busy) if rng.random() < 0.3 else 0
    for _ in range(1000):
        values, short = _solve(instances, drawn)
        if short is None:
            return values
        # A computed count came out negative: raise a drawn cell that adds to it, and solve again.
        key, deficit, instance = short
        sign = dict(instance)[key]
        lift = next(k for k, c in instance if k in drawn and c * sign < 0 and isinstance(drawn[k], int))
        drawn[lift] += deficit
    raise RuntimeError(f"format {fmt.id}: its sums leave no non-negative solution")


def _solve(instances: list[Instance], drawn: dict[str, int | float]) -> tuple[dict[str, int | float], tuple | None]:
    """Each instance with one unknown cell gives it, to a fixpoint; (values, None) or the first
    negative count (key, deficit, instance)."""
    values = dict(drawn)
    progress = True
    while progress:
        progress = False
        for instance in instances:
            unknown = [(k, c) for k, c in instance if k not in values]
            if len(unknown) != 1:
                continue
            key, coefficient = unknown[0]
            value = -sum(c * values[k] for k, c in instance if k != key) / coefficient
            value = round(value) if all(isinstance(values[k], int) for k, _ in instance if k != key) else value
            if value < 0:
                return values, (key, -value, instance)
            values[key] = value
            progress = True
    return values, None


def synth_report(seed: int = 0, format_id: str = DEFAULT_FORMAT, year: int | None = None, scale: int = 60) -> Report:
    """A consistent report with a title, six sections of text and every cell filled."""
    rng = random.Random(seed)
    fmt = load_format(format_id)
    year = year or rng.randint(max(fmt.first_year or 2019, 2019), (fmt.last_year or 2025))
    agency = rng.choice(_PLACES) + rng.choice(_KINDS)
    values = synth_values(fmt, rng, scale)
    report = Report(agency=agency, year=year, format=fmt.id,
                    title=fmt.default_title(agency, year))
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
