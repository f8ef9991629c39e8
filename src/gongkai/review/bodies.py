"""The tree of bodies: each agency that reports, placed in its GB/T 2260 region, under its parent.

A body is placed from its name when first seen (西峡县人民政府 → 411323, a government); governments
hang under the government of the region above, departments and zones under their region's
government. What names cannot tell (a 示范区's parent, a department's, which bodies file a summary
of their children) is imported from CSV/xlsx or edited; imported and edited bodies keep their place.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select, update

from gongkai.review.common import ReviewError
from gongkai.store import region
from gongkai.store.region import level
from gongkai.store.schema import bodies, reports

KINDS = {"government": "政府", "township": "乡镇街道", "department": "部门", "zone": "开发区/示范区", "other": "其他"}
_GOVERNMENT = re.compile(r"^(?:人民政府|政府)?(?:办公室|办公厅)?$")
_ZONE = re.compile(r"示范区|开发区|高新区|新区|园区|管委会|管理委员会")
# Townships are below the shipped table's counties: 西李村乡人民政府, 城关镇人民政府, 东城街道办事处.
_TOWNSHIP = re.compile(r"^\w{1,12}?(?:乡|镇|街道)(?:人民政府|政府|办事处)?(?:办公室)?$")


def body_kind(name: str, code: str | None) -> str:
    """government: the name is its region's name (+ 人民政府 / 办公室); township (乡, 镇, 街道 within
    its county); zone; department; other."""
    if _ZONE.search(name):
        return "zone"
    if code is None:
        return "other"
    rest = re.sub(r"\s+", "", name)
    for c in region.lineage(code):
        division = region.divisions().get(c, "")
        if division and division in rest:
            rest = rest[rest.index(division) + len(division):]
    if _GOVERNMENT.match(rest):
        return "government"
    return "township" if level(code) == "county" and _TOWNSHIP.match(rest) else "department"


def ensure_bodies(conn: Connection, names: set[str]) -> dict[str, int]:
    """Body ids by name, placing and linking the new ones."""
    found = dict(conn.execute(select(bodies.c.name, bodies.c.id).where(bodies.c.name.in_(names))).all()) if names else {}
    new = sorted(names - set(found))
    for name in new:
        placement = region.place(name)
        found[name] = conn.execute(insert(bodies).values(
            name=name, region_code=placement.code, parent_id=None, kind=body_kind(name, placement.code),
            placed_by="name", sums_children=False, note=placement.note)).inserted_primary_key[0]
    if new:
        link_by_region(conn)
    return found


def link_by_region(conn: Connection) -> int:
    """Parents from regions for bodies placed by name: a government under the nearest government of
    a region above; a township, department or zone under its own region's government. Returns how many changed."""
    rows = conn.execute(select(bodies.c.id, bodies.c.region_code, bodies.c.kind, bodies.c.parent_id, bodies.c.placed_by)).all()
    governments: dict[str, int] = {}
    for row in rows:
        if row.kind == "government" and row.region_code:
            governments.setdefault(row.region_code, row.id)
    changed = 0
    for row in rows:
        if row.placed_by != "name" or not row.region_code:
            continue
        lineage = region.lineage(row.region_code)
        above = lineage[:-1] if row.kind == "government" else lineage
        parent = next((governments[c] for c in reversed(above) if c in governments and governments[c] != row.id), None)
        if parent != row.parent_id:
            conn.execute(update(bodies).where(bodies.c.id == row.id).values(parent_id=parent))
            changed += 1
    return changed


def _region_code(text: str | None, where: str) -> str | None:
    if not text or not str(text).strip():
        return None
    text = str(text).strip()
    if text.isdigit():
        if text.ljust(6, "0")[:6] not in region.divisions():
            raise ReviewError(f"{where}：没有行政区划代码 {text} (unknown GB/T 2260 code)")
        return text.ljust(6, "0")[:6]
    placement = region.place(text)
    if placement.code is None:
        raise ReviewError(f"{where}：无法确定地区「{text}」{('：' + placement.note) if placement.note else ''}")
    return placement.code


