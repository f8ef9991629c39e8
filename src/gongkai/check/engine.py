"""Evaluate a format's rules on a report. One function per rule kind; the rules themselves are data.

Every rule instance (each binding of a sum, each table of a completeness rule, each statement of the
text) gives an Outcome: passed, failed, uncertain or not assessable. A failed outcome's finding names
its rule, the cells involved, the expected and the found value, and where in the document they are;
messages are Chinese templates from the rule definitions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from gongkai.formats import CellDef, Format, Rule, Table, Term, match_keys, split_term
from gongkai.model import Number, Outcome, OutcomeStatus, Provenance, Report, TableSeen, built
from gongkai.text import figure_text, normalize_label, printed_as

# Figures beyond this are not compared: floats lose whole units there, and a checker must not
# crash on a 400-digit figure a broken parse produced.
_LARGEST = 10**15
_DEFAULT_THRESHOLD = 0.85
_PLACES_SHOWN = 5


@dataclass
class Context:
    report: Report
    previous: Report | None
    fmt: Format
    # Blank cells the sums determine: key → (value, rule id). Filled by infer_blanks().
    inferred: dict[str, tuple[Number, str]] = field(default_factory=dict)
    conflicts: set[str] = field(default_factory=set)
    # Later passes of the sums read inferred values as known, to infer further (never to report).
    use_inferred: bool = False
    cache: dict[str, object] = field(default_factory=dict)  # per-report work shared by rules
    # The reports' values by key, read once: rules look up each cell many times.
    now: dict[str, Number | None] = field(init=False)
    before: dict[str, Number | None] = field(init=False)

    # Cells whose figure is out of checkable range (rare): sums naming them are uncertain.
    out_of_range: set[tuple[str, bool]] = field(init=False)
    # The rows (table.row) the report states a cell of.
    rows: set[str] = field(init=False)

    def __post_init__(self) -> None:
        self.now = self.report.values()
        self.before = self.previous.values() if self.previous is not None else {}
        self.out_of_range = {(k, previous) for previous, values in ((False, self.now), (True, self.before))
                             for k, v in values.items() if v is not None and not comparable(v)}
        self.rows = {k.rsplit(".", 1)[0] for k in self.now}

    def in_range(self, terms: list[Term]) -> bool:
        """Whether every stated figure of these terms can be summed (inferred ones always can)."""
        return not self.out_of_range or all((t.key, t.previous) not in self.out_of_range for t in terms)

    def value(self, key: str, previous: bool = False) -> Number | None:
        value = (self.before if previous else self.now).get(key)
        if value is None and self.use_inferred and not previous and key in self.inferred:
            return self.inferred[key][0]
        return value

    def label(self, key: str) -> str:
        cell = self.fmt.all_cells.get(key)
        return cell.label if cell else key

    def where(self, *keys: str) -> list[Provenance]:
        out: dict[int, Provenance] = {}
        for key in keys:
            cell = self.report.cells.get(key)
            if cell is not None and cell.provenance is not None:
                out.setdefault(id(cell.provenance), cell.provenance)
        return list(out.values())


def outcome(rule: Rule, ctx: Context, status: OutcomeStatus, cells: Iterable[str], *, message: str | None = None,
            expected=None, found=None, locations: list[Provenance] | None = None,
            inferred: dict[str, Number] | None = None, reading: str | None = None,
            previous_cells: Iterable[str] = (), values: dict[str, Number | None] | None = None) -> Outcome:
    """One rule instance's outcome, with the values of the cells it read (last year's as prev:key)."""
    cells = list(dict.fromkeys(cells))
    now = ctx.now
    values = {key: now.get(key) for key in cells} if values is None else dict(values)
    if ctx.previous is not None:
        values.update({f"prev:{key}": ctx.before.get(key) for key in previous_cells})
    return built(Outcome, rule=rule.id, status=status, severity=rule.severity, message=message, cells=cells,
                 values=values, expected=expected, found=found, reading=reading, locations=locations or [],
                 inferred=inferred)


def figure(value: Number | None) -> str:
    """A figure in a message: as every output prints it; 空 for none; never an error for one out of range."""
    if value is None:
        return "空"
    try:
        return figure_text(value) or "（超出范围的数字）"
    except ValueError:  # more digits than Python prints
        return "（位数过多的数字）"


def comparable(value: Number) -> bool:
    """Whether a figure is in the range sums can be checked in (finite, below 10^15)."""
    if isinstance(value, float):
        return math.isfinite(value) and abs(value) < _LARGEST
    return abs(value) < _LARGEST


def close(a: Number, b: Number) -> bool:
    return math.isclose(a, b, rel_tol=0, abs_tol=1e-6)


# ---- sums ------------------------------------------------------------------------------------


def _plan(rule: Rule, fmt: Format) -> list[tuple[dict[str, str], str | None, list, list]]:
    """The rule's bindings with each term's cells, once per format: (binding, the optional row the
    binding is, lhs and rhs as (canonical, optional) cells per term)."""
    memo = ("check-plan", rule.id)
    if memo not in fmt.memo:
        plan = []
        optional_rows = {}
        if rule.for_each is not None and rule.for_each.over == "rows":
            table = fmt.table(rule.for_each.table)
            optional_rows = {row.key: f"{table.key}.{row.key}" for row in table.all_rows if row.optional}
        for binding in rule.bindings(fmt):
            items = tuple(binding.items())
            plan.append((binding, optional_rows.get(binding.get("row", "")),
                         [_term_cells(fmt, tpl, items) for tpl in rule.lhs],
                         [_term_cells(fmt, tpl, items) for tpl in rule.rhs]))
        fmt.memo[memo] = plan
    return fmt.memo[memo]


def expand(template: str, binding: dict[str, str], ctx: Context) -> list[Term]:
    """A rule's term (`-prev:table.row.$column`, with `*` wildcards) as the cells it stands for."""
    return _choose(_term_cells(ctx.fmt, template, tuple(binding.items())), ctx)


