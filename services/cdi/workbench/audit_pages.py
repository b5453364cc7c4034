"""The audit's pages: the batches with a form to draw one (registrar), a batch's review tasks
with the estimates so far, and one task with what to read and the verdict form (docs/audit.md).

Forms post with htmx, which sends the session's CSRF token; a success answers with HX-Redirect
to the next page, a refusal with the reason in place."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import escape

from cdi.audit.estimates import BREAKDOWNS
from cdi.audit.verdicts import NOTE_LIMIT, disposal_reasons, finding_reasons, offence_groups
from cdi.workbench import casework
from cdi.workbench.access import Principal
from cdi.workbench.audit_desk import DrawRequest, VerdictRequest
from cdi.workbench.case_actions import ActionRefused
from cdi.workbench.pages import _context, templates
from cdi.workbench.signin import requires

router = APIRouter(include_in_schema=False)

Person = Annotated[Principal, Depends(requires(casework.VIEWER, page=True))]
Registrar = Annotated[Principal, Depends(requires(casework.REGISTRAR, page=True))]

VERDICTS = {
    "incident": (
        ("crime", "a crime should have been recorded"),
        ("no_crime", "no crime to record"),
        ("n100", "a rape report rightly held under N100"),
    ),
    "finding": (("confirmed", "confirmed: a breach"), ("not_a_breach", "not a breach")),
    "disposal": (("appropriate", "appropriate"), ("not_appropriate", "not appropriate")),
}


def refusal(message: str) -> HTMLResponse:
    """A refusal shown in place: htmx swaps only a 2xx answer, so the reason comes with 200."""
    return HTMLResponse(f"<p class='error' role='alert'>{escape(message)}</p>")


def task_url(sample_id: str, kind: str, item_id: str) -> str:
    return f"/audit/samples/{quote(sample_id, safe='')}/items/{kind}/{quote(item_id, safe='')}"


templates.env.globals["task_url"] = task_url


@router.get("/audit", response_class=HTMLResponse)
def batches(request: Request, who: Person) -> Response:
    store = request.app.state.audit.store
    return templates.TemplateResponse(
        request,
        "audit.html.j2",
        _context(request, who, samples=store.samples(), registrar=who.at_least(casework.REGISTRAR)),
    )


@router.post("/audit/draw", response_class=HTMLResponse)
def draw(
    request: Request,
    who: Registrar,
    start: Annotated[str, Form(alias="from", max_length=40)],
    end: Annotated[str, Form(alias="to", max_length=40)],
    seed: Annotated[int, Form(ge=0, le=2**53 - 1)],
    size: Annotated[str | None, Form(max_length=8)] = None,
    target_width: Annotated[str | None, Form(max_length=8)] = None,
    findings_per_rule: Annotated[int, Form(ge=0, le=5000)] = 30,
    disposals: Annotated[int, Form(ge=0, le=50_000)] = 100,
    division: Annotated[str | None, Form(max_length=32)] = None,
    name: Annotated[str | None, Form(max_length=80)] = None,
) -> Response:
    from cdi.workbench.audit_api import period_time

    try:
        req = DrawRequest(
            start=period_time("from", start),
            end=period_time("to", end),
            seed=seed,
            size=int(size) if size else None,
            target_width=float(target_width) if target_width else None,
            findings_per_rule=findings_per_rule,
            disposals=disposals,
            divisions=(division,) if division else (),
            name=(name or "").strip() or None,
        )
        shown, _applied = request.app.state.audit.draw(who, req)
    except ActionRefused as exc:
        return refusal(exc.message)
    except ValueError as exc:  # a period bound or a number the form could not read
        return refusal(getattr(exc, "detail", None) or "check the period, the size and the width")
    return Response(status_code=204, headers={"HX-Redirect": f"/audit/samples/{quote(shown['sample_id'], safe='')}"})


@router.get("/audit/samples/{sample_id}", response_class=HTMLResponse)
def batch(request: Request, who: Person, sample_id: str) -> Response:
    desk = request.app.state.audit
    event = desk.store.sample_event(sample_id)
    if event is None:
        return HTMLResponse(f"<p class='error'>No sample {escape(sample_id)} in this pipeline.</p>", status_code=404)
    assessed = desk.assessed(sample_id)
    tasks = desk.store.tasks(sample_id)
    return templates.TemplateResponse(
        request,
        "sample.html.j2",
        _context(
            request,
            who,
            sample=event["payload"],
            envelope=event,
            tasks=tasks,
            judged=sum(1 for t in tasks if t["verdict"] is not None),
            e=assessed.estimates if assessed is not None else None,
            joined=assessed.joined if assessed is not None else None,
            breakdowns=BREAKDOWNS,
        ),
    )


@router.get("/audit/samples/{sample_id}/items/{kind}/{item_id:path}", response_class=HTMLResponse)
def task(request: Request, who: Person, sample_id: str, kind: str, item_id: str) -> Response:
    store = request.app.state.audit.store
    found = store.task(sample_id, kind, item_id)
    if found is None:
        return HTMLResponse(
            f"<p class='error'>Sample {escape(sample_id)} has no {escape(kind)} {escape(item_id)}.</p>", status_code=404
        )
    finding = store.finding(item_id) if kind == "finding" else None
    return templates.TemplateResponse(
        request,
        "task.html.j2",
        _context(
            request,
            who,
            t=found,
            finding=finding,
            evidence=store.item_events(kind, item_id) if kind != "finding" else [],
            verdicts=VERDICTS[kind],
            reasons=finding_reasons() if kind == "finding" else disposal_reasons() if kind == "disposal" else (),
            groups=sorted(offence_groups()),
            note_limit=NOTE_LIMIT,
            registrar=who.at_least(casework.REGISTRAR),
            case_url="/cases/" + quote(item_id, safe=""),
        ),
    )


def _next_task(tasks: list[dict[str, Any]], after: tuple[str, str]) -> dict[str, Any] | None:
    """The next item without a verdict after ``after`` in the sample's order, else the first."""
    keys = [(t["kind"], t["id"]) for t in tasks]
    start = keys.index(after) + 1 if after in keys else 0
    for t in tasks[start:] + tasks[:start]:
        if t["verdict"] is None:
            return t
    return None


