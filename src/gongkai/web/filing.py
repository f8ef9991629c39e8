"""One body's filings on the report page and beside it: the versions of the 单位@年度 (which one
counts, the cells they disagree on, choosing the counted one), the submission states (submit, return
with the letter, accept) and the comparison with the year before (跨年比对). The work is done by
gongkai.review and gongkai.store.query; this module authorises, logs every write and draws."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from gongkai.review import outcomes as outcome_store
from gongkai.review import versions as version_store
from gongkai.review import workflow
from gongkai.review.common import STATE_NAMES, ReviewError, counted_report, filing_of
from gongkai.review.crossyear import earlier_report
from gongkai.store.query import compare, label_for
from gongkai.web import auth
from gongkai.web.app import download, engine_of, report_of, signed_in, writer
from gongkai.web.auth import AuthError, User
from gongkai.web.review import DOCX_TYPE

Signed = Annotated[User, Depends(signed_in)]
Writer = Annotated[User, Depends(writer)]
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]
CHOOSERS = ("admin", "reviewer")  # which version counts is the review's call
MOVERS = {"submit": ("admin", "author"), "return": ("admin", "reviewer"), "accept": ("admin", "reviewer")}
MOVE_NAMES = {"submit": "报送", "return": "退回", "accept": "审核通过"}


# ---- what the report page shows --------------------------------------------------------------


def filing_context(conn: Connection, report_id: int, items: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The report's versions (the counted one marked, the cells they disagree on) and its
    submission state with the events and what blocks a submission; empty for a report without
    agency or year (it has no filing). items: the report's report_outcomes, when read already."""
    try:
        filing_id = filing_of(conn, report_id)
    except ReviewError:
        return {"filing": None}
    counted = counted_report(conn, filing_id) or report_id
    # The versions' disagreements and the gate are outcomes of the counted version.
    failed = [i for i in (items if items is not None and counted == report_id
                          else outcome_store.report_outcomes(conn, counted)) if i["status"] == "failed"]
    disagreements = [{**i, "label": label_for(i["cells"][0]) if i["cells"] else ""}
                     for i in failed if i["rule"] == "V-versions"]
    state = workflow.state(conn, report_id)
    return {"filing": {
        "versions": version_store.versions(conn, report_id), "counted": counted, "disagreements": disagreements,
        "state": state, "state_name": STATE_NAMES[state], "events": workflow.events(conn, report_id),
        "blocking": workflow.blocking(conn, counted, failed) if state in ("draft", "returned") else [],
        "earlier": earlier_report(conn, report_id)}}


# ---- writes: authorised, audited ----------------------------------------------------------------


def choose_version(request: Request, user: User, report_id: int, counted: int | None) -> list[dict[str, Any]]:
    """Count `counted` (a version of the same 单位@年度; None: the newest again)."""
    auth.require(user, *CHOOSERS)
    with engine_of(request).begin() as conn:
        auth.require_report(conn, user, report_id)
        if counted is not None:
            auth.require_report(conn, user, counted)
        chosen = version_store.choose(conn, report_id, counted)
        auth.record(conn, user, "version.choose", f"report:{report_id}", {"counted": counted or "newest"})
    return chosen


def move(request: Request, user: User, report_id: int, action: str, reason: str | None = None,
         override: str | None = None) -> dict[str, Any]:
    """Submit, return (with the letter) or accept the report's 单位@年度, by a user whose role may."""
    auth.require(user, *MOVERS[action])
    with engine_of(request).begin() as conn:
        auth.require_report(conn, user, report_id)
        if action == "submit":
            done = workflow.submit(conn, report_id, user.username, admin=user.role == "admin", override=override or None)
        elif action == "return":
            done = workflow.return_report(conn, report_id, user.username, (reason or "").strip() or None)
        else:
            done = workflow.accept(conn, report_id, user.username)
        auth.record(conn, user, f"filing.{action}", f"report:{report_id}",
                    {"from": done["from"], "to": done["to"], "reason": done.get("reason"),
                     "overridden": done.get("overridden")})
    return done


# ---- 跨年比对 -------------------------------------------------------------------------------------


def sentence_diff(earlier: str, later: str) -> list[tuple[str, str]]:
    """The two texts as (kind, sentence) in the later's order: same, removed (only last year), added."""
    split = re.compile(r"(?<=[。；！？\n])")
    a = [s for s in split.split(earlier) if s.strip()]
    b = [s for s in split.split(later) if s.strip()]
    out: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.extend(("same", s) for s in b[j1:j2])
            continue
        out.extend(("removed", s) for s in a[i1:i2])
        out.extend(("added", s) for s in b[j1:j2])
    return out


def comparison(conn: Connection, later_id: int, earlier_id: int) -> dict[str, Any]:
    """Cells that changed (store.query.compare), the stored cross-year outcomes of the later report
    with their review state, and the sections' text sentence by sentence."""
    found = compare(conn, earlier_id, later_id)
    earlier, later = found.a.report, found.b.report
    sections_a = {s.number: s for s in earlier.sections}
    sections_b = {s.number: s for s in later.sections}
    numbers = list(dict.fromkeys([*sections_b, *sections_a]))
    texts = [{"number": n, "title": (sections_b.get(n) or sections_a[n]).title,
              "diff": sentence_diff(sections_a[n].text if n in sections_a else "",
                                    sections_b[n].text if n in sections_b else "")} for n in numbers]
    cross_year = [i for i in outcome_store.report_outcomes(conn, later_id) if i["scope"] == "cross_year"]
    return {"earlier": found.a, "later": found.b, "changes": found.changes, "same": found.same,
            "cross_year": cross_year, "note": found.note, "texts": texts}


