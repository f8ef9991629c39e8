"""Evaluate a format's rules on a report. One function per rule kind; the rules themselves are data.

Every finding names its rule, the cells involved, the expected and the found value, and where in
the document they are; messages are Chinese templates from the rule definitions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from gongkai.formats import CellDef, Format, Rule, Table, load_format, match_keys
from gongkai.model import Finding, Number, Paragraph, Provenance, Report, TableLayout
from gongkai.text import figure_text, normalize_label, printed_as

_SENTENCE_END = re.compile(r"(?<=[。；;！!？?\n])")


@dataclass(frozen=True)
class Term:
    key: str
    sign: int  # +1 or -1
    previous: bool  # read from last year's report


@dataclass
class Context:
    report: Report
    previous: Report | None
    fmt: Format
    # Blank cells the sums determine: key → (value, rule id). Filled by the sum rules.
    inferred: dict[str, tuple[Number, str]] = field(default_factory=dict)
    conflicts: set[str] = field(default_factory=set)
    # Later passes of the sums read inferred values as known, to infer further (never to report).
    use_inferred: bool = False

    def value(self, key: str, previous: bool = False) -> Number | None:
        source = self.previous if previous else self.report
        value = source.value(key) if source is not None else None
        if value is None and self.use_inferred and not previous and key in self.inferred:
            return self.inferred[key][0]
        return value

    def label(self, key: str) -> str:
        cell = self.fmt.all_cells.get(key)
        return cell.label if cell else key

    def where(self, *keys: str) -> list[Provenance]:
        out = []
        for key in keys:
            cell = self.report.cells.get(key)
            if cell is not None and cell.provenance is not None and cell.provenance not in out:
                out.append(cell.provenance)
        return out


def _finding(rule: Rule, message: str, cells: list[str], expected=None, found=None,
             locations: list[Provenance] | None = None, inferred: dict[str, Number] | None = None) -> Finding:
    return Finding(rule=rule.id, severity=rule.severity, message=message, cells=cells, expected=expected,
                   found=found, locations=locations or [], inferred=inferred)


def _figure(value: Number | None) -> str:
    return "空" if value is None else figure_text(value)


# ---- sums ------------------------------------------------------------------------------------


def _bindings(rule: Rule, ctx: Context) -> Iterator[dict[str, str]]:
    if rule.for_each is None:
        yield {}
        return
    table = ctx.fmt.table(rule.for_each.table)
    if rule.for_each.over == "columns":
        for col in table.blocks[0].columns:
            yield {"column": col.key}
    else:
        for row in table.all_rows:
            if row.optional and not any(k.startswith(f"{table.key}.{row.key}.") for k in ctx.report.cells):
                continue
            yield {"row": row.key}


def _expand(template: str, binding: dict[str, str], ctx: Context) -> list[Term]:
    sign = -1 if template.startswith("-") else 1
    text = template.lstrip("-")
    previous = text.startswith("prev:")
    text = text.removeprefix("prev:")
    for name, value in binding.items():
        text = text.replace(f"${name}", value)
    if "*" not in text:
        return [Term(text, sign, previous)]
    canonical, optional = _keys_like(ctx.fmt, text)
    # A row printed instead of its sub-rows (（六）其他处理 as one row) replaces them.
    source = ctx.previous if previous else ctx.report
    if source is not None and any(source.value(k) is not None for k in optional):
        return [Term(k, sign, previous) for k in optional]
    return [Term(k, sign, previous) for k in canonical]


def _keys_like(fmt: Format, wildcard: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The format's cell keys a wildcard term matches: (canonical ones, optional ones)."""
    keys = match_keys(fmt, wildcard)
    return (tuple(k for k in keys if not fmt.all_cells[k].row.optional),
            tuple(k for k in keys if fmt.all_cells[k].row.optional))


def _terms_text(terms: list[Term], values: list[Number | None], ctx: Context) -> str:
    """'自然人 3 + 商业企业 0 …': each term named by what tells it apart from the others."""
    cells = [ctx.fmt.all_cells.get(t.key) for t in terms]
    same_row = len({(c.table.key, c.row.key) for c in cells if c}) == 1
    same_column = len({c.column.key for c in cells if c}) == 1
    parts = []
    for i, (term, value, cell) in enumerate(zip(terms, values, cells, strict=True)):
        if cell is None:
            name = term.key
        elif same_row and not same_column:
            name = cell.column.label
        elif same_column and not same_row and cell.table.layout != "blocks":
            name = cell.row.label
        else:
            name = f"{cell.row.label}{cell.column.label}"
        prefix = "上年" if term.previous else ""
        op = ("− " if term.sign < 0 else "+ ") if i else ("−" if term.sign < 0 else "")
        parts.append(f"{op}{prefix}{name} {_figure(value)}")
    return " ".join(parts)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=0, abs_tol=1e-6)