def _choose(cells: tuple[tuple[Term, ...], tuple[Term, ...]], ctx: Context) -> list[Term]:
    canonical, optional = cells
    if optional:  # a row printed instead of its sub-rows (（六）其他处理 as one row) replaces them
        values = ctx.before if optional[0].previous else ctx.now
        if any(values.get(t.key) is not None for t in optional):
            return list(optional)
    return list(canonical)


def _term_cells(fmt: Format, template: str, binding: tuple[tuple[str, str], ...]
                ) -> tuple[tuple[Term, ...], tuple[Term, ...]]:
    """A term's cells in the format, once per format: (canonical ones, optional ones)."""
    memo = ("check-term", template, binding)
    if memo not in fmt.memo:
        sign, previous, text = split_term(template, dict(binding))
        if "*" not in text:
            fmt.memo[memo] = ((Term(text, sign, previous),), ())
        else:
            canonical, optional = _keys_like(fmt, text)
            fmt.memo[memo] = (tuple(Term(k, sign, previous) for k in canonical),
                              tuple(Term(k, sign, previous) for k in optional))
    return fmt.memo[memo]


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
        parts.append(f"{op}{prefix}{name} {figure(value)}")
    return " ".join(parts)


@dataclass
class _SumInstance:
    binding: dict[str, str]
    lhs: list[Term]
    rhs: list[Term]

    @property
    def terms(self) -> list[Term]:
        return self.lhs + self.rhs


def _sum_instances(rule: Rule, ctx: Context) -> list[_SumInstance]:
    """The rule's bindings with their terms, once per report (inference and checking both walk them)."""
    key = f"sum:{rule.id}"
    if key not in ctx.cache:
        ctx.cache[key] = [] if rule.cross_year and ctx.previous is None else list(_expand_instances(rule, ctx))
    return ctx.cache[key]  # type: ignore[return-value]


