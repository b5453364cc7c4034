"""Metric labels come from closed sets (issue 9, part 5): a division or offence group the rules
configuration and the reference data do not know is counted under ``other``, reported in the log
without its value, and never becomes a series of its own. Unit level: the real Metrics class,
the real rules and reference data, a real prometheus_client registry; no broker.
"""

from __future__ import annotations

import copy
import logging
import re

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from cdi import reference, rules
from cdi.contracts import Contracts
from cdi.core.events import Event
from cdi.core.observations import (
    CancellationCounted,
    CrimeCounted,
    OutcomeCounted,
    ReclassificationCounted,
    RecordingDecision,
    RecordingDelay,
)
from cdi.stream.labels import DISTINCT_CAP, OTHER, LabelSets
from cdi.stream.metrics import DELAY_BUCKETS, Metrics, OpenCases

CONTRACTS = Contracts()
CONFIG = rules.load(contracts=CONTRACTS)
N = 2_000

#: Series a (division, offence group) pair outside sexual offences gets at first sight: recording
#: decisions 3, crimes 1 (rape=false), cancellations 5 (C1-C5), outcomes 22, reclassifications 4,
#: the delay histogram (buckets + +Inf, _sum, _count).
SERIES_PER_PAIR = 3 + 1 + 5 + 22 + 4 + (len(DELAY_BUCKETS) + 1 + 2)


def labels() -> LabelSets:
    return LabelSets.for_rules(CONFIG, reference.load(), CONTRACTS)


def series(registry: CollectorRegistry) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    text = generate_latest(registry).decode()
    return [
        (s.name, tuple(sorted(s.labels.items())))
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]


def finding(division: str, group: str | None, n: int) -> Event:
    example = copy.deepcopy(CONTRACTS.schemas["urn:cdi:schema:finding.raised:1"]["examples"][0])
    example["event_id"] = f"ev-finding-{n}"
    example["division"] = division
    example["payload"]["offence_group"] = group
    example["payload"]["finding_id"] = f"CRIME_INDICATIVE_INCIDENT_NOT_CRIMED/incident/INC-{n}"
    return Event.from_dict(example)


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "cdi.metrics"]


def test_the_closed_sets_are_the_configured_divisions_and_every_known_offence_group():
    sets = labels()
    assert sets.division.known == set(CONFIG.divisions)
    assert {"NORTH", "EAST", "SOUTH", "WEST", "MAIDSTONE", "KENT"} <= sets.division.known
    contract_groups = set(CONTRACTS.schemas["urn:cdi:schema:common:1"]["$defs"]["offence_group"]["enum"])
    reference_groups = {c.offence_group for c in reference.load().offence_codes.values()}
    assert sets.offence_group.known == contract_groups | reference_groups | {"unknown"}
    assert OTHER not in sets.division.known | sets.offence_group.known


def test_two_thousand_divisions_and_offence_groups_stay_a_bounded_set_of_series(caplog):
    caplog.set_level(logging.WARNING, logger="cdi.metrics")
    registry = CollectorRegistry()
    metrics = Metrics(registry, CONFIG.version, "test", labels=labels())
    baseline = len(series(registry))

    # A name and date of birth in the division field, 2,000 different ones; as many made-up groups.
    divisions = [f"PERSON-{i}-DOB-1980-01-{i % 28 + 1:02d}" for i in range(N)]
    groups = [f"group_{i}" for i in range(N)]
    metrics.record_observations(CrimeCounted(d, "theft", rape=False) for d in divisions)
    metrics.record_observations(CrimeCounted("NORTH", g, rape=False) for g in groups)
    metrics.record_observations(RecordingDecision(d, g, "not_recorded") for d, g in zip(divisions, groups, strict=True))
    metrics.record_findings(finding(d, g, i) for i, (d, g) in enumerate(zip(divisions, groups, strict=True)))
    # Known values keep their own series.
    metrics.record_observations([CrimeCounted("NORTH", "theft", rape=False)])

    found = series(registry)
    # Pairs seen: (other, theft), (NORTH, other), (other, other), (NORTH, theft); one findings series.
    assert len(found) == baseline + 4 * SERIES_PER_PAIR + 1
    assert len(set(found)) == len(found)

    def value(name: str, **wanted: str) -> float | None:
        return registry.get_sample_value(name, wanted)

    crimes = "cdi_crimes_recorded_total"
    assert value(crimes, division=OTHER, offence_group="theft", rape="false") == N
    assert value(crimes, division="NORTH", offence_group=OTHER, rape="false") == N
    assert value(crimes, division="NORTH", offence_group="theft", rape="false") == 1
    assert value("cdi_recording_decisions_total", division=OTHER, offence_group=OTHER, result="not_recorded") == N
    raised = {"rule": "CRIME_INDICATIVE_INCIDENT_NOT_CRIMED", "severity": "high"}
    assert value("cdi_findings_raised_total", division=OTHER, offence_group=OTHER, **raised) == N

    # 2,000 more new values add nothing.
    more = [f"SOMEONE-ELSE-{i}" for i in range(N)]
    metrics.record_observations(CancellationCounted(d, f"g{i}", "C2", rape=False) for i, d in enumerate(more))
    metrics.record_observations(OutcomeCounted(d, "theft", 16) for d in more)
    metrics.record_observations(RecordingDelay(d, "theft", 3600.0) for d in more)
    metrics.record_observations(ReclassificationCounted(d, "theft", "down") for d in more)
    assert len(series(registry)) == len(found)
    assert value("cdi_cancellations_total", division=OTHER, offence_group=OTHER, code="C2", rape="false") == N
    assert value("cdi_outcomes_total", division=OTHER, offence_group="theft", outcome_type="16") == N
    assert value("cdi_recording_delay_seconds_count", division=OTHER, offence_group="theft") == N
    assert value("cdi_reclassifications_total", division=OTHER, offence_group="theft", direction="down") == N

    # No value reached the exposition or the log.
    text = generate_latest(registry).decode()
    assert not re.search(r"PERSON-|SOMEONE-|group_|\bg[0-9]", text)
    logged = messages(caplog)
    assert not any(re.search(r"PERSON-|SOMEONE-|group_|\bg[0-9]", m) for m in logged)
    # Reported at the first unknown value, then at 10, 100 and 1,000 distinct ones: 4,000 distinct
    # divisions (PERSON-*, SOMEONE-*), 6,000 distinct groups (group_*, g*).
    for what in ("a division", "an offence group"):
        counts = [
            int(re.search(r"\((\d+) distinct", m)[1]) for m in logged if m.startswith(f"an event carried {what} ")
        ]
        assert counts == [1, 10, 100, 1000], (what, counts)


