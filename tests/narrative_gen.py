"""Narrative from a report's tables, in the many ways reports phrase it: 其中/及/含/占, Chinese
numerals, 收到 or 受理 counting those carried over, none and all statements. Each figure is a slot, so
a test can change exactly one and know which statement it breaks."""

from __future__ import annotations

import random
from dataclasses import dataclass

from gongkai.model import Report, Section

_DIGITS = "零一二三四五六七八九"


def chinese(n: int) -> str:
    """12 → 十二, 103 → 一百零三 (below 10,000)."""
    if n == 0:
        return "零"
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // value % 10
        if digit:
            if zero and out:
                out += "零"
            out += ("" if digit == 1 and unit == "十" and not out else _DIGITS[digit]) + unit
            zero = False
        else:
            zero = True
    return out


@dataclass
class Slot:
    value: int | float
    rule: str  # the rule whose statement this figure is
    chinese: bool = False
    percent_digits: int | None = None  # a share, printed with this many decimals

    def text(self) -> str:
        if self.percent_digits is not None:
            return f"{self.value:.{self.percent_digits}f}"
        return chinese(int(self.value)) if self.chinese and 0 < self.value < 10_000 else str(self.value)


@dataclass
class Narrative:
    templates: dict[str, str]  # section number → text with {0}, {1} … for the slots
    slots: list[Slot]

    def render(self, slots: list[Slot] | None = None) -> dict[str, str]:
        texts = [s.text() for s in (slots or self.slots)]
        return {number: template.format(*texts) for number, template in self.templates.items()}

    def apply(self, report: Report, slots: list[Slot] | None = None) -> Report:
        changed = report.model_copy(deep=True)
        texts = self.render(slots)
        changed.sections = [Section(number=s.number, title=s.title, text=texts.get(s.number, s.text))
                            for s in report.sections]
        return changed


def narrate(report: Report, rng: random.Random) -> Narrative:
    v = report.value
    slots: list[Slot] = []

    def slot(value: int | float, rule: str, percent_digits: int | None = None) -> str:
        slots.append(Slot(value, rule, chinese=rng.random() < 0.25 and percent_digits is None,
                          percent_digits=percent_digits))
        return "{" + str(len(slots) - 1) + "}"

    new, carried = v("applications.new.total"), v("applications.carried_over.total")
    people = v("applications.new.natural_person") + v("applications.carried_over.natural_person")
    one = []
    choice = rng.randrange(4)
    if choice == 0:
        one.append(f"全年共收到政府信息公开申请{slot(new, 'N-applications')}件。")
    elif choice == 1:
        one.append(f"本年度新收政府信息公开申请{slot(new, 'N-applications')}件，"
                   f"上年结转政府信息公开申请{slot(carried, 'N-applications')}件。")
    elif choice == 2:
        one.append(f"全年共受理政府信息公开申请{slot(new + carried, 'N-applications')}件"
                   f"（含上年结转{slot(carried, 'N-applications')}件）。")
    else:
        one.append(f"全县全年共受理政府信息公开申请 {slot(new + carried, 'N-applications')} 件，"
                   f"其中自然人申请 {slot(people, 'N-applications')} 件，"
                   f"法人或其他组织申请 {slot(new + carried - people, 'N-applications')} 件。")

    processed, forward = v("applications.total_processed.total"), v("applications.carried_forward.total")
    granted, partial = v("applications.granted.total"), v("applications.partially_granted.total")
    outcomes = [("不予公开", "withheld.*", "N-withheld"), ("无法提供", "unable.*", "N-unable"),
                ("不予处理", "not_processed.*", "N-not-processed"), ("其他处理", "other.*", "N-not-processed")]
    parts = []
    if rng.random() < 0.5:
        parts.append(f"予以公开{slot(granted, 'N-granted')}件")
        parts.append(f"部分公开{slot(partial, 'N-partially-granted')}件")
    else:
        share = ""
        if processed and rng.random() < 0.7:
            digits = rng.choice([0, 1, 2])
            share = f"，占{slot(round((granted + partial) / processed * 100, digits), 'N-ratio', digits)}%"
        parts.append(f"{rng.choice(['予以公开及部分公开', '予以公开和部分公开', '予以公开、部分公开共'])}"
                     f"{slot(granted + partial, 'N-granted')}件{share}")
    for name, rows, rule in rng.sample(outcomes, rng.randrange(len(outcomes) + 1)):
        total = sum(value for key, value in report.values().items()
                    if key.startswith("applications.") and key.endswith(".total") and value is not None
                    and _matches(key, rows))
        parts.append(f"{name}{slot(total, rule)}件")
    three = (f"{rng.choice(['办结依申请公开', '全年办结政府信息公开申请', '已答复政府信息公开申请'])}{slot(processed, 'N-processed')}件，"
             f"其中：{'，'.join(parts)}。")
    if forward and rng.random() < 0.5:
        three += f"结转下年度继续办理{slot(forward, 'N-processed')}件。"

    review = v("appeals.review.total")
    litigation = v("appeals.litigation_direct.total") + v("appeals.litigation_after_review.total")
    if review == 0 and litigation == 0:
        four = "本年度未发生因政府信息公开引起的行政复议、行政诉讼案件。"
    else:
        four = f"全年因政府信息公开被申请行政复议{slot(review, 'N-review')}件"
        if review and v("appeals.review.upheld") == review:
            four += "，均获维持"
        four += f"；被提起行政诉讼{slot(litigation, 'N-litigation')}件。" if litigation else "；未发生行政诉讼。"
    if "proactive.normative_documents.issued" in report.cells:
        four_one = f"全年制发行政规范性文件{slot(v('proactive.normative_documents.issued'), 'N-normative-documents')}件。"
        one.append(four_one)
    return Narrative({"一": "".join(one), "三": three, "四": four}, slots)


def _matches(key: str, rows: str) -> bool:
    prefix = "applications." + rows.rstrip("*")
    return key.startswith(prefix) and key.count(".") == (3 if rows.endswith("*") else 2)
