"""The case state is a pure fold of a finding's resolution and its actions in topic order."""

from __future__ import annotations

from cdi.workbench.casework import Action, fold, refusal


def act(n: int, action: str, role: str = "operator", **extra: str) -> Action:
    return Action(f"a{n}", "F", action, f"S-{n}", role, f"2026-03-03T08:0{n}:00+00:00", **extra)


def test_a_trail_gives_acknowledged_assigned_then_closed():
    state = fold(
        False,
        [
            act(1, "acknowledge"),
            act(2, "assign", assignee_kind="team", assignee_ref="NORTH-CMU"),
            act(3, "annotate", note="rang the OIC"),
            act(4, "close", role="registrar", outcome="not_a_breach", reason="AVI on the log"),
            act(5, "annotate", note="for the audit"),
        ],
    )
    assert (state.status, state.acknowledged_by, state.assignee_ref) == ("closed", "S-1", "NORTH-CMU")
    assert (state.closed_outcome, state.closed_by, state.closed_reason) == ("not_a_breach", "S-4", "AVI on the log")
    assert state.verdicts == {"a1": None, "a2": None, "a3": None, "a4": None, "a5": None}
    assert state.last_action_at == "2026-03-03T08:05:00+00:00"


def test_refused_actions_stay_in_the_trail_and_change_nothing():
    state = fold(
        True,
        [
            act(1, "close", outcome="rationale_added"),  # an operator may not close
            act(2, "acknowledge", role="viewer"),
            act(3, "acknowledge"),
            act(4, "acknowledge"),
            act(5, "close", role="registrar", outcome="crime_recorded_now"),
            act(6, "assign", role="registrar", assignee_kind="staff", assignee_ref="S-9"),
        ],
    )
    assert state.status == "closed" and state.assignee_ref is None and state.acknowledged_by == "S-3"
    assert state.verdicts["a1"] == "the operator role may not close a finding"
    assert state.verdicts["a2"] == "the viewer role may not acknowledge a finding"
    assert state.verdicts["a4"] == "the finding was already acknowledged by S-3"
    assert state.verdicts["a6"].startswith("the finding was closed (crime recorded now)")


def test_assigning_acknowledges_and_a_resolved_finding_starts_resolved():
    state = fold(True, [act(1, "assign", assignee_kind="staff", assignee_ref="S-77")])
    assert (state.status, state.acknowledged_by, state.assignee_kind) == ("resolved", "S-1", "staff")
    assert refusal("acknowledge", "operator", state) == "the finding was already acknowledged by S-1"
    assert refusal("close", "registrar", state) is None
