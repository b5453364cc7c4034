"""How a finding is worked: who may take which action, and the case state its action trail gives.

Pure: the state of a case is a fold over its finding (raised, perhaps resolved by a later event)
and its actions in topic order. The view is rebuilt from the topics by the same fold, so a
rebuild, a second replica or a replay all give the same state; nothing here reads a clock or a
database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

VIEWER, OPERATOR, REGISTRAR = "viewer", "operator", "registrar"
ROLES = (VIEWER, OPERATOR, REGISTRAR)

ACKNOWLEDGE, ASSIGN, ANNOTATE, CLOSE = "acknowledge", "assign", "annotate", "close"
ACTIONS = (ACKNOWLEDGE, ASSIGN, ANNOTATE, CLOSE)

# Closing outcomes, with the words the page shows.
OUTCOMES = {
    "crime_recorded_now": "crime recorded now",
    "rationale_added": "rationale added",
    "not_a_breach": "not a breach",
    "referred_to_registrar": "referred to registrar",
}

# Closing a finding is the registrar's decision (the force crime registrar audits recording
# decisions; an operator can act on a case but not close it). See README "Control room".
ALLOWED = {
    VIEWER: frozenset(),
    OPERATOR: frozenset({ACKNOWLEDGE, ASSIGN, ANNOTATE}),
    REGISTRAR: frozenset(ACTIONS),
}

OPEN, RESOLVED, CLOSED = "open", "resolved", "closed"
STATUSES = (OPEN, RESOLVED, CLOSED)

NOTE_MAX = 2000  # the case-action contract's limit on a note
REASON_MAX = 500


@dataclass(frozen=True, slots=True)
class Action:
    """One case action as read from the topic (fields as in schemas/case.action.v1.json)."""

    action_id: str
    finding_id: str
    action: str
    by: str
    role: str
    at: str  # occurred_at, RFC 3339
    assignee_kind: str | None = None
    assignee_ref: str | None = None
    note: str | None = None
    outcome: str | None = None
    reason: str | None = None


@dataclass(slots=True)
class CaseState:
    status: str = OPEN
    acknowledged_by: str | None = None
    acknowledged_at: str | None = None
    assignee_kind: str | None = None
    assignee_ref: str | None = None
    closed_outcome: str | None = None
    closed_by: str | None = None
    closed_at: str | None = None
    closed_reason: str | None = None
    last_action_at: str | None = None
    # action_id -> None (applied) or why it changed nothing
    verdicts: dict[str, str | None] = field(default_factory=dict)


def refusal(action: str, role: str, state: CaseState) -> str | None:
    """Why ``role`` may not take ``action`` on a case in ``state`` now; None if it may."""
    if role not in ALLOWED:
        return f"unknown role {role!r}"
    if action not in ALLOWED[role]:
        return f"the {role} role may not {action} a finding"
    if state.status == CLOSED and action != ANNOTATE:
        return f"the finding was closed ({OUTCOMES[state.closed_outcome or 'not_a_breach']}); it can only be annotated"
    if action == ACKNOWLEDGE and state.acknowledged_by is not None:
        return f"the finding was already acknowledged by {state.acknowledged_by}"
    return None


def fold(resolved: bool, actions: Iterable[Action]) -> CaseState:
    """The case state from its finding's resolution and its actions in topic order. An action the
    rules refuse (a forged or raced one on the topic) stays in the trail with its reason and
    changes nothing."""
    state = CaseState(status=RESOLVED if resolved else OPEN)
    for a in actions:
        why = refusal(a.action, a.role, state)
        state.verdicts[a.action_id] = why
        if why is not None:
            continue
        state.last_action_at = a.at
        if a.action == ACKNOWLEDGE:
            state.acknowledged_by, state.acknowledged_at = a.by, a.at
        elif a.action == ASSIGN:
            state.assignee_kind, state.assignee_ref = a.assignee_kind, a.assignee_ref
            if state.acknowledged_by is None:  # taking a case on acknowledges it
                state.acknowledged_by, state.acknowledged_at = a.by, a.at
        elif a.action == CLOSE:
            state.status = CLOSED
            state.closed_outcome, state.closed_by, state.closed_at = a.outcome, a.by, a.at
            state.closed_reason = a.reason
    return state
