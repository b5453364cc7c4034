"""Decisions on the crime record after recording: reclassifications and cancellations.

Each recorded crime becomes a :class:`CrimeCase` that keeps its classification timeline, its
cancellation and its outcome, so the ground truth can ask what the crime was "as of" any time
(docs/rules.md: the recorded code with every reclassification at or before t applied).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from cdi import rules
from cdi.core.decisions import VICTIM_INFORMED_GROUPS, authority_with_rules, gravity_of
from cdi.core.reference import CancellationAuthority
from cdi.core.times import MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE, utc_date
from cdi.simulation.calibration import Casework
from cdi.simulation.codes import OffenceCode, ReferenceData
from cdi.simulation.crimes import CrimePlan
from cdi.simulation.extract import TimedEvent, envelope
from cdi.simulation.incidents import delay

if TYPE_CHECKING:
    from cdi.simulation.outcomes import Outcome

T = TypeVar("T")
REGISTRAR_ROLES = ("designated_decision_maker", "force_crime_registrar")
OTHER_ROLES = ("investigator", "supervisor", "call_handler", "other")

# Plausible reclassifications (assumed): code -> codes it may become as the facts firm up. Every
# pair keeps victim_based (checked in `_check_moves`), so a reclassification never changes how
# many victims an incident's crimes count for. Equal seriousness (58A <-> 58D) is neither up nor down.
RECLASSIFICATIONS: dict[str, tuple[str, ...]] = {
    "105A": ("8N",),
    "8N": ("105A", "8F"),
    "8F": ("8N", "5D"),
    "5D": ("8F",),
    "105B": ("8P",),
    "8P": ("105B",),
    "8L": ("8Q",),
    "8Q": ("8L",),
    "3B": ("8L",),
    "20A": ("19C",),
    "17A": ("19F",),
    "19C": ("20A",),
    "19D": ("20A",),
    "19F": ("17A",),
    "34B": ("39",),
    "34A": ("49",),
    "39": ("34B", "49"),
    "28E": ("28F", "49"),
    "28F": ("28E",),
    "28G": ("28E",),
    "29A": ("28E",),
    "30C": ("30D",),
    "30D": ("30C",),
    "49": ("46", "39"),
    "46": ("49",),
    "48": ("49",),
    "44": ("49",),
    "58A": ("58D", "56B"),
    "58B": ("58D",),
    "58C": ("58D",),
    "58D": ("58A",),
    "58J": ("58D",),
    "56A": ("56B",),
    "56B": ("56A",),
    "92A": ("92D",),
    "92D": ("92E", "92A"),
    "92E": ("92D",),
    "9A": ("9B", "62A"),
    "9B": ("9A",),
    "62A": ("9A",),
}
DOWN_REASONS = (
    "Further evidence shows a less serious offence",
    "Medical evidence shows no serious injury",
    "Victim clarified the account in interview",
    "Forensic results received",
    "Witness statements do not support the original classification",
)
UP_REASONS = (
    "Further evidence shows a more serious offence",
    "Medical report received",
    "Victim disclosed further detail in interview",
    "Forensic results received",
)
# A downgrade in breach: no reason (None or blank), a non-registrar role, or both (weights).
# Whitespace-only reasons are not generated: rules.md says "null or blank" without defining blank.
DOWN_BREACHES = (("none", 35), ("empty", 15), ("role", 35), ("both", 15))

CANCELLATION_CODES = (("C2", 45), ("C3", 25), ("C4", 15), ("C1", 10), ("C5", 5))
CANCEL_REASONS: dict[str, tuple[str | None, ...]] = {
    "C1": ("Offence committed in another force area; transferred",),
    "C2": (
        "CCTV shows no offence took place",
        "Property found, not stolen; owner confirmed",
        "Additional verifiable information shows no notifiable offence",
    ),
    "C3": ("Duplicate of an existing crime record", None),
    "C4": ("Recorded in error: the matter is a civil dispute", "Recorded in error"),
    "C5": ("Witness evidence shows the suspect acted in self-defence",),
}
# Reasons that are no ground for cancelling (rules.md CANCEL_WITHOUT_AVI's default phrases, in
# mixed case: the match is case-insensitive).
NO_GROUND_REASONS = (
    "Victim does not wish to support police action",
    "NO COMPLAINT made by the victim",
    "Victim withdrew support for a prosecution",
    "victim withdrew the allegation",
    "Victim Declined To Support an investigation",
    "No complaint",
)
# Lawful reasons that hold a phrase anyway: the monitor asks for a review of them (rules-review 1.12
# point 6), so they are drawn as deliberate cases, never by honest decision makers.
LAWFUL_PHRASE_REASONS = (
    "Victim does not wish to support, but CCTV shows no offence took place",
    "No complaint of theft: the owner confirmed the property was lent",
)
# A cancellation in breach (weights): no AVI; a role the cancellation authority table does not
# allow for the code, the offence's gravity and the edition in force (for rape records, neither
# the DDM nor the registrar); a reason that is no ground; the victim of a sexual offence,
# violence or robbery not told; a lawful reason holding a phrase (a review finding).
CANCEL_BREACHES = (
    ("no_avi", 20),
    ("role", 25),
    ("reason", 20),
    ("reason_and_role", 10),
    ("victim", 20),
    ("lawful_phrase", 5),
)
# Who authorises a lawful cancellation, among the roles the table allows (weights): the
# supervisor and crime-management staff (crime_management) only where an edition lets them.
CRIME_MANAGEMENT = "crime_management"
LAWFUL_ROLES = (
    ("designated_decision_maker", 45),
    ("force_crime_registrar", 15),
    ("supervisor", 30),
    (CRIME_MANAGEMENT, 10),
)
# Roles a cancellation in breach may name: crime-management staff where the table does not let
# them (a C2, a rape record, before the 2023 edition), and "other", which older records gave
# them (a review where crime_management would be allowed). Not drawn for reclassifications.
ALL_ROLES = REGISTRAR_ROLES + OTHER_ROLES + (CRIME_MANAGEMENT,)
# Whether an honest cancellation records that the victim was told (weights); None: the source
# does not say. Told False only where the rules do not require it (not a watched group).
VICTIM_TOLD = ((True, 80), (None, 12), (False, 8))


@dataclass(frozen=True, slots=True)
class Reclassification:
    at: int
    event_id: str
    from_code: str
    to_code: str
    reason: str | None
    role: str
    intended: bool = False  # deliberately in breach


@dataclass(frozen=True, slots=True)
class Cancellation:
    at: int
    code: str
    avi: bool
    role: str
    reason: str | None
    intended: bool  # deliberately in breach
    victim_informed: bool | None = None  # None: the source does not say


@dataclass(slots=True)
class CrimeCase:
    """A recorded crime and what was decided on it afterwards."""

    crime: CrimePlan
    domestic: bool
    reclassifications: list[Reclassification] = field(default_factory=list)
    cancellation: Cancellation | None = None
    outcome: Outcome | None = None

    def code_at(self, t: int) -> str:
        """The HOCR code as of t: every reclassification at or before t, in (time, event id) order."""
        code = self.crime.hocr.code
        for move in sorted(self.reclassifications, key=lambda m: (m.at, m.event_id)):
            if move.at <= t:
                code = move.to_code
        return code

    def events(self, force: str) -> list[TimedEvent]:
        crime, out = self.crime, []
        for move in self.reclassifications:
            payload = {
                "crime_id": crime.crime_id,
                "from_code": move.from_code,
                "to_code": move.to_code,
                "reason": move.reason,
                "role": move.role,
            }
            out.append(envelope(move.event_id, "crime.reclassified", move.at, force, crime.division, payload))
        if (c := self.cancellation) is not None:
            payload = {
                "crime_id": crime.crime_id,
                "cancellation_code": c.code,
                "avi_recorded": c.avi,
                "authoriser_role": c.role,
                "reason": c.reason,
                "victim_informed": c.victim_informed,
            }
            out.append(envelope(f"{crime.crime_id}.cancelled", "crime.cancelled", c.at, force, crime.division, payload))
        return out


def _weighted(rng: random.Random, options: tuple[tuple[T, int], ...]) -> T:
    return rng.choices([name for name, _ in options], weights=[w for _, w in options])[0]


class DecisionPlanner:
    """Draws each crime's reclassifications and cancellation; one instance per run."""

    def __init__(
        self,
        rng: random.Random,
        casework: Casework,
        reference: ReferenceData,
        reclass_down_rate: float,
        cancel_rate: float,
    ) -> None:
        self.rng = rng
        self.casework = casework
        self.reference = reference
        self.reclass_down_rate = reclass_down_rate
        self.cancel_rate = cancel_rate
        self.authority, self.rape_roles, self.victim_groups = _cancel_rules(reference)
        # How each cancellation is made is drawn from a stream of its own, seeded from the run's
        # (its state, not a draw), so the other decisions' draws do not depend on it.
        self.cancel_rng = random.Random(f"cancellations {rng.getstate()!r}")
        _check_moves(reference)

    def plan(self, case: CrimeCase) -> None:
        rng, cw = self.rng, self.casework
        recorded = case.crime.recorded_at
        code = case.crime.hocr.code
        if code in RECLASSIFICATIONS and rng.random() < cw.reclassified_share:
            at = recorded + delay(rng, 30 * MS_PER_MINUTE, 30 * MS_PER_DAY, 2 * MS_PER_DAY)
            case.reclassifications.append(self._move(case, at, code, 1))
            if rng.random() < cw.second_reclassification_share:
                later = at + delay(rng, MS_PER_HOUR, 20 * MS_PER_DAY, 3 * MS_PER_DAY)
                case.reclassifications.append(self._move(case, later, case.reclassifications[0].to_code, 2))
        rape = self.reference.policy(code).rape
        if rng.random() < (cw.rape_cancelled_share if rape else cw.cancelled_share):
            at = recorded + delay(rng, MS_PER_HOUR, 60 * MS_PER_DAY, 5 * MS_PER_DAY)
            # Nothing is decided on a cancelled record afterwards.
            case.reclassifications = [m for m in case.reclassifications if m.at < at]
            case.cancellation = self._cancel(case, at)

    def _move(self, case: CrimeCase, at: int, from_code: str, n: int) -> Reclassification:
        rng, codes = self.rng, self.reference.offence_codes
        to_code = rng.choice(RECLASSIFICATIONS[from_code])
        event_id = f"{case.crime.crime_id}.reclassified.{n}"
        down = codes[to_code].seriousness < codes[from_code].seriousness
        if not down:  # up or sideways: any role, sometimes no reason (no rule applies)
            reason = rng.choice((*UP_REASONS, None))
            return Reclassification(at, event_id, from_code, to_code, reason, rng.choice(REGISTRAR_ROLES + OTHER_ROLES))
        if rng.random() < self.reclass_down_rate:
            kind = _weighted(rng, DOWN_BREACHES)
            reason = {"none": None, "empty": ""}.get(kind, rng.choice(DOWN_REASONS))
            if kind == "both":
                reason = rng.choice((None, ""))
            role = rng.choice(OTHER_ROLES) if kind in ("role", "both") else rng.choice(REGISTRAR_ROLES)
            return Reclassification(at, event_id, from_code, to_code, reason, role, intended=True)
        return Reclassification(at, event_id, from_code, to_code, rng.choice(DOWN_REASONS), rng.choice(REGISTRAR_ROLES))

    def _cancel(self, case: CrimeCase, at: int) -> Cancellation:
        rng = self.cancel_rng
        code = _weighted(rng, CANCELLATION_CODES)
        reason = rng.choice(CANCEL_REASONS[code])
        offence = self.reference.offence_codes[case.code_at(at)]
        lawful = self._lawful_roles(offence, code, at)
        role = _weighted(rng, tuple((name, w) for name, w in LAWFUL_ROLES if name in lawful))
        avi = code in ("C2", "C5")
        watched = offence.offence_group in self.victim_groups
        told = _weighted(rng, tuple((value, w) for value, w in VICTIM_TOLD if not (watched and value is False)))
        if rng.random() >= self.cancel_rate:
            return Cancellation(at, code, avi, role, reason, False, told)
        kind = _weighted(rng, CANCEL_BREACHES)
        if kind == "victim" and not watched:
            kind = "no_avi"  # no duty to tell this victim: breach another way
        if kind == "no_avi":
            code, avi, reason = "C2", False, rng.choice(CANCEL_REASONS["C2"])
        if kind in ("role", "reason_and_role"):
            lawful = self._lawful_roles(offence, code, at)
            role = rng.choice([name for name in ALL_ROLES if name not in lawful])
        if kind in ("reason", "reason_and_role"):
            reason = rng.choice(NO_GROUND_REASONS)
        if kind == "lawful_phrase":
            reason = rng.choice(LAWFUL_PHRASE_REASONS)
        if kind == "victim":
            told = False
        return Cancellation(at, code, avi, role, reason, True, told)

    def _lawful_roles(self, offence: OffenceCode, code: str, at: int) -> frozenset[str]:
        """Who may authorise this cancellation: the cancellation authority table for the offence's
        gravity in the edition in force at ``at``, and for rape also the rules' rape roles."""
        gravity = gravity_of(self.reference, offence)
        allowed = self.authority.edition_at(utc_date(at)).roles[(code, gravity)]
        return allowed & self.rape_roles if gravity == "rape" else allowed


def _cancel_rules(reference: ReferenceData) -> tuple[CancellationAuthority, frozenset[str], frozenset[str]]:
    """The default rules' cancellation authority (the reference table with the rules file's
    changes), rape roles and offence groups whose victims must be told."""
    params = rules.load().rule("CANCEL_WITHOUT_AVI").params
    return (
        authority_with_rules(params, reference.cancellation_authority),
        frozenset(params["rape_roles"]),
        frozenset(params.get("victim_informed_groups", VICTIM_INFORMED_GROUPS)),
    )


def _check_moves(reference: ReferenceData) -> None:
    codes = reference.offence_codes
    for source, targets in RECLASSIFICATIONS.items():
        for target in targets:
            if codes[source].victim_based != codes[target].victim_based:
                raise ValueError(f"reclassification {source} -> {target} changes victim_based")
