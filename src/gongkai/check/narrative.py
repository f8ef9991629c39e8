"""What the text states, read whole, against the tables.

A sentence's figures are read with the words around them: the subject before each (收到 / 办结 /
予以公开 …, from the format's `statements`), subjects joined into one figure (予以公开及部分公开 42 件),
the parts after 其中 / 含 (which must stay within their whole), a share (占 51.85%), statements
about all or none (均获维持, 未发生行政复议), figures that are not exact (近 200 件) and figures that
are not this year's total (同比增加 12 件). A statement passes when one reading of its words fits
the tables, fails when none does, and is uncertain when the words cannot be pinned down.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from gongkai.check.engine import Context, close, comparable, expand, figure, outcome
from gongkai.formats import Format, Rule
from gongkai.formats.subjects import AllOf, Statements, Subject
from gongkai.model import Number, Outcome, Provenance, SectionParagraph
from gongkai.text import nfkc

_SENTENCE_END = re.compile(r"(?<=[。；;！!？?\n])")
_CLAUSE = re.compile(r"[,;:]")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_YEAR = re.compile(r"((?:19|20)\d\d)\s*年")
_MAX_COMBINATIONS = 16
_BASE_WORDS = re.compile(r"比例|比重|比|总数|总量|总计|全部|的|为|达")
# Between a none-word and its subject, only words that do not narrow it (因政府信息公开引起的);
# after it, only what names the same thing (案件, 的情况).
_NONE_GAP = re.compile(r"^(?:因|涉及|关于)?(?:政府信息公开|信息公开|依申请公开)?(?:工作)?(?:而|引起|引发|产生)?的?"
                       r"(?:被申请|被提起|被|提起|申请)?$")
_NONE_REST = re.compile(r"^(?:任何)?(?:政府信息公开|信息公开|依申请公开)?的?(?:案件|案|事项|申请|的?情况|的?情形)?(?:[。.!！]|$)")


def chinese_number(text: str) -> int | None:
    """十二 → 12, 一百零三 → 103, 两千三百 → 2300, 一万二千 → 12000; None when it is no number."""
    if all(ch in _CN_DIGITS for ch in text):  # digit by digit: 二〇 → 20
        return int("".join(str(_CN_DIGITS[ch]) for ch in text)) if text else None
    total = section = 0
    digit: int | None = None
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            section += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
        elif ch == "万":
            total += (section + (digit or 0)) * 10_000
            section, digit = 0, None
        else:
            return None
    return total + section + (digit or 0)


def number_value(text: str) -> int | None:
    if text[0].isdigit():
        return int(text.replace(",", ""))
    return chinese_number(text)


# ---- the grammar, compiled once per format ---------------------------------------------------------


@dataclass
class Grammar:
    statements: Statements
    figure: re.Pattern[str]
    percent: re.Pattern[str]
    subjects: list[tuple[Subject, re.Pattern[str], re.Pattern[str] | None]]
    any_subject: re.Pattern[str]
    parts: re.Pattern[str]
    sum_gap: re.Pattern[str]
    not_the_figure: re.Pattern[str]
    none: re.Pattern[str]
    all_word: re.Pattern[str]
    trigger: re.Pattern[str]  # a sentence without it states nothing


_GRAMMARS: dict[int, tuple[Statements, Grammar]] = {}


def grammar(statements: Statements) -> Grammar:
    cached = _GRAMMARS.get(id(statements))
    if cached is not None and cached[0] is statements:
        return cached[1]
    s = statements
    number = r"\d{1,3}(?:,\d{3})+(?!\d)|\d+|[零〇一二两三四五六七八九十百千万]+"
    compiled = Grammar(
        statements=s,
        figure=re.compile(rf"(?<![\d.第])(?P<before>{s.approximate_before})?\s*(?P<num>{number})\s*"
                          rf"(?P<after>{s.approximate_after})?\s*(?P<unit>{s.units})(?P<above>以上|左右)?(?!性)"),
        percent=re.compile(r"\s*[,，]?\s*(?:约)?占(?P<base>[^,;。%\d]{0,12}?)\s*(?P<pct>\d+(?:\.\d+)?)\s*%"),
        subjects=[(subject, re.compile(subject.words), re.compile(subject.context) if subject.context else None)
                  for subject in s.subjects],
        any_subject=re.compile("|".join(f"(?:{subject.words})" for subject in s.subjects)),
        parts=re.compile(s.parts_words),
        sum_gap=re.compile(rf"^\s*(?:{s.sum_words})\s*$"),
        not_the_figure=re.compile(s.not_the_figure),
        none=re.compile(s.none_words),
        all_word=re.compile(s.all_words),
        trigger=re.compile(rf"[\d零〇一二两三四五六七八九十百千万]\s*(?:{s.approximate_after})?\s*(?:{s.units})"
                           rf"|{s.none_words}|{s.all_words}"),
    )
    _GRAMMARS[id(statements)] = (statements, compiled)
    return compiled


# ---- what a sentence states ---------------------------------------------------------------------


@dataclass
class Sentence:
    text: str  # NFKC, for reading
    where: Provenance | None
    printed: str = ""  # as printed, for messages


@dataclass
class Mention:
    start: int
    end: int
    subject: Subject


@dataclass
class Stated:
    """A figure the text states about one subject, or several summed (A及B), or none of it, or all."""

    subjects: list[Subject]
    value: int | None  # None for a statement about all (均获维持)
    sentence: Sentence
    kind: str = "figure"  # figure | none | all
    approx: str | None = None  # at_least | at_most | about
    parent: Stated | None = None
    parts: list[Stated] = field(default_factory=list)
    joined: list[Stated] = field(default_factory=list)
    percent: tuple[str, float, int, str] | None = None  # printed, value, decimals, base words
    others: list[Subject] = field(default_factory=list)  # earlier subjects the words may also mean
    all_of: AllOf | None = None


def _mentions(g: Grammar, text: str, context: str) -> list[Mention]:
    if not g.any_subject.search(text):
        return []
    found = []
    for subject, words, needs in g.subjects:
        if needs is not None and not needs.search(context):
            continue
        found += [Mention(m.start(), m.end(), subject) for m in words.finditer(text) if m.end() > m.start()]
    found.sort(key=lambda m: (m.start, -(m.end - m.start)))
    out: list[Mention] = []
    for m in found:  # the longest of overlapping words
        if out and m.start < out[-1].end:
            continue
        out.append(m)
    return out


def _chain(g: Grammar, text: str, mentions: list[Mention]) -> tuple[list[Subject], list[Subject]]:
    """The subjects one figure is about (the last named, with those joined to it by 及/和/、) and the
    other subjects named before (which the words may also mean)."""
    if not mentions:
        return [], []
    chain = [mentions[-1]]
    for m in reversed(mentions[:-1]):
        if not g.sum_gap.match(text[m.end:chain[0].start]):
            break
        chain.insert(0, m)
    others = [m.subject for m in mentions[: len(mentions) - len(chain)] if m.subject.readings or m.subject.columns]
    return [m.subject for m in chain], others


def _approx(match: re.Match[str]) -> str | None:
    if match["before"]:
        return "at_most" if match["before"] in ("近", "不到") else "about" if "约" in match["before"] else "at_least"
    if match["after"] or match["above"]:
        return "about" if match["above"] == "左右" else "at_least"
    return None


def read_sentence(g: Grammar, sentence: Sentence, context: str, year: int | None,
                  carried: Stated | None) -> tuple[list[Stated], Stated | None]:
    """The statements of one sentence; `carried` is the last whole of the sentence before, which a
    sentence opening with 其中 is about. Returns the statements and the last whole."""
    text = sentence.text
    out: list[Stated] = []
    wholes: list[Stated] = []
    parts_of: Stated | None = None
    including = False
    pos = 0
    for m in g.figure.finditer(text):
        span = text[pos:m.start()]
        pos = m.end()
        clause = _CLAUSE.split(span)[-1]
        if g.parts.search(span):
            whole = wholes[-1] if wholes else carried
            including = not g.parts.search(span).group(0).startswith("其中")
            parts_of = whole
        elif including and re.search(r"[),;、]", span):
            including, parts_of = False, None
        value = number_value(m["num"])
        years = [int(y) for y in _YEAR.findall(clause)]
        if value is None or g.not_the_figure.search(clause) or (year and any(y != year for y in years)):
            continue
        mentions = _mentions(g, span, context)
        subjects, others = _chain(g, span, mentions)
        stated = Stated(subjects=subjects, value=value, sentence=sentence, approx=_approx(m), others=others)
        each = text[m.start() - 1: m.start()] == "各"
        pct = g.percent.match(text, m.end())
        if pct:
            digits = len(pct["pct"].split(".")[1]) if "." in pct["pct"] else 0
            stated.percent = (pct["pct"], float(pct["pct"]), digits, pct["base"])
        if parts_of is not None:
            stated.parent = parts_of
            parts_of.parts.append(stated)
        elif subjects and subjects[0].joins and wholes and subjects[0].joins in {s.key for s in wholes[-1].subjects}:
            wholes[-1].joined.append(stated)
            continue
        elif not subjects:
            continue
        else:
            wholes.append(stated)
        if each and len(subjects) > 1:  # A和B各 3 件
            for subject in subjects:
                out.append(Stated(subjects=[subject], value=value, sentence=sentence, approx=stated.approx,
                                  parent=stated.parent))
        else:
            out.append(stated)
    out += _none_and_all(g, sentence, context, out)
    return out, (wholes[-1] if wholes else carried)


def _none_and_all(g: Grammar, sentence: Sentence, context: str, figures: list[Stated]) -> list[Stated]:
    """未发生行政复议 (the subject is 0); 行政复议 3 件，均获维持 (all of it is 结果维持)."""
    text = sentence.text
    out = []
    mentions = _mentions(g, text, context)
    for m in g.none.finditer(text):
        # The subject right after (or its verb within: 未收到申请), or after words that do not narrow it.
        after = [x for x in mentions if x.start >= m.start() and x.end >= m.end() and x.subject.readings]
        if not after or not _NONE_GAP.match(text[m.end():max(after[0].start, m.end())]):
            continue  # 未发生被纠错的行政复议: about some of them only
        if m.group(0) == "无" and after[0].start != m.end():
            continue  # 无 only right before its subject (not 无法提供)
        chain = [after[0]]
        for x in after[1:]:
            if not g.sum_gap.match(text[chain[-1].end:x.start]):
                break
            chain.append(x)
        if not _NONE_REST.match(_CLAUSE.split(text[chain[-1].end:])[0]):
            continue  # 没有…行政复议被纠错的情况, 没有…申请 12 件: not a statement of none
        out += [Stated(subjects=[x.subject], value=0, sentence=sentence, kind="none") for x in chain]
    for m in g.all_word.finditer(text):
        rest = re.sub(r"^(?:已|被|获|予以|得到|依法|为|由|经)+", "", text[m.end():])
        stated_before = [s for s in figures if s.kind == "figure" and s.subjects]
        named = [s.subjects[0] for s in stated_before if len(s.subjects) == 1] or \
            [x.subject for x in mentions if x.end <= m.start()]
        for subject in dict.fromkeys(named):
            for all_of in subject.all_of:
                if re.match(all_of.words, rest):
                    out.append(Stated(subjects=[subject], value=None, sentence=sentence, kind="all", all_of=all_of))
    return out


def sentences(ctx: Context, numbers: tuple[str, ...]) -> Iterator[tuple[str, str, Provenance | None, bool]]:
    """(sentence, the sentence before it, where its paragraph is, whether it opens a paragraph)."""
    for section in ctx.report.sections:
        if numbers and section.number not in numbers:
            continue
        parts = section.paragraphs or [SectionParagraph(text=section.text, provenance=section.provenance)]
        for part in parts:
            before = ""
            for sentence in _SENTENCE_END.split(part.text):
                if sentence.strip():
                    yield sentence.strip(), before, part.provenance, not before
                    before = sentence.strip()


def statements(ctx: Context) -> list[Stated]:
    """Every statement of the sections the format reads figures in (once per report)."""
    cached = ctx.cache.get("statements")
    if cached is not None:
        return cached  # type: ignore[return-value]
    out: list[Stated] = []
    config = ctx.fmt.statements
    if config is not None:
        g = grammar(config)
        carried: Stated | None = None
        last: tuple[str, str] = ("", "")  # the sentence before, printed and normalised: each is normalised once
        for printed, before, where, first in sentences(ctx, config.sections):
            text = nfkc(printed)
            before_text = last[1] if before == last[0] else nfkc(before)
            last = (printed, text)
            if first:
                carried = None
            if not g.trigger.search(text):
                continue
            found, carried = read_sentence(g, Sentence(text, where, printed), before_text + text, ctx.report.year,
                                           carried)
            out += found
    ctx.cache["statements"] = out
    return out


# ---- readings against the tables ---------------------------------------------------------------------


@dataclass
class Reading:
    name: str
    keys: list[str]
    value: Number | None  # None: a cell is blank


def _cells(ctx: Context, terms: tuple[str, ...]) -> list[str]:
    return [t.key for term in terms for t in expand(term, {}, ctx)]


def _reading(ctx: Context, name: str, keys: list[str]) -> Reading:
    values = [ctx.now.get(k) for k in keys]
    total = None if any(v is None for v in values) or not keys else sum(values)
    return Reading(name, keys, total)


def _subject_readings(ctx: Context, subject: Subject, parent: Stated | None) -> list[Reading]:
    if subject.columns:  # 自然人 of the whole: the whole's cells, in these columns
        if parent is None:
            return []
        out = []
        for whole in readings(ctx, parent):
            keys = [f"{k.rsplit('.', 1)[0]}.{col}" for k in whole.keys for col in subject.columns]
            if all(k in ctx.fmt.all_cells for k in keys):
                out.append(_reading(ctx, f"{whole.name}（{subject.name}）", keys))
        return out
    return [_reading(ctx, r.name, _cells(ctx, r.terms)) for r in subject.readings]


def readings(ctx: Context, stated: Stated) -> list[Reading]:
    """Every reading of a statement's subjects (the combinations, for subjects summed)."""
    per_subject = [_subject_readings(ctx, s, stated.parent) for s in stated.subjects]
    if not per_subject or any(not r for r in per_subject):
        return []
    if len(per_subject) == 1:
        return per_subject[0]
    out = []
    for combo in itertools.islice(itertools.product(*per_subject), _MAX_COMBINATIONS):
        out.append(_reading(ctx, " + ".join(r.name for r in combo), [k for r in combo for k in r.keys]))
    return out


