"""Figures the text states, against the tables."""

from __future__ import annotations

import re
from collections.abc import Iterator

from gongkai.check.engine import Context, close, expand, figure, outcome
from gongkai.formats import Rule
from gongkai.model import Number, Outcome, Paragraph, Provenance

_SENTENCE_END = re.compile(r"(?<=[。；;！!？?\n])")


def sentences(ctx: Context, numbers: tuple[str, ...]) -> Iterator[tuple[str, str, Provenance | None]]:
    """(sentence, the sentence before it in its paragraph, where the paragraph is) of the sections."""
    for section in ctx.report.sections:
        if numbers and section.number not in numbers:
            continue
        parts = section.paragraphs or [Paragraph(text=section.text, provenance=section.provenance)]
        for part in parts:
            before = ""
            for sentence in _SENTENCE_END.split(part.text):
                if sentence.strip():
                    yield sentence.strip(), before, part.provenance
                    before = sentence.strip()


def _sum_cells(ctx: Context, templates: tuple[str, ...]) -> tuple[Number | None, list[str]]:
    keys = [t.key for tpl in templates for t in expand(tpl, {}, ctx)]
    values = [ctx.report.value(k) for k in keys]
    if not keys or any(v is None for v in values):
        return None, keys
    return sum(values), keys


def excerpt(sentence: str, limit: int = 80) -> str:
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"


def check_narrative(rule: Rule, ctx: Context) -> list[Outcome]:
    table_value, keys = _sum_cells(ctx, rule.compare)
    patterns = [re.compile(p) for p in rule.patterns]
    out = []
    for sentence, before, where in sentences(ctx, rule.sections):
        # "共收到申请 125 件。其中予以公开 69 项": the context may be in the sentence before.
        if rule.context and not re.search(rule.context, before + sentence):
            continue
        figures = []
        for pattern in patterns:
            figures += [(m.start(), int(m["n"])) for m in pattern.finditer(sentence)]
        if not figures:
            continue
        figures.sort()
        numbers = [n for _, n in figures]
        locations = ([where] if where else []) + ctx.where(*keys)
        if table_value is None:
            out.append(outcome(rule, ctx, "not_assessable", keys, message="表格相关单元格为空", locations=locations))
            continue
        # "收到申请 18 件，市转交申请 2 件": the table may count the first figure or all of them.
        if any(close(candidate, table_value) for candidate in {numbers[0], sum(numbers)}):
            out.append(outcome(rule, ctx, "passed", keys, expected=numbers[0], found=table_value, locations=locations))
            continue
        stated = str(numbers[0]) if len(numbers) == 1 else f"{' + '.join(map(str, numbers))} = {sum(numbers)}"
        message = rule.message.format(stated=stated, sentence=excerpt(sentence), table=figure(table_value))
        out.append(outcome(rule, ctx, "failed", keys, message=message,
                           expected=sum(numbers) if len(numbers) > 1 else numbers[0], found=table_value,
                           locations=locations))
    return out


def check_narrative_conflict(rule: Rule, ctx: Context) -> list[Outcome]:
    nones, amounts = [], []
    none_patterns = [re.compile(p) for p in rule.none_patterns]
    amount_patterns = [re.compile(p) for p in rule.amount_patterns]
    for sentence, _, where in sentences(ctx, rule.sections):
        if any(p.search(sentence) for p in none_patterns):
            nones.append((sentence, where))
            continue
        for p in amount_patterns:
            m = p.search(sentence)
            if m and float(m["n"]) > 0:
                amounts.append((sentence, where, m.group(0)))
    if not nones or not amounts:
        return [outcome(rule, ctx, "passed" if nones or amounts else "not_assessable", [])]
    (none_sentence, none_where), (amount_sentence, amount_where, stated) = nones[0], amounts[0]
    message = rule.message.format(none_sentence=excerpt(none_sentence), amount_sentence=excerpt(amount_sentence),
                                  stated=stated)
    return [outcome(rule, ctx, "failed", [], message=message, expected=none_sentence, found=stated,
                    locations=[w for w in (none_where, amount_where) if w])]
