"""The report page's review: every stored rule outcome with confirm/dismiss and a reason, cell
corrections with their history, and the review letter (审核意见). The work is done by gongkai.review;
this module only authorises (role and scope), logs every write to the audit log and draws the result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from gongkai.review import corrections as correction_store
from gongkai.review import outcomes as outcome_store
from gongkai.review.common import ReviewError
from gongkai.review.letter import letter_docx
from gongkai.web import auth
from gongkai.web.app import download, engine_of, report_of, signed_in, writer
from gongkai.web.auth import AuthError, User
from gongkai.web.data import ShownCell

Signed = Annotated[User, Depends(signed_in)]
Writer = Annotated[User, Depends(writer)]
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]
DECIDERS = ("admin", "reviewer")  # authors write reports; they do not judge the checks on them
CORRECTORS = ("admin", "reviewer", "author")  # an author may correct a figure of the own body's report
DECISIONS = {"confirm": "confirmed", "dismiss": "dismissed"}
BLANK_WORDS = {"空", "空白", "blank"}
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def report_context(conn: Connection, report_id: int, tables: list[tuple[str, list[list[ShownCell]]]],
                   items: list[dict[str, Any]]) -> dict[str, Any]:
    """What the report page shows of the review: the outcomes (`items`, the report's report_outcomes)
    and their counts, the corrected cells' histories; the corrected cells in `tables` are marked as
    corrected (in place)."""
    try:
        histories = correction_store.history(conn, report_id)
    except ReviewError:  # a report without agency or year has no filing: nothing can be corrected
        histories = []
    mark_corrected(tables, {h["key"] for h in histories})
    return {"review_summary": outcome_store.summary(items),
            "review_items": [i for i in items if i["status"] in ("failed", "uncertain")],
            "review_histories": histories, "status_names": outcome_store.STATUS_NAMES,
            "decision_names": outcome_store.DECISION_NAMES}


def mark_corrected(tables: list[tuple[str, list[list[ShownCell]]]], keys: set[str]) -> None:
    """A corrected cell is coloured as corrected (after failed), not as inferred from its note."""
    for _, rows in tables:
        for row in rows:
            for cell in row:
                if cell.key in keys:
                    cell.states = [s for s in cell.states if s not in ("inferred", "corrected")]
                    cell.states.insert(1 if cell.states[:1] == ["failed"] else 0, "corrected")


def cell_history(conn: Connection, report_id: int, key: str) -> list[dict[str, Any]]:
    """The cell's story (parsed value, then each correction); empty while it was never corrected."""
    try:
        found = correction_store.history(conn, report_id, key)
    except ReviewError:
        return []
    return found[0]["history"] if found and len(found[0]["history"]) > 1 else []


def parse_value(text: str) -> float | None:
    """A corrected figure as typed: a number, or 空 for a blank (not stated) cell."""
    text = text.strip().replace(",", "").replace("，", "")
    if text in BLANK_WORDS:
        return None
    if not text:
        raise ReviewError("请填写更正后的数值（未填报的单元格填“空”）")
    try:
        return float(text)
    except ValueError as exc:
        raise ReviewError(f"“{text[:20]}”不是数值（未填报的单元格填“空”）") from exc


class Decision(BaseModel):
    decision: str = Field(..., pattern="^(confirm|dismiss)$", description="confirm 确认 或 dismiss 驳回")
    reason: str = Field(..., min_length=1, max_length=500, description="理由")


class Correction(BaseModel):
    value: float | None = Field(..., ge=0, le=1e12, description="更正后的数值；null 表示未填报（空白）")
    reason: str = Field(..., min_length=1, max_length=500, description="理由")


def decide(request: Request, user: User, report_id: int, outcome_id: int, decision: str, reason: str) -> dict[str, Any]:
    """Confirm or dismiss an outcome as `user` (a reviewer in scope or an administrator), audited."""
    auth.require(user, *DECIDERS)
    if decision not in DECISIONS:
        raise ReviewError("请选择确认或驳回")
    with engine_of(request).begin() as conn:
        auth.require_report(conn, user, report_id)
        made = outcome_store.decide(conn, report_id, str(outcome_id), DECISIONS[decision], reason, user.username)
        auth.record(conn, user, f"outcome.{decision}", f"report:{report_id}",
                    {"outcome": outcome_id, "rule": made["rule"], "fingerprint": made["fingerprint"], "reason": made["reason"]})
    return made


def correct(request: Request, user: User, report_id: int, key: str, value: float | None, reason: str) -> dict[str, Any]:
    """Correct a cell as `user` (anyone whose scope holds the report), audited; the report is re-checked."""
    auth.require(user, *CORRECTORS)
    with engine_of(request).begin() as conn:
        auth.require_report(conn, user, report_id)
        made = correction_store.correct(conn, report_id, key, value, reason, user.username)
        auth.record(conn, user, "cell.correct", f"report:{report_id}",
                    {"key": key, "old": made["old"], "new": made["new"], "reason": made["reason"]})
    return made


def add(app: FastAPI, page: Callable[..., HTMLResponse]) -> None:

    def back(report_id: int, anchor: str) -> Response:
        return RedirectResponse(f"/reports/{report_id}#{anchor}", status_code=303)

    def refused(request: Request, message: str) -> Response:
        if request.headers.get("HX-Request"):  # htmx swaps only a 2xx answer: the line goes above the list
            response = page(request, "review_error.html", {"message": message})
            response.headers.update({"HX-Retarget": "#review-message", "HX-Reswap": "innerHTML",
                                     "HX-Reselect": "#review-error"})
            return response
        return page(request, "error.html", {"message": message}, status=400)

    @app.post("/reports/{report_id}/outcomes/{outcome_id}/decision", include_in_schema=False)
    async def decide_form(request: Request, user: Writer, report_id: Id, outcome_id: Id) -> Response:
        form = await request.form(max_files=0, max_fields=10)
        try:
            decide(request, user, report_id, outcome_id, str(form.get("decision") or ""), str(form.get("reason") or ""))
        except ReviewError as exc:
            return refused(request, str(exc))
        return back(report_id, f"outcome-{outcome_id}")

    @app.post("/reports/{report_id}/cells/{key}/correction", include_in_schema=False)
    async def correct_form(request: Request, user: Writer, report_id: Id, key: str) -> Response:
        form = await request.form(max_files=0, max_fields=10)
        try:
            correct(request, user, report_id, key, parse_value(str(form.get("value") or "")), str(form.get("reason") or ""))
        except ReviewError as exc:
            return refused(request, str(exc))
        return back(report_id, "corrections")

    @app.get("/reports/{report_id}/letter.docx", include_in_schema=False)
    def letter(request: Request, user: Signed, report_id: Id) -> Response:
        stored = report_of(request, user, report_id)
        try:
            with engine_of(request).connect() as conn:
                body = letter_docx(conn, [report_id])
        except ReviewError as exc:
            raise AuthError(400, str(exc)) from exc
        name = f"审核意见-{stored.report.agency or '报告'}-{stored.report.year or ''}-{report_id}.docx"
        return download(body, name, DOCX_TYPE)

    # ---- the same through the JSON API ------------------------------------------------------------

    @app.get("/api/reports/{report_id}/outcomes", tags=["审核"], summary="一份报告的逐条核查结果及审核状态")
    def api_outcomes(request: Request, user: Signed, report_id: Id) -> dict[str, Any]:
        with engine_of(request).connect() as conn:
            auth.require_report(conn, user, report_id)
            items = outcome_store.report_outcomes(conn, report_id)
        return {"summary": outcome_store.summary(items), "outcomes": items}

    @app.post("/api/reports/{report_id}/outcomes/{outcome_id}/decision", tags=["审核"],
              summary="确认或驳回一条不通过或存疑的核查结果（审核人员、管理员）")
    def api_decide(request: Request, user: Writer, report_id: Id, outcome_id: Id, body: Decision) -> dict[str, Any]:
        try:
            return decide(request, user, report_id, outcome_id, body.decision, body.reason)
        except ReviewError as exc:
            raise AuthError(400, str(exc)) from exc

    @app.post("/api/reports/{report_id}/cells/{key}/correction", tags=["审核"], summary="更正一个单元格（留痕）")
    def api_correct(request: Request, user: Writer, report_id: Id, key: Annotated[str, Path(max_length=128)],
                    body: Correction) -> dict[str, Any]:
        try:
            return correct(request, user, report_id, key, body.value, body.reason)
        except ReviewError as exc:
            raise AuthError(400, str(exc)) from exc

    @app.get("/api/reports/{report_id}/cells/{key}/history", tags=["审核"], summary="一个单元格的更正记录")
    def api_history(request: Request, user: Signed, report_id: Id, key: Annotated[str, Path(max_length=128)]) -> list[dict[str, Any]]:
        with engine_of(request).connect() as conn:
            auth.require_report(conn, user, report_id)
            try:
                return correction_store.history(conn, report_id, key)
            except ReviewError as exc:
                raise AuthError(400, str(exc)) from exc
