"""Audit: what reviewers found in the latest audit sample (docs/audit.md), with 95% intervals:
recording accuracy, the monitor's blind spot, disposals, each rule's precision against the floor
of CDIRulePrecisionLow, and recording accuracy by division.

Fed by the case workbench's /metrics (`cdi serve`, cdi.workbench.audit_metrics), not by the
workers: the panels are empty until the workbench has an audit sample with verdicts."""

from __future__ import annotations

from .panels import (
    COUNT,
    DIVISION,
    PERCENT,
    PIPELINE,
    Board,
    Line,
    Query,
    division_variable,
    interval_band,
    interval_table,
    single_stat,
    time_series,
)

UID = "cdi-audit"
TITLE = "CDI Monitor — Audit"
FILENAME = "audit.json"

#: The floor of a rule's precision, drawn on the precision panels: CDIRulePrecisionLow fires when
#: a rule's upper bound is below it ([benchmarks] rule_precision_min of
#: deploy/prometheus/alerting.toml; tests/deploy/test_alerting.py checks they agree).
RULE_PRECISION_FLOOR = 0.80

# The estimates change only when reviewers record verdicts, so a long range shows one sample's
# figures as a flat step and the next sample's as a new one.
RANGE = "now-90d"


def build() -> Board:
    board = Board(
        uid=UID,
        title=TITLE,
        description=(
            "What reviewers found in the latest audit sample with verdicts: recording accuracy, the crimes "
            "the rules cannot see, out-of-court disposals and each rule's precision, with 95% intervals. "
            "From the case workbench's metrics; empty until a sample has verdicts."
        ),
        time_from=RANGE,
        refresh="5m",
        variables=[division_variable("cdi_audit_recording_accuracy_by_division_ratio")],
    )
    board.row("Latest audit sample")
    board.add(
        single_stat(
            "Audit sample period ended",
            "When the period the latest audit sample was drawn from ended: how old the evidence behind "
            "every figure on this dashboard is. The estimates describe that period, not today; draw a "
            "new sample when the practice or the rules have changed since.",
            [Query(f"max(cdi_audit_sample_period_end_timestamp_seconds{{{PIPELINE}}}) * 1000")],
            steps=[(None, "blue")],
            unit="dateTimeFromNow",
        ),
        single_stat(
            "Items reviewed by kind",
            "Items of the latest audit sample with a verdict: incidents (recording accuracy, blind spot), "
            "findings (rule precision) and out-of-court disposals. The more reviewed, the narrower the "
            "intervals; a kind with none reviewed has no figure.",
            [Query(f"sum by (kind) (cdi_audit_items_reviewed{{{PIPELINE}}})", "{{kind}}")],
            steps=[(None, "blue")],
        ),
        single_stat(
            "Unrecorded crimes in the period",
            "Crimes estimated to have gone unrecorded in the sample's period, with the bounds of the "
            "95% interval: the period's recorded crimes scaled by the estimated recording accuracy "
            "(HMIC's extrapolation). It assumes crimes reported by other routes are recorded as accurately.",
            [
                Query(f'max(cdi_audit_unrecorded_crimes{{bound="low", {PIPELINE}}})', "95% low"),
                Query(f'max(cdi_audit_unrecorded_crimes{{bound="estimate", {PIPELINE}}})', "estimate"),
                Query(f'max(cdi_audit_unrecorded_crimes{{bound="high", {PIPELINE}}})', "95% high"),
            ],
            steps=[(None, "blue")],
            unit=COUNT,
        ),
    )
    board.row("Recording accuracy and blind spot")
    board.add(
        interval_band(
            "Recording accuracy with its 95% interval",
            "Of the crimes the reviewers judged should have been recorded, the share recorded within the "
            "deadline: the inspectors' measure. The line is the estimate, the shaded band its 95% interval; "
            "a narrow band needs many incidents reviewed.",
            "cdi_audit_recording_accuracy_ratio",
        ),
        interval_band(
            "Blind-spot rate with its 95% interval",
            "Of the crimes that should have been recorded and were not, the share on which the monitor "
            "raised no finding: unrecorded crime only an audit finds (a crime in a call's narrative, a wrong "
            "rationale). The line is the estimate, the band its 95% interval.",
            "cdi_audit_blind_spot_ratio",
        ),
        interval_band(
            "Disposals appropriate with its 95% interval",
            "Share of the reviewed out-of-court disposals (cautions, penalty notices, cannabis warnings, "
            "community resolutions) the reviewers judged appropriate. The line is the estimate, the band "
            "its 95% interval.",
            "cdi_audit_disposals_appropriate_ratio",
        ),
        interval_table(
            "Recording accuracy by division",
            "Recording accuracy within each division of the selected ones, with its 95% interval, lowest "
            "upper bound first. Small divisions have wide intervals: compare the bands, not the estimates. "
            "A division the rules configuration does not list shows as other.",
            "cdi_audit_recording_accuracy_by_division_ratio",
            by="division",
            column="Division",
            matchers=DIVISION,
        ),
    )
    board.row("Rule precision")
    board.add(
        interval_table(
            "Rule precision, latest sample",
            "Share of each rule's reviewed findings the reviewers confirmed as breaches, with its 95% "
            f"interval and the findings reviewed. The upper bound is red below the {RULE_PRECISION_FLOOR:.0%} "
            "floor: with enough findings reviewed, CDIRulePrecisionLow then fires and the rule's findings "
            "should be read before they are relied on.",
            "cdi_audit_rule_precision_ratio",
            by="rule",
            column="Rule",
            count=("Findings reviewed", f"max by (rule) (cdi_audit_rule_findings_reviewed{{{PIPELINE}}})"),
            floor=RULE_PRECISION_FLOOR,
        ),
        time_series(
            "Rule precision, upper bound of the 95% interval",
            "The upper bound of each rule's precision interval over time, the figure CDIRulePrecisionLow "
            f"reads. The dashed line is the {RULE_PRECISION_FLOOR:.0%} floor: a rule below it is confirmed "
            "less often than the floor with 95% confidence. Steps mark new verdicts or a new sample.",
            [Query(f'max by (rule) (cdi_audit_rule_precision_ratio{{bound="high", {PIPELINE}}})', "{{rule}}")],
            unit=PERCENT,
            max_value=1,
            line=Line(RULE_PRECISION_FLOOR, below="red", above="green"),
            legend_table=True,
            lowest_first=True,
        ),
    )
    return board
