"""The JSON API under /api/v1: findings with filters and cursor paging, one finding with its
timeline and actions, counts for headers, actions, and a stream of change notices."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sse_starlette.sse import EventSourceResponse

from cdi.core.findings import ASSESSMENTS
from cdi.core.times import parse_time
from cdi.workbench import casework
from cdi.workbench.access import Principal
from cdi.workbench.case_actions import ActionRefused
from cdi.workbench.case_actions import Request as ActionRequest
from cdi.workbench.queries import CursorError, Filters
from cdi.workbench.signin import requires

router = APIRouter(prefix="/api/v1", tags=["cases"])

Viewer = Annotated[Principal, Depends(requires(casework.VIEWER))]
Operator = Annotated[Principal, Depends(requires(casework.OPERATOR))]

CHANGE_POLL_S = 0.25  # how often a change stream looks at the view's version (in memory)


def _many(values: list[str] | None) -> tuple[str, ...]:
    """Repeated parameters and comma-separated lists both work: ?rule=A&rule=B or ?rule=A,B."""
    return tuple(v for raw in values or [] for v in raw.split(",") if v)


def _time(name: str, text: str | None) -> int | None:
    if not text:
        return None
    try:
        return parse_time(text)
    except ValueError:
        raise HTTPException(422, f"{name} must be an RFC 3339 time with an offset, e.g. 2026-03-02T00:00:00Z") from None


def filters(
    rule: Annotated[list[str] | None, Query(description="Rule code(s)")] = None,
    severity: Annotated[list[str] | None, Query()] = None,
    division: Annotated[list[str] | None, Query()] = None,
    offence_group: Annotated[list[str] | None, Query()] = None,
    pipeline: Annotated[list[str] | None, Query()] = None,
    status: Annotated[list[str] | None, Query(description="open, resolved, closed")] = None,
    assignee: Annotated[list[str] | None, Query(description="Staff reference or team")] = None,
    assessment: Annotated[
        list[str] | None,
        Query(description="breach (the records show the rule broken) or review (they cannot settle it)"),
    ] = None,
    since: Annotated[str | None, Query(alias="from", description="Raised at or after (event time)")] = None,
    until: Annotated[str | None, Query(alias="to", description="Raised before (event time)")] = None,
) -> Filters:
    statuses = _many(status)
    unknown = set(statuses) - set(casework.STATUSES)
    if unknown:
        raise HTTPException(422, f"status must be among {', '.join(casework.STATUSES)}")
    assessments = _many(assessment)
    if set(assessments) - set(ASSESSMENTS):
        raise HTTPException(422, f"assessment must be among {', '.join(ASSESSMENTS)}")
    return Filters(
        rule=_many(rule),
        severity=_many(severity),
        division=_many(division),
        offence_group=_many(offence_group),
        pipeline=_many(pipeline),
        status=statuses,
        assignee=_many(assignee),
        assessment=assessments,
        since=_time("from", since),
        until=_time("to", until),
    )


Filtered = Annotated[Filters, Depends(filters)]


class Page(BaseModel):
    items: list[dict[str, Any]]
    next: str | None = Field(description="Cursor for the next page; null on the last page")


class Counts(BaseModel):
    items: list[dict[str, Any]] = Field(description="{rule, division, status, assessment, count} rows")
    total: int = Field(description="Every finding the filters match, breaches and findings for review alike")
    by_assessment: dict[str, int] = Field(description="The total split: {breach, review}, never summed into one")


class Assignee(BaseModel):
    kind: Literal["staff", "team"]
    ref: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ActionIn(BaseModel):
    finding_id: str = Field(min_length=1, max_length=160)
    action: Literal["acknowledge", "assign", "annotate", "close"]
    assignee: Assignee | None = None
    note: str | None = Field(default=None, min_length=1, max_length=casework.NOTE_MAX)
    outcome: Literal["crime_recorded_now", "rationale_added", "not_a_breach", "referred_to_registrar"] | None = None
    reason: str | None = Field(default=None, min_length=1, max_length=casework.REASON_MAX)


@router.get("/findings", response_model=Page)
def list_findings(
    request: Request,
    _who: Viewer,
    f: Filtered,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Findings newest first (event time), filtered; follow ``next`` for the following page."""
    try:
        items, nxt = request.app.state.store.list_findings(f, limit, cursor)
    except CursorError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"items": items, "next": nxt}


@router.get("/counts", response_model=Counts)
def counts(request: Request, _who: Viewer, f: Filtered) -> dict[str, Any]:
    """Findings by rule, division, status and assessment, for page headers."""
    rows = request.app.state.store.counts(f)
    return {"items": rows, "total": sum(r["count"] for r in rows), "by_assessment": by_assessment(rows)}


def by_assessment(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Counts rows summed per assessment, each assessment present (0 when none)."""
    out = dict.fromkeys(ASSESSMENTS, 0)
    for row in rows:
        out[row["assessment"]] = out.get(row["assessment"], 0) + row["count"]
    return out


@router.get("/rules")
def rules(request: Request, _who: Viewer) -> dict[str, Any]:
    """Each rule's code with its one-line meaning and severity."""
    return {"items": request.app.state.rule_list}


@router.get("/actions/unmatched")
def unmatched(request: Request, _who: Viewer) -> dict[str, Any]:
    """Actions on the topic naming a finding this view does not hold: kept, never applied."""
    return {"items": request.app.state.store.unmatched_actions()}


@router.post("/actions", status_code=201)
def take_action(request: Request, who: Operator, body: ActionIn) -> JSONResponse:
    """Acknowledge, assign, annotate or close a finding. 201 once the view shows the action, 202 if
    it is on the topic but not yet in the view; 404 for an unknown finding, 403 for a role that
    may not, 409 for a finding whose state refuses it (closed, already acknowledged)."""
    req = ActionRequest(
        finding_id=body.finding_id,
        action=body.action,
        assignee_kind=body.assignee.kind if body.assignee else None,
        assignee_ref=body.assignee.ref if body.assignee else None,
        note=body.note,
        outcome=body.outcome,
        reason=body.reason,
    )
    try:
        shown, applied = request.app.state.desk.take(who, req)
    except ActionRefused as exc:
        raise HTTPException(exc.status, exc.message) from None
    return JSONResponse(shown, status_code=201 if applied else 202)


@router.get("/changes")
async def changes(request: Request, _who: Viewer) -> EventSourceResponse:
    """Server-sent events: ``changed`` with the view's version whenever the view changes."""
    status = request.app.state.feed.status

    async def stream() -> AsyncIterator[dict[str, Any]]:
        seen = -1
        while not await request.is_disconnected():
            if status.version != seen:
                seen = status.version
                yield {"event": "changed", "data": str(seen)}
            await asyncio.sleep(CHANGE_POLL_S)

    return EventSourceResponse(stream(), ping=15)


# Last: the id may contain '/' (RULE/kind/id), so this route takes the rest of the path.
@router.get("/findings/{finding_id:path}")
def one_finding(request: Request, _who: Viewer, finding_id: str) -> dict[str, Any]:
    """One finding with its case timeline (evidence events in event-time order) and actions."""
    item = request.app.state.store.finding(finding_id)
    if item is None:
        raise HTTPException(404, f"no finding {finding_id!r} in this pipeline")
    return item
