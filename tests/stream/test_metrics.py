"""The worker's metrics: observations become the right series, the rate metrics of a division
and offence group exist at zero from the first sight of the pair, and every series a worker
serves carries its pipeline (namespace). All without a broker but the last test, which starts a
real worker in a replay's namespace.
"""

from __future__ import annotations

import pytest
from faust.sensors.prometheus import FaustMetrics
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from cdi.core.observations import CancellationCounted, CrimeCounted, OutcomeCounted, RecordingDecision
from cdi.stream.metrics import Metrics, OpenCases, PipelineRegistry
from tests.stream.worker_process import WorkerProcess, isolated_settings


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


def labelled_samples(text: str) -> list[tuple[str, dict[str, str]]]:
    return [(s.name, s.labels) for family in text_string_to_metric_families(text) for s in family.samples]


def test_every_sample_carries_the_pipeline_of_the_registry():
    """The worker's own metrics, the scrape-time OpenCases and Faust's sensor (registered in the
    same registry, as cdi.stream.app does) all come out with pipeline="<namespace>", their own
    labels unchanged."""
    registry = PipelineRegistry("replay-x")
    metrics = Metrics(registry, "r1", "v1")
    registry.register(OpenCases(lambda: [("NORTH", 2), ("NORTH", 1)]))
    faust = FaustMetrics.create(registry, "cdi_faust")
    faust.messages_received.inc()
    faust.topic_partition_end_offset.labels(topic="cdi.replay-x.incidents", partition="0").set(7)
    metrics.record_observations([CrimeCounted("NORTH", "sexual_offences", rape=True)])
    metrics.lag.observe(0.2)

    samples = labelled_samples(generate_latest(registry).decode())
    names = {name for name, _ in samples}
    assert {
        "cdi_crimes_recorded_total",
        "cdi_open_cases",
        "cdi_build_info",
        "cdi_faust_messages_received_total",
    } <= names
    assert "cdi_processing_lag_seconds_bucket" in names and "cdi_faust_topic_partition_end_offset" in names
    unlabelled = [(name, labels) for name, labels in samples if labels.get("pipeline") != "replay-x"]
    assert not unlabelled, unlabelled[:5]
    labels = {"division": "NORTH", "offence_group": "sexual_offences", "rape": "true", "pipeline": "replay-x"}
    assert sample(registry, "cdi_crimes_recorded_total", **labels) == 1
    assert sample(registry, "cdi_open_cases", division="NORTH", pipeline="replay-x") == 3
    assert sample(registry, "cdi_build_info", version="v1", rules_version="r1", pipeline="replay-x") == 1
    # Collecting again gives the same (the label is added to copies, not to the metrics).
    assert labelled_samples(generate_latest(registry).decode()) == samples


def test_a_pipeline_label_needs_a_value():
    # Prometheus drops an empty label: the series would pass for unlabelled, and its alerts for live.
    with pytest.raises(ValueError):
        PipelineRegistry("")


@pytest.mark.integration
@pytest.mark.slow
def test_a_worker_labels_every_series_it_serves_with_its_namespace(kafka_bootstrap):
    settings = isolated_settings(kafka_bootstrap, namespace="replay-x", partitions=1)
    with WorkerProcess(settings) as worker:
        samples = worker.metrics()
    assert any(name.startswith("cdi_build_info{") for name in samples)
    assert any(name.startswith("cdi_faust_") for name in samples)
    unlabelled = [name for name in samples if 'pipeline="replay-x"' not in name]
    assert not unlabelled, unlabelled[:10]
