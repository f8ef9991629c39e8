"""地区汇总 and the reviewer's view of the 工作台: a region's bodies (GB/T 2260 tree) with each one's
submission state, lateness against the statutory dates and problem count, the hierarchy check's
outcomes, the region's letter (DOCX/PDF) and summary (xlsx). The work is gongkai.review's
(region_summary, body_tree, check_hierarchy, letter_docx/pdf, region_summary_xlsx); this module
decides which regions a user may see, logs the one write (running the hierarchy check) and draws."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import Connection, func, select

from gongkai.review import outcomes as outcome_store
from gongkai.review.bodies import KINDS, body_tree
from gongkai.review.common import ReviewError
from gongkai.review.hierarchy import check_hierarchy
from gongkai.review.letter import letter_docx, letter_pdf, region_summary, region_summary_xlsx
from gongkai.store.region import region_prefix
from gongkai.store.schema import bodies, outcomes, reports
from gongkai.web import auth
from gongkai.web.app import download, engine_of, signed_in, writer
from gongkai.web.auth import AuthError, User
from gongkai.web.review import DOCX_TYPE

Signed = Annotated[User, Depends(signed_in)]
Writer = Annotated[User, Depends(writer)]
Year = Annotated[int | None, Query(ge=1990, le=2100)]
RegionText = Annotated[str | None, Query(max_length=50, description="地区（41、河南、南阳市）或上级单位名称")]
VIEWERS = ("admin", "reviewer")  # a region is the review's view; an author's is the own body
DASHBOARD_ROWS = 100  # the rest is on the region's page
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def allowed_region(conn: Connection, user: User, text: str | None) -> str | None:
    """The region (or parent body) the user asked for, if the user may see it: an administrator any
    (None: every body), a reviewer the own region and what lies under it."""
    auth.require(user, *VIEWERS)
    text = (text or "").strip() or None
    if user.role == "admin":
        return text
    scope = user.scope or ""
    if text is None or text == scope:
        return scope
    inside = region_prefix(scope)
    named = conn.scalar(select(bodies.c.region_code).where(bodies.c.name == text))
    asked = named if named is not None else region_prefix(text)
    if inside is None or asked is None or not asked.startswith(inside):
        raise AuthError(403, f"「{text}」不在您的权限范围（{scope}）内")
    return text


def default_year(conn: Connection, user: User) -> int:
    """The newest year of a report in the user's scope (last year when there is none)."""
    newest = conn.scalar(user.filters().apply(select(func.max(reports.c.year)).select_from(reports)))
    return newest or date.today().year - 1


def summary_rows(conn: Connection, region: str | None, year: int) -> list[dict[str, Any]]:
    try:
        return region_summary(conn, region, year)
    except ReviewError as exc:
        raise AuthError(400, str(exc)) from exc


