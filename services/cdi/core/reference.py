"""Reference data the rules read: incident codes and Home Office classification codes.

Built from the versioned tables in ``cdi/reference/`` by the loader there; the core only sees
these immutable lookups.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CRIME_INDICATIVE = "crime"
EXPLAINED_CLOSING_CLASSES = frozenset({"non_crime", "sink", "admin"})


@dataclass(frozen=True, slots=True)
class IncidentCode:
    code: str
    description: str
    stage: str  # opening | closing | both
    code_class: str  # crime | crimed | non_crime | sink | admin
    offence_group: str | None

    @property
    def crime_indicative(self) -> bool:
        return self.code_class == CRIME_INDICATIVE


@dataclass(frozen=True, slots=True)
class OffenceCode:
    code: str
    offence: str
    offence_group: str
    mode_of_trial: str  # indictable_only | either_way | summary
    seriousness: int
    victim_based: bool


@dataclass(frozen=True, slots=True)
class OffencePolicy:
    """National guidance attached to a Home Office code (offence_policies.csv)."""

    code: str
    caution_restriction: str | None  # specified_either_way
    pnd_eligible: bool
    pnd_value_limit: float | None
    high_harm: bool
    fast_outcome_watch: bool
    rape: bool
    cannabis: bool


NO_POLICY = OffencePolicy("", None, False, None, False, False, False, False)


@dataclass(frozen=True, slots=True)
class OutcomeType:
    type: int
    name: str
    disposal: str | None  # the disposal it is, as named in offender histories
    out_of_court: bool
    unsuccessful: bool


# Ranks in order of seniority, as the contracts spell them.
RANKS = (
    "staff",
    "constable",
    "sergeant",
    "inspector",
    "chief_inspector",
    "superintendent",
    "chief_superintendent",
    "chief_officer",
)


@dataclass(frozen=True, slots=True)
class ReferenceData:
    version: str
    incident_codes: dict[str, IncidentCode]
    offence_codes: dict[str, OffenceCode]
    policies: dict[str, OffencePolicy] = field(default_factory=dict)
    outcome_types: dict[int, OutcomeType] = field(default_factory=dict)

    def policy(self, code: str | None) -> OffencePolicy:
        return self.policies.get(code, NO_POLICY)

    @staticmethod
    def rank_at_least(rank: str, minimum: str) -> bool:
        return RANKS.index(rank) >= RANKS.index(minimum)

    def incident_code(self, code: str) -> IncidentCode | None:
        return self.incident_codes.get(code)

    def is_crime_indicative(self, code: str) -> bool:
        found = self.incident_codes.get(code)
        return found is not None and found.crime_indicative