def check_sum(rule: Rule, ctx: Context) -> list[Finding]:
    if rule.cross_year and ctx.previous is None:
        return []
    findings = []
    for binding in _bindings(rule, ctx):
        lhs = [t for tpl in rule.lhs for t in _expand(tpl, binding, ctx)]
        rhs = [t for tpl in rule.rhs for t in _expand(tpl, binding, ctx)]
        terms = lhs + rhs
        sources = [ctx.previous if t.previous else ctx.report for t in terms]
        if any(t.key not in s.cells for t, s in zip(terms, sources, strict=True)):
            continue  # a cell this report's format does not have
        values = [ctx.value(t.key, t.previous) for t in terms]
        blanks = [i for i, v in enumerate(values) if v is None]
        label = _binding_label(rule, binding, ctx)
        if len(blanks) == 1 and not terms[blanks[0]].previous:
            findings += _infer(rule, ctx, terms, values, blanks[0], len(lhs), label)
            continue
        if blanks:
            _infer_zeros(rule, ctx, terms, values, blanks, len(lhs))
            continue  # blanks are reported by the completeness rules
        if ctx.use_inferred:
            continue  # values filled in by inference are not the report's: no findings from them
        left = sum(t.sign * v for t, v in zip(lhs, values[: len(lhs)], strict=True))
        right = sum(t.sign * v for t, v in zip(rhs, values[len(lhs):], strict=True))
        if not _close(left, right):
            keys = [t.key for t in terms if not t.previous]
            message = rule.message.format(
                lhs=_figure(left), rhs=_figure(right), diff=_figure(left - right),
                lhs_terms=_terms_text(lhs, values[: len(lhs)], ctx), rhs_terms=_terms_text(rhs, values[len(lhs):], ctx),
                **label)
            findings.append(_finding(rule, message, keys, expected=right, found=left, locations=ctx.where(*keys)))
    return findings


def _binding_label(rule: Rule, binding: dict[str, str], ctx: Context) -> dict[str, str]:
    if rule.for_each is None:
        return {}
    table = ctx.fmt.table(rule.for_each.table)
    if "column" in binding:
        col = next(c for c in table.blocks[0].columns if c.key == binding["column"])
        return {"column": col.label}
    row = next(r for r in table.all_rows if r.key == binding["row"])
    return {"row": f"{row.group} {row.label}" if row.group and table.layout == "line" else row.label}


def _infer(rule: Rule, ctx: Context, terms: list[Term], values: list[Number | None], blank: int, n_lhs: int,
           label: dict[str, str]) -> list[Finding]:
    """The one blank term of a sum is whatever balances it; impossible values are errors."""
    side = 1 if blank < n_lhs else -1
    known = sum(t.sign * v * (1 if i < n_lhs else -1)
                for i, (t, v) in enumerate(zip(terms, values, strict=True)) if v is not None)
    # Σ lhs − Σ rhs = 0  ⇒  side · sign · x = −known
    value = -known / (side * terms[blank].sign)
    key = terms[blank].key
    cell_def = ctx.fmt.all_cells.get(key)
    if value < -1e-9 or (cell_def is not None and cell_def.column.type == "count" and not float(value).is_integer()):
        keys = [t.key for t in terms if not t.previous]
        message = (f"{ctx.label(key)}为空，但同一合计关系中其余数字已无法相符（按「{rule.title}」应为 {_figure(value)}）")
        return [_finding(rule, message, keys, expected=None, found=None, locations=ctx.where(*keys))]
    value = round(value) if float(value).is_integer() else value
    if key in ctx.inferred and not _close(ctx.inferred[key][0], value):
        ctx.conflicts.add(key)
    ctx.inferred.setdefault(key, (value, rule.id))
    return []