def _expand_instances(rule: Rule, ctx: Context) -> Iterator[_SumInstance]:
    for binding, optional_row, lhs_cells, rhs_cells in _plan(rule, ctx.fmt):
        if optional_row is not None and optional_row not in ctx.rows:
            continue  # an optional row the report does not print
        lhs = [t for cells in lhs_cells for t in _choose(cells, ctx)]
        rhs = [t for cells in rhs_cells for t in _choose(cells, ctx)]
        sources = [ctx.previous if t.previous else ctx.report for t in lhs + rhs]
        if any(t.key not in s.cells for t, s in zip(lhs + rhs, sources, strict=True)):
            continue  # a cell this report's format does not have
        yield _SumInstance(binding, lhs, rhs)


def _balancing_value(inst: _SumInstance, values: list[Number | None], blank: int) -> Number:
    """The value of the one blank term that makes Σ lhs = Σ rhs."""
    n_lhs = len(inst.lhs)
    side = 1 if blank < n_lhs else -1
    known = sum(t.sign * v * (1 if i < n_lhs else -1)
                for i, (t, v) in enumerate(zip(inst.terms, values, strict=True)) if v is not None)
    return -known / (side * inst.terms[blank].sign)  # side · sign · x = −known


def _possible(value: Number, key: str, ctx: Context) -> bool:
    cell = ctx.fmt.all_cells.get(key)
    if not comparable(value) or value < -1e-9:
        return False
    return cell is None or cell.column.type != "count" or float(value).is_integer()


def _whole(value: Number) -> Number:
    return round(value) if float(value).is_integer() else value


def _with_blanks(rule: Rule, ctx: Context) -> list[_SumInstance]:
    """The rule's instances with a blank term: the only ones inference can learn from."""
    key = f"blank-sum:{rule.id}"
    if key not in ctx.cache:
        ctx.cache[key] = [inst for inst in _sum_instances(rule, ctx)
                          if any(ctx.value(t.key, t.previous) is None for t in inst.terms)]
    return ctx.cache[key]  # type: ignore[return-value]


def _infer_pass(rule: Rule, ctx: Context) -> None:
    """Blank cells one sum determines: its one blank term, or several blank counts that must be 0."""
    for inst in _with_blanks(rule, ctx):
        terms = inst.terms
        if not ctx.in_range(terms):
            continue
        values = [ctx.value(t.key, t.previous) for t in terms]
        blanks = [i for i, v in enumerate(values) if v is None]
        if len(blanks) == 1 and not terms[blanks[0]].previous:
            value = _balancing_value(inst, values, blanks[0])
            key = terms[blanks[0]].key
            if not _possible(value, key, ctx):
                continue
            value = _whole(value)
            if key in ctx.inferred and not close(ctx.inferred[key][0], value):
                ctx.conflicts.add(key)
            ctx.inferred.setdefault(key, (value, rule.id))
        elif len(blanks) > 1:
            _infer_zeros(rule, ctx, inst, values, blanks)


def _infer_zeros(rule: Rule, ctx: Context, inst: _SumInstance, values: list[Number | None], blanks: list[int]) -> None:
    """Several blank counts on one side that must add up to 0 are each 0 (counts are not negative)."""
    n_lhs, terms = len(inst.lhs), inst.terms
    sides = {(1 if i < n_lhs else -1) * terms[i].sign for i in blanks}
    if len(sides) != 1 or any(terms[i].previous for i in blanks):
        return
    known = sum(t.sign * v * (1 if i < n_lhs else -1)
                for i, (t, v) in enumerate(zip(terms, values, strict=True)) if v is not None)
    if close(known, 0):
        for i in blanks:
            ctx.inferred.setdefault(terms[i].key, (0, rule.id))