@router.post("/audit/verdict", response_class=HTMLResponse)
def verdict(
    request: Request,
    who: Registrar,
    sample_id: Annotated[str, Form(max_length=80)],
    kind: Annotated[str, Form(max_length=16)],
    item_id: Annotated[str, Form(max_length=160)],
    verdict: Annotated[str, Form(max_length=16)],
    crime_recorded: Annotated[str | None, Form(max_length=3)] = None,
    offence_group: Annotated[str | None, Form(max_length=64)] = None,
    hocr_code: Annotated[str | None, Form(max_length=16)] = None,
    reason: Annotated[str | None, Form(max_length=64)] = None,
    note: Annotated[str | None, Form(max_length=NOTE_LIMIT)] = None,
) -> Response:
    incident = kind == "incident"
    crime = incident and verdict == "crime"
    req = VerdictRequest(
        sample_id=sample_id,
        kind=kind,
        item_id=item_id,
        verdict=verdict,
        crime_recorded=(crime_recorded == "yes") if incident else None,
        offence_group=(offence_group or None) if crime else None,
        hocr_code=((hocr_code or "").strip() or None) if crime else None,
        reason=(reason or None) if verdict in {"not_a_breach", "not_appropriate"} else None,
        note=(note or "").strip() or None,
    )
    try:
        _shown, _applied = request.app.state.audit.judge(who, req)
    except ActionRefused as exc:
        return refusal(exc.message)
    following = _next_task(request.app.state.audit.store.tasks(sample_id), (kind, item_id))
    where = (
        task_url(sample_id, following["kind"], following["id"])
        if following is not None
        else f"/audit/samples/{quote(sample_id, safe='')}"
    )
    return Response(status_code=204, headers={"HX-Redirect": where})