def counts(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Bodies by submission state (未报送 included), and how many are late."""
    return {"bodies": len(rows), "states": dict(Counter(r["state"] for r in rows)), "late": sum(r["late"] for r in rows),
            "missing": sum(r["report_id"] is None for r in rows)}


def tree_with_states(conn: Connection, region: str | None, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The region's body tree, each node with its summary row (state, late, problems)."""
    by_name = {r["body"]: r for r in rows}
    try:
        roots = body_tree(conn, region)
    except ReviewError as exc:
        raise AuthError(400, str(exc)) from exc

    def attach(node: dict[str, Any]) -> dict[str, Any]:
        return {**node, "summary": by_name.get(node["name"]), "children": [attach(c) for c in node["children"]]}

    return [attach(root) for root in roots]


def hierarchy_outcomes(conn: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stored parent-against-children outcomes of the region's reports (not the passed ones)."""
    ids = [r["report_id"] for r in rows if r["report_id"] is not None]
    parents: set[int] = set()  # the reports that have any: a parent's, a few among many
    for chunk in range(0, len(ids), 500):
        parents.update(conn.scalars(select(outcomes.c.report_id).distinct().where(
            outcomes.c.scope == "hierarchy", outcomes.c.status != "passed", outcomes.c.report_id.in_(ids[chunk:chunk + 500]))))
    out = []
    for row in rows:
        if row["report_id"] not in parents:
            continue
        for item in outcome_store.report_outcomes(conn, row["report_id"], {"failed", "uncertain", "not_assessable"}):
            if item["scope"] == "hierarchy":
                out.append({**item, "body": row["body"], "report_id": row["report_id"]})
    return out


def dashboard_context(conn: Connection, user: User, year: int | None) -> dict[str, Any]:
    """The 工作台's submission overview: every body in the user's scope (an author's own body) for
    the year, by state and lateness; the late, returned and missing first."""
    year = year or default_year(conn, user)
    region = None if user.role == "admin" else user.scope
    try:
        rows = region_summary(conn, region, year)
    except ReviewError:  # an author's body that has no report yet is in no tree
        rows = []
    order = {"已退回": 0, "未报送": 1, "草稿": 2, "已报送": 3, "已通过": 4}
    rows.sort(key=lambda r: (not r["late"], order.get(r["state"], 5), r["body"]))
    return {"filing_year": year, "filing_counts": counts(rows), "filing_rows": rows[:DASHBOARD_ROWS],
            "filing_more": max(0, len(rows) - DASHBOARD_ROWS)}


def add(app: FastAPI, page: Callable[..., HTMLResponse]) -> None:

    @app.get("/regions", include_in_schema=False)
    def region_page(request: Request, user: Signed, region: RegionText = None, year: Year = None) -> Response:
        with engine_of(request).connect() as conn:
            region = allowed_region(conn, user, region)
            year = year or default_year(conn, user)
            rows = summary_rows(conn, region, year)
            context = {"region": region, "year": year, "rows": rows, "counts": counts(rows),
                       "tree": tree_with_states(conn, region, rows), "hierarchy": hierarchy_outcomes(conn, rows),
                       "kinds": KINDS, "status_names": outcome_store.STATUS_NAMES,
                       "decision_names": outcome_store.DECISION_NAMES,
                       "query": urlencode({"region": region or "", "year": year})}
        return page(request, "region.html", context)

    @app.get("/regions/letter.{ext}", include_in_schema=False)
    def region_letter(request: Request, user: Signed, ext: str, region: RegionText = None, year: Year = None) -> Response:
        if ext not in ("docx", "pdf"):
            raise AuthError(404, "不支持的下载格式")
        with engine_of(request).connect() as conn:
            region = allowed_region(conn, user, region)
            year = year or default_year(conn, user)
            ids = [r["report_id"] for r in summary_rows(conn, region, year) if r["report_id"] is not None]
            if not ids:
                raise AuthError(404, f"{region or '全部地区'} {year} 年度库中没有报告")
            from gongkai.render.pdf import RenderError

            try:
                body = letter_pdf(conn, ids) if ext == "pdf" else letter_docx(conn, ids)
            except (ReviewError, RenderError) as exc:
                raise AuthError(400, str(exc)) from exc
        name = f"审核意见-{region or '全部地区'}-{year}.{ext}"
        return download(body, name, "application/pdf" if ext == "pdf" else DOCX_TYPE)

    @app.get("/regions/summary.xlsx", include_in_schema=False)
    def region_xlsx(request: Request, user: Signed, region: RegionText = None, year: Year = None) -> Response:
        with engine_of(request).connect() as conn:
            region = allowed_region(conn, user, region)
            year = year or default_year(conn, user)
            try:
                body = region_summary_xlsx(conn, region, year)
            except ReviewError as exc:
                raise AuthError(400, str(exc)) from exc
        return download(body, f"报送情况-{region or '全部地区'}-{year}.xlsx", XLSX_TYPE)

    @app.post("/regions/hierarchy", include_in_schema=False)
    async def run_hierarchy(request: Request, user: Writer) -> Response:
        form = await request.form(max_files=0, max_fields=10)
        text, year = str(form.get("region") or ""), str(form.get("year") or "")
        if not year.isdigit():
            raise AuthError(400, "请给出年度")
        with engine_of(request).begin() as conn:
            region = allowed_region(conn, user, text)
            # The rules compare each parent with its children wherever they are: derived figures,
            # the same whoever asks; the run is logged like every write.
            found = check_hierarchy(conn, int(year))
            auth.record(conn, user, "hierarchy.check", f"region:{region or '*'}",
                        {"year": int(year), "outcomes": len(found), "failed": sum(i["status"] == "failed" for i in found)})
        return RedirectResponse(f"/regions?{urlencode({'region': region or '', 'year': year})}#hierarchy", status_code=303)

    @app.get("/api/regions/summary", tags=["地区汇总"], summary="一个地区各单位的报送状态、逾期与问题数（审核人员、管理员）")
    def api_summary(request: Request, user: Signed, region: RegionText = None, year: Year = None) -> dict[str, Any]:
        with engine_of(request).connect() as conn:
            region = allowed_region(conn, user, region)
            year = year or default_year(conn, user)
            rows = summary_rows(conn, region, year)
            return {"region": region, "year": year, "counts": counts(rows), "bodies": rows}