_COLUMNS = {"name": ("单位", "name", "单位名称"), "parent": ("上级", "parent", "上级单位"),
            "region": ("地区", "region", "行政区划"), "kind": ("类型", "kind"), "sums": ("汇总", "sums_children")}
_KIND_NAMES = {v: k for k, v in KINDS.items()} | {k: k for k in KINDS} | {"部门": "department", "示范区": "zone", "开发区": "zone"}
_YES = {"是", "yes", "true", "1", "y"}


def read_table(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV (UTF-8, with or without BOM, or GBK) or xlsx file, by the columns it names."""
    if not path.is_file():
        raise ReviewError(f"{path}：文件不存在 (file not found)")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        import openpyxl

        try:
            sheet = openpyxl.load_workbook(path, read_only=True, data_only=True).active
        except Exception as exc:
            raise ReviewError(f"{path}：无法读取工作簿 ({type(exc).__name__}: {exc})") from exc
        values = [["" if v is None else str(v).strip() for v in row] for row in sheet.iter_rows(values_only=True)]
    else:
        data = path.read_bytes()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("gbk", errors="replace")
        values = [[v.strip() for v in row] for row in csv.reader(io.StringIO(text))]
    values = [row for row in values if any(row)]
    if not values:
        raise ReviewError(f"{path}：文件为空 (empty file)")
    header = values[0]
    index = {field: next((i for i, h in enumerate(header) if h in names), None) for field, names in _COLUMNS.items()}
    if index["name"] is None:
        raise ReviewError(f"{path}：缺少「单位」列（可用列：单位、上级、地区、类型、汇总）")
    return [{field: (row[i] if i is not None and i < len(row) else "") for field, i in index.items()} for row in values[1:]]


def import_bodies(conn: Connection, path: Path) -> dict[str, int]:
    """Bodies from a table (单位, 上级, 地区, 类型, 汇总): created or updated, placed as the file says.
    A parent the file names but the corpus lacks is created too. Counts of what changed."""
    rows = read_table(path)
    known = set(conn.scalars(select(bodies.c.name)))
    ids = ensure_bodies(conn, {n.strip() for row in rows for n in (row["name"], row["parent"]) if n.strip()})
    created = updated = 0
    for number, row in enumerate(rows, start=2):
        where = f"{path} 第{number}行"
        name = row["name"].strip()
        if not name:
            raise ReviewError(f"{where}：单位名称为空")
        values: dict[str, Any] = {"placed_by": "import"}
        if row["region"]:
            values["region_code"] = _region_code(row["region"], where)
        if row["kind"]:
            if row["kind"] not in _KIND_NAMES:
                raise ReviewError(f"{where}：未知类型「{row['kind']}」（可用：{'、'.join(KINDS.values())}）")
            values["kind"] = _KIND_NAMES[row["kind"]]
        if row["sums"]:
            values["sums_children"] = row["sums"].strip().lower() in _YES
        if row["parent"]:
            if row["parent"].strip() == name:
                raise ReviewError(f"{where}：上级不能是单位自身")
            values["parent_id"] = ids[row["parent"].strip()]
        conn.execute(update(bodies).where(bodies.c.id == ids[name]).values(**values))
        _refuse_cycle(conn, ids[name], where)
        created += name not in known
        updated += name in known
    link_by_region(conn)
    sync_report_regions(conn)
    return {"created": created, "updated": updated}


def _refuse_cycle(conn: Connection, body_id: int, where: str) -> None:
    seen = {body_id}
    parent = conn.scalar(select(bodies.c.parent_id).where(bodies.c.id == body_id))
    while parent is not None:
        if parent in seen:
            raise ReviewError(f"{where}：上下级关系成环 (the tree would have a cycle)")
        seen.add(parent)
        parent = conn.scalar(select(bodies.c.parent_id).where(bodies.c.id == parent))


def edit_body(conn: Connection, name: str, *, parent: str | None = None, region_text: str | None = None,
              kind: str | None = None, sums_children: bool | None = None) -> dict[str, Any]:
    """Change one body's place in the tree; it then keeps it (placed_by = edit)."""
    body_id = conn.scalar(select(bodies.c.id).where(bodies.c.name == name))
    if body_id is None:
        raise ReviewError(f"{name}：库中没有该单位")
    values: dict[str, Any] = {"placed_by": "edit"}
    if parent is not None:
        values["parent_id"] = ensure_bodies(conn, {parent})[parent] if parent else None
    if region_text is not None:
        values["region_code"] = _region_code(region_text, name)
    if kind is not None:
        if kind not in _KIND_NAMES:
            raise ReviewError(f"{name}：未知类型「{kind}」")
        values["kind"] = _KIND_NAMES[kind]
    if sums_children is not None:
        values["sums_children"] = sums_children
    conn.execute(update(bodies).where(bodies.c.id == body_id).values(**values))
    _refuse_cycle(conn, body_id, name)
    sync_report_regions(conn)
    return body(conn, name)


def sync_report_regions(conn: Connection) -> None:
    """The reports' province and city columns (what list and stats group by) from their bodies'
    regions, where import or edit placed a body its name did not."""
    for row in conn.execute(select(bodies.c.name, bodies.c.region_code).where(bodies.c.placed_by != "name")).all():
        r = region.region_of(row.region_code)
        conn.execute(update(reports).where(reports.c.agency == row.name)
                     .values(province_code=r.province_code, province=r.province, city=r.city))


def _describe(row: Any, names: dict[int, str]) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "region_code": row.region_code,
            "region": region.full_name(row.region_code) if row.region_code else None,
            "parent": names.get(row.parent_id), "kind": row.kind, "sums_children": row.sums_children,
            "placed_by": row.placed_by, "note": row.note}