def infer_blanks(sums: list[Rule], ctx: Context) -> None:
    """What the sums determine of the blank cells, to a fixpoint: an inferred cell may complete
    another sum. The report itself is never changed."""
    for rule in sums:
        _with_blanks(rule, ctx)  # before any value is inferred
        _infer_pass(rule, ctx)
    ctx.use_inferred = True
    try:
        while True:
            known = len(ctx.inferred)
            for rule in sums:
                _infer_pass(rule, ctx)
            if len(ctx.inferred) == known:
                break
    finally:
        ctx.use_inferred = False


def check_sum(rule: Rule, ctx: Context) -> list[Outcome]:
    return [_sum_outcome(rule, ctx, inst) for inst in _sum_instances(rule, ctx)]


def _sum_outcome(rule: Rule, ctx: Context, inst: _SumInstance) -> Outcome:
    terms, n_lhs = inst.terms, len(inst.lhs)
    keys = [t.key for t in terms if not t.previous]
    now, before = ctx.now, ctx.before  # as stated: values inferred for blanks come in below, by name
    values = [(before if t.previous else now).get(t.key) for t in terms]
    blanks = [i for i, v in enumerate(values) if v is None]

    def result(status: OutcomeStatus, message: str | None = None, **kw) -> Outcome:
        return outcome(rule, ctx, status, keys, message=message, previous_cells=[t.key for t in terms if t.previous],
                       locations=ctx.where(*keys), **kw)

    if not ctx.in_range(terms):
        return result("uncertain", f"「{rule.title}」：数字超出可核对的范围")
    if len(blanks) == 1 and not terms[blanks[0]].previous:
        key = terms[blanks[0]].key
        value = _balancing_value(inst, values, blanks[0])
        if not _possible(value, key, ctx):
            return result("failed", f"{ctx.label(key)}为空，但同一合计关系中其余数字已无法相符"
                                    f"（按「{rule.title}」应为 {figure(value)}）")
        return result("not_assessable", f"{ctx.label(key)}为空，按本关系可推出为 {figure(_whole(value))}",
                      inferred={key: _whole(value)})
    inferred = {}
    if blanks:
        filled = [None if terms[i].previous or terms[i].key in ctx.conflicts else ctx.inferred.get(terms[i].key)
                  for i in blanks]
        if any(f is None for f in filled):
            names = [ctx.label(terms[i].key) for i in blanks if not terms[i].previous]
            if len(names) < len(blanks):
                names.append("上年报告的相关数字")
            return result("not_assessable", "、".join(names) + "为空")
        values = list(values)
        for i, f in zip(blanks, filled, strict=True):
            values[i] = f[0]
            inferred[terms[i].key] = f[0]
    left = sum(t.sign * v for t, v in zip(inst.lhs, values[:n_lhs], strict=True))
    right = sum(t.sign * v for t, v in zip(inst.rhs, values[n_lhs:], strict=True))
    if inferred:  # the sum holds or not only by values inferred for blanks: nothing is stated either way
        if close(left, right):
            return result("not_assessable", "所涉空格均可由合计关系推出", inferred=inferred)
        return result("uncertain", "所涉空格按其他合计关系推出的数值不能使本关系相符", inferred=inferred,
                      expected=right, found=left)
    if close(left, right):
        return result("passed", expected=right, found=left)
    message = rule.message.format(
        lhs=figure(left), rhs=figure(right), diff=figure(left - right),
        lhs_terms=_terms_text(inst.lhs, values[:n_lhs], ctx), rhs_terms=_terms_text(inst.rhs, values[n_lhs:], ctx),
        **_binding_label(rule, inst.binding, ctx))
    return result("failed", message, expected=right, found=left)


