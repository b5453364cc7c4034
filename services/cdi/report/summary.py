"""What ``write_report`` hands back: the report's headline numbers, for callers and tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cdi.report.compliance import Proportion


@dataclass(frozen=True, slots=True)
class ReportSummary:
    path: Path
    bytes: int
    # Breaches: findings whose assessment is breach (or absent, as before rules 2026.12.1). A
    # resolution whose raise is not in the input counts here: the assessment is on the raise.
    findings_raised: int  # distinct finding ids raised
    findings_resolved: int  # distinct finding ids resolved
    findings_by_rule: dict[str, int]  # raised, by rule
    resolved_by_rule: dict[str, int]
    findings_by_severity: dict[str, int]  # raised, by severity
    findings_by_division: dict[str, int]  # raised, by the finding's division
    # For review (assessment review): the records cannot settle them; counted apart, in no total.
    reviews_raised: int
    reviews_resolved: int
    reviews_by_rule: dict[str, int]
    reviews_resolved_by_rule: dict[str, int]
    reviews_by_severity: dict[str, int]
    reviews_by_division: dict[str, int]
    observations: int | None  # None: made from findings alone
    # Recording compliance: Proportion(recorded + explained, all decisions, low, high).
    compliance_overall: Proportion | None
    compliance_by_division: dict[str, Proportion]
    compliance_by_offence_group: dict[str, Proportion]
    decisions_by_division: dict[str, dict[str, int]]  # division -> result -> count
    # Crimes recorded within 24 hours: Proportion(within, timed crimes, low, high).
    within_24h_overall: Proportion | None
    within_24h_by_division: dict[str, Proportion]
    outcomes_by_division: dict[str, dict[int, int]]  # division -> outcome type -> count
    outcomes_by_offence_group: dict[str, dict[int, int]]
    # Rows whose whole 95% interval is under the benchmark, as "division:NAME",
    # "offence_group:NAME" (recording compliance) or "within_24h:NAME" (timeliness).
    below_benchmark: tuple[str, ...]
