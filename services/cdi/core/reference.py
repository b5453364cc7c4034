"""Reference data the rules read: incident codes and Home Office classification codes.

Built from the versioned tables in ``cdi/reference/`` by the loader there; the core only sees
these immutable lookups.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

CRIME_INDICATIVE = "crime"
EXPLAINED_CLOSING_CLASSES = frozenset({"non_crime", "sink", "admin"})


@dataclass(frozen=True, slots=True)
class IncidentCode:
    code: str
    description: str
    stage: str  # opening | closing | both
    code_class: str  # crime | crimed | non_crime | sink | admin
    offence_group: str | None
    # A crime-indicative code that reports a rape: the report ends only as a crime or an N100
    # record (incident_codes.csv column `rape`; rules-review 1.1 point 2).
    rape: bool = False

    @property
    def crime_indicative(self) -> bool:
        return self.code_class == CRIME_INDICATIVE


@dataclass(frozen=True, slots=True)
class OffenceCode:
    code: str
    offence: str
    offence_group: str
    mode_of_trial: str  # indictable_only | either_way | summary | mixed (a class holding indictable-only offences too)
    seriousness: int
    victim_based: bool


@dataclass(frozen=True, slots=True)
class OffencePolicy:
    """National guidance attached to a Home Office code (offence_policies.csv)."""

    code: str
    caution_restriction: str | None  # specified_either_way: a class SI 2015/790 lists (specified_either_way.csv)
    pnd_eligible: bool
    pnd_value_limit: float | None
    high_harm: bool
    fast_outcome_watch: bool
    rape: bool
    cannabis: bool


NO_POLICY = OffencePolicy("", None, False, None, False, False, False, False)

# Conditions of a specified either-way offence (specified_either_way.csv): none, a Class A drug,
# a victim under 16 (no record field gives it), or one offence among others of its class.
SPECIFIED_CONDITIONS = ("", "class_a", "victim_under_16", "offence_within_class")


@dataclass(frozen=True, slots=True)
class SpecifiedOffence:
    """One row of SI 2015/790's Schedule (specified_either_way.csv): an either-way offence for
    which an adult simple caution needs exceptional circumstances (CJCA 2015 s17(3)). Dates are
    ISO dates compared with UTC dates: the caution's for the order's force, the offence's for
    ``committed_before``."""

    item: str  # schedule item; empty where the stored copy could not be read
    enactment: str
    provision: str
    offence: str
    hocr_codes: tuple[str, ...]
    condition: str  # one of SPECIFIED_CONDITIONS
    committed_before: str | None  # only offences committed before this date
    in_force_from: str
    in_force_to: str | None = None

    def applies(self, cautioned_on: str, committed_on: str) -> bool:
        """Whether the row judges a caution given on ``cautioned_on`` for an offence of
        ``committed_on`` (both ISO dates)."""
        in_force = self.in_force_from <= cautioned_on and (self.in_force_to is None or cautioned_on < self.in_force_to)
        return in_force and (self.committed_before is None or committed_on < self.committed_before)

    @property
    def law(self) -> str:
        return f"{self.enactment} {self.provision}"


def specified_offences(rows: Iterable[Mapping[str, str]]) -> tuple[SpecifiedOffence, ...]:
    """The rows of specified_either_way.csv, checked: a known condition, ISO dates."""
    out = []
    for row in rows:
        dates = [row["in_force_from"], row["in_force_to"], row["committed_before"]]
        if row["condition"] not in SPECIFIED_CONDITIONS or not all(_iso_date(d) for d in dates if d):
            raise ValueError(f"specified either-way offences: bad condition or date in {dict(row)}")
        out.append(
            SpecifiedOffence(
                row["item"],
                row["enactment"],
                row["provision"],
                row["offence"],
                tuple(row["hocr_codes"].split()),
                row["condition"],
                row["committed_before"] or None,
                row["in_force_from"],
                row["in_force_to"] or None,
            )
        )
    return tuple(out)


def _iso_date(text: str) -> bool:
    return len(text) == 10 and text[4] == text[7] == "-" and text.replace("-", "").isdigit()


@dataclass(frozen=True, slots=True)
class OutcomeType:
    type: int
    name: str
    disposal: str | None  # the disposal it is, as named in offender histories
    out_of_court: bool
    unsuccessful: bool


# Who may authorise a cancellation (cancellation_authority.csv, docs/rules.md CANCEL_WITHOUT_AVI):
# by Section C code, offence gravity and the rules edition in force on the cancellation's date.
CANCELLATION_CODES = ("C1", "C2", "C3", "C4", "C5")
GRAVITIES = ("rape", "serious", "other")


@dataclass(frozen=True, slots=True)
class AuthorityEdition:
    """One rules edition: in force from ``effective_from`` (an ISO date, compared with the event's
    UTC date) until the next edition starts; ``roles`` maps (code, gravity) to the roles that may
    authorise that cancellation."""

    name: str
    effective_from: str
    title: str
    roles: dict[tuple[str, str], frozenset[str]]


@dataclass(frozen=True, slots=True)
class CancellationAuthority:
    editions: tuple[AuthorityEdition, ...] = ()  # oldest first

    def edition_at(self, day: str) -> AuthorityEdition:
        """The edition in force on a UTC date (ISO): the latest to have started by then. A date
        before every edition is judged by the oldest (the monitor holds no earlier one)."""
        current = self.editions[0]
        for edition in self.editions:
            if edition.effective_from <= day:
                current = edition
        return current

    def with_overrides(
        self, rows: Iterable[Mapping[str, Any]], starts: Mapping[str, str], titles: Mapping[str, str] | None = None
    ) -> CancellationAuthority:
        """The table with a force's changes from its rules file. ``starts`` moves an edition's start
        date or adds an edition, which begins as a copy of the edition in force before it; each
        row then sets the roles for its codes and gravities in its edition."""
        tables = {e.name: dict(e.roles) for e in self.editions}
        dates = {e.name: e.effective_from for e in self.editions}
        names = {e.name: e.title for e in self.editions} | dict(titles or {})
        for name, day in starts.items():
            if name not in tables:
                tables[name] = dict(self.edition_at(day).roles)
            dates[name] = day
        for row in rows:
            if row["edition"] not in tables:
                raise ValueError(
                    f"cancellation authority: edition {row['edition']!r} is neither in the reference table "
                    f"({', '.join(sorted(dates))}) nor given a start date"
                )
            for code in row["codes"]:
                for gravity in row["gravities"]:
                    tables[row["edition"]][(code, gravity)] = frozenset(row["roles"])
        return _authority({name: (dates[name], names.get(name, name), roles) for name, roles in tables.items()})


def cancellation_authority(
    rows: Iterable[Mapping[str, str]], titles: Mapping[str, str] | None = None
) -> CancellationAuthority:
    """The cancellation authority table from the rows of cancellation_authority.csv (edition,
    effective_from, code, gravity, roles separated by spaces); every edition must give every
    code and gravity."""
    editions: dict[str, tuple[str, str, dict[tuple[str, str], frozenset[str]]]] = {}
    for row in rows:
        name, day = row["edition"], row["effective_from"]
        _, _, roles = editions.setdefault(name, (day, (titles or {}).get(name, name), {}))
        if editions[name][0] != day:
            raise ValueError(f"cancellation authority: edition {name} has two start dates")
        if row["code"] not in CANCELLATION_CODES or row["gravity"] not in GRAVITIES:
            raise ValueError(f"cancellation authority: unknown code or gravity in {dict(row)}")
        key = (row["code"], row["gravity"])
        if key in roles or not row["roles"].split():
            raise ValueError(f"cancellation authority: {name} {key} is given twice or with no role")
        roles[key] = frozenset(row["roles"].split())
    return _authority(editions)


def _authority(editions: Mapping[str, tuple[str, str, dict[tuple[str, str], frozenset[str]]]]) -> CancellationAuthority:
    built = sorted(
        (AuthorityEdition(name, day, title, roles) for name, (day, title, roles) in editions.items()),
        key=lambda e: e.effective_from,
    )
    if not built or len({e.effective_from for e in built}) != len(built):
        raise ValueError("cancellation authority: no edition, or two editions starting on one day")
    for edition in built:
        missing = {(c, g) for c in CANCELLATION_CODES for g in GRAVITIES} - edition.roles.keys()
        if missing:
            raise ValueError(f"cancellation authority: edition {edition.name} lacks {sorted(missing)}")
    return CancellationAuthority(tuple(built))


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
    cancellation_authority: CancellationAuthority = field(default_factory=CancellationAuthority)
    specified_offences: tuple[SpecifiedOffence, ...] = ()  # SI 2015/790 (specified_either_way.csv)

    def policy(self, code: str | None) -> OffencePolicy:
        return self.policies.get(code, NO_POLICY)

    def specified(self, code: str | None, cautioned_on: str, committed_on: str) -> tuple[SpecifiedOffence, ...]:
        """The SI 2015/790 rows that judge a simple caution for ``code`` given on ``cautioned_on``
        for an offence committed on ``committed_on`` (ISO dates), whatever their condition."""
        if code is None:
            return ()
        return tuple(
            row for row in self.specified_offences if code in row.hocr_codes and row.applies(cautioned_on, committed_on)
        )

    @staticmethod
    def rank_at_least(rank: str, minimum: str) -> bool:
        return RANKS.index(rank) >= RANKS.index(minimum)

    def incident_code(self, code: str) -> IncidentCode | None:
        return self.incident_codes.get(code)

    def is_crime_indicative(self, code: str) -> bool:
        found = self.incident_codes.get(code)
        return found is not None and found.crime_indicative