def _infer_zeros(rule: Rule, ctx: Context, terms: list[Term], values: list[Number | None], blanks: list[int],
                 n_lhs: int) -> None:
    """Several blank counts on one side that must add up to 0 are each 0 (counts are not negative)."""
    sides = {(1 if i < n_lhs else -1) * terms[i].sign for i in blanks}
    if len(sides) != 1 or any(terms[i].previous for i in blanks):
        return
    known = sum(t.sign * v * (1 if i < n_lhs else -1)
                for i, (t, v) in enumerate(zip(terms, values, strict=True)) if v is not None)
    if _close(known, 0):
        for i in blanks:
            ctx.inferred.setdefault(terms[i].key, (0, rule.id))


# ---- form and completeness -------------------------------------------------------------------


def _found_tables(ctx: Context) -> Iterator[tuple[Table, TableLayout]]:
    """The format's tables the report prints, with what the parser saw of each."""
    for table in ctx.fmt.tables:
        layout = ctx.report.tables.get(table.key)
        if layout is not None and layout.found:
            yield table, layout


def check_table_missing(rule: Rule, ctx: Context) -> list[Finding]:
    out = []
    for table in ctx.fmt.tables:
        layout = ctx.report.tables.get(table.key)
        if layout is None or not layout.found:
            keys = [c.key for c in table.cells()]
            out.append(_finding(rule, rule.message.format(table=table.number, title=table.title), keys,
                                expected=f"表{table.number}", found=None))
    return out


def check_column_missing(rule: Rule, ctx: Context) -> list[Finding]:
    out = []
    for table, layout in _found_tables(ctx):
        for col_key in layout.missing_columns:
            col = next(c for c in table.blocks[0].columns if c.key == col_key)
            keys = [c.key for c in table.cells() if c.column.key == col_key]
            out.append(_finding(rule, rule.message.format(table=table.number, column=col.label, count=len(keys)), keys,
                                expected=col.label, found=None, locations=[layout.provenance] if layout.provenance else []))
    return out


def _total_only_rows(ctx: Context) -> dict[str, list[str]]:
    """Rows of table grids that print their 总计 and nothing else: row key → their blank cells."""
    out = {}
    for table, layout in _found_tables(ctx):
        if table.layout != "grid":
            continue
        columns = [c for c in table.blocks[0].columns if c.key in layout.columns]
        total = [c for c in columns if c.role == "total"]
        others = [c for c in columns if c.role != "total"]
        for row_key in layout.rows:
            keys = [f"{table.key}.{row_key}.{c.key}" for c in others]
            if total and ctx.report.value(f"{table.key}.{row_key}.{total[0].key}") is not None and \
                    all(ctx.report.value(k) is None for k in keys):
                out[f"{table.key}.{row_key}"] = keys
    return out


def check_total_only_rows(rule: Rule, ctx: Context) -> list[Finding]:
    out = []
    for row_path, keys in _total_only_rows(ctx).items():
        table_key, row_key = row_path.split(".", 1)
        table = ctx.fmt.table(table_key)
        total_key = f"{row_path}.total"
        row = next(r for r in table.all_rows if r.key == row_key)
        message = rule.message.format(row=row.label, total=_figure(ctx.report.value(total_key)))
        inferred = {k: ctx.inferred[k][0] for k in keys if k in ctx.inferred and k not in ctx.conflicts}
        if inferred and len(inferred) == len(keys):
            message += "，按合计关系可推出：" + "、".join(
                f"{ctx.fmt.all_cells[k].column.label} {_figure(v)}" for k, v in inferred.items())
        out.append(_finding(rule, message, keys, expected="各类申请人的数字", found=None,
                            locations=ctx.where(total_key), inferred=inferred or None))
    return out


def check_row_missing(rule: Rule, ctx: Context) -> list[Finding]:
    out = []
    for table, layout in _found_tables(ctx):
        printed = set(layout.rows)
        for row in table.all_rows:
            if row.optional or row.key in printed:
                continue
            if row.key.startswith("other.") and "other.all" in printed:
                continue  # （六）其他处理 printed as one row
            keys = [c.key for c in table.cells() if c.row.key == row.key]
            out.append(_finding(rule, rule.message.format(table=table.number, row=row.label), keys,
                                expected=row.label, found=None))
    return out


