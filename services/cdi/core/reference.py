"""Reference data the rules read: incident codes and Home Office classification codes.

Built from the versioned tables in ``cdi/reference/`` by the loader there; the core only sees
these immutable lookups.
"""

from __future__ import annotations

from dataclasses import dataclass

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
class ReferenceData:
    version: str
    incident_codes: dict[str, IncidentCode]
    offence_codes: dict[str, OffenceCode]

    def incident_code(self, code: str) -> IncidentCode | None:
        return self.incident_codes.get(code)

    def is_crime_indicative(self, code: str) -> bool:
        found = self.incident_codes.get(code)
        return found is not None and found.crime_indicative