def _fits(stated_value: Number, table: Number, approx: str | None) -> bool:
    if approx == "at_least":
        return table >= stated_value
    if approx == "at_most":
        return table <= stated_value
    return close(stated_value, table)


def _candidates(stated: Stated) -> list[tuple[Number, str]]:
    """The figure alone, and with the figures joined to it (收到 18 件，市转交 2 件: 18 or 20)."""
    out = [(stated.value, "")]
    if stated.joined:
        out.append((stated.value + sum(j.value for j in stated.joined), "（含" + "、".join(
            dict.fromkeys(j.subjects[0].name for j in stated.joined)) + "）"))
    return out


def _stated_text(stated: Stated) -> str:
    if stated.kind == "none":
        return "没有发生"
    if stated.kind == "all":
        return f"均为{stated.all_of.name}"
    prefix = {"at_least": "不少于 ", "at_most": "不超过 ", "about": "约 "}.get(stated.approx or "", "")
    if stated.joined:
        figures = [stated.value, *(j.value for j in stated.joined)]
        return f"{' + '.join(map(str, figures))} = {sum(figures)} 件"
    return f"{prefix}{stated.value} 件"


def _excerpt(sentence: str, limit: int = 80) -> str:
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"


def _judge(ctx: Context, stated: Stated) -> tuple[str, str | None, list[Reading], Number | None]:
    """(status, the reading that fitted, the readings tried, the figure compared), once per statement."""
    judged: dict[int, tuple] = ctx.cache.setdefault("judged", {})  # type: ignore[assignment]
    if id(stated) not in judged:
        judged[id(stated)] = _judge_once(ctx, stated)
    return judged[id(stated)]