def _binding_label(rule: Rule, binding: dict[str, str], ctx: Context) -> dict[str, str]:
    if rule.for_each is None:
        return {}
    table = ctx.fmt.table(rule.for_each.table)
    if "column" in binding:
        col = next(c for c in table.blocks[0].columns if c.key == binding["column"])
        return {"column": col.label}
    row = table.row(binding["row"])
    return {"row": f"{row.group} {row.label}" if row.group and table.layout == "line" else row.label}


# ---- form and completeness -------------------------------------------------------------------


def _found_tables(ctx: Context) -> Iterator[tuple[Table, TableSeen]]:
    """The format's tables the report prints, with what the parser saw of each."""
    for table in ctx.fmt.tables:
        seen = ctx.report.tables.get(table.key)
        if seen is not None and seen.found:
            yield table, seen


_TABLE_CELLS: dict[tuple[int, bool], tuple[Table, tuple[CellDef, ...]]] = {}


def table_cells(table: Table, include_optional: bool = False) -> tuple[CellDef, ...]:
    """A table's cells, kept by the table's identity (hashing a frozen table costs more than the lookup)."""
    cached = _TABLE_CELLS.get((id(table), include_optional))
    if cached is None or cached[0] is not table:
        cached = (table, tuple(table.cells(include_optional)))
        _TABLE_CELLS[(id(table), include_optional)] = cached
    return cached[1]


def _table_keys(table: Table) -> list[str]:
    return [c.key for c in table_cells(table)]


_BY_LINE: dict[tuple[int, str], tuple[Table, dict[str, list[str]]]] = {}


def _keys_by(table: Table, line: str) -> dict[str, list[str]]:
    """A table's cell keys by row (line "row", optional rows included) or by column ("column")."""
    cached = _BY_LINE.get((id(table), line))
    if cached is None or cached[0] is not table:
        grouped: dict[str, list[str]] = {}
        for c in table_cells(table, include_optional=line == "row"):
            grouped.setdefault(c.row.key if line == "row" else c.column.key, []).append(c.key)
        cached = (table, grouped)
        _BY_LINE[(id(table), line)] = cached
    return cached[1]


def _row_keys(table: Table, row_key: str, include_optional: bool = False) -> list[str]:
    keys = _keys_by(table, "row").get(row_key, [])
    row = table.row(row_key)
    return keys if include_optional or (row is not None and not row.optional) else []


def _column_keys(table: Table, column_key: str) -> list[str]:
    return _keys_by(table, "column").get(column_key, [])


def _table_values(ctx: Context, table: Table) -> dict[str, Number | None]:
    """A table's values, read once per report for the outcomes that name the whole table."""
    key = f"values:{table.key}"
    if key not in ctx.cache:
        ctx.cache[key] = {k: ctx.now.get(k) for k in _table_keys(table)}
    return ctx.cache[key]  # type: ignore[return-value]


def _per_table(rule: Rule, ctx: Context, table: Table, failures: list[Outcome]) -> list[Outcome]:
    """A completeness rule's instance is a table: its failures, or one pass naming the table's cells."""
    return failures or [outcome(rule, ctx, "passed", _table_keys(table), expected=f"表{table.number}",
                                values=_table_values(ctx, table))]


def check_table_missing(rule: Rule, ctx: Context) -> list[Outcome]:
    out = []
    for table in ctx.fmt.tables:
        seen = ctx.report.tables.get(table.key)
        found = seen is not None and seen.found
        message = None if found else rule.message.format(table=table.number, title=table.title)
        out.append(outcome(rule, ctx, "passed" if found else "failed", _table_keys(table), message=message,
                           expected=f"表{table.number}", found=f"表{table.number}" if found else None,
                           values=_table_values(ctx, table)))
    return out


def check_column_missing(rule: Rule, ctx: Context) -> list[Outcome]:
    out = []
    for table, seen in _found_tables(ctx):
        failures = []
        for col_key in seen.missing_columns:
            col = next(c for c in table.blocks[0].columns if c.key == col_key)
            keys = _column_keys(table, col_key)
            failures.append(outcome(rule, ctx, "failed", keys,
                                    message=rule.message.format(table=table.number, column=col.label, count=len(keys)),
                                    expected=col.label, locations=[seen.provenance] if seen.provenance else []))
        out += _per_table(rule, ctx, table, failures)
    return out


