"""The report's six sections: present, in the format's order and numbering, and saying what they must."""

from __future__ import annotations

import re

from gongkai.check.engine import Context, outcome
from gongkai.formats import Rule
from gongkai.formats import Section as SectionDef
from gongkai.model import Outcome, Section
from gongkai.text import nfkc

# A line printed like a section heading: 四、存在的主要问题及改进情况 (the parser takes only those in
# the format's order and numbering; the others stay in the text, where this finds them).
_HEADING = re.compile(r"^\s*#*\s*\**\s*(?P<num>[一二三四五六七八九十]{1,2})\s*[、.．]\s*(?P<title>[^。，,；;]{2,40}?)\s*\**\s*$")
_SLACK = 8  # how much longer than the official title a printed variant may be


_NO_TEXT = "未读取到报告正文"


def has_text(ctx: Context) -> bool:
    """Whether the report has any text: a data file or a blank template has none, and is not judged on it."""
    return any(s.text.strip() for s in ctx.report.sections)


def _strays(ctx: Context) -> list[tuple[str, str, Section]]:
    """(printed number, title, the section it stands in) of heading-like lines inside the sections."""
    out = []
    for section in ctx.report.sections:
        for paragraph in section.paragraphs or []:
            m = _HEADING.match(nfkc(paragraph.text))
            if m:
                out.append((m["num"], m["title"].strip("*# "), section))
    return out


def _titled(definition: SectionDef, title: str) -> bool:
    return bool(re.search(definition.match, title)) and len(title) <= len(definition.title) + _SLACK


def check_section_order(rule: Rule, ctx: Context) -> list[Outcome]:
    """One instance per section of the format: present, numbered as the format numbers it, in order."""
    sections = ctx.report.sections
    if not has_text(ctx):
        return [outcome(rule, ctx, "not_assessable", [], message=_NO_TEXT) for _ in ctx.fmt.sections]
    strays = _strays(ctx)
    order = [s.number for s in sections]
    out = []
    for definition in ctx.fmt.sections:
        present = ctx.report.section(definition.number)
        official = f"{definition.number}、{definition.title}"
        stray = next(((num, title, where) for num, title, where in strays
                      if _titled(definition, title) and (present is None or num != definition.number)), None)
        if present is not None and stray is None:
            result = outcome(rule, ctx, "passed", [], expected=official, found=f"{present.number}、{present.title}",
                             locations=[present.provenance] if present.provenance else [])
        elif stray is not None:
            num, title, where = stray
            problem = (f"「{num}、{title}」编号与格式不符，格式为「{official}」" if num != definition.number else
                       f"「{num}、{title}」排在第{where.number}部分之后，顺序与格式不符")
            result = outcome(rule, ctx, "failed", [], message=rule.message.format(problem=problem),
                             expected=official, found=f"{num}、{title}",
                             locations=[where.provenance] if where.provenance else [])
        else:
            after = [n for n in order if _rank(ctx, n) < _rank(ctx, definition.number)]
            problem = f"缺少第{definition.number}部分「{definition.title}」" + (
                f"（应在第{after[-1]}部分之后）" if after else "")
            result = outcome(rule, ctx, "failed", [], message=rule.message.format(problem=problem), expected=official)
        result.values[f"section:{definition.number}"] = len(present.text) if present else None
        out.append(result)
    return out


def _rank(ctx: Context, number: str) -> int:
    return next(i for i, s in enumerate(ctx.fmt.sections) if s.number == number)


def check_section_content(rule: Rule, ctx: Context) -> list[Outcome]:
    """Each of the rule's sections says what the format asks of it: all of `patterns` found, and
    not only words that state nothing (`none_patterns`: 无, 暂无问题)."""
    out = []
    for number in rule.sections:
        section = ctx.report.section(number)
        locations = [section.provenance] if section and section.provenance else []
        if section is None or not has_text(ctx):
            result = outcome(rule, ctx, "not_assessable", [], message=f"未找到第{number}部分" if has_text(ctx) else _NO_TEXT)
        else:
            text = re.sub(r"\s+", "", nfkc(section.text))
            shown = text if len(text) <= 40 else text[:39] + "…"
            empty = next((p for p in rule.none_patterns if re.search(p, text)), None)
            missing = [p for p in rule.patterns if not re.search(p, text)]
            if not text:
                problem = "没有内容"
            elif empty is not None:
                problem = "只写了没有内容的话"
            elif missing:
                problem = "未写到" + "、".join(f"「{p.split('|')[0]}」等" for p in missing)
            else:
                problem = None
            message = rule.message.format(problem=problem, text=shown) if problem else None
            result = outcome(rule, ctx, "failed" if problem else "passed", [], message=message,
                             expected=rule.title, found=shown, locations=locations)
        result.values[f"section:{number}"] = len(section.text) if section else None
        out.append(result)
    return out
