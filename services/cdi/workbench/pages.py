"""The pages people use: sign-in, the live case list, one case with its timeline and actions.

Server-rendered (Jinja2, autoescaped) with htmx: the list and the case's action panel re-fetch
themselves when the change stream says the view moved, and action forms post in place. No build
step; the two vendored scripts are in static/vendor with their versions and licences.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit

import jinja2
import orjson
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from cdi.core.findings import BREACH, REVIEW
from cdi.workbench import casework
from cdi.workbench.access import Principal
from cdi.workbench.api import Filtered, by_assessment
from cdi.workbench.case_actions import ActionRefused
from cdi.workbench.case_actions import Request as ActionRequest
from cdi.workbench.queries import CursorError
from cdi.workbench.signin import csrf_token, requires, same_site_only, sign_in

router = APIRouter(include_in_schema=False)
# Autoescape every template: Starlette's default escapes only files named .html/.htm/.xml, and
# these end in .j2. Notes, reasons and upstream free text all reach these pages.
templates = Jinja2Templates(
    env=jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True)
)

Person = Annotated[Principal, Depends(requires(casework.VIEWER, page=True))]
Actor = Annotated[Principal, Depends(requires(casework.OPERATOR, page=True))]

PAGE_SIZE = 50
FILTER_KEYS = (
    "rule",
    "severity",
    "division",
    "offence_group",
    "pipeline",
    "status",
    "assignee",
    "assessment",
    "from",
    "to",
)


def when(text: str | None) -> str:
    """An RFC 3339 time as people read it: '2026-03-05 10:50:23 UTC' (the exact value stays in
    the page as the <time> element's datetime attribute)."""
    if not text:
        return ""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return text
    offset = at.utcoffset()
    if offset is None or offset == timedelta(0):
        zone = "UTC"
    else:
        minutes = int(offset.total_seconds()) // 60
        zone = f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return f"{at:%Y-%m-%d %H:%M:%S} {zone}"


def case_stamp(f: dict[str, Any]) -> str:
    """What the casework panel shows of a finding, digested: the panel's live refresh sends it
    back and gets 204 (nothing swapped, so a half-typed note survives) unless the case changed."""
    shown = [
        f["status"],
        f["acknowledged"],
        f["assignee"],
        f["closed"],
        [(a["action_id"], a["refused"]) for a in f["actions"]],
    ]
    return hashlib.sha256(orjson.dumps(shown)).hexdigest()[:16]


templates.env.filters["when"] = when
templates.env.filters["stamp"] = case_stamp


def signin_url(next_path: str) -> str:
    return "/signin?" + urlencode({"next": next_path})


def signin_redirect(request: Request, next_path: str) -> Response:
    """Where a request without a session goes. An htmx request (a live refresh or an action
    whose session ran out) is told to load the sign-in page itself, returning to the page the
    person was on; a plain 303 would be followed by the browser and the sign-in page swapped
    into a fragment."""
    if request.headers.get("hx-request") == "true":
        current = urlsplit(request.headers.get("hx-current-url", ""))
        back = current.path + (f"?{current.query}" if current.query else "") if current.path else "/cases"
        return Response(status_code=204, headers={"HX-Redirect": signin_url(_safe_next(back))})
    return RedirectResponse(signin_url(next_path), status_code=303)


def _safe_next(path: str) -> str:
    """Only a path on this site: never an open redirect to another host."""
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else "/cases"


def _context(request: Request, who: Principal, **extra: Any) -> dict[str, Any]:
    return {
        "request": request,
        "who": who,
        "pipeline": request.app.state.pipeline,
        "csrf": csrf_token(request),
        "rules": request.app.state.rule_list,
        "rule_summary": {r["rule"]: r["summary"] for r in request.app.state.rule_list},
        "outcomes": casework.OUTCOMES,
        "allowed": casework.ALLOWED[who.role],
        **extra,
    }


def _query(request: Request, **changes: str | None) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k in FILTER_KEYS and v and k not in changes]
    params += [(k, v) for k, v in changes.items() if v]
    return urlencode(params)


def _board(request: Request, f: Any, cursor: str | None) -> dict[str, Any]:
    store = request.app.state.store
    if "status" not in request.query_params:  # the list opens on the open cases
        f = dataclasses.replace(f, status=(casework.OPEN,))
    try:
        items, nxt = store.list_findings(f, PAGE_SIZE, cursor)
    except CursorError:
        items, nxt = store.list_findings(f, PAGE_SIZE, None)
    counts = store.counts(f)
    # Breaches and findings for review are counted apart, never as one number per rule.
    by_rule: dict[str, dict[str, int]] = {}
    for row in counts:
        split = by_rule.setdefault(row["rule"], {BREACH: 0, REVIEW: 0})
        split[row["assessment"]] = split.get(row["assessment"], 0) + row["count"]
    return {
        "items": items,
        "next_query": _query(request, cursor=nxt) if nxt else None,
        "total": sum(r["count"] for r in counts),
        "by_assessment": by_assessment(counts),
        # (rule, breaches, for review, the list filtered to that rule): most breaches first
        "by_rule": [
            (rule, n[BREACH], n[REVIEW], _query(request, rule=rule))
            for rule, n in sorted(by_rule.items(), key=lambda kv: (-kv[1][BREACH], -kv[1][REVIEW], kv[0]))
        ],
        "shown_status": ", ".join(f.status) or "any",
        "caught_up": request.app.state.feed.status.caught_up,
    }