class VersionChoice(BaseModel):
    counted: int | None = Field(..., ge=1, le=2_147_483_647, description="计入统计的版本（报告编号）；null 恢复为最新版本")


class Move(BaseModel):
    reason: str | None = Field(None, max_length=500, description="退回理由，或管理员强制报送的理由")


def add(app: FastAPI, page: Callable[..., HTMLResponse]) -> None:

    def refused(request: Request, exc: ReviewError) -> Response:
        return page(request, "error.html", {"message": str(exc)}, status=400)

    @app.post("/reports/{report_id}/versions/counted", include_in_schema=False)
    async def choose_form(request: Request, user: Writer, report_id: Id) -> Response:
        form = await request.form(max_files=0, max_fields=10)
        given = str(form.get("counted") or "")
        if given != "newest" and not given.isdigit():
            return refused(request, ReviewError("请选择计入统计的版本"))
        try:
            choose_version(request, user, report_id, None if given == "newest" else int(given))
        except ReviewError as exc:
            return refused(request, exc)
        return RedirectResponse(f"/reports/{report_id}#versions", status_code=303)

    @app.post("/reports/{report_id}/filing/{action}", include_in_schema=False)
    async def move_form(request: Request, user: Writer, report_id: Id,
                        action: Annotated[str, Path(pattern="^(submit|return|accept)$")]) -> Response:
        form = await request.form(max_files=0, max_fields=10)
        try:
            move(request, user, report_id, action, str(form.get("reason") or ""), str(form.get("override") or ""))
        except ReviewError as exc:
            return refused(request, exc)
        return RedirectResponse(f"/reports/{report_id}#submission", status_code=303)

    @app.get("/reports/{report_id}/returned-letter.docx", include_in_schema=False)
    def returned_letter(request: Request, user: Signed, report_id: Id) -> Response:
        stored = report_of(request, user, report_id)
        with engine_of(request).connect() as conn:
            try:
                body = workflow.returned_letter(conn, report_id)
            except ReviewError as exc:
                raise AuthError(404, str(exc)) from exc
        if body is None:
            raise AuthError(404, "这份报告没有被退回过")
        return download(body, f"退回审核意见-{stored.report.agency or '报告'}-{stored.report.year or ''}.docx", DOCX_TYPE)

    @app.get("/reports/{report_id}/compare", include_in_schema=False)
    def compare_page(request: Request, user: Signed, report_id: Id,
                     earlier: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None) -> Response:
        stored = report_of(request, user, report_id)
        with engine_of(request).connect() as conn:
            earlier_id = earlier or earlier_report(conn, report_id)
            if earlier_id is None:
                return page(request, "compare.html", {"stored": stored, "missing": True})
            auth.require_report(conn, user, earlier_id)
            shown = comparison(conn, report_id, earlier_id)
        return page(request, "compare.html", {"stored": stored, **shown, "status_names": outcome_store.STATUS_NAMES,
                                              "decision_names": outcome_store.DECISION_NAMES})

    # ---- the same through the JSON API ------------------------------------------------------------

    def filing_part(request: Request, user: User, report_id: int, keys: tuple[str, ...]) -> dict[str, Any]:
        with engine_of(request).connect() as conn:
            auth.require_report(conn, user, report_id)
            shown = filing_context(conn, report_id)["filing"]
        if shown is None:
            raise AuthError(400, "这份报告没有单位或年度，不是任何单位年度报告的版本")
        return {k: shown[k] for k in keys}

    @app.get("/api/reports/{report_id}/versions", tags=["审核"], summary="同一单位同一年度的各版本及计入统计的版本")
    def api_versions(request: Request, user: Signed, report_id: Id) -> dict[str, Any]:
        return filing_part(request, user, report_id, ("versions", "counted", "disagreements"))

    @app.post("/api/reports/{report_id}/versions/counted", tags=["审核"], summary="选择计入统计的版本（审核人员、管理员）")
    def api_choose(request: Request, user: Writer, report_id: Id, body: VersionChoice) -> list[dict[str, Any]]:
        try:
            return choose_version(request, user, report_id, body.counted)
        except ReviewError as exc:
            raise AuthError(400, str(exc)) from exc

    @app.get("/api/reports/{report_id}/filing", tags=["审核"], summary="报送状态及经过")
    def api_filing(request: Request, user: Signed, report_id: Id) -> dict[str, Any]:
        return filing_part(request, user, report_id, ("state", "state_name", "events", "blocking"))

    @app.post("/api/reports/{report_id}/filing/{action}", tags=["审核"],
              summary="报送（填报人员、管理员）、退回或审核通过（审核人员、管理员）")
    def api_move(request: Request, user: Writer, report_id: Id,
                 action: Annotated[str, Path(pattern="^(submit|return|accept)$")], body: Move) -> dict[str, Any]:
        try:
            return move(request, user, report_id, action, body.reason, body.reason if action == "submit" else None)
        except ReviewError as exc:
            raise AuthError(400, str(exc)) from exc