def _judge_once(ctx: Context, stated: Stated) -> tuple[str, str | None, list[Reading], Number | None]:
    tried = readings(ctx, stated)
    assessable = [r for r in tried if r.value is not None]
    if not assessable:
        return "not_assessable", None, tried, None
    if not all(comparable(r.value) for r in assessable):
        return "uncertain", None, tried, None
    if stated.kind == "all":
        parts = _reading(ctx, stated.all_of.name, _cells(ctx, stated.all_of.terms))
        if parts.value is None:
            return "not_assessable", None, [*tried, parts], None
        fitting = [r for r in assessable if close(r.value, parts.value)]
        return ("passed" if fitting else "failed"), (fitting[0].name if fitting else None), [*tried, parts], None
    for value, joined in _candidates(stated):
        for r in assessable:
            if _fits(value, r.value, stated.approx):
                several = len(tried) > 1 or joined
                return "passed", (f"{r.name}{joined}" if several else None), tried, value
    if stated.approx:
        return "uncertain", None, tried, None
    for other in stated.others:  # 受理行政复议申请 3 件: the last subject named, or an earlier one
        alternative = Stated(subjects=[other], value=stated.value, sentence=stated.sentence, parent=stated.parent)
        for r in readings(ctx, alternative):
            if r.value is not None and close(stated.value, r.value):
                return "passed", f"{other.name}：{r.name}", tried, stated.value
    return ("uncertain" if stated.others else "failed"), None, tried, None


