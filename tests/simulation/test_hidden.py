"""Issue 12: a simulator that hides things, and the audit truth a reviewer would find.

The hidden failure modes (narrative-only crimes, unlinked records, wrong rationales, mistyped and
late codes) leave the default history as it was, each appears at about its rate, the rule truth
stays exactly what the rules find (by the plain recomputation and by the monitor's backtest),
and the audit truth agrees with the history it describes.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cdi import backtest
from cdi.cli import main
from cdi.history import read_events
from cdi.simulation import Simulation, SimulationOptions, simulate, write_simulation
from cdi.simulation.audit_truth import DISPOSAL_TYPES, REASONS, true_rates
from cdi.simulation.hidden import HIDDEN_MODES, NARRATIVE_RECORDED_SHARE

from .reading import code_class, distinct, ms
from .rulebook import CLOSE_DOWNGRADE, CRD_LATE, NOT_CRIMED, ONE_PER_VICTIM, recompute

HOUR = 3_600_000
RATES = {
    "narrative_crime_rate": 0.1,
    "unlinked_record_rate": 0.1,
    "wrong_rationale_rate": 0.1,
    "mistyped_code_rate": 0.1,
    "late_code_rate": 0.4,
}
OUTCOME_RULES = {
    "CAUTION_INDICTABLE_ONLY",
    "CAUTION_SPECIFIED_EITHER_WAY",
    "REPEAT_CAUTION_2Y",
    "PND_ELIGIBILITY",
    "CANNABIS_ESCALATION",
    "CR_INELIGIBLE",
    "FAST_UNSUCCESSFUL_OUTCOME",
}


@pytest.fixture(scope="module")
def hidden_sim() -> Simulation:
    """`cdi simulate --days 7 --seed 1` with every hidden mode on."""
    return simulate(SimulationOptions(**RATES))


def _units(sim: Simulation, kind: str) -> list[dict[str, Any]]:
    return [row for row in sim.audit_truth if row["kind"] == kind]


def _incident_events(sim: Simulation) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for event in distinct(sim.events):
        if event["type"].startswith("incident."):
            out.setdefault(event["payload"]["incident_id"], []).append(event)
    return out


def _codes(events: list[dict[str, Any]]) -> list[tuple[int, str]]:
    key = {"incident.opened": "opening_code", "incident.updated": "to_code", "incident.closed": "closing_code"}
    return sorted((ms(e["occurred_at"]), e["payload"][key[e["type"]]]) for e in events)


def _crime_codes(events: list[dict[str, Any]]) -> list[tuple[int, str]]:
    return [(at, code) for at, code in _codes(events) if code_class(code) == "crime"]


def _linked_records(sim: Simulation) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for event in distinct(sim.events):
        if event["type"] == "crime.recorded" and event["payload"]["incident_id"] is not None:
            out.setdefault(event["payload"]["incident_id"], []).append(ms(event["occurred_at"]))
    return out


# -- defaults ----------------------------------------------------------------------------------------


def test_defaults_hide_nothing(default_sim: Simulation) -> None:
    options = SimulationOptions()
    assert set(options.hidden_rates().values()) == {0.0}
    assert all(default_sim.counts[f"hidden_{mode}"] == 0 for mode in HIDDEN_MODES)
    assert all(row["hidden"] is None for row in _units(default_sim, "incident"))
    # Every record the default history holds names its incident, as before the hidden modes.
    records = [e for e in distinct(default_sim.events) if e["type"] == "crime.recorded"]
    assert sum(e["payload"]["incident_id"] is None for e in records) == default_sim.counts["crimes_without_incident"]


def test_default_files_are_unchanged_by_asking_for_the_audit_truth(tmp_path: Path) -> None:
    options = SimulationOptions(days=2, seed=11)
    plain, with_audit = tmp_path / "plain", tmp_path / "audit"
    plain.mkdir()
    with_audit.mkdir()
    write_simulation(simulate(options), plain / "h.jsonl", plain / "t.jsonl")
    zeros = {name: 0.0 for name in RATES}
    write_simulation(
        simulate(SimulationOptions(days=2, seed=11, **zeros)),
        with_audit / "h.jsonl",
        with_audit / "t.jsonl",
        with_audit / "a.jsonl",
    )
    assert (plain / "h.jsonl").read_bytes() == (with_audit / "h.jsonl").read_bytes()
    assert (plain / "t.jsonl").read_bytes() == (with_audit / "t.jsonl").read_bytes()
    assert list(read_events(with_audit / "a.jsonl"))


def test_hidden_modes_draw_nothing_from_the_main_generator(default_sim: Simulation, hidden_sim: Simulation) -> None:
    """Same seed: every incident no hidden mode touched has exactly the events it had without them."""
    plain, hidden = _incident_events(default_sim), _incident_events(hidden_sim)
    assert plain.keys() == hidden.keys()
    modes = {row["id"]: row["hidden"] for row in _units(hidden_sim, "incident")}
    assert sum(mode is not None for mode in modes.values()) > 500
    # An unlinked record changes the record, not the incident's own events.
    same = [iid for iid in plain if modes[iid] in (None, "unlinked_record")]
    assert all(plain[iid] == hidden[iid] for iid in same)
    changed = [iid for iid in plain if modes[iid] not in (None, "unlinked_record")]
    assert sum(plain[iid] != hidden[iid] for iid in changed) > 0.9 * len(changed)


def test_hidden_rates_are_checked() -> None:
    with pytest.raises(ValueError, match="hidden failure rates"):
        SimulationOptions(narrative_crime_rate=1.5)
    with pytest.raises(ValueError, match="must not exceed 1"):
        SimulationOptions(unlinked_record_rate=0.5, wrong_rationale_rate=0.4, mistyped_code_rate=0.2)
    with pytest.raises(ValueError, match="must not exceed 1"):
        SimulationOptions(late_code_rate=0.9, mistyped_code_rate=0.2)


# -- each mode at its rate, and as the history shows it ------------------------------------------------


@pytest.mark.parametrize("mode", HIDDEN_MODES)
def test_each_hidden_mode_appears_at_about_its_rate(hidden_sim: Simulation, mode: str) -> None:
    rate = hidden_sim.options.hidden_rates()[mode]
    taken, eligible = hidden_sim.counts[f"hidden_{mode}"], hidden_sim.counts[f"hidden_{mode}_eligible"]
    assert eligible > 80
    # Within four binomial standard deviations.
    assert abs(taken / eligible - rate) < 4 * math.sqrt(rate * (1 - rate) / eligible)
    assert sum(row["hidden"] == mode for row in _units(hidden_sim, "incident")) == taken


def test_the_history_shows_each_mode_as_the_rules_would_read_it(hidden_sim: Simulation) -> None:
    events, linked = _incident_events(hidden_sim), _linked_records(hidden_sim)
    deadline = round(hidden_sim.options.deadline_hours * HOUR)
    by_mode: dict[str, list[dict[str, Any]]] = {}
    for row in _units(hidden_sim, "incident"):
        by_mode.setdefault(row["hidden"], []).append(row)

    narrative = by_mode["narrative_only"]
    for row in narrative:  # no crime code anywhere; closed to a non-crime, sink or admin code
        assert not _crime_codes(events[row["id"]]) and row["should_record"] == "crime"
        assert code_class(_codes(events[row["id"]])[-1][1]) in ("non_crime", "sink", "admin")
        assert row["hocr_code"] and row["offence_group"]
        assert row["recorded"] == (row["id"] in linked)
    share = sum(row["recorded"] for row in narrative) / len(narrative)
    assert abs(share - NARRATIVE_RECORDED_SHARE) < 0.08  # most never recorded

    for row in by_mode["unlinked_record"]:  # recorded in time, but no record names the incident
        assert row["recorded"] and row["id"] not in linked and _crime_codes(events[row["id"]])

    for row in by_mode["wrong_rationale"]:  # closed with a rationale to an explaining code, no record
        closed = next(e for e in events[row["id"]] if e["type"] == "incident.closed")["payload"]
        assert closed["rationale_recorded"] and code_class(closed["closing_code"]) in ("non_crime", "sink")
        assert not row["recorded"] and row["id"] not in linked and _crime_codes(events[row["id"]])

    for row in by_mode["mistyped_code"]:  # the rules see no crime code
        opened = next(e for e in events[row["id"]] if e["type"] == "incident.opened")
        assert code_class(opened["payload"]["opening_code"]) != "crime" and not _crime_codes(events[row["id"]])

    coded = 0
    for row in by_mode["late_code"]:  # the crime code comes more than a deadline after the report
        assert row["should_record"] in ("crime", "n100") and not row["recorded"]
        crime_codes = _crime_codes(events[row["id"]])
        if not crime_codes:  # entered after the extract was taken
            continue
        opened = next(e for e in events[row["id"]] if e["type"] == "incident.opened")
        assert crime_codes[0][0] > ms(opened["occurred_at"]) + deadline
        coded += 1
    assert coded > 0.8 * len(by_mode["late_code"])


# -- the rule truth stays exact ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        SimulationOptions(days=3, seed=21, **RATES),
        SimulationOptions(
            days=3,
            seed=22,
            deadline_hours=6,
            narrative_crime_rate=0.3,
            unlinked_record_rate=0.3,
            wrong_rationale_rate=0.3,
            mistyped_code_rate=0.3,
            late_code_rate=0.7,
        ),
        SimulationOptions(days=2, seed=23, extract_lag_hours=0, late_rate=0.3, **RATES),
    ],
    ids=["hidden", "hidden-heavy-short-deadline", "hidden-no-extract-lag"],
)
def test_rule_truth_equals_the_rules_with_hidden_modes(options: SimulationOptions) -> None:
    sim = simulate(options)
    assert sim.truth == recompute(sim.events, options.deadline_hours)
    assert all(sim.counts[f"hidden_{mode}"] > 0 for mode in HIDDEN_MODES)


def test_backtest_equals_the_rule_truth_with_hidden_modes(tmp_path: Path, hidden_sim: Simulation) -> None:
    history = tmp_path / "h.jsonl"
    write_simulation(hidden_sim, history)
    found = sorted(
        (f.type, f.payload.finding_id, f.occurred_at)
        for f in backtest.run(history).findings
        if f.type in ("finding.raised", "finding.resolved")
    )
    assert found == sorted((t["type"], t["finding_id"], t["occurred_at"]) for t in hidden_sim.truth)


# -- the audit truth agrees with the history ------------------------------------------------------------


def test_incident_units_cover_the_history_and_recorded_matches_it(hidden_sim: Simulation) -> None:
    units = _units(hidden_sim, "incident")
    opened = [e["payload"]["incident_id"] for e in distinct(hidden_sim.events) if e["type"] == "incident.opened"]
    assert sorted(row["id"] for row in units) == sorted(opened)
    assert [list(row) for row in units[:1]] == [
        [
            "kind",
            "id",
            "division",
            "offence_group",
            "hocr_code",
            "should_record",
            "recorded",
            "due_in_history",
            "hidden",
        ]
    ]
    events, linked = _incident_events(hidden_sim), _linked_records(hidden_sim)
    deadline = round(hidden_sim.options.deadline_hours * HOUR)
    checked = Counter()
    for row in units:
        if row["should_record"] == "no_crime":
            assert not row["recorded"] and row["hocr_code"] is None and row["due_in_history"] is None
            continue
        if row["hidden"] is not None or not row["due_in_history"]:
            continue
        # Codes show the disclosure: recorded means a linked record within the deadline of it.
        disclosed = _crime_codes(events[row["id"]])[0][0]
        assert row["recorded"] == any(at <= disclosed + deadline for at in linked.get(row["id"], []))
        checked[row["recorded"]] += 1
    assert checked[True] > 500 and checked[False] > 50
    should = Counter(row["should_record"] for row in units)
    assert should["crime"] > 1000 and should["no_crime"] > 3000


def test_finding_units_are_the_raised_findings_with_a_verdict(hidden_sim: Simulation) -> None:
    findings = _units(hidden_sim, "finding")
    raised = [t for t in hidden_sim.truth if t["type"] == "finding.raised"]
    assert [(f["id"], f["rule"], f["division"]) for f in findings] == [
        (t["finding_id"], t["rule"], t["division"]) for t in raised
    ]
    units = {row["id"]: row for row in _units(hidden_sim, "incident")}
    unlinked = [f for f in findings if f["incident_id"] and units[f["incident_id"]]["hidden"] == "unlinked_record"]
    assert unlinked and all(f["rule"] == NOT_CRIMED for f in unlinked)
    assert all(not f["breach"] and f["reason"] == "recorded_under_another_reference" for f in unlinked)
    # A finding on a crime that should have been recorded and was not is a breach.
    for f in findings:
        unit = units.get(f["incident_id"] or "")
        if f["rule"] == NOT_CRIMED and unit and unit["should_record"] != "no_crime" and not unit["recorded"]:
            assert f["breach"] and f["reason"] is None
    # Narrative-only incidents: no recording rule sees them (a record linked to one may still be
    # timed from the report by CRD_LATE, which a reviewer then clears if it was in time).
    narrative = {iid for iid, row in units.items() if row["hidden"] == "narrative_only"}
    on_narrative = [f for f in findings if f["incident_id"] in narrative]
    assert all(f["rule"] == CRD_LATE for f in on_narrative)
    assert all(f["breach"] == (f["reason"] is None) for f in on_narrative)
    unrecorded_narrative = {iid for iid in narrative if not units[iid]["recorded"]}
    assert not [f for f in findings if f["incident_id"] in unrecorded_narrative]
    incident_rules = {NOT_CRIMED, CLOSE_DOWNGRADE, ONE_PER_VICTIM}
    assert not [f for f in findings if f["rule"] in incident_rules and f["incident_id"] in narrative]
    assert Counter(f["breach"] for f in findings)[False] >= len(unlinked)
    # A reason says why a finding is not a breach, and only then.
    assert all(f["breach"] == (f["reason"] is None) for f in findings)
    assert {f["reason"] for f in findings} - {None} <= set(REASONS)


def test_disposal_units_are_the_out_of_court_disposals(hidden_sim: Simulation) -> None:
    disposals = _units(hidden_sim, "disposal")
    outcomes = [
        e for e in distinct(hidden_sim.events) if e["type"] == "outcome.assigned"
    ]  # one per crime in the simulator
    oocd = {e["event_id"]: e for e in outcomes if e["payload"]["outcome_type"] in DISPOSAL_TYPES}
    assert sorted(d["id"] for d in disposals) == sorted(oocd)
    flagged = {t["subject"]["id"] for t in hidden_sim.truth if t["rule"] in OUTCOME_RULES}
    for unit in disposals:
        event = oocd[unit["id"]]
        assert unit["crime_id"] == event["payload"]["crime_id"] and unit["division"] == event["division"]
        assert unit["appropriate"] == (unit["crime_id"] not in flagged)
    assert Counter(d["appropriate"] for d in disposals)[True] > 10


def test_true_rates_on_the_simulation(hidden_sim: Simulation, default_sim: Simulation) -> None:
    rates = true_rates(hidden_sim.audit_truth)
    overall = rates["overall"]
    assert set(rates["by_division"]) == set(hidden_sim.options.divisions)
    assert sum(d["should_record"] for d in rates["by_division"].values()) == overall["should_record"]
    assert 0.5 < overall["recording_accuracy"] < 0.9
    assert overall["blind_spot_rate"] > 0.3  # narrative, wrong rationale, mistyped and late codes hide
    assert overall["by_rule"][NOT_CRIMED]["precision"] < 1  # unlinked records are not breaches
    plain = true_rates(default_sim.audit_truth)["overall"]
    assert plain["recording_accuracy"] > overall["recording_accuracy"]
    assert plain["blind_spot_rate"] < 0.05  # without hidden modes the rules see almost every failure
    assert plain["by_rule"][CRD_LATE]["precision"] == 1.0


def test_true_rates_by_hand() -> None:
    def incident(iid: str, division: str, should: str, recorded: bool, due: bool | None = True, hidden=None):
        return {
            "kind": "incident",
            "id": iid,
            "division": division,
            "offence_group": None,
            "hocr_code": None,
            "should_record": should,
            "recorded": recorded,
            "due_in_history": due if should != "no_crime" else None,
            "hidden": hidden,
        }

    def finding(rule: str, subject: str, division: str, incident_id: str | None, breach: bool):
        return {
            "kind": "finding",
            "id": f"{rule}/{subject}",
            "rule": rule,
            "division": division,
            "incident_id": incident_id,
            "breach": breach,
            "reason": None if breach else "recorded_under_another_reference",
        }

    rows = [
        incident("A", "NORTH", "crime", True),
        incident("B", "NORTH", "crime", False),
        incident("C", "NORTH", "crime", False, hidden="narrative_only"),
        incident("D", "SOUTH", "crime", True, hidden="unlinked_record"),
        incident("E", "SOUTH", "crime", False),
        incident("F", "SOUTH", "no_crime", False),
        incident("G", "SOUTH", "crime", False, due=False),  # deadline after the history: not judged
        incident("H", "SOUTH", "n100", False),  # not a crime: outside the accuracy
        finding(NOT_CRIMED, "incident/B", "NORTH", "B", True),
        finding(NOT_CRIMED, "incident/D", "SOUTH", "D", False),
        finding(CRD_LATE, "crime/CR-1", "SOUTH", "E", True),
        finding("REPEAT_CAUTION_2Y", "crime/CR-2", "NORTH", None, True),
        {"kind": "disposal", "id": "CR-2.outcome", "crime_id": "CR-2", "division": "NORTH", "offence_group": "theft"}
        | {"appropriate": True},
        {"kind": "disposal", "id": "CR-3.outcome", "crime_id": "CR-3", "division": "SOUTH", "offence_group": "theft"}
        | {"appropriate": False},
    ]
    rates = true_rates(rows)
    overall, north, south = rates["overall"], rates["by_division"]["NORTH"], rates["by_division"]["SOUTH"]
    # Should be crimes, due: A B C D E; recorded in time: A D. Unrecorded: B C E; no finding: C.
    assert (overall["should_record"], overall["recorded"], overall["recording_accuracy"]) == (5, 2, 0.4)
    assert (overall["unrecorded"], overall["unrecorded_without_finding"]) == (3, 1)
    assert overall["blind_spot_rate"] == pytest.approx(1 / 3)
    assert (overall["findings"], overall["breaches"], overall["precision"]) == (4, 3, 0.75)
    assert overall["by_rule"] == {
        CRD_LATE: {"findings": 1, "breaches": 1, "precision": 1.0},
        NOT_CRIMED: {"findings": 2, "breaches": 1, "precision": 0.5},
        "REPEAT_CAUTION_2Y": {"findings": 1, "breaches": 1, "precision": 1.0},
    }
    assert (overall["disposals"], overall["appropriate"], overall["appropriate_rate"]) == (2, 1, 0.5)
    assert overall["incidents"] == 8
    # NORTH: A B C, recorded A; unrecorded B (finding) and C (none); findings B and the caution.
    assert (north["should_record"], north["recorded"]) == (3, 1)
    assert north["blind_spot_rate"] == 0.5 and north["precision"] == 1.0 and north["appropriate_rate"] == 1.0
    # SOUTH: D E, recorded D; unrecorded E, seen by CRD_LATE on its record; D's finding is no breach.
    assert (south["should_record"], south["recorded"], south["recording_accuracy"]) == (2, 1, 0.5)
    assert south["blind_spot_rate"] == 0.0 and south["precision"] == 0.5 and south["appropriate_rate"] == 0.0
    assert true_rates([])["overall"]["recording_accuracy"] is None


# -- the command -----------------------------------------------------------------------------------------


def test_simulate_command_writes_the_audit_truth(tmp_path: Path) -> None:
    history, truth, audit = tmp_path / "h.jsonl", tmp_path / "t.jsonl", tmp_path / "a.jsonl.gz"
    args = ["simulate", "--days", "1", "--seed", "4", "--out", str(history), "--truth", str(truth)]
    args += ["--audit-truth", str(audit), "--narrative-crime-rate", "0.2", "--unlinked-record-rate", "0.1"]
    args += ["--wrong-rationale-rate", "0.1", "--mistyped-code-rate", "0.1", "--late-code-rate", "0.5"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    sim = simulate(
        SimulationOptions(
            days=1,
            seed=4,
            narrative_crime_rate=0.2,
            unlinked_record_rate=0.1,
            wrong_rationale_rate=0.1,
            mistyped_code_rate=0.1,
            late_code_rate=0.5,
        )
    )
    assert list(read_events(audit)) == sim.audit_truth
    assert list(read_events(history)) == sim.events and list(read_events(truth)) == sim.truth
    bad = CliRunner().invoke(main, [*args[:9], "--unlinked-record-rate", "0.7", "--wrong-rationale-rate", "0.7"])
    assert bad.exit_code != 0 and "must not exceed 1" in " ".join(bad.output.split())