def test_an_unknown_value_is_reported_once_however_often_it_comes(caplog):
    caplog.set_level(logging.WARNING, logger="cdi.metrics")
    metrics = Metrics(CollectorRegistry(), CONFIG.version, "test", labels=labels())
    for _ in range(50):
        metrics.record_observations([CrimeCounted("JOHN-SMITH-1980-01-01", "theft", rape=False)])
    logged = messages(caplog)
    assert logged == [
        "an event carried a division not in the rules configuration's [force] divisions; counted as 'other' in "
        "metric labels (1 distinct so far). The value is not logged: it may be personal data"
    ]
    assert metrics.labels.division.distinct_unknown == 1


def test_distinct_values_are_counted_up_to_a_cap():
    sets = LabelSets.of(["NORTH"], ["theft"])
    for i in range(DISTINCT_CAP + 5):
        assert sets.division(f"X{i}") == OTHER
    assert sets.division.distinct_unknown == DISTINCT_CAP
    assert sets.division("NORTH") == "NORTH"


def test_open_cases_fold_unknown_divisions_into_other():
    registry = CollectorRegistry()
    source = [(f"PERSON-{i}", 1) for i in range(N)] + [("NORTH", 3), ("SOUTH", 2)]
    registry.register(OpenCases(lambda: source, labels()))
    assert {dict(found)["division"] for _, found in series(registry)} == {OTHER, "NORTH", "SOUTH"}
    assert registry.get_sample_value("cdi_open_cases", {"division": OTHER}) == N
    assert registry.get_sample_value("cdi_open_cases", {"division": "NORTH"}) == 3


def rules_file(tmp_path, force: str | None) -> object:
    text = rules.DEFAULT.read_text()
    start = text.index("[force]")
    end = text.index("[rules.", start)
    path = tmp_path / "rules.toml"
    path.write_text(text[:start] + (force or "") + text[end:])
    return path


def test_a_rules_file_without_divisions_is_valid_and_counts_every_division_as_other(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="cdi.metrics")
    for force in (None, "[force]\n\n", "[force]\ndivisions = []\n\n"):
        config = rules.load(rules_file(tmp_path, force), CONTRACTS)
        assert config.divisions == ()
        sets = LabelSets.for_rules(config, reference.load(), CONTRACTS)
        assert sets.division("NORTH") == OTHER
        assert sets.offence_group("theft") == "theft"
    assert sum("lists no divisions" in m for m in messages(caplog)) == 3


@pytest.mark.parametrize(
    "force",
    [
        'divisions = ["north"]',  # not a division code: lower case (and so "other" can never be one)
        'divisions = ["NORTH", "NORTH"]',
        'divisions = "NORTH"',
        'divisions = ["NORTH"]\nunknown_key = 1',
    ],
)
def test_the_schema_rejects_a_bad_division_list(tmp_path, force):
    with pytest.raises(rules.RulesFileError):
        rules.load(rules_file(tmp_path, f"[force]\n{force}\n\n"), CONTRACTS)


def test_a_configured_division_gets_its_own_series(tmp_path):
    config = rules.load(rules_file(tmp_path, '[force]\ndivisions = ["HARBOUR"]\n\n'), CONTRACTS)
    registry = CollectorRegistry()
    metrics = Metrics(registry, config.version, "test", labels=LabelSets.for_rules(config, reference.load(), CONTRACTS))
    metrics.record_observations([CrimeCounted("HARBOUR", "theft", rape=False), CrimeCounted("NORTH", "theft", False)])
    assert (
        registry.get_sample_value(
            "cdi_crimes_recorded_total", {"division": "HARBOUR", "offence_group": "theft", "rape": "false"}
        )
        == 1
    )
    assert (
        registry.get_sample_value(
            "cdi_crimes_recorded_total", {"division": OTHER, "offence_group": "theft", "rape": "false"}
        )
        == 1
    )
