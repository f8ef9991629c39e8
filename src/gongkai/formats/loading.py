"""Reading format definitions: YAML files with line numbers, `extends:`, rule sets, formats from outside.

Where formats come from, in order: the files beside this module, then every folder named in
$GONGKAI_FORMATS (separated by the platform's path separator, `:` on Linux), then folders given with
use_format_dirs() (the CLI's `--formats`). A file there is a format when it has an `id`; a format
that `extends` another states only how it differs:

    extends: "2021"            # the id of the format it builds on
    id: "2021-zj"              # its own id, and whatever else differs (name, basis, years …)
    tables: [...]              # whole tables replaced (same key) or added
    changes:                   # edits of inherited tables
      - {table: applications, add_rows: [...], after: unable.unclear_after_correction}
      - {table: applications, add_columns: [...], before: total}
      - {table: applications, remove_rows: [other.no_correction]}
      - {table: applications, replace_rows: [{key: other.all, ...}]}
    rule_sets: [common, {name: narrative, only: [N-applications]}]
    rules: [...]               # added; a rule with an inherited id replaces it
    remove_rules: [X-items]
    metrics: [...]             # the same, by id
    statements: {subjects: [...]}   # settings replaced, subjects merged by key

Every problem is a FormatError naming the file and line: an unknown key (with the nearest valid
one), an unknown rule kind, a rule term or a change naming no cell, a broken regular expression.
"""

from __future__ import annotations

import copy
import difflib
import os
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from gongkai.formats import rules as rules_module
from gongkai.formats import schema
from gongkai.formats.format import Format
from gongkai.formats.rules import match_keys, split_term, unresolved_terms

ENV_VAR = "GONGKAI_FORMATS"


class FormatError(ValueError):
    """A format definition that cannot be used: one line naming the file, the line and the problem."""


# ---- YAML with line numbers ------------------------------------------------------------------


class Mapping(dict):
    """A YAML mapping that remembers its file and the line of each key."""

    file: str = "?"
    line: int = 0
    lines: dict[str, int]


class Sequence(list):
    file: str = "?"
    line: int = 0


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml parses, when built with it
    source = "?"


def _mapping(loader: _Loader, node: yaml.MappingNode) -> Mapping:
    out = Mapping()
    out.file, out.line, out.lines = loader.source, node.start_mark.line + 1, {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            raise FormatError(f"{loader.source}:{key_node.start_mark.line + 1}: 键 {key!r} 重复")
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = key_node.start_mark.line + 1
    return out


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> Sequence:
    out = Sequence(loader.construct_object(child, deep=True) for child in node.value)
    out.file, out.line = loader.source, node.start_mark.line + 1
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def read_yaml(text: str, source: str) -> Any:
    loader = _Loader(text)
    loader.source = source
    try:
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise FormatError(f"{source}{line}: 不是有效的 YAML（{getattr(exc, 'problem', None) or exc}）") from None
    finally:
        loader.dispose()


def _where(node: Any, key: Any = None) -> str:
    """file:line of a key in a mapping (or of the node itself)."""
    if isinstance(node, Mapping):
        return f"{node.file}:{node.lines.get(key, node.line)}"
    if isinstance(node, Sequence):
        return f"{node.file}:{node.line}"
    return "?"


# ---- the schema's vocabulary, for "did you mean" ---------------------------------------------


def _vocabulary() -> set[str]:
    words: set[str] = {"extends", "changes", "rule_sets", "remove_rules", "name", "only", "except", "table",
                       "add_rows", "add_columns", "remove_rows", "remove_columns", "replace_rows",
                       "replace_columns", "after", "before", "block", "group"}
    for module in (schema, rules_module):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseModel):
                words |= set(value.model_fields)
    words |= set(Format.model_fields)
    return words


def _suggest(word: str) -> str:
    close = difflib.get_close_matches(str(word), sorted(_vocabulary()), n=1, cutoff=0.6)
    return f"（是否应为「{close[0]}」？）" if close else ""


