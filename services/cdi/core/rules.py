"""Rule parameters: thresholds, severities and guidance, as loaded from a rules file.

The file format is checked against ``schemas/rules-config.v1.json`` by the loader before it
gets here, so these constructors trust their input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cdi.core.admission import AdmissionBounds
from cdi.core.times import MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE

NOT_CRIMED = "CRIME_INDICATIVE_INCIDENT_NOT_CRIMED"
CRD_LATE = "CRD_LATE"
CLOSE_DOWNGRADE = "CLOSE_CATEGORY_DOWNGRADE"
ONE_CRIME_PER_VICTIM = "ONE_CRIME_PER_VICTIM"
CAUTION_INDICTABLE_ONLY = "CAUTION_INDICTABLE_ONLY"
CAUTION_SPECIFIED_EITHER_WAY = "CAUTION_SPECIFIED_EITHER_WAY"
REPEAT_CAUTION = "REPEAT_CAUTION_2Y"
PND_ELIGIBILITY = "PND_ELIGIBILITY"
CANNABIS_ESCALATION = "CANNABIS_ESCALATION"
CR_INELIGIBLE = "CR_INELIGIBLE"
FAST_UNSUCCESSFUL = "FAST_UNSUCCESSFUL_OUTCOME"
CANCEL_WITHOUT_AVI = "CANCEL_WITHOUT_AVI"
RECLASS_DOWN = "RECLASS_DOWN_NO_REASON"
DISPOSAL_OUTSIDE_FRAMEWORK = "DISPOSAL_OUTSIDE_FRAMEWORK"
# Rules added after the first rules files were written: a file without one takes the default
# section (cdi.rules.load), which raises nothing until the force's settings call for it.
LATER_RULES = (DISPOSAL_OUTSIDE_FRAMEWORK,)

# Out-of-court disposal frameworks ([force] oocd_framework): the national menu (simple and
# conditional cautions, penalty notices, cannabis and khat warnings, community resolutions), or
# the NPCC two-tier model (community resolution and conditional caution only).
NATIONAL, TWO_TIER = "national", "two_tier"


@dataclass(frozen=True, slots=True)
class RuleSettings:
    name: str
    enabled: bool
    severity: str
    severity_by_offence_group: dict[str, str]
    guidance: str
    params: dict[str, Any] = field(default_factory=dict)
    summary: str = ""  # one line for people (the workbench); changes no finding

    def severity_for(self, offence_group: str | None) -> str:
        if offence_group is None:
            return self.severity
        return self.severity_by_offence_group.get(offence_group, self.severity)

    def hours(self, name: str) -> int:
        """A parameter given in hours, as milliseconds."""
        return round(float(self.params[name]) * MS_PER_HOUR)

    def days(self, name: str) -> int:
        """A parameter given in days, as milliseconds."""
        return round(float(self.params[name]) * MS_PER_DAY)


@dataclass(frozen=True, slots=True)
class RulesConfig:
    version: str
    allowed_lateness_ms: int
    case_retention_ms: int
    offender_retention_ms: int
    # A crime with a final decision is kept this long after its latest event ([clock]; see
    # docs/architecture.md "Retention"); one without is kept to the bound after its first event.
    crime_final_margin_ms: int
    crime_retention_max_ms: int
    final_outcome_types: frozenset[int]
    # Per-case size bounds ([limits]): an event that would pass them is rejected (case_too_large).
    max_case_events: int
    max_history_disposals: int
    rules: dict[str, RuleSettings]
    # Divisions with their own metric label; any other is counted as "other" ([force] in the rules file).
    divisions: tuple[str, ...]
    admission: AdmissionBounds
    # The force's out-of-court disposal framework ([force] oocd_framework) and the UTC date it was
    # adopted (oocd_framework_from, ISO; None: throughout). DISPOSAL_OUTSIDE_FRAMEWORK reads them.
    oocd_framework: str = NATIONAL
    oocd_framework_from: str | None = None

    def framework_at(self, day: str) -> str:
        """The out-of-court disposal framework the force used on a UTC date (ISO): two-tier from
        its adoption date on, national before it."""
        if self.oocd_framework == TWO_TIER and (self.oocd_framework_from is None or day >= self.oocd_framework_from):
            return TWO_TIER
        return NATIONAL

    def rule(self, name: str) -> RuleSettings:
        return self.rules[name]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RulesConfig:
        rules = {}
        for name, spec in data["rules"].items():
            params = {
                k: v
                for k, v in spec.items()
                if k not in {"enabled", "severity", "severity_by_offence_group", "guidance", "summary"}
            }
            rules[name] = RuleSettings(
                name=name,
                enabled=spec.get("enabled", True),
                severity=spec["severity"],
                severity_by_offence_group=dict(spec.get("severity_by_offence_group", {})),
                guidance=spec["guidance"],
                params=params,
                summary=spec.get("summary", ""),
            )
        clock, limits, force = data["clock"], data["limits"], data.get("force", {})
        if clock["crime_retention_max_days"] < clock["case_retention_days"]:
            raise ValueError("[clock] crime_retention_max_days must be at least case_retention_days")
        return cls(
            version=data["version"],
            allowed_lateness_ms=round(clock["allowed_lateness_minutes"] * MS_PER_MINUTE),
            case_retention_ms=round(clock["case_retention_days"] * MS_PER_DAY),
            offender_retention_ms=round(clock["offender_retention_days"] * MS_PER_DAY),
            crime_final_margin_ms=round(clock["crime_final_margin_days"] * MS_PER_DAY),
            crime_retention_max_ms=round(clock["crime_retention_max_days"] * MS_PER_DAY),
            final_outcome_types=frozenset(clock["final_outcome_types"]),
            max_case_events=int(limits["max_case_events"]),
            max_history_disposals=int(limits["max_history_disposals"]),
            rules=rules,
            divisions=tuple(force.get("divisions", ())),
            admission=AdmissionBounds.from_dict(data["admission"]),
            oocd_framework=force.get("oocd_framework", NATIONAL),
            oocd_framework_from=force.get("oocd_framework_from"),
        )