def _total_column(table: Table) -> str | None:
    return next((c.key for c in table.blocks[0].columns if c.role == "total"), None)


def _total_only_rows(ctx: Context) -> dict[str, list[str]]:
    """Rows of table grids that print their 总计 and nothing else: row key → their blank cells."""
    cached = ctx.cache.get("total_only")
    if cached is not None:
        return cached  # type: ignore[return-value]
    out = {}
    for table, seen in _found_tables(ctx):
        total = _total_column(table)
        if table.layout != "grid" or total is None or total not in seen.columns:
            continue
        others = [c for c in table.blocks[0].columns if c.key in seen.columns and c.role != "total"]
        for row_key in seen.rows:
            keys = [f"{table.key}.{row_key}.{c.key}" for c in others]
            if ctx.now.get(f"{table.key}.{row_key}.{total}") is not None and \
                    all(ctx.now.get(k) is None for k in keys):
                out[f"{table.key}.{row_key}"] = keys
    ctx.cache["total_only"] = out
    return out


def check_total_only_rows(rule: Rule, ctx: Context) -> list[Outcome]:
    out = []
    total_only = _total_only_rows(ctx)
    for table, seen in _found_tables(ctx):
        total = _total_column(table)
        if table.layout != "grid" or total is None:
            continue
        for row_key in seen.rows:
            row_path = f"{table.key}.{row_key}"
            keys = total_only.get(row_path)
            if keys is None:
                row_keys = _row_keys(table, row_key, include_optional=True)
                out.append(outcome(rule, ctx, "passed", row_keys))
                continue
            total_key = f"{row_path}.{total}"
            row = table.row(row_key)
            message = rule.message.format(row=row.label, total=figure(ctx.now.get(total_key)))
            inferred = {k: ctx.inferred[k][0] for k in keys if k in ctx.inferred and k not in ctx.conflicts}
            if inferred and len(inferred) == len(keys):
                message += "，按合计关系可推出：" + "、".join(
                    f"{ctx.fmt.all_cells[k].column.label} {figure(v)}" for k, v in inferred.items())
            out.append(outcome(rule, ctx, "failed", [*keys, total_key], message=message,
                               expected=[ctx.fmt.all_cells[k].column.label for k in keys],
                               locations=ctx.where(total_key), inferred=inferred or None))
    return out


def _replaced_by_optional(table: Table, printed: set[str]) -> set[str]:
    """Rows an optional row printed in their stead covers: the sub-rows of a group printed as one
    row (（六）其他处理 printed alone stands for its 1.–3.)."""
    groups = {row.label for row in table.all_rows if row.optional and row.key in printed}
    return {row.key for row in table.all_rows if row.group in groups}


def check_row_missing(rule: Rule, ctx: Context) -> list[Outcome]:
    out = []
    for table, seen in _found_tables(ctx):
        printed = set(seen.rows)
        covered = _replaced_by_optional(table, printed)
        failures = []
        for row in table.all_rows:
            if row.optional or row.key in printed or row.key in covered:
                continue
            keys = _row_keys(table, row.key)
            failures.append(outcome(rule, ctx, "failed", keys, message=rule.message.format(table=table.number, row=row.label),
                                    expected=row.label))
        out += _per_table(rule, ctx, table, failures)
    return out


def _column_group(cell: CellDef) -> str:
    return cell.column.group or cell.column.label