def _where(ctx: Context, stated: Stated, keys: list[str]) -> list[Provenance]:
    return ([stated.sentence.where] if stated.sentence.where else []) + ctx.where(*keys)


def _identity(stated: Stated) -> dict[str, Number | None]:
    """The statement's own words in an outcome's values: two statements of one subject differ."""
    return {f"text:{stated.sentence.text[:60]}": stated.value}


def check_narrative(rule: Rule, ctx: Context) -> list[Outcome]:
    out = []
    for stated in statements(ctx):
        if not stated.subjects or stated.subjects[0].rule != rule.id:
            continue
        if stated.kind == "figure" and stated.subjects[0].columns and stated.parent is None:
            continue  # 自然人 12 件 on its own: a part of nothing stated
        status, reading, tried, _ = _judge(ctx, stated)
        keys = list(dict.fromkeys(k for r in tried for k in r.keys))
        subject = "及".join(s.name for s in stated.subjects)
        message = None
        if status in ("failed", "uncertain"):
            table = "；".join(f"{r.name}为 {figure(r.value)}" for r in tried)
            message = rule.message.format(subject=subject, stated=_stated_text(stated),
                                          sentence=_excerpt(stated.sentence.printed), table=table)
            if status == "uncertain":
                message += "（所述不够确切，或可另作理解，未能判定）"
        first = next((r.value for r in tried if r.value is not None), None)
        expected = _candidates(stated)[-1][0] if stated.kind != "all" else stated.all_of.name
        result = outcome(rule, ctx, status, keys, message=message, reading=reading, expected=expected, found=first,
                         locations=_where(ctx, stated, keys))
        result.values.update(_identity(stated))
        out.append(result)
    return out