def _locate(data: Any, loc: tuple[Any, ...]) -> str:
    """Follow a pydantic error location through the YAML data to the deepest line known."""
    where = _where(data)
    node = data
    for part in loc:
        if isinstance(node, dict):
            if part not in node:
                if node.get("kind") == part:  # a discriminated union adds the tag to the location
                    continue
                break
            where = _where(node, part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            if isinstance(node, Mapping | Sequence):
                where = _where(node)
        else:
            break
    return where


def _validation_error(exc: ValidationError, data: Any) -> FormatError:
    # A misspelt key also leaves the right one missing: say what is there before what is not.
    order = {"extra_forbidden": 0, "union_tag_invalid": 1, "missing": 3}
    error = min(exc.errors(), key=lambda e: order.get(e["type"], 2))
    loc = tuple(error["loc"])
    where = _locate(data, loc)
    if error["type"] == "extra_forbidden":
        problem = f"未知的键「{loc[-1]}」{_suggest(loc[-1])}"
    elif error["type"] == "union_tag_invalid":
        kind = (error.get("ctx") or {}).get("tag")
        problem = f"未知的规则类型 kind: {kind!r}；可用的类型：{', '.join(sorted(rules_module.RULE_KINDS))}"
    elif error["type"] == "missing":
        problem = f"缺少必填的键「{loc[-1]}」"
    else:
        path = ".".join(str(p) for p in loc)
        problem = f"{path}：{error['msg']}"
    more = len(exc.errors()) - 1
    return FormatError(f"{where}: {problem}" + (f"（另有 {more} 处问题）" if more else ""))


# ---- trees, rule sets and extends --------------------------------------------------------------


def _flat_tables(tables: Iterable[Any]) -> None:
    """Row and column trees flattened in place (each item keeps its lines), so that changes and
    errors can name items by key."""
    for table in tables or ():
        if not isinstance(table, dict):
            continue
        for leaf in ("rows", "columns"):
            if isinstance(table.get(leaf), list):
                table[leaf] = schema.flatten_tree(table[leaf], leaf)
        for block in table.get("blocks") or ():
            for leaf in ("rows", "columns"):
                if isinstance(block, dict) and isinstance(block.get(leaf), list):
                    block[leaf] = schema.flatten_tree(block[leaf], leaf)


def _rule_set(entry: Any, where: str, sets: dict[str, Any]) -> list[Any]:
    """`common`, or `{name: common, only: [...]}` / `{name: common, except: [...]}`."""
    name = entry.get("name") if isinstance(entry, dict) else entry
    if name not in sets:
        raise FormatError(f"{where}: 规则集「{name}」不存在；可用的规则集：{', '.join(sorted(sets)) or '无'}")
    rules = list(sets[name].get("rules") or [])
    if isinstance(entry, dict):
        unknown = set(entry) - {"name", "only", "except"}
        if unknown:
            raise FormatError(f"{_where(entry, sorted(unknown)[0])}: 未知的键「{sorted(unknown)[0]}」{_suggest(sorted(unknown)[0])}")
        ids = {r.get("id") for r in rules}
        for field in ("only", "except"):
            missing = [i for i in entry.get(field) or () if i not in ids]
            if missing:
                raise FormatError(f"{_where(entry, field)}: 规则集「{name}」中没有规则 {', '.join(missing)}")
        if "only" in entry:
            rules = [r for r in rules if r.get("id") in set(entry["only"])]
        rules = [r for r in rules if r.get("id") not in set(entry.get("except") or ())]
    return rules


def _merge_by_id(base: list[Any], added: Iterable[Any], field: str = "id") -> list[Any]:
    out = list(base)
    for item in added or ():
        ids = [x.get(field) if isinstance(x, dict) else None for x in out]
        key = item.get(field) if isinstance(item, dict) else None
        if key is not None and key in ids:
            out[ids.index(key)] = item
        else:
            out.append(item)
    return out


_CHANGE_KEYS = {"table", "block", "add_rows", "add_columns", "remove_rows", "remove_columns", "replace_rows",
                "replace_columns", "after", "before"}


def _apply_change(tables: list[Any], change: Any) -> None:
    if not isinstance(change, dict):
        raise FormatError(f"{_where(change)}: changes 的每一项应为映射")
    unknown = set(change) - _CHANGE_KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise FormatError(f"{_where(change, key)}: 未知的键「{key}」{_suggest(key)}")
    table = next((t for t in tables if isinstance(t, dict) and t.get("key") == change.get("table")), None)
    if table is None:
        raise FormatError(f"{_where(change, 'table')}: 没有键为「{change.get('table')}」的表")
    holder = table
    if table.get("blocks"):
        index = change.get("block", 0)
        if not isinstance(index, int) or not 0 <= index < len(table["blocks"]):
            raise FormatError(f"{_where(change, 'block')}: 表 {table['key']} 没有第 {index} 块")
        holder = table["blocks"][index]
    for leaf in ("rows", "columns"):
        holder[leaf] = _edit(change, table["key"], list(holder.get(leaf) or []), leaf)


def _edit(change: Any, table_key: str, items: list[Any], leaf: str) -> list[Any]:
    """One change's removals, replacements and additions to a table's rows or columns."""
    what = "行" if leaf == "rows" else "列"

    def index(name: Any, field: str) -> int:
        keys = [item.get("key") for item in items]
        if name not in keys:
            raise FormatError(f"{_where(change, field)}: 表 {table_key} 没有{what}「{name}」")
        return keys.index(name)

    for name in change.get(f"remove_{leaf}") or []:
        del items[index(name, f"remove_{leaf}")]
    for item in schema.flatten_tree(change.get(f"replace_{leaf}") or [], leaf):
        at = index(item.get("key"), f"replace_{leaf}")
        items[at] = _inherit_groups(item, items[at])
    added = schema.flatten_tree(change.get(f"add_{leaf}") or [], leaf)
    if added:
        if "after" in change or "before" in change:
            field = "after" if "after" in change else "before"
            at = index(change[field], field)
            # Added beside an item of a group, an item without a group of its own joins that group.
            added = [_inherit_groups(item, items[at]) for item in added]
            at += field == "after"
        else:
            at = len(items)
        items[at:at] = added
    return items


def _inherit_groups(item: Any, beside: Any) -> Any:
    """An item that names no group of its own takes the groups of the item it replaces or joins."""
    groups = beside.get("groups", beside.get("group")) if isinstance(beside, dict) else None
    if not isinstance(item, dict) or "group" in item or "groups" in item or groups is None:
        return item
    out = copy.copy(item)
    out["groups"] = groups
    return out


def _resolve(raw: dict[str, Any], raws: dict[str, dict[str, Any]], sets: dict[str, Any], seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """A format's data with its parent's merged in and its rule sets expanded."""
    if raw.get("id") in seen:
        raise FormatError(f"{_where(raw, 'extends')}: extends 形成循环：{' → '.join((*seen, raw['id']))}")
    parent_id = raw.get("extends")
    if parent_id is not None:
        parent_id = str(parent_id)
        if parent_id not in raws:
            raise FormatError(f"{_where(raw, 'extends')}: 所扩展的格式「{parent_id}」不存在；可用的格式：{', '.join(sorted(raws))}")
        base = copy.deepcopy(_resolve(raws[parent_id], raws, sets, (*seen, str(raw.get("id")))))
        base.pop("source", None)
    else:
        base = {"rules": [], "metrics": [], "tables": []}
    own = {k: v for k, v in raw.items()
           if k not in ("extends", "changes", "rule_sets", "rules", "remove_rules", "tables", "metrics", "statements")}
    data = Mapping(base)
    data.file, data.line, data.lines = getattr(raw, "file", "?"), getattr(raw, "line", 0), dict(getattr(raw, "lines", {}))
    data.update(own)
    _flat_tables(raw.get("tables") or [])
    data["tables"] = _merge_by_id(base.get("tables") or [], raw.get("tables") or [], field="key")
    for change in raw.get("changes") or []:
        _apply_change(data["tables"], change)
    shared = [rule for entry in raw.get("rule_sets") or [] for rule in _rule_set(entry, _where(raw, "rule_sets"), sets)]
    rules = _merge_by_id(_merge_by_id(base.get("rules") or [], shared), raw.get("rules") or [])
    removed = raw.get("remove_rules") or []
    absent = [r for r in removed if r not in {x.get("id") for x in rules}]
    if absent:
        raise FormatError(f"{_where(raw, 'remove_rules')}: 没有可删除的规则 {', '.join(absent)}")
    data["rules"] = [r for r in rules if r.get("id") not in set(removed)]
    data["metrics"] = _merge_by_id(base.get("metrics") or [], raw.get("metrics") or [])
    if raw.get("statements") is not None:
        data["statements"] = _merge_statements(base.get("statements"), raw["statements"])
    return data


def _merge_statements(base: Any, own: Any) -> Any:
    """The parent's statements with the child's settings over them and its subjects merged by key."""
    if not isinstance(base, dict) or not isinstance(own, dict):
        return own
    merged = copy.copy(own)
    for key, value in base.items():
        merged.setdefault(key, value)
    merged["subjects"] = _merge_by_id(base.get("subjects") or [], own.get("subjects") or [], field="key")
    return merged


# ---- checks that need the whole format ---------------------------------------------------------


def _check_terms(fmt: Format, data: dict[str, Any]) -> None:
    raw_rules = {r.get("id"): r for r in data.get("rules") or []}
    ids = [r.id for r in fmt.rules]
    duplicate = next((i for i in ids if ids.count(i) > 1), None)
    if duplicate:
        raise FormatError(f"{_where(raw_rules[duplicate], 'id')}: 规则 {duplicate} 定义了两次")
    tables = {t.key for t in fmt.tables}
    for rule in fmt.rules:
        raw = raw_rules.get(rule.id)
        for_each = getattr(rule, "for_each", None)
        if for_each is not None and for_each.table not in tables:
            raise FormatError(f"{_where(raw, 'for_each')}: 规则 {rule.id} 的 for_each 指向不存在的表「{for_each.table}」")
        for field, term in unresolved_terms(rule, fmt):
            raise FormatError(f"{_where(raw, field)}: 规则 {rule.id} 的「{term}」不对应格式 {fmt.id} 的任何单元格")
    if fmt.statements is not None:
        raw_subjects = {x.get("key"): x for x in (data.get("statements") or {}).get("subjects") or []}
        rule_ids = set(ids)
        for subject in fmt.statements.subjects:
            raw = raw_subjects.get(subject.key)
            if subject.rule not in rule_ids:
                raise FormatError(f"{_where(raw, 'rule')}: 正文陈述「{subject.key}」所属的规则 {subject.rule} 不存在")
            for reading in (*subject.readings, *subject.all_of):
                for term in reading.terms:
                    if not match_keys(fmt, split_term(term)[2]):
                        raise FormatError(f"{_where(raw, 'readings' if reading in subject.readings else 'all_of')}: "
                                          f"正文陈述「{subject.key}」的「{term}」不对应格式 {fmt.id} 的任何单元格")
    raw_metrics = {m.get("id"): m for m in data.get("metrics") or []}
    for metric in fmt.metrics:
        for field in ("numerator", "denominator"):
            for term in getattr(metric, field):
                if not match_keys(fmt, split_term(term)[2]):
                    raise FormatError(f"{_where(raw_metrics.get(metric.id), field)}: 指标 {metric.id} 的「{term}」"
                                      f"不对应格式 {fmt.id} 的任何单元格")


def _build(data: dict[str, Any]) -> Format:
    try:
        fmt = Format.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc, data) from None
    except ValueError as exc:  # a model's own check (model_post_init) names no location
        raise FormatError(f"{_where(data)}: {exc}") from None
    _check_terms(fmt, data)
    return fmt


# ---- where formats come from -------------------------------------------------------------------

_extra_dirs: list[str] = []


def use_format_dirs(dirs: Iterable[str | os.PathLike[str]]) -> None:
    """Add folders of format files beside the built-in ones (the CLI's --formats)."""
    for d in dirs:
        if str(d) not in _extra_dirs:
            _extra_dirs.append(str(d))


def format_dirs() -> tuple[str, ...]:
    env = [d for d in os.environ.get(ENV_VAR, "").split(os.pathsep) if d]
    return tuple(dict.fromkeys((*env, *_extra_dirs)))


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


@lru_cache(maxsize=8)
def load_all(dirs: tuple[str, ...]) -> tuple[Format, ...]:
    here = resources.files("gongkai.formats")
    files: list[tuple[str, str]] = [(f"formats/{p.name}", p.read_text(encoding="utf-8"))
                                    for p in sorted(here.iterdir(), key=lambda p: p.name) if p.name.endswith(".yaml")]
    sets: dict[str, Any] = {}
    for p in sorted((here / "rules").iterdir(), key=lambda p: p.name):
        if p.name.endswith(".yaml"):
            sets[p.name[:-5]] = read_yaml(p.read_text(encoding="utf-8"), f"formats/rules/{p.name}")
    for d in dirs:
        folder = Path(d)
        if not folder.is_dir():
            raise FormatError(f"{d}: 格式目录不存在（{ENV_VAR} 或 --formats）")
        for path in _yaml_files(folder):
            try:
                files.append((str(path), path.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError) as exc:
                raise FormatError(f"{path}: 无法读取（{exc}）") from None
        if (folder / "rules").is_dir():
            for path in _yaml_files(folder / "rules"):
                sets[path.stem] = read_yaml(path.read_text(encoding="utf-8"), str(path))
    raws: dict[str, dict[str, Any]] = {}
    for source, text in files:
        raw = read_yaml(text, source)
        if not isinstance(raw, dict) or "id" not in raw:
            raise FormatError(f"{source}: 不是格式定义（缺少 id）")
        raw["id"] = str(raw["id"])
        if raw["id"] in raws:
            raise FormatError(f"{source}: 格式 {raw['id']} 已在 {raws[raw['id']].file} 中定义")
        _flat_tables(raw.get("tables") or [])
        raws[raw["id"]] = raw
    formats = []
    for raw in raws.values():
        data = _resolve(raw, raws, sets)
        data["source"] = getattr(raw, "file", None)
        formats.append(_build(data))
    return tuple(sorted(formats, key=lambda f: f.first_year or 0, reverse=True))