def check_blank_cells(rule: Rule, ctx: Context) -> list[Outcome]:
    """One instance per table and column group: its blank cells, with what the sums imply for them."""
    covered = {k for keys in _total_only_rows(ctx).values() for k in keys}
    out = []
    for table, seen in _found_tables(ctx):
        groups: dict[str, list[CellDef]] = {}
        for cell in table_cells(table):
            if cell.row.key not in seen.rows or cell.column.key in seen.missing_columns or cell.key in covered:
                continue  # reported as a missing row, column or total-only row
            groups.setdefault(_column_group(cell), []).append(cell)
        blank_groups = {name: [c for c in cells if ctx.now.get(c.key) is None] for name, cells in groups.items()}
        stated = sum(len(cells) - len(blank_groups[name]) for name, cells in groups.items())
        if not stated and any(blank_groups.values()):  # a blank table: one finding, not one per group
            blank_groups = {"": [c for cells in groups.values() for c in cells]}
            groups = {"": blank_groups[""]}
        for name, cells in groups.items():
            blanks = blank_groups[name]
            if not blanks:
                out.append(outcome(rule, ctx, "passed", [c.key for c in cells]))
                continue
            out.append(_blank_outcome(rule, ctx, table, name, blanks))
    return out


def _blank_outcome(rule: Rule, ctx: Context, table: Table, group: str, blanks: list[CellDef]) -> Outcome:
    keys = [c.key for c in blanks]
    inferred = {k: ctx.inferred[k][0] for k in keys if k in ctx.inferred and k not in ctx.conflicts}
    conflicts = [k for k in keys if k in ctx.conflicts]
    if len(blanks) == 1:
        cells = blanks[0].label
        source = ctx.inferred.get(keys[0])
        if conflicts:
            inference = "，按不同的合计关系推出的数值互相矛盾"
        elif source:
            inference = f"，按「{_rule_title(ctx, source[1])}」可推出为 {figure(source[0])}"
        else:
            inference = "，无法由合计关系推出"
    else:
        columns = len({c.column.key for c in blanks})
        scope = f" {group}" if group else ""
        cells = f"表{table.number}{scope} {columns} 列共 {len(blanks)} 格" if columns > 1 or not group else \
            f"表{table.number}「{group}」列共 {len(blanks)} 格"
        values = set(inferred.values())
        if len(inferred) == len(keys) and len(values) == 1:
            inference = f"，均可由合计关系推出为 {figure(values.pop())}"
        elif len(inferred) == len(keys):
            inference = "，均可由合计关系推出"
        elif inferred:
            inference = f"，其中 {len(inferred)} 格可由合计关系推出"
        else:
            inference = "，无法由合计关系推出"
        if conflicts:
            inference += f"，{len(conflicts)} 格按不同的合计关系推出的数值互相矛盾"
    # The first few places: enough to find the group, not a line per cell of a blank table.
    locations = (ctx.where(*keys) or [loc for c in blanks[:1] for loc in _row_location(ctx, c)])[:_PLACES_SHOWN]
    return outcome(rule, ctx, "failed", keys, message=rule.message.format(cell=cells, inference=inference),
                   expected=inferred or None, locations=locations, inferred=inferred or None)


def _rule_title(ctx: Context, rule_id: str) -> str:
    return next((r.title for r in ctx.fmt.rules if r.id == rule_id), rule_id)


def _row_location(ctx: Context, cell: CellDef) -> list[Provenance]:
    seen = ctx.report.tables.get(cell.table.key)
    row = seen.rows.get(cell.row.key) if seen else None
    return [row.provenance] if row and row.provenance else []