def check_blank_cells(rule: Rule, ctx: Context) -> list[Finding]:
    covered = {k for keys in _total_only_rows(ctx).values() for k in keys}
    out = []
    for table, layout in _found_tables(ctx):
        for cell in table.cells():
            if cell.row.key not in layout.rows or cell.column.key in layout.missing_columns or cell.key in covered:
                continue  # reported as a missing row, column or total-only row
            if ctx.report.value(cell.key) is not None:
                continue
            inferred = ctx.inferred.get(cell.key)
            if cell.key in ctx.conflicts:
                inference = "，按不同的合计关系推出的数值互相矛盾"
            elif inferred:
                inference = f"，按「{_rule_title(ctx, inferred[1])}」可推出为 {_figure(inferred[0])}"
            else:
                inference = "，无法由合计关系推出"
            out.append(_finding(rule, rule.message.format(cell=cell.label, inference=inference), [cell.key],
                                expected=inferred[0] if inferred else None, found=None,
                                locations=ctx.where(cell.key) or _row_location(ctx, cell),
                                inferred={cell.key: inferred[0]} if inferred and cell.key not in ctx.conflicts else None))
    return out


def _rule_title(ctx: Context, rule_id: str) -> str:
    return next((r.title for r in ctx.fmt.rules if r.id == rule_id), rule_id)


def _row_location(ctx: Context, cell: CellDef) -> list[Provenance]:
    layout = ctx.report.tables.get(cell.table.key)
    row = layout.rows.get(cell.row.key) if layout else None
    return [row.provenance] if row and row.provenance else []




def check_nonstandard_labels(rule: Rule, ctx: Context) -> list[Finding]:
    out = []
    for table, layout in _found_tables(ctx):
        for row in table.all_rows:
            printed = layout.rows.get(row.key)
            if printed is None or printed_as(row.label, printed.label):
                continue
            keys = [c.key for c in table.cells(include_optional=True) if c.row.key == row.key]
            out.append(_finding(rule, rule.message.format(table=table.number, official=row.label, printed=printed.label),
                                keys, expected=row.label, found=printed.label,
                                locations=[printed.provenance] if printed.provenance else []))
        for col in table.blocks[0].columns:
            printed_col = layout.column_labels.get(col.key)
            if printed_col is None or normalize_label(printed_col) == normalize_label(col.label):
                continue
            keys = [c.key for c in table.cells() if c.column.key == col.key]
            out.append(_finding(rule, rule.message.format(table=table.number, official=col.label, printed=printed_col),
                                keys, expected=col.label, found=printed_col,
                                locations=[layout.provenance] if layout.provenance else []))
    return out


def check_value_type(rule: Rule, ctx: Context) -> list[Finding]:
    out = []
    for key, cell in ctx.report.cells.items():
        definition = ctx.fmt.all_cells.get(key)
        if cell.value is None or definition is None:
            continue
        kind = definition.column.type
        problem = None
        if kind in ("count", "signed") and not float(cell.value).is_integer():
            problem = "件数应为整数"
        elif kind != "signed" and cell.value < 0:
            problem = "不能为负数"
        if problem:
            out.append(_finding(rule, rule.message.format(cell=definition.label, raw=cell.raw or _figure(cell.value),
                                                          problem=problem),
                                [key], expected=problem, found=cell.value, locations=ctx.where(key)))
    return out


def check_low_confidence(rule: Rule, ctx: Context) -> list[Finding]:
    threshold = rule.threshold if rule.threshold is not None else 0.85
    out = []
    for key, cell in ctx.report.cells.items():
        if cell.value is None or cell.confidence >= threshold or cell.raw is None:
            continue
        out.append(_finding(rule, rule.message.format(cell=ctx.label(key), raw=cell.raw, confidence=cell.confidence),
                            [key], expected=None, found=cell.value, locations=ctx.where(key)))
    return out


def check_format_year(rule: Rule, ctx: Context) -> list[Finding]:
    year, fmt = ctx.report.year, ctx.fmt
    if year is None or (fmt.first_year or 0) <= year <= (fmt.last_year or 9999):
        return []
    years = f"{fmt.first_year or ''}–{fmt.last_year or ''} 年度"
    better = next((f for f in _formats_for(year)), None)
    message = rule.message.format(year=year, format_name=fmt.name, years=years)
    return [_finding(rule, message, [], expected=better.name if better else None, found=fmt.name,
                     locations=[ctx.report.title_provenance] if ctx.report.title_provenance else [])]


