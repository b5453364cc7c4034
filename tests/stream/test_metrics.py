"""The worker's metrics, without a broker: observations become the right series, and the rate
metrics of a division and offence group exist at zero from the first sight of the pair."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from cdi.core.observations import CancellationCounted, CrimeCounted, OutcomeCounted, RecordingDecision
from cdi.stream.metrics import Metrics


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_first_sight_of_a_division_and_group_creates_the_rate_series_at_zero():
    registry = CollectorRegistry()
    metrics = Metrics(registry, "r1", "v1")
    metrics.record_observations([CrimeCounted("NORTH", "sexual_offences", rape=True)])
    assert (
        sample(registry, "cdi_crimes_recorded_total", division="NORTH", offence_group="sexual_offences", rape="true")
        == 1
    )
    # A rape cancellation later counts from zero, so increase() sees it.
    assert (
        sample(
            registry,
            "cdi_cancellations_total",
            division="NORTH",
            offence_group="sexual_offences",
            code="C2",
            rape="true",
        )
        == 0
    )
    assert (
        sample(registry, "cdi_outcomes_total", division="NORTH", offence_group="sexual_offences", outcome_type="16")
        == 0
    )
    assert (
        sample(
            registry,
            "cdi_recording_decisions_total",
            division="NORTH",
            offence_group="sexual_offences",
            result="not_recorded",
        )
        == 0
    )
    metrics.record_observations(
        [
            CancellationCounted("NORTH", "sexual_offences", "C2", rape=True),
            OutcomeCounted("NORTH", "sexual_offences", 16),
            RecordingDecision("NORTH", "sexual_offences", "recorded"),
        ]
    )
    assert (
        sample(
            registry,
            "cdi_cancellations_total",
            division="NORTH",
            offence_group="sexual_offences",
            code="C2",
            rape="true",
        )
        == 1
    )
    assert (
        sample(registry, "cdi_outcomes_total", division="NORTH", offence_group="sexual_offences", outcome_type="16")
        == 1
    )
    # No id ever appears in a label: only these bounded label names exist.
    text = generate_latest(registry).decode()
    labels = {
        part.split("=")[0]
        for line in text.splitlines()
        if "{" in line
        for part in line[line.index("{") + 1 : line.index("}")].split(",")
    }
    assert labels <= {
        "division",
        "offence_group",
        "rape",
        "code",
        "outcome_type",
        "result",
        "direction",
        "le",
        "version",
        "rules_version",
    }