def _all_columns(fmt: Format, key: str) -> set[str]:
    cell = fmt.all_cells.get(key)
    return {c.key for c in cell.block.columns if c.role != "total"} if cell else set()


def check_narrative_parts(rule: Rule, ctx: Context) -> list[Outcome]:
    """The parts after 其中 stay within their whole, and add up to it where they cover all of it."""
    out = []
    wholes = {id(s.parent): s.parent for s in statements(ctx) if s.parent is not None and s.kind == "figure"}
    for whole in wholes.values():
        parts = [p for p in whole.parts if p.kind == "figure"]
        total = sum(p.value for p in parts)
        candidates = [v for v, _ in _candidates(whole)]
        keys = list(dict.fromkeys(k for p in parts for r in readings(ctx, p)[:1] for k in r.keys))
        columns = {c for p in parts for s in p.subjects for c in s.columns}
        whole_keys = [k for r in readings(ctx, whole)[:1] for k in r.keys]
        exhaustive = bool(columns) and all(p.subjects and p.subjects[0].columns for p in parts) and \
            bool(whole_keys) and columns == _all_columns(ctx.fmt, whole_keys[0])
        approx = whole.approx or any(p.approx for p in parts)
        if exhaustive:
            ok = any(close(total, c) for c in candidates)
            problem = f"各项之和为 {total}，应等于总数"
        else:
            ok = total <= max(candidates) + 1e-9
            problem = f"各项之和 {total} 超过总数"
        # A figure that already fails against the tables explains the sum: one wrong figure, one finding.
        explained = any(_judge(ctx, s)[0] == "failed" for s in (whole, *parts) if s.subjects)
        status = "passed" if ok else "uncertain" if approx or explained or any(not p.subjects for p in parts) \
            else "failed"
        message = None if ok else rule.message.format(
            whole=f"{'及'.join(s.name for s in whole.subjects) or ''} {_stated_text(whole)}",
            parts="，".join(f"{'及'.join(s.name for s in p.subjects) or '（未名）'} {p.value} 件" for p in parts),
            problem=problem, sentence=_excerpt(whole.sentence.printed))
        result = outcome(rule, ctx, status, keys, message=message, expected=whole.value, found=total,
                         locations=_where(ctx, whole, []))
        result.values.update(_identity(whole))
        out.append(result)
    return out