def check_nonstandard_labels(rule: Rule, ctx: Context) -> list[Outcome]:
    out = []
    for table, seen in _found_tables(ctx):
        failures = []
        for row in table.all_rows:
            printed = seen.rows.get(row.key)
            if printed is None or printed_as(row.label, printed.label):
                continue
            keys = _row_keys(table, row.key, include_optional=True)
            failures.append(outcome(rule, ctx, "failed", keys,
                                    message=rule.message.format(table=table.number, official=row.label, printed=printed.label),
                                    expected=row.label, found=printed.label,
                                    locations=[printed.provenance] if printed.provenance else []))
        for col in table.blocks[0].columns:
            printed_col = seen.column_labels.get(col.key)
            if printed_col is None or normalize_label(printed_col) == normalize_label(col.label):
                continue
            keys = _column_keys(table, col.key)
            failures.append(outcome(rule, ctx, "failed", keys,
                                    message=rule.message.format(table=table.number, official=col.label, printed=printed_col),
                                    expected=col.label, found=printed_col,
                                    locations=[seen.provenance] if seen.provenance else []))
        out += _per_table(rule, ctx, table, failures)
    return out


def _value_problem(value: Number, kind: str) -> str | None:
    if type(value) is int and 0 <= value < _LARGEST:  # nearly every figure: nothing to say
        return None
    if not comparable(value):
        return "数值超出合理范围"
    if kind in ("count", "signed") and not float(value).is_integer():
        return "件数应为整数"
    if kind != "signed" and value < 0:
        return "不能为负数"
    return None


def check_value_type(rule: Rule, ctx: Context) -> list[Outcome]:
    failures: dict[str, list[Outcome]] = {}
    for key, cell in ctx.report.cells.items():
        definition = ctx.fmt.all_cells.get(key)
        if cell.value is None or definition is None:
            continue
        problem = _value_problem(cell.value, definition.column.type)
        if problem:
            message = rule.message.format(cell=definition.label, raw=cell.raw or figure(cell.value), problem=problem)
            failures.setdefault(definition.table.key, []).append(
                outcome(rule, ctx, "failed", [key], message=message, expected=problem, found=cell.value,
                        locations=ctx.where(key)))
    return [o for table, _ in _found_tables(ctx) for o in _per_table(rule, ctx, table, failures.get(table.key, []))]


def confidence_threshold(fmt: Format) -> float:
    rule = next((r for r in fmt.rules if r.kind == "low_confidence"), None)
    return rule.threshold if rule is not None and rule.threshold is not None else _DEFAULT_THRESHOLD


def check_low_confidence(rule: Rule, ctx: Context) -> list[Outcome]:
    threshold = rule.threshold if rule.threshold is not None else _DEFAULT_THRESHOLD
    failures: dict[str, list[Outcome]] = {}
    for key, cell in ctx.report.cells.items():
        definition = ctx.fmt.all_cells.get(key)
        if cell.value is None or cell.confidence >= threshold or cell.raw is None or definition is None:
            continue
        message = rule.message.format(cell=ctx.label(key), raw=cell.raw, confidence=cell.confidence)
        failures.setdefault(definition.table.key, []).append(
            outcome(rule, ctx, "failed", [key], message=message, found=cell.value, locations=ctx.where(key)))
    return [o for table, _ in _found_tables(ctx) for o in _per_table(rule, ctx, table, failures.get(table.key, []))]


def check_format_year(rule: Rule, ctx: Context) -> list[Outcome]:
    year, fmt = ctx.report.year, ctx.fmt
    if year is None:
        return [outcome(rule, ctx, "not_assessable", [], message="报告年度不详")]
    if (fmt.first_year or 0) <= year <= (fmt.last_year or 9999):
        return [outcome(rule, ctx, "passed", [], expected=fmt.name, found=fmt.name)]
    years = f"{fmt.first_year or ''}–{fmt.last_year or ''} 年度"
    better = next((f for f in _formats_for(year)), None)
    message = rule.message.format(year=year, format_name=fmt.name, years=years)
    return [outcome(rule, ctx, "failed", [], message=message, expected=better.name if better else None, found=fmt.name,
                    locations=[ctx.report.title_provenance] if ctx.report.title_provenance else [])]


def _formats_for(year: int) -> list[Format]:
    from gongkai.formats import all_formats

    return [f for f in all_formats() if (f.first_year or 0) <= year <= (f.last_year or 9999)]
