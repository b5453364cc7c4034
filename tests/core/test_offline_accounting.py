"""The backtest counts a history as the stream processor counts the same records (issue 14).

The stream counts an input event once, in the first stage that reads its type (ROUTES): applied
(``cdi_events_consumed_total``) or duplicate; every stage that refuses it writes its own dead
letter. A ``history.ended`` marker is control, not an event: counted nowhere. The backtest's
``events``, ``duplicates`` and ``dead_letters`` must say the same."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson
from click.testing import CliRunner

from cdi import backtest
from cdi.cli import main
from cdi.core.observations import CrimeCounted
from cdi.core.pipeline import REJECTION_DETAIL, WRONG_TOPIC, OfflineRun
from cdi.core.stage import CRIMES, DUPLICATE, INCIDENTS, LATE
from tests.core.scenario import CONTRACTS, MONITOR, Scenario, at


def write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


def marker(hours: float) -> dict[str, Any]:
    """A ``history.ended`` line as ``cdi replay`` writes one (cdi.publish.send_end)."""
    return {
        "event_id": f"end-replay-{hours}",
        "type": "history.ended",
        "schema_version": 1,
        "occurred_at": at(hours),
        "force": "ALL",
        "division": "ALL",
        "payload": {"source": "replay"},
    }


def summary(output: str) -> str:
    return " ".join(output.split())


# -- (a) a history.ended line is not an event ---------------------------------------------------


def test_a_history_ended_line_is_not_counted_as_an_applied_event(tmp_path):
    s = Scenario()
    s.opened("I1", 0, "ADMIN")
    path = write(tmp_path / "h.jsonl", [*s.records, marker(0.5)])
    result = backtest.run(path)
    assert result.events == Counter({"incident.opened": 1})
    assert result.dead_letters == [] and result.duplicates == 0
    assert result.lines == 2
    step = OfflineRun.start(MONITOR).process(CONTRACTS.parse(marker(0.5)))
    assert (step.rejected, step.outcomes, step.findings) == (None, (), [])


def test_a_history_ended_line_changes_nothing_the_file_would_otherwise_give(tmp_path):
    """``cdi replay`` drops a history's own markers (and ends the replay with its own, which the end
    of the file stands for offline): a marker in the middle of a file closes nothing early."""
    s = Scenario()
    s.opened("I1", 0, "ASSAULT")
    s.opened("I2", 0.9, "ADMIN")  # behind the marker's time, but within the lateness of I1
    plain = backtest.run(write(tmp_path / "plain.jsonl", s.records))
    marked = backtest.run(write(tmp_path / "marked.jsonl", [s.records[0], marker(5), s.records[1]]))
    assert marked.events == plain.events == Counter({"incident.opened": 2})
    assert marked.dead_letters == plain.dead_letters == []
    assert [f.to_dict() for f in marked.findings] == [f.to_dict() for f in plain.findings]
    assert marked.open_cases == plain.open_cases


def test_the_command_line_backtest_does_not_count_the_marker(tmp_path):
    s = Scenario()
    s.opened("I1", 0, "ADMIN")
    path = write(tmp_path / "h.jsonl", [*s.records, marker(0.5)])
    done = CliRunner().invoke(main, ["backtest", str(path)])
    assert done.exit_code == 0, done.output
    assert "2 lines: 1 events applied, 0 duplicates dropped, 0 dead-lettered" in summary(done.output)


def test_an_event_no_stage_reads_is_dead_lettered_as_the_worker_does(tmp_path):
    """A finding in a history: ``cdi replay`` cannot route it, and the worker dead-letters it as
    wrong_topic; it is no applied event."""
    s = Scenario()
    s.opened("I1", 0, "ASSAULT")
    s.opened("I2", 30, "ADMIN")
    [finding] = [f.to_dict() for f in backtest.run(write(tmp_path / "plain.jsonl", s.records)).findings]
    path = write(tmp_path / "h.jsonl", [s.records[0], finding, s.records[1]])
    result = backtest.run(path)
    assert [(d.line, d.reason, d.detail) for d in result.dead_letters] == [
        (f"{path.name}:2", WRONG_TOPIC, REJECTION_DETAIL[WRONG_TOPIC])
    ]
    assert result.events == Counter({"incident.opened": 2})


# -- (b) a record late for one stage but not another ---------------------------------------------


def late_for_the_incident_stage_only() -> Scenario:
    """A crime record 15 minutes behind an incident event: late for the incident stage (10 minutes
    allowed), on time for the crime stage, whose clock no incident event moves."""
    s = Scenario()
    s.opened("I2", 1, "ADMIN")
    s.crime("C1", "I1", 1 - 15 / 60)
    return s


def test_a_record_late_for_one_stage_is_applied_by_the_other(tmp_path):
    s = late_for_the_incident_stage_only()
    run = OfflineRun.start(MONITOR)
    steps = [run.process(e) for e in s.events()]
    assert steps[1].rejected is None  # the crime stage applied it
    assert steps[1].outcomes == ((INCIDENTS, LATE), (CRIMES, None))
    assert "C1" in run.states[CRIMES].cases and "I1" not in run.states[INCIDENTS].cases
    assert any(isinstance(o, CrimeCounted) for o in steps[1].observations)


def test_the_backtest_dead_letters_it_once_for_the_stage_that_refused_it(tmp_path):
    s = late_for_the_incident_stage_only()
    path = write(tmp_path / "h.jsonl", s.records)
    result = backtest.run(path, keep_observations=True)
    assert [(d.line, d.reason, d.detail) for d in result.dead_letters] == [
        (f"{path.name}:2", LATE, f"incidents stage: {REJECTION_DETAIL[LATE]}")
    ]
    assert result.dead_letters[0].raw == orjson.dumps(s.records[1])
    # Counted as the stream counts it: in the incident stage, which reads crime records first; the
    # crime stage applied it, so its observations (cdi_crimes_recorded_total) are kept.
    assert result.events == Counter({"incident.opened": 1})
    assert sum(isinstance(o, CrimeCounted) for o in result.observations) == 1


def test_a_record_late_for_the_second_stage_only_is_counted_and_dead_lettered(tmp_path):
    s = Scenario()
    s.crime("C1", "I1", 0)
    s.outcome("C1", 2, 1)  # moves the crime stage's clock only
    s.crime("C2", "I1", 1)  # on time for the incident stage, late for the crime stage
    path = write(tmp_path / "h.jsonl", s.records)
    result = backtest.run(path)
    assert [(d.line, d.reason, d.detail) for d in result.dead_letters] == [
        (f"{path.name}:3", LATE, f"crimes stage: {REJECTION_DETAIL[LATE]}")
    ]
    assert result.events == Counter({"crime.recorded": 2, "outcome.assigned": 1})


def test_a_record_late_for_both_stages_has_a_dead_letter_from_each(tmp_path):
    s = Scenario()
    s.crime("C0", "I0", 2)
    s.crime("C1", "I1", 1)
    path = write(tmp_path / "h.jsonl", s.records)
    run = OfflineRun.start(MONITOR)
    steps = [run.process(e) for e in s.events()]
    assert steps[1].rejected == LATE and steps[1].outcomes == ((INCIDENTS, LATE), (CRIMES, LATE))
    result = backtest.run(path)
    assert [(d.line, d.detail) for d in result.dead_letters] == [
        (f"{path.name}:2", f"incidents stage: {REJECTION_DETAIL[LATE]}"),
        (f"{path.name}:2", f"crimes stage: {REJECTION_DETAIL[LATE]}"),
    ]
    assert result.rejected == Counter({LATE: 2})
    assert result.events == Counter({"crime.recorded": 1})


def test_a_duplicate_is_counted_once_and_not_dead_lettered(tmp_path):
    s = Scenario()
    s.crime("C1", "I1", 0)
    path = write(tmp_path / "h.jsonl", [*s.records, s.records[0]])
    run = OfflineRun.start(MONITOR)
    steps = [run.process(CONTRACTS.parse(r)) for r in [*s.records, s.records[0]]]
    assert steps[1].rejected == DUPLICATE and steps[1].outcomes == ((INCIDENTS, DUPLICATE), (CRIMES, DUPLICATE))
    result = backtest.run(path)
    assert result.duplicates == 1 and result.dead_letters == []
    assert result.events == Counter({"crime.recorded": 1})


def test_an_n100_record_goes_only_to_the_incident_stage():
    """The crime stage keys no N100 record, so the stream never sends it one: no outcome there."""
    s = Scenario()
    s.crime("N1", "I1", 0, record_kind="n100")
    [step] = [OfflineRun.start(MONITOR).process(e) for e in s.events()]
    assert step.rejected is None and step.outcomes == ((INCIDENTS, None),)


def test_the_command_line_backtest_says_what_the_stream_would(tmp_path):
    s = late_for_the_incident_stage_only()
    path = write(tmp_path / "h.jsonl", s.records)
    letters = tmp_path / "dead.jsonl"
    done = CliRunner().invoke(main, ["backtest", str(path), "--dead-letters", str(letters)])
    assert done.exit_code == 0, done.output
    assert "2 lines: 1 events applied, 0 duplicates dropped, 1 dead-lettered {'late': 1}" in summary(done.output)
    [letter] = [orjson.loads(line) for line in letters.read_bytes().splitlines()]
    assert letter["reason"] == LATE and letter["detail"] == f"incidents stage: {REJECTION_DETAIL[LATE]}"
    assert orjson.loads(letter["raw"]) == s.records[1]


def test_the_audit_population_counts_the_history_as_the_backtest_does(tmp_path):
    from cdi.audit.population import build
    from cdi.sources import open_history

    s = late_for_the_incident_stage_only()
    path = write(tmp_path / "h.jsonl", [*s.records, marker(2)])
    population = build(open_history([path]))
    result = backtest.run(path)
    assert (population.lines, population.events, population.dead_letters) == (3, 1, 1)
    assert (result.lines, sum(result.events.values()), len(result.dead_letters)) == (3, 1, 1)


def test_the_stream_topology_gives_the_offline_findings_with_an_n100_record():
    """The partitioned run (the stream's topology in one process) does not send an N100 record
    to the crime stage either (it keys none)."""
    import random

    from cdi.core.partitioned_run import run_partitioned
    from tests.core.test_order_properties import run_single

    s = Scenario()
    s.opened("I1", 0, "ASSAULT")
    s.crime("N1", "I1", 1, record_kind="n100")
    s.crime("C2", "I2", 2)
    s.outcome("C2", 3, 1)
    events = s.events()
    offline = run_single(events)
    for seed in range(5):
        assert run_partitioned(MONITOR, events, 2, 2, random.Random(seed)) == offline
