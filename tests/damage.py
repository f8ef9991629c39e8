"""Damaged layouts of synthetic reports: what conversions do to real reports' tables, at random.

`damaged(report, rng)` prints a report as a Markdown pipe table or tab-separated text and breaks it
the ways real files arrive broken: row labels with typos (characters dropped, replaced or swapped),
labels detached onto a row of their own, cut mid-word or lost (bare figure rows), units inside the
cells (件, 万元, 元 in a 万元 column), tables split across pages with or without the header repeated
and with the page's running header and footer, and titles split across lines after a stray line.
It returns the text and the list of damages done, for the test's message.
"""

from __future__ import annotations

import random

from gongkai.formats import load_format
from gongkai.model import Report
from gongkai.render.layout import table_grid
from gongkai.render.markdown import joined_labels
from gongkai.text import is_number

# Replacement characters: no digit, bracket or word that could make a label another row's.
_NOISE = "甲乙丙丁戊己庚辛壬癸"


def typo(label: str, rng: random.Random, edits: int) -> str:
    """The label with `edits` characters dropped, replaced or swapped."""
    chars = list(label)
    for _ in range(edits):
        if len(chars) < 3:
            break
        i = rng.randrange(len(chars) - 1)
        kind = rng.choice(["drop", "replace", "swap"])
        if kind == "drop":
            del chars[i]
        elif kind == "replace":
            chars[i] = rng.choice(_NOISE)
        else:
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


def _is_data_row(row: list[str]) -> bool:
    return bool(row[0]) and not is_number(row[0]) and any(is_number(c) for c in row[1:])


def _with_unit(text: str, column_unit: str | None, rng: random.Random) -> tuple[str, str]:
    """A figure with its unit in the cell; a money figure sometimes in 元 in a 万元 column."""
    if not is_number(text):
        return text, ""
    if column_unit == "万元":
        if rng.random() < 0.5:
            return f"{float(text) * 10000:.0f}元", "元 in a 万元 column"
        return text + "万元", "万元"
    if column_unit:
        return text, ""
    return text + rng.choice(["件", "个"]), "count unit"


def damage_rows(rows: list[list[str]], rng: random.Random, units: dict[int, list[str | None]],
                rate: float) -> tuple[list[list[str]], list[str]]:
    """A table's rows (one label cell, then figures) with some data rows damaged."""
    out: list[list[str]] = []
    done: list[str] = []
    for n, row in enumerate(rows):
        if not _is_data_row(row) or rng.random() >= rate:
            out.append(row)
            continue
        label, figures = row[0], row[1:]
        blank = [""] * len(figures)
        kind = rng.choice(["typo", "detached", "lost", "cut", "units"])
        if kind == "typo":
            damaged = typo(label, rng, rng.randint(1, 3))
            out.append([damaged, *figures])
            done.append(f"typo {label!r} → {damaged!r}")
        elif kind == "detached":
            out += [[label, *blank], ["", *figures]]
            done.append(f"detached {label!r}")
        elif kind == "lost":
            out.append(["", *figures])
            done.append(f"lost {label!r}")
        elif kind == "cut":
            cut = rng.randint(2, max(2, len(label) - 2))
            fragment = label[:cut] if rng.random() < 0.5 else label[cut:]
            out += [[fragment, *blank], ["", *figures]]
            done.append(f"cut {label!r} → {fragment!r}")
        else:
            column_units = units.get(n, [None] * len(figures))
            cells = [_with_unit(f, u, rng) for f, u in zip(figures, column_units, strict=False)]
            out.append([label, *(c for c, _ in cells)])
            done.append(f"units on {label!r}: {sorted({u for _, u in cells if u})}")
    return out, done


def page_break(rows: list[list[str]], header: list[list[str]], rng: random.Random, page: int,
               repeat_header: bool) -> list[list[str] | str]:
    """The rows with a page break somewhere among them: footer, running header, maybe the header again."""
    at = rng.randrange(len(header) + 1, len(rows))
    furniture: list[list[str] | str] = [f"- {page} -", "",
                                        f"https://www.gov.example.cn/art/2024/3/{page}/art_1.html 2024/3/5 10:23", ""]
    return [*rows[:at], *furniture, *(header if repeat_header else []), *rows[at:]]


def _units_of(table, rows: list[list[str]]) -> dict[int, list[str | None]]:
    """Each data row's column units (table 二's money column), by row index."""
    out: dict[int, list[str | None]] = {}
    for block in table.blocks:
        labels = {row.label for row in block.rows}
        for n, row in enumerate(rows):
            if row[0] in labels:
                out[n] = [c.unit for c in block.columns] + [None] * (len(row) - 1 - len(block.columns))
    return out


def damaged(report: Report, rng: random.Random, rate: float = 0.25) -> tuple[str, list[str]]:
    """The report as damaged text, and what was done to it."""
    fmt = load_format(report.format)
    tabs = rng.random() < 0.5
    done: list[str] = ["tabs" if tabs else "pipes"]
    lines: list[str] = []
    if rng.random() < 0.3:
        lines += ["正文", f"{report.year} 年{report.agency}政府信息公开工作", "年度报告", ""]
        done.append("title split after a stray line")
    else:
        lines += [report.title or "", ""]
    texts = {s.number: s.text for s in report.sections}
    by_section = {t.section: t for t in fmt.tables}
    page = 1
    for section in fmt.sections:
        lines += [f"{section.number}、{section.title}", "", texts.get(section.number, ""), ""]
        table = by_section.get(section.number)
        if table is None:
            continue
        rows = joined_labels(table_grid(table, report, fmt))
        if table.layout != "line":
            header = [r for r in rows[:4] if not _is_data_row(r)][:3] if table.layout == "grid" else []
            rows, row_damage = damage_rows(rows, rng, _units_of(table, rows), rate)
            done += row_damage
            if table.layout == "grid" and rng.random() < 0.5:
                page += 1
                repeat = rng.random() < 0.5
                rows = page_break(rows, header, rng, page, repeat)
                done.append(f"page break in table {table.number}, header {'repeated' if repeat else 'not repeated'}")
        for row in rows:
            if isinstance(row, str):
                lines.append(row)
            elif tabs:
                lines.append("\t".join(row))
            else:
                lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    return "\n".join(lines), done