@router.get("/")
def home() -> Response:
    return RedirectResponse("/cases", status_code=303)


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request, next: str = "/cases") -> Response:
    return templates.TemplateResponse(request, "signin.html.j2", {"next": _safe_next(next), "error": None})


@router.post("/signin", response_class=HTMLResponse)
def signin_submit(
    request: Request, token: Annotated[str, Form(max_length=512)], next: Annotated[str, Form()] = "/cases"
) -> Response:
    same_site_only(request)
    principal = request.app.state.tokens.check(token.strip())
    if principal is None:
        return templates.TemplateResponse(
            request,
            "signin.html.j2",
            {"next": _safe_next(next), "error": "That token is not recognised. Check it with your supervisor."},
            status_code=401,
        )
    sign_in(request, principal)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/signout")
def signout(request: Request) -> Response:
    same_site_only(request)
    request.session.clear()
    return RedirectResponse("/signin", status_code=303)


@router.get("/cases", response_class=HTMLResponse)
def case_list(request: Request, who: Person, f: Filtered, cursor: str | None = None) -> Response:
    board = _board(request, f, cursor)
    return templates.TemplateResponse(
        request,
        "cases.html.j2",
        _context(request, who, board=board, query=_query(request, cursor=cursor), params=request.query_params),
    )


@router.get("/cases/rows", response_class=HTMLResponse)
def case_rows(request: Request, who: Person, f: Filtered, cursor: str | None = None) -> Response:
    return templates.TemplateResponse(request, "rows.html.j2", _context(request, who, board=_board(request, f, cursor)))


@router.get("/cases/work", response_class=HTMLResponse)
def case_work(request: Request, who: Person, finding_id: str, stamp: str | None = None) -> Response:
    finding = request.app.state.store.finding(finding_id)
    if finding is None:
        return HTMLResponse("<p class='error'>This finding is not in the view.</p>", status_code=404)
    if stamp and stamp == case_stamp(finding):
        return Response(status_code=204)  # the case did not change: htmx leaves the panel as it is
    return templates.TemplateResponse(request, "work.html.j2", _context(request, who, f=finding, message=None))


@router.post("/cases/act", response_class=HTMLResponse)
def case_act(
    request: Request,
    who: Actor,
    finding_id: Annotated[str, Form(max_length=160)],
    action: Annotated[str, Form(max_length=16)],
    assignee_kind: Annotated[str | None, Form()] = None,
    assignee_ref: Annotated[str | None, Form(max_length=64)] = None,
    note: Annotated[str | None, Form(max_length=casework.NOTE_MAX)] = None,
    outcome: Annotated[str | None, Form(max_length=32)] = None,
    reason: Annotated[str | None, Form(max_length=casework.REASON_MAX)] = None,
) -> Response:
    req = ActionRequest(
        finding_id=finding_id,
        action=action,
        assignee_kind=assignee_kind or None,
        assignee_ref=(assignee_ref or "").strip() or None,
        note=(note or "").strip() or None,
        outcome=outcome or None,
        reason=(reason or "").strip() or None,
    )
    message, status = None, 200
    try:
        _shown, applied = request.app.state.desk.take(who, req)
        if not applied:
            message = "Saved to the case-actions topic; the view will show it in a moment."
    except ActionRefused as exc:
        message, status = exc.message, exc.status
        if request.headers.get("hx-request") == "true":
            status = 200  # htmx swaps only a 2xx answer: the panel shows the reason (role=alert)
    finding = request.app.state.store.finding(finding_id)
    if finding is None:
        return HTMLResponse(
            f"<p class='error' role='alert'>{_escape(message or 'Unknown finding.')}</p>", status_code=404
        )
    return templates.TemplateResponse(
        request, "work.html.j2", _context(request, who, f=finding, message=message), status_code=status
    )


@router.get("/cases/{finding_id:path}", response_class=HTMLResponse)
def case_page(request: Request, who: Person, finding_id: str) -> Response:
    finding = request.app.state.store.finding(finding_id)
    if finding is None:
        return templates.TemplateResponse(
            request, "missing.html.j2", _context(request, who, finding_id=finding_id), status_code=404
        )
    return templates.TemplateResponse(
        request, "case.html.j2", _context(request, who, f=finding, message=None, work_url=quote(finding_id, safe=""))
    )


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))
