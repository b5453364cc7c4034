"""The audit's estimates as the workbench's metrics (cdi.workbench.audit_metrics): the exact
samples of a hand-built AuditEstimates, bounded labels (unknown rules and divisions as `other`,
no sample id in any label), nothing for figures nobody reviewed, and names promtool accepts."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from cdi.audit.estimates import CENSUS, NO_DATA, SINGLE_STRATUM, STRATIFIED, AuditEstimates, Count, Estimate
from cdi.workbench.audit_metrics import AuditCollector

RULES = {"CRD_LATE", "CANCEL_WITHOUT_AVI"}
DIVISIONS = ("NORTH", "SOUTH")
SAMPLE_ID = "audit-2026-03-02-2026-03-31-s7"

Sample = tuple[str, tuple[tuple[str, str], ...], float]


def figure(estimate: float, low: float, high: float, reviewed: int, count: int, method: str = STRATIFIED) -> Estimate:
    return Estimate(estimate, low, high, reviewed, count, method)


NOTHING = Estimate(None, None, None, 0, 0, NO_DATA)


def estimates(**changes: object) -> AuditEstimates:
    values: dict[str, object] = {
        "recording_accuracy": figure(0.75, 0.7, 0.8, 508, 381),
        "unrecorded_crimes": Count(2500.0, 1850.0, 3200.0, 7500),
        "blind_spot_rate": figure(0.4, 0.3125, 0.5, 120, 48),
        "rule_precision": {
            "CRD_LATE": figure(0.5, 0.25, 0.75, 30, 15, SINGLE_STRATUM),
            "CANCEL_WITHOUT_AVI": figure(1.0, 1.0, 1.0, 12, 12, CENSUS),
            "RULE_OF_AN_OLDER_RULES_FILE": figure(0.25, 0.125, 0.5, 8, 2, SINGLE_STRATUM),
        },
        "disposals_appropriate": figure(0.625, 0.5, 0.75, 100, 62),
        "breakdowns": {
            "division": {
                "NORTH": {
                    "recording_accuracy": figure(0.875, 0.75, 0.9375, 40, 35),
                    "blind_spot_rate": figure(0.5, 0.25, 0.75, 5, 2),
                },
                "Not A Division": {"recording_accuracy": figure(0.5, 0.375, 0.625, 10, 5)},
            },
            "offence_group": {"violence": {"recording_accuracy": figure(0.5, 0.25, 0.75, 10, 5)}},
        },
        "sample": {
            "sample_id": SAMPLE_ID,
            "seed": 7,
            "period": {"start": "2026-03-02T00:02:32+00:00", "end": "2026-03-31T11:52:53.097+00:00"},
            "reviewed": {"finding": 50, "incident": 1500},
            "verdicts": 1550,
        },
    }
    values.update(changes)
    return AuditEstimates(**values)  # type: ignore[arg-type]


def scrape(found: AuditEstimates | None, pipeline: str = "live") -> tuple[str, list[Sample]]:
    registry = CollectorRegistry()
    registry.register(AuditCollector(lambda: found, pipeline, set(RULES), DIVISIONS))
    text = generate_latest(registry).decode()
    samples = [
        (s.name, tuple(sorted(s.labels.items())), s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]
    return text, samples


def labels(**pairs: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted({"pipeline": "live", **pairs}.items()))


def bounds(name: str, values: tuple[float, float, float], **pairs: str) -> list[Sample]:
    return [(name, labels(**pairs, bound=b), v) for b, v in zip(("estimate", "low", "high"), values, strict=True)]


def test_every_figure_with_its_bounds_exactly() -> None:
    _, samples = scrape(estimates())
    expected = [
        *bounds("cdi_audit_recording_accuracy_ratio", (0.75, 0.7, 0.8)),
        *bounds("cdi_audit_blind_spot_ratio", (0.4, 0.3125, 0.5)),
        *bounds("cdi_audit_disposals_appropriate_ratio", (0.625, 0.5, 0.75)),
        *bounds("cdi_audit_unrecorded_crimes", (2500.0, 1850.0, 3200.0)),
        *bounds("cdi_audit_rule_precision_ratio", (1.0, 1.0, 1.0), rule="CANCEL_WITHOUT_AVI"),
        *bounds("cdi_audit_rule_precision_ratio", (0.5, 0.25, 0.75), rule="CRD_LATE"),
        # A rule the rules file does not know (an older rules version's) is `other`.
        *bounds("cdi_audit_rule_precision_ratio", (0.25, 0.125, 0.5), rule="other"),
        ("cdi_audit_rule_findings_reviewed", labels(rule="CANCEL_WITHOUT_AVI"), 12.0),
        ("cdi_audit_rule_findings_reviewed", labels(rule="CRD_LATE"), 30.0),
        ("cdi_audit_rule_findings_reviewed", labels(rule="other"), 8.0),
        *bounds("cdi_audit_recording_accuracy_by_division_ratio", (0.875, 0.75, 0.9375), division="NORTH"),
        *bounds("cdi_audit_recording_accuracy_by_division_ratio", (0.5, 0.375, 0.625), division="other"),
        # Every kind, 0 where nothing was reviewed.
        ("cdi_audit_items_reviewed", labels(kind="incident"), 1500.0),
        ("cdi_audit_items_reviewed", labels(kind="finding"), 50.0),
        ("cdi_audit_items_reviewed", labels(kind="disposal"), 0.0),
        # 2026-03-31T11:52:53.097Z
        ("cdi_audit_sample_period_end_timestamp_seconds", labels(), 1774957973.097),
    ]
    assert samples == expected


def test_labels_are_closed_sets_and_carry_no_identifier() -> None:
    text, samples = scrape(estimates(), pipeline="replay-x")
    allowed = {
        "pipeline": {"replay-x"},
        "bound": {"estimate", "low", "high"},
        "rule": RULES | {"other"},
        "division": set(DIVISIONS) | {"other"},
        "kind": {"incident", "finding", "disposal"},
    }
    for name, pairs, _ in samples:
        for label, value in pairs:
            assert value in allowed[label], (name, label, value)
    for secret in (SAMPLE_ID, "RULE_OF_AN_OLDER_RULES_FILE", "Not A Division", "violence"):
        assert secret not in text


def test_nothing_reviewed_emits_no_sample() -> None:
    text, samples = scrape(None)
    assert samples == []
    assert "# TYPE cdi_audit_rule_precision_ratio gauge" in text  # the families, empty
    # Figures nobody reviewed have no series (an absent series is "not known", 0 would be a value);
    # an unrecorded-crimes count whose accuracy's lower bound is 0 has no upper bound.
    _, samples = scrape(
        estimates(
            blind_spot_rate=NOTHING,
            disposals_appropriate=NOTHING,
            unrecorded_crimes=Count(9000.0, 4000.0, None, 1000),
            rule_precision={"CRD_LATE": NOTHING},
            breakdowns={},
            sample={"reviewed": {"incident": 3}},
        )
    )
    names = {(name, pairs) for name, pairs, _ in samples}
    assert not {name for name, _ in names} & {
        "cdi_audit_blind_spot_ratio",
        "cdi_audit_disposals_appropriate_ratio",
        "cdi_audit_rule_precision_ratio",
        "cdi_audit_recording_accuracy_by_division_ratio",
        "cdi_audit_sample_period_end_timestamp_seconds",
    }
    assert ("cdi_audit_unrecorded_crimes", labels(bound="high")) not in names
    assert ("cdi_audit_unrecorded_crimes", labels(bound="low")) in names
    assert ("cdi_audit_rule_findings_reviewed", labels(rule="CRD_LATE")) in names


def test_several_unknown_names_add_their_counts_but_give_no_pooled_ratio() -> None:
    """Two rules the rules file does not know both become `other`: one series each would collide,
    and an interval pooled over two rules is neither's; their reviewed findings add up."""
    found = estimates(
        rule_precision={
            "CRD_LATE": figure(0.5, 0.25, 0.75, 30, 15),
            "OLD_RULE_A": figure(0.25, 0.125, 0.5, 8, 2),
            "OLD_RULE_B": figure(0.75, 0.5, 0.875, 9, 7),
        },
        breakdowns={
            "division": {
                "East side": {"recording_accuracy": figure(0.5, 0.375, 0.625, 10, 5)},
                "West side": {"recording_accuracy": figure(0.5, 0.375, 0.625, 10, 5)},
            }
        },
    )
    _, samples = scrape(found)
    precision = {pairs for name, pairs, _ in samples if name == "cdi_audit_rule_precision_ratio"}
    assert {dict(pairs)["rule"] for pairs in precision} == {"CRD_LATE"}
    reviewed = {dict(pairs)["rule"]: v for name, pairs, v in samples if name == "cdi_audit_rule_findings_reviewed"}
    assert reviewed == {"CRD_LATE": 30.0, "other": 17.0}
    assert not [s for s in samples if s[0] == "cdi_audit_recording_accuracy_by_division_ratio"]


def test_registering_does_not_read_the_estimates() -> None:
    """Registration takes the names from describe(): latest() (the workbench's database) is read
    at scrape time only."""
    calls = []

    def latest() -> AuditEstimates | None:
        calls.append(1)
        return None

    registry = CollectorRegistry()
    registry.register(AuditCollector(latest, "live", set(RULES), DIVISIONS))
    assert calls == []
    generate_latest(registry)
    assert calls == [1]


def test_promtool_accepts_the_names_and_help() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: install the Debian package prometheus (tests/run.sh does)")
    text, _ = scrape(estimates())
    result = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, check=False)
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), result.stdout + result.stderr
