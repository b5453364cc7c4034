"""Offenders: pseudonymous people with an age and a national-record history of prior disposals.

Each offender's number of previous convictions and cautions is drawn from the MoJ distribution
for the offence group and age group of the crime they are first a suspect for
(:mod:`cdi.simulation.criminal_history`); the disposals are then spread over their offending
years. All prior disposals are dated before the run's first day, so the ``offender.history``
snapshot (taken before the offender's first outcome) lists them all and the monitor's own view of
the history equals the simulator's.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from cdi.simulation.calibration import Casework
from cdi.simulation.codes import ReferenceData
from cdi.simulation.crimes import HATE_HOCR, HOCR_MIX, victim_ref
from cdi.simulation.criminal_history import CriminalHistory
from cdi.simulation.extract import TimedEvent, envelope

if TYPE_CHECKING:
    from cdi.simulation.outcomes import Outcome

# Ages (assumed): juveniles 10-17 with weights rising to 17; adults by band, uniform within.
JUVENILE_AGES = ((10, 1), (11, 2), (12, 4), (13, 7), (14, 11), (15, 16), (16, 22), (17, 27))
ADULT_AGE_BANDS = ((18, 20, 12), (21, 24, 14), (25, 29, 17), (30, 39, 28), (40, 49, 17), (50, 59, 9), (60, 79, 3))
# Of the convictions/cautions an adult gets, (adult caution, conditional caution, conviction)
# weights by band: cautions give way to convictions as a record grows (assumed).
ADULT_KINDS = {0: (45, 10, 45), 1: (40, 10, 50), 2: (25, 10, 65), 3: (12, 6, 82), 4: (8, 4, 88), 5: (5, 3, 92)}
JUVENILE_KINDS = (("youth_caution", 60), ("conviction", 40))
# Informal disposals (not counted by MoJ: penalty notices, cannabis warnings, community
# resolutions) per offender: count weights 0..3, dated within INFORMAL_YEARS of the first day.
INFORMAL_COUNTS = (55, 25, 12, 8)
INFORMAL_COUNTS_DRUGS = (35, 30, 20, 15)  # cannabis users collect warnings
INFORMAL_YEARS = 3
# Offence groups of prior disposals other than the current group (assumed mix).
OTHER_GROUPS = (
    ("theft", 30),
    ("violence_against_the_person", 20),
    ("drug_offences", 15),
    ("public_order_offences", 10),
    ("criminal_damage_and_arson", 10),
    ("burglary", 5),
    ("possession_of_weapons", 5),
    ("miscellaneous", 5),
)
SAME_GROUP_SHARE = 0.5
NO_HOCR_SHARE = 0.3  # older national records often carry no Home Office code
# Informal disposals by kind: (kind, offence group, HOCR code) options.
INFORMAL_OPTIONS = {
    "cannabis_warning": (("drug_offences", "92E"),),
    "penalty_notice": (
        ("theft", "46"),
        ("criminal_damage_and_arson", "58C"),
        ("public_order_offences", "9A"),
        ("drug_offences", "92E"),
    ),
    "community_resolution": (
        ("theft", "46"),
        ("violence_against_the_person", "105A"),
        ("criminal_damage_and_arson", "58A"),
        ("public_order_offences", "9A"),
    ),
}


@dataclass(frozen=True, slots=True)
class Disposal:
    kind: str  # offender.history disposal enum
    offence_group: str
    hocr_code: str | None
    day: date


@dataclass(slots=True)
class Offender:
    ref: str
    age: int
    offence_group: str  # of the crime the band was drawn for
    band: int
    priors: list[Disposal]  # dated before the run's first day, oldest first
    snapshot_at: int | None = None  # set at the offender's first outcome in the extract
    snapshot_division: str = ""
    late_snapshot: bool = False  # taken minutes before the outcome, delivered after it
    cases: int = 0  # suspect cases planned for this offender
    outcomes: list[Outcome] = field(default_factory=list)  # decided outcomes, in time order

    @property
    def juvenile(self) -> bool:
        return self.age < 18

    @property
    def event_id(self) -> str:
        return f"{self.ref}.history"

    def history_event(self, force: str) -> TimedEvent:
        assert self.snapshot_at is not None
        disposals = [
            {
                "disposal": d.kind,
                "offence_group": d.offence_group,
                "hocr_code": d.hocr_code,
                "disposed_on": d.day.isoformat(),
            }
            for d in sorted(self.priors, key=lambda d: (d.day, d.kind, d.offence_group))
        ]
        payload = {"offender_ref": self.ref, "disposals": disposals}
        return envelope(self.event_id, "offender.history", self.snapshot_at, force, self.snapshot_division, payload)


class OffenderPool:
    """Creates offenders, and hands prolific ones a further case now and then."""

    def __init__(
        self,
        rng: random.Random,
        history: CriminalHistory,
        casework: Casework,
        reference: ReferenceData,
        start_ms: int,
    ) -> None:
        self.rng = rng
        self.history = history
        self.casework = casework
        self.first_day = datetime.fromtimestamp(start_ms / 1000, tz=UTC).date()
        self.offenders: list[Offender] = []
        self.by_group: dict[str, list[Offender]] = {}
        self.refs: set[str] = set()
        self.codes_by_group: dict[str, tuple[str, ...]] = {}
        # Prior disposals name the offences this force records (not every code of the table: a
        # caution for murder on a shoplifter's record would be noise), in the table's order.
        recorded = {code for mix in HOCR_MIX.values() for code, _ in mix} | {c for cs in HATE_HOCR.values() for c in cs}
        for code in reference.offence_codes.values():
            self.codes_by_group.setdefault(code.offence_group, ())
            if code.code in recorded:
                self.codes_by_group[code.offence_group] += (code.code,)

    def suspect(self, offence_group: str) -> Offender:
        """The suspect of a new case: now and then someone already in the run for the same group."""
        known = self.by_group.get(offence_group)
        if known and self.rng.random() < self.casework.repeat_offender_share:
            offender = self.rng.choice(known)
        else:
            offender = self._new(offence_group)
        offender.cases += 1
        return offender

    def _new(self, offence_group: str) -> Offender:
        rng = self.rng
        juvenile = rng.random() < self.history.juvenile_share(offence_group)
        if juvenile:
            age = rng.choices([a for a, _ in JUVENILE_AGES], weights=[w for _, w in JUVENILE_AGES])[0]
        else:
            low, high, _ = rng.choices(ADULT_AGE_BANDS, weights=[w for *_, w in ADULT_AGE_BANDS])[0]
            age = rng.randint(low, high)
        band = self.history.draw_band(rng, offence_group, juvenile)
        ref = victim_ref(rng)
        while ref in self.refs:  # 48 random bits: a clash is all but impossible, but must not merge people
            ref = victim_ref(rng)
        self.refs.add(ref)
        offender = Offender(ref, age, offence_group, band, self._priors(age, band, offence_group))
        self.offenders.append(offender)
        self.by_group.setdefault(offence_group, []).append(offender)
        return offender

    # -- prior disposals -------------------------------------------------------------------------

    def _priors(self, age: int, band: int, group: str) -> list[Disposal]:
        rng, last = self.rng, self.first_day - timedelta(days=1)
        count = CriminalHistory.draw_count(rng, band)
        # Offending years: from a first disposal (at 10-17 for juveniles, 14-30 for adults) up to
        # the day before the run.
        first_age = rng.randint(10, age) if age < 18 else rng.randint(14, min(age, 30))
        career_days = max(0, (age - first_age) * 365 + rng.randrange(365))
        priors = []
        for _ in range(count):
            day = last - timedelta(days=rng.randint(0, career_days))
            age_then = age - (last - day).days // 365
            priors.append(Disposal(self._formal_kind(age_then, band), *self._offence(group), day))
        informal = INFORMAL_COUNTS_DRUGS if group == "drug_offences" else INFORMAL_COUNTS
        for _ in range(rng.choices(range(len(informal)), weights=informal)[0]):
            day = last - timedelta(days=rng.randint(0, min(career_days, INFORMAL_YEARS * 365)))
            adult_then = age - (last - day).days // 365 >= 18
            # Warnings and penalty notices are for adults; a juvenile gets a community resolution.
            kinds = ["community_resolution"] + (["penalty_notice", "cannabis_warning"] if adult_then else [])
            if group == "drug_offences" and adult_then:
                kinds += ["cannabis_warning", "cannabis_warning"]
            kind = rng.choice(kinds)
            offence_group, code = rng.choice(INFORMAL_OPTIONS[kind])
            priors.append(Disposal(kind, offence_group, code, day))
        priors.sort(key=lambda d: (d.day, d.kind, d.offence_group))
        return priors

    def _formal_kind(self, age_then: int, band: int) -> str:
        rng = self.rng
        if age_then < 18:
            return rng.choices([k for k, _ in JUVENILE_KINDS], weights=[w for _, w in JUVENILE_KINDS])[0]
        kinds = ("adult_caution", "conditional_caution", "conviction")
        return rng.choices(kinds, weights=ADULT_KINDS[band])[0]

    def _offence(self, group: str) -> tuple[str, str | None]:
        rng = self.rng
        if rng.random() >= SAME_GROUP_SHARE:
            group = rng.choices([g for g, _ in OTHER_GROUPS], weights=[w for _, w in OTHER_GROUPS])[0]
        codes = self.codes_by_group.get(group)
        if not codes or rng.random() < NO_HOCR_SHARE:
            return group, None
        return group, rng.choice(codes)


def formal_count(priors: list[Disposal]) -> int:
    """Previous convictions and cautions, as the MoJ bands count them."""
    return sum(d.kind in ("conviction", "adult_caution", "youth_caution", "conditional_caution") for d in priors)