def body(conn: Connection, name: str) -> dict[str, Any]:
    rows = conn.execute(select(bodies)).all()
    names = {r.id: r.name for r in rows}
    found = next((r for r in rows if r.name == name), None)
    if found is None:
        raise ReviewError(f"{name}：库中没有该单位")
    return _describe(found, names)


def body_tree(conn: Connection, under: str | None = None) -> list[dict[str, Any]]:
    """The bodies as a forest (each with its children), under a body or region if given. Only the
    bodies shown are read and described (a region of a national tree is a small part of it)."""
    if under is None:
        rows = conn.execute(select(bodies)).all()
    else:
        named = conn.scalar(select(bodies.c.id).where(bodies.c.name == under))
        if named is not None:
            inside = descendants(conn, named)
        else:
            prefix = region.region_prefix(under)
            if prefix is None:
                raise ReviewError(f"{under}：既不是库中的单位，也不是可识别的地区")
            placed = conn.scalars(select(bodies.c.id).where(bodies.c.region_code.startswith(prefix, autoescape=True)))
            inside = descendants(conn, *placed)  # with everything under them, wherever it is placed
        rows = _rows(conn, bodies.c.id, inside)
    shown = {r.id for r in rows}
    parents = {r.parent_id for r in rows if r.parent_id is not None and r.parent_id not in shown}
    names = {r.id: r.name for r in rows} | {r.id: r.name for r in _rows(conn, bodies.c.id, parents)}
    rows.sort(key=lambda r: (r.region_code or "", r.name))
    nodes = {r.id: {**_describe(r, names), "children": []} for r in rows}
    roots = []
    for r in rows:
        (nodes[r.parent_id]["children"] if r.parent_id in nodes else roots).append(nodes[r.id])
    return roots


def _rows(conn: Connection, column: Any, values: Any) -> list[Any]:
    """The bodies whose column is one of values, in chunks a statement's parameters can hold."""
    wanted = sorted(set(values))
    return [r for i in range(0, len(wanted), 5000)
            for r in conn.execute(select(bodies).where(column.in_(wanted[i:i + 5000]))).all()]


def descendants(conn: Connection, *body_ids: int) -> list[int]:
    """The bodies and every body under them."""
    children: dict[int | None, list[int]] = {}
    for row in conn.execute(select(bodies.c.id, bodies.c.parent_id).where(bodies.c.parent_id.is_not(None))):
        children.setdefault(row.parent_id, []).append(row.id)
    out, seen, stack = [], set(body_ids), list(body_ids)
    while stack:
        current = stack.pop()
        out.append(current)
        for child in children.get(current, []):
            if child not in seen:  # a tree has no cycles; an edited one is refused them, but never loop
                seen.add(child)
                stack.append(child)
    return out