def _share_fits(part: Number, base: Number, printed: float, digits: int) -> bool:
    """The share printed to its precision: rounded, or cut off."""
    if base == 0:
        return False
    computed = part / base * 100
    step = 10.0 ** -digits
    return abs(computed - printed) <= step / 2 + 1e-9 or 0 <= computed - printed < step


def check_narrative_ratio(rule: Rule, ctx: Context) -> list[Outcome]:
    out = []
    found = statements(ctx)
    for stated in found:
        if stated.percent is None or stated.value is None:
            continue
        printed_text, printed, digits, base_words = stated.percent
        base = stated.parent
        if base is None:  # 收到 81 件，予以公开 42 件，占 51.85%: the first whole of the sentence
            base = next((s for s in found if s.sentence is stated.sentence and s is not stated and s.kind == "figure"
                         and s.parent is None and s.subjects), None)
            if base is None:
                continue
        fits = [v for v, _ in _candidates(base) if _share_fits(stated.value, v, printed, digits)]
        keys = list(dict.fromkeys(k for s in (stated, base) for r in readings(ctx, s)[:1] for k in r.keys))
        named = _BASE_WORDS.sub("", base_words)  # 占办结总数的: a base named, maybe not the whole
        explained = any(_judge(ctx, s)[0] == "failed" for s in (stated, base) if s.subjects)
        status = "passed" if fits else "uncertain" if stated.parent is None or named or explained else "failed"
        message = None
        if not fits:
            computed = stated.value / base.value * 100 if base.value else float("nan")
            message = rule.message.format(part=f"{'及'.join(s.name for s in stated.subjects)} {stated.value} 件",
                                          base=f"{'及'.join(s.name for s in base.subjects)} {base.value} 件",
                                          printed=printed_text, computed=f"{computed:.{max(digits, 2)}f}",
                                          sentence=_excerpt(stated.sentence.printed))
        result = outcome(rule, ctx, status, keys, message=message, expected=printed,
                         found=stated.value / base.value * 100 if base.value else None,
                         locations=_where(ctx, stated, []))
        result.values.update(_identity(stated))
        out.append(result)
    return out


def check_narrative_conflict(rule: Rule, ctx: Context) -> list[Outcome]:
    nones, amounts = [], []
    none_patterns = [re.compile(p) for p in rule.none_patterns]
    amount_patterns = [re.compile(p) for p in rule.amount_patterns]
    for sentence, _, where, _ in sentences(ctx, rule.sections):
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
    message = rule.message.format(none_sentence=_excerpt(none_sentence), amount_sentence=_excerpt(amount_sentence),
                                  stated=stated)
    return [outcome(rule, ctx, "failed", [], message=message, expected=none_sentence, found=stated,
                    locations=[w for w in (none_where, amount_where) if w])]
