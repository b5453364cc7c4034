"""The audit's JSON API under /api/v1/audit: samples (batches of review tasks), verdicts and the
estimates with their 95% intervals (docs/audit.md). Anyone signed in reads; only the registrar
role draws samples and records verdicts."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, model_validator

from cdi.audit.verdicts import NOTE_LIMIT
from cdi.core.times import parse_time
from cdi.workbench import casework
from cdi.workbench.access import Principal
from cdi.workbench.audit_desk import Assessed, DrawRequest, VerdictRequest
from cdi.workbench.case_actions import ActionRefused
from cdi.workbench.signin import requires

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])

Viewer = Annotated[Principal, Depends(requires(casework.VIEWER))]
Registrar = Annotated[Principal, Depends(requires(casework.REGISTRAR))]
SAMPLE_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,79}$"


class DrawIn(BaseModel):
    start: str = Field(alias="from", description="Period start (RFC 3339 or a date, UTC)")
    end: str = Field(alias="to", description="Period end, exclusive")
    seed: int = Field(ge=0, le=2**53 - 1)
    size: int | None = Field(default=None, ge=1, le=50_000, description="Incidents, in proportion to the strata")
    target_width: float | None = Field(default=None, gt=0, lt=1, description="Instead of size: +-W on accuracy")
    prior: float = Field(default=0.5, gt=0, lt=1)
    findings_per_rule: int = Field(default=30, ge=0, le=5000)
    disposals: int = Field(default=100, ge=0, le=50_000)
    division: list[str] = Field(default_factory=list, max_length=100)
    name: str | None = Field(default=None, pattern=SAMPLE_ID)

    @model_validator(mode="after")
    def one_size(self) -> DrawIn:
        if (self.size is None) == (self.target_width is None):
            raise ValueError("give either size or target_width, one of the two")
        return self


class VerdictIn(BaseModel):
    sample_id: str = Field(pattern=SAMPLE_ID)
    kind: Literal["incident", "finding", "disposal"]
    item_id: str = Field(min_length=1, max_length=160)
    verdict: Literal["crime", "no_crime", "n100", "confirmed", "not_a_breach", "appropriate", "not_appropriate"]
    crime_recorded: bool | None = None
    offence_group: str | None = Field(default=None, max_length=64)
    hocr_code: str | None = Field(default=None, max_length=16)
    reason: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, min_length=1, max_length=NOTE_LIMIT)


def period_time(name: str, text: str) -> int:
    """A period bound: a date (midnight UTC) or an RFC 3339 time."""
    value = text.strip()
    try:
        return parse_time(value if "T" in value else f"{value}T00:00:00+00:00")
    except ValueError:
        raise HTTPException(422, f"{name} must be a date (2026-03-01) or an RFC 3339 time with an offset") from None


def draw_request(body: DrawIn) -> DrawRequest:
    return DrawRequest(
        start=period_time("from", body.start),
        end=period_time("to", body.end),
        seed=body.seed,
        size=body.size,
        target_width=body.target_width,
        prior=body.prior,
        findings_per_rule=body.findings_per_rule,
        disposals=body.disposals,
        divisions=tuple(body.division),
        name=body.name,
    )


def estimates_body(assessed: Assessed) -> dict[str, Any]:
    """The estimates as `cdi audit estimate --json` prints them, with what the join left out."""
    body = assessed.estimates.to_dict()
    body["notes"] = {
        "verdicts_not_in_population": len(assessed.joined.unmatched),
        "strata_differing_from_design": assessed.joined.differing_strata,
    }
    return body


@router.get("/samples")
def samples(request: Request, _who: Viewer) -> dict[str, Any]:
    """Every sample, newest period first, with how many of its items have a verdict."""
    return {"items": request.app.state.audit.store.samples()}


@router.post("/samples", status_code=201)
def draw(request: Request, who: Registrar, body: DrawIn) -> JSONResponse:
    """Draw a sample of the period from the stored events (registrar). 201 once the view shows
    it, 202 if it is on the topic but not yet in the view; 409 if the name is taken."""
    try:
        shown, applied = request.app.state.audit.draw(who, draw_request(body))
    except ActionRefused as exc:
        raise HTTPException(exc.status, exc.message) from None
    return JSONResponse(shown, status_code=201 if applied else 202)


@router.get("/samples/{sample_id}")
def sample(request: Request, _who: Viewer, sample_id: str) -> dict[str, Any]:
    """The audit.sample event and its items (review tasks), each with the verdict that stands."""
    store = request.app.state.audit.store
    event = store.sample_event(sample_id)
    if event is None:
        raise HTTPException(404, f"no sample {sample_id!r} in this pipeline")
    return {"sample": event, "tasks": store.tasks(sample_id)}


@router.get("/samples/{sample_id}/estimates")
def estimates(request: Request, _who: Viewer, sample_id: str) -> dict[str, Any]:
    """Recording accuracy, unrecorded crimes, each rule's precision, the blind-spot rate and the
    share of appropriate disposals, each with its 95% interval, by division, offence group and
    month: the same figures as `cdi audit estimate --sample` on the same verdicts."""
    assessed = request.app.state.audit.assessed(sample_id)
    if assessed is None:
        raise HTTPException(404, f"no sample {sample_id!r} in this pipeline")
    return estimates_body(assessed)


@router.get("/samples/{sample_id}/items/{kind}/{item_id:path}")
def task(request: Request, _who: Viewer, sample_id: str, kind: str, item_id: str) -> dict[str, Any]:
    """One review task with its verdict trail (the last stands)."""
    found = request.app.state.audit.store.task(sample_id, kind, item_id)
    if found is None:
        raise HTTPException(404, f"sample {sample_id!r} has no {kind} {item_id!r}")
    return found


@router.post("/verdicts", status_code=201)
def verdict(request: Request, who: Registrar, body: VerdictIn) -> JSONResponse:
    """Record a verdict on a sample item (registrar); a later verdict on the same item replaces
    it in the estimates, and both stay on the topic. 201 once the view shows it, 202 before."""
    req = VerdictRequest(
        sample_id=body.sample_id,
        kind=body.kind,
        item_id=body.item_id,
        verdict=body.verdict,
        crime_recorded=body.crime_recorded,
        offence_group=body.offence_group or None,
        hocr_code=body.hocr_code or None,
        reason=body.reason or None,
        note=body.note,
    )
    try:
        shown, applied = request.app.state.audit.judge(who, req)
    except ActionRefused as exc:
        raise HTTPException(exc.status, exc.message) from None
    return JSONResponse(shown, status_code=201 if applied else 202)