def _formats_for(year: int) -> list[Format]:
    from gongkai.formats import all_formats

    return [f for f in all_formats() if (f.first_year or 0) <= year <= (f.last_year or 9999)]


# ---- narrative --------------------------------------------------------------------------------


def _sentences(ctx: Context, numbers: tuple[str, ...]) -> Iterator[tuple[str, str, Provenance | None]]:
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
    keys = [t.key for tpl in templates for t in _expand(tpl, {}, ctx)]
    values = [ctx.report.value(k) for k in keys]
    if not keys or any(v is None for v in values):
        return None, keys
    return sum(values), keys


def _excerpt(sentence: str, limit: int = 80) -> str:
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"


def check_narrative(rule: Rule, ctx: Context) -> list[Finding]:
    table_value, keys = _sum_cells(ctx, rule.compare)
    if table_value is None:
        return []
    patterns = [re.compile(p) for p in rule.patterns]
    out = []
    for sentence, before, where in _sentences(ctx, rule.sections):
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
        # "收到申请 18 件，市转交申请 2 件": the table may count the first figure or all of them.
        if any(_close(candidate, table_value) for candidate in {numbers[0], sum(numbers)}):
            continue
        stated = str(numbers[0]) if len(numbers) == 1 else f"{' + '.join(map(str, numbers))} = {sum(numbers)}"
        message = rule.message.format(stated=stated, sentence=_excerpt(sentence), table=_figure(table_value))
        out.append(_finding(rule, message, keys, expected=sum(numbers) if len(numbers) > 1 else numbers[0],
                            found=table_value, locations=([where] if where else []) + ctx.where(*keys)))
    return out


def check_narrative_conflict(rule: Rule, ctx: Context) -> list[Finding]:
    nones, amounts = [], []
    none_patterns = [re.compile(p) for p in rule.none_patterns]
    amount_patterns = [re.compile(p) for p in rule.amount_patterns]
    for sentence, _, where in _sentences(ctx, rule.sections):
        if any(p.search(sentence) for p in none_patterns):
            nones.append((sentence, where))
            continue
        for p in amount_patterns:
            m = p.search(sentence)
            if m and float(m["n"]) > 0:
                amounts.append((sentence, where, m.group(0)))
    if not nones or not amounts:
        return []
    (none_sentence, none_where), (amount_sentence, amount_where, stated) = nones[0], amounts[0]
    message = rule.message.format(none_sentence=_excerpt(none_sentence), amount_sentence=_excerpt(amount_sentence),
                                  stated=stated)
    return [_finding(rule, message, [], expected="未收取", found=stated,
                     locations=[w for w in (none_where, amount_where) if w])]


CHECKS: dict[str, Callable[[Rule, Context], list[Finding]]] = {
    "sum": check_sum,
    "table_missing": check_table_missing,
    "column_missing": check_column_missing,
    "row_missing": check_row_missing,
    "blank_cells": check_blank_cells,
    "total_only_rows": check_total_only_rows,
    "nonstandard_labels": check_nonstandard_labels,
    "value_type": check_value_type,
    "low_confidence": check_low_confidence,
    "format_year": check_format_year,
    "narrative": check_narrative,
    "narrative_conflict": check_narrative_conflict,
}

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def check_report(report: Report, previous: Report | None = None, fmt: Format | None = None) -> list[Finding]:
    """Every finding of the report's format rules, errors first, in the format's rule order."""
    fmt = fmt or load_format(report.format)
    ctx = Context(report=report, previous=previous, fmt=fmt)
    rules = list(fmt.rules)  # sums first below: the blank-cell rules report what they infer
    findings: list[Finding] = []
    sums = [r for r in rules if r.kind == "sum"]
    for rule in sums:
        findings += check_sum(rule, ctx)
    ctx.use_inferred = True
    while True:  # inference to a fixpoint: an inferred cell may complete another sum
        known = len(ctx.inferred)
        for rule in sums:
            check_sum(rule, ctx)
        if len(ctx.inferred) == known:
            break
    ctx.use_inferred = False
    for rule in rules:
        if rule.kind == "sum":
            continue
        check = CHECKS.get(rule.kind)
        if check is None:
            raise ValueError(f"format {fmt.id}: rule {rule.id} has unknown kind {rule.kind!r}")
        findings += check(rule, ctx)
    rank = {r.id: i for i, r in enumerate(fmt.rules)}
    return sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], rank[f.rule]))
