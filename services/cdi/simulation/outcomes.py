"""Outcomes: whether a suspect is identified, which Home Office outcome each crime gets, and when.

Planning runs in two passes. :meth:`OutcomePlanner.plan` (recording order) fixes each crime's
suspect and outcome time, and whether a watched crime (rape, serious violence) is closed as
unsuccessful within days. :meth:`OutcomePlanner.decide` (outcome-time order) then picks each
suspect outcome's type and flags, when every earlier outcome of the same offender is known.
Honest decision makers follow the guidance they can see (they charge instead of giving a
disposal the rules forbid); at each rule's rate an eligible decision is taken in breach instead.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from cdi.core.times import MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE
from cdi.simulation.breaches import (
    ADULT_CAUTION,
    CANNABIS_ESCALATION,
    CANNABIS_WARNING,
    CAUTION_INDICTABLE_ONLY,
    CAUTION_OR_CONVICTION,
    CAUTION_SPECIFIED,
    COMMUNITY_RESOLUTION,
    CR_INELIGIBLE,
    FAST_UNSUCCESSFUL,
    PND,
    PND_ELIGIBILITY,
    REPEAT_CAUTION,
    Guidance,
    offence_date,
)
from cdi.simulation.calibration import Casework
from cdi.simulation.codes import OffenceCode, ReferenceData
from cdi.simulation.decisions import CrimeCase
from cdi.simulation.extract import TimedEvent, envelope
from cdi.simulation.incidents import delay
from cdi.simulation.offenders import Disposal, Offender, OffenderPool
from cdi.simulation.options import SimulationOptions

CHARGE, EVIDENTIAL_SUPPORTS, VICTIM_NOT_SUPPORTING, NOT_IDENTIFIED, NO_SUSPECT = 1, 15, 16, 14, 18
YOUTH_CAUTION = 2

# Share of crimes with an identified suspect, by offence group, with code overrides (assumed:
# police-generated drug and weapon offences nearly always; vehicle crime and burglary rarely).
SUSPECT_IDENTIFIED: dict[str, float] = {
    "violence_against_the_person": 0.65,
    "sexual_offences": 0.6,
    "robbery": 0.35,
    "burglary": 0.15,
    "theft": 0.18,
    "criminal_damage_and_arson": 0.3,
    "drug_offences": 0.95,
    "possession_of_weapons": 0.9,
    "public_order_offences": 0.75,
    "miscellaneous": 0.5,
}
SUSPECT_IDENTIFIED_BY_CODE: dict[str, float] = {"46": 0.6, "48": 0.06, "44": 0.06}
# Honest outcome mix of suspect cases by offence group (assumed; charge/summons and the
# evidential-difficulty outcomes dominate, out-of-court disposals are a minority). Warnings go
# only to cannabis codes, penalty notices only to PND-eligible codes, 16 only where there is a
# victim; juveniles get a youth caution or community resolution instead of adult disposals.
SUSPECT_OUTCOMES: dict[str, dict[int, int]] = {
    "violence_against_the_person": {1: 20, 15: 20, 16: 40, 3: 8, 8: 12},
    "sexual_offences": {1: 25, 15: 25, 16: 47, 3: 3},
    "robbery": {1: 45, 15: 30, 16: 25},
    "burglary": {1: 40, 15: 35, 16: 17, 3: 4, 8: 4},
    "theft": {1: 25, 15: 15, 16: 13, 3: 12, 6: 10, 8: 25},
    "criminal_damage_and_arson": {1: 20, 15: 15, 16: 20, 3: 10, 6: 10, 8: 25},
    "drug_offences": {1: 25, 15: 10, 3: 12, 6: 8, 7: 30, 8: 15},
    "possession_of_weapons": {1: 60, 15: 20, 3: 12, 8: 8},
    "public_order_offences": {1: 25, 15: 20, 3: 10, 6: 20, 8: 25},
    "miscellaneous": {1: 40, 15: 30, 3: 15, 8: 15},
}
JUVENILE_INSTEAD = {ADULT_CAUTION: YOUTH_CAUTION, PND: COMMUNITY_RESOLUTION, CANNABIS_WARNING: COMMUNITY_RESOLUTION}
# Decision-maker ranks by outcome (assumed): custody sergeants charge and caution, constables give
# street disposals, investigators (some civilian staff) file unsuccessful outcomes.
RANKS_BY_OUTCOME: dict[int, tuple[tuple[str, int], ...]] = {
    CHARGE: (("sergeant", 70), ("constable", 30)),
    YOUTH_CAUTION: (("sergeant", 80), ("inspector", 20)),
    ADULT_CAUTION: (("sergeant", 80), ("inspector", 20)),
    PND: (("constable", 85), ("sergeant", 15)),
    CANNABIS_WARNING: (("constable", 90), ("sergeant", 10)),
    COMMUNITY_RESOLUTION: (("sergeant", 70), ("constable", 30)),
}
UNSUCCESSFUL_RANKS = (("constable", 60), ("staff", 25), ("sergeant", 15))
EXCEPTIONAL_RANKS = ("inspector", "chief_inspector", "superintendent")
# Share of cases where a caution the rules restrict is given legitimately: exceptional
# circumstances at inspector rank or above (and DPP consent for indictable-only offences).
EXCEPTIONAL_SHARE = 0.04
INTIMATE_PARTNER_SHARE = 0.6  # of domestic-abuse cases (assumed)
# Penalty values (GBP) of honest notices: below the code's limit.
HONEST_VALUE_FLOOR = 5.0
OVER_LIMIT_FACTOR = 4  # breaching values run up to this many times the limit
# Facts of the 2026.12.2 outcome rules (rules-review 1.8 to 1.10), drawn per crime without the
# run's generator (as caution kinds are), so every other choice stays as it was. Per mille:
GOODS_UNKNOWN_PER_MILLE = 100  # honest retail-theft notices whose record does not say whether goods were recovered
AGGRAVATION_UNKNOWN_PER_MILLE = 100  # honest cannabis warnings and notices with no aggravation recorded
AGGRAVATED_PER_MILLE = 150  # clean cannabis cases that may be taken, in breach, despite aggravating factors
# How a deliberate penalty-notice breach is taken when a clean notice would break nothing (weights):
# over the value limit, goods not recovered (retail theft), no victim's views (a crime with a victim).
PND_BREACHES = (("value", 50), ("goods", 30), ("views", 20))
MIXED_BREACH_PER_MILLE = 100  # suspects of a mixed class (17A, 20A) open to a deliberate caution


@dataclass(slots=True)
class Outcome:
    case: CrimeCase
    at: int
    offender: Offender | None
    type: int = 0  # 0 until decided; FAST breaches and no-suspect outcomes are fixed when planned
    rank: str = "constable"
    exceptional: bool = False
    dpp_consent: bool = False
    penalty_value: float | None = None
    intimate_partner: bool | None = None  # absent from the event when None
    victim_views: bool | None = None  # absent from the event when None
    caution_kind: str | None = None  # adult cautions: simple or conditional
    goods_recovered: bool | None = None  # retail-theft notices; absent from the event when None
    aggravating_factors: bool | None = None  # cannabis warnings and notices; absent when None
    intended: str | None = None  # the rule deliberately broken, if any

    @property
    def event_id(self) -> str:
        return f"{self.case.crime.crime_id}.outcome"

    def event(self, force: str) -> TimedEvent:
        crime = self.case.crime
        payload: dict[str, Any] = {
            "crime_id": crime.crime_id,
            "outcome_type": self.type,
            "offender_ref": self.offender.ref if self.offender else None,
            "offender_age": self.offender.age if self.offender else None,
            "decision_maker_rank": self.rank,
            "exceptional_circumstances": self.exceptional,
            "dpp_consent": self.dpp_consent,
            "penalty_value": self.penalty_value,
            "domestic_abuse": self.case.domestic,
        }
        if self.intimate_partner is not None:
            payload["intimate_partner"] = self.intimate_partner
        if self.victim_views is not None:
            payload["victim_views_recorded"] = self.victim_views
        if self.type == ADULT_CAUTION and self.caution_kind is not None:
            payload["caution_kind"] = self.caution_kind
        if self.goods_recovered is not None:
            payload["goods_recovered"] = self.goods_recovered
        if self.aggravating_factors is not None:
            payload["aggravating_factors"] = self.aggravating_factors
        return envelope(self.event_id, "outcome.assigned", self.at, force, crime.division, payload)


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([name for name, _ in weighted], weights=[w for _, w in weighted])[0]


def _adult(o: Outcome) -> bool:
    return o.offender is not None and not o.offender.juvenile


class OutcomePlanner:
    """Plans and decides outcomes; one instance per run."""

    def __init__(
        self,
        rng: random.Random,
        options: SimulationOptions,
        casework: Casework,
        reference: ReferenceData,
        pool: OffenderPool,
    ) -> None:
        self.rng = rng
        self.options = options
        self.casework = casework
        self.reference = reference
        self.pool = pool
        self.guidance = Guidance(reference)
        self.fast_ms = self.guidance.t.fast_ms
        self.max_delay = max(options.disorder_ms - 1, 0)  # the extract's largest arrival delay
        self.placed: set[str] = set()  # boundary cases placed so far
        rates = options.rule_rates()
        # Deliberate breaches tried in this order; the first drawn wins (one per decision).
        self.breaches: tuple[tuple[str, float, Callable[[Outcome], bool], Callable[[Outcome], None]], ...] = (
            (CAUTION_INDICTABLE_ONLY, rates[CAUTION_INDICTABLE_ONLY], self._indictable_eligible, self._indictable),
            (CAUTION_SPECIFIED, rates[CAUTION_SPECIFIED], self._specified_eligible, self._specified),
            (REPEAT_CAUTION, rates[REPEAT_CAUTION], self._repeat_eligible, self._repeat),
            (CANNABIS_ESCALATION, rates[CANNABIS_ESCALATION], self._cannabis_eligible, self._cannabis),
            (PND_ELIGIBILITY, rates[PND_ELIGIBILITY], self._pnd_eligible, self._pnd),
            (CR_INELIGIBLE, rates[CR_INELIGIBLE], self._cr_eligible, self._cr),
        )
        self.fast_rate = rates[FAST_UNSUCCESSFUL]

    def _boundary(self, kind: str) -> bool:
        """Place this decision on a boundary: always the first time, then at boundary_share."""
        return kind not in self.placed or self.rng.random() < self.casework.boundary_share

    def _code(self, o: Outcome) -> OffenceCode:
        return self.reference.offence_codes[o.case.code_at(o.at)]

    # -- pass 1: suspect and timing, in recording order ----------------------------------------------

    def plan(self, case: CrimeCase) -> None:
        if case.cancellation is not None:  # nothing is decided on a cancelled record
            return
        rng, crime = self.rng, case.crime
        code = crime.hocr
        share = SUSPECT_IDENTIFIED_BY_CODE.get(code.code, SUSPECT_IDENTIFIED[code.offence_group])
        offender = self.pool.suspect(code.offence_group) if rng.random() < share else None
        unidentified = NOT_IDENTIFIED if rng.random() < self.casework.not_identified_share else NO_SUSPECT
        # Watched if any code of its planned timeline is: an honest investigator does not close a
        # crime that is, or is about to be, a rape or serious violence within days.
        timeline = [code.code] + [move.to_code for move in case.reclassifications]
        watched = any(self.reference.policy(c).fast_outcome_watch for c in timeline)
        lands = self.options.extract_at_ms - crime.recorded_at  # longest delay still in the extract
        plain = not case.reclassifications  # boundary cases only where the code cannot move
        kind = 0
        if watched and self.fast_rate and rng.random() < self.fast_rate:
            # Closed as unsuccessful within days: "no suspect", or "victim does not support".
            kind = VICTIM_NOT_SUPPORTING if offender else unidentified
            if plain and self.fast_ms - 1 <= lands and self._boundary("fast_just_under"):
                self.placed.add("fast_just_under")
                after = self.fast_ms - 1
            else:
                after = delay(rng, MS_PER_HOUR, self.fast_ms - 1, 4 * MS_PER_DAY)
            case.outcome = Outcome(case, crime.recorded_at + after, offender, kind, intended=FAST_UNSUCCESSFUL)
            return
        if offender is not None:
            if rng.random() < self.casework.same_day_share:
                after = delay(rng, 20 * MS_PER_MINUTE, 10 * MS_PER_HOUR, 3 * MS_PER_HOUR)
            else:
                after = delay(rng, MS_PER_DAY, 180 * MS_PER_DAY, 8 * MS_PER_DAY, 0.9)
        else:
            kind = unidentified
            if watched:  # an honest investigation of a watched crime takes at least min_days
                if plain and self.fast_ms <= lands and self._boundary("fast_exact"):
                    self.placed.add("fast_exact")
                    after = self.fast_ms
                else:
                    after = self.fast_ms + delay(rng, 0, 200 * MS_PER_DAY, 30 * MS_PER_DAY)
            elif kind == NO_SUSPECT:
                after = delay(rng, 2 * MS_PER_HOUR, 120 * MS_PER_DAY, 3 * MS_PER_DAY)
            else:
                after = delay(rng, MS_PER_DAY, 180 * MS_PER_DAY, 12 * MS_PER_DAY)
        case.outcome = Outcome(case, crime.recorded_at + after, offender, kind)

    # -- pass 2: type and flags, in outcome-time order -----------------------------------------------

    def decide(self, o: Outcome) -> None:
        rng, case = self.rng, o.case
        if o.offender is None:
            o.rank = _pick(rng, UNSUCCESSFUL_RANKS)
            return
        offender = o.offender
        if offender.snapshot_at is None:
            self._snapshot(o)
        code = self._code(o)
        o.intimate_partner = case.domestic and rng.random() < INTIMATE_PARTNER_SHARE
        o.victim_views = True if code.victim_based else None
        if o.type:  # a fast unsuccessful outcome fixed in pass 1
            o.rank = _pick(rng, UNSUCCESSFUL_RANKS)
        elif not self._age_boundary(o, code) and not self._deliberate(o):
            self._honest(o, code)
        offender.outcomes.append(o)

    def _deliberate(self, o: Outcome) -> bool:
        """At each rule's rate, an eligible decision is taken in breach (the first rule drawn)."""
        for rule, rate, eligible, breach in self.breaches:
            if rate and eligible(o) and self.rng.random() < rate:
                breach(o)
                o.intended = rule
                return True
        return False

    def _age_boundary(self, o: Outcome, code: OffenceCode) -> bool:
        """Cannabis suspects placed on the under-18 boundary: a warning at 17 (flagged) or 18 (not).

        Only new offenders close to the boundary (15-17, 18-20) with this one case are moved onto
        it; their MoJ band stays that of their age group. The flagged side is a deliberate breach,
        so it needs a cannabis escalation rate above 0.
        """
        offender = o.offender
        assert offender is not None
        if not self.reference.policy(code.code).cannabis or offender.cases != 1:
            return False
        if 15 <= offender.age <= 17 and self.options.cannabis_escalation_rate and self._boundary("age_17"):
            offender.age = 17
            self._set(o, CANNABIS_WARNING, exceptional=False, dpp_consent=False, penalty_value=None)
            o.intended = CANNABIS_ESCALATION
            self.placed.add("age_17")
            return True
        if 18 <= offender.age <= 20 and self._boundary("age_18"):
            self._set(o, CANNABIS_WARNING, exceptional=False, dpp_consent=False, penalty_value=None)
            if self.guidance.outcome(replace(o, offender=replace(offender, age=18))):
                o.type = 0  # not a clean first warning: decided as usual
                return False
            offender.age = 18
            self.placed.add("age_18")
            return True
        return False

    def _snapshot(self, o: Outcome) -> None:
        """The national-record check before the offender's first outcome; some arrive after it."""
        rng, offender = self.rng, o.offender
        assert offender is not None
        offender.snapshot_division = o.case.crime.division
        if self.max_delay >= 2 and rng.random() < self.casework.late_snapshot_share:
            offender.snapshot_at = o.at - rng.randint(1, self.max_delay // 2)
            offender.late_snapshot = True
        else:
            earliest = max(o.case.crime.recorded_at, o.at - 6 * MS_PER_HOUR)
            offender.snapshot_at = rng.randint(earliest, o.at - 1)

    def _breaks(self, o: Outcome, kind: int, **flags: Any) -> set[str]:
        return self.guidance.outcome(replace(o, type=kind, **flags))

    def _set(self, o: Outcome, kind: int, **flags: Any) -> None:
        o.type = kind
        o.rank = flags.pop("rank", None) or _pick(self.rng, RANKS_BY_OUTCOME.get(kind, UNSUCCESSFUL_RANKS))
        # Which adult cautions are conditional is fixed by the crime (no draw from the generator, so
        # every other choice stays as it was); a deliberate s17 breach is always a simple caution.
        o.caution_kind = flags.pop("caution_kind", None) or _caution_kind(o.case.crime.crime_id)
        o.goods_recovered, o.aggravating_factors = self._facts(o, kind)
        for name, value in flags.items():
            setattr(o, name, value)

    def _facts(self, o: Outcome, kind: int) -> tuple[bool | None, bool | None]:
        """What an honest record says of the goods (retail-theft notices) and of aggravating
        factors (cannabis warnings and notices); None where it says nothing, or neither applies."""
        code, crime = self._code(o), o.case.crime
        goods = None
        if kind == PND and code.code in self.guidance.t.retail_codes:
            goods = None if _per_mille(crime.crime_id, "goods") < GOODS_UNKNOWN_PER_MILLE else True
        aggravating = None
        if kind == CANNABIS_WARNING or (kind == PND and self.reference.policy(code.code).cannabis):
            aggravating = None if _per_mille(crime.crime_id, "aggravation") < AGGRAVATION_UNKNOWN_PER_MILLE else False
        return goods, aggravating

    # -- honest decisions --------------------------------------------------------------------------

    def _honest(self, o: Outcome, code: OffenceCode) -> None:
        rng, offender = self.rng, o.offender
        assert offender is not None
        policy = self.reference.policy(code.code)
        restricted = code.mode_of_trial in ("indictable_only", "mixed") or policy.caution_restriction is not None
        if not offender.juvenile and restricted and rng.random() < EXCEPTIONAL_SHARE:
            # A caution the law allows only exceptionally, decided at the right rank.
            self._set(o, ADULT_CAUTION, rank=rng.choice(EXCEPTIONAL_RANKS), exceptional=True, dpp_consent=True)
            if not self.guidance.outcome(o):
                return
        weights = dict(SUSPECT_OUTCOMES[code.offence_group])
        if not policy.cannabis:
            weights.pop(CANNABIS_WARNING, None)
        if not policy.pnd_eligible:
            weights.pop(PND, None)
        if not code.victim_based:
            weights.pop(VICTIM_NOT_SUPPORTING, None)
        kind = rng.choices(tuple(weights), weights=tuple(weights.values()))[0]
        if offender.juvenile:
            kind = JUVENILE_INSTEAD.get(kind, kind)
        flags: dict[str, Any] = {"exceptional": False, "dpp_consent": False, "penalty_value": None}
        if kind == PND:
            flags["penalty_value"] = self._honest_value(code)
        self._set(o, kind, **flags)
        broken = self.guidance.outcome(o)
        if broken == {REPEAT_CAUTION} and rng.random() < EXCEPTIONAL_SHARE:
            self._set(o, kind, rank=rng.choice(EXCEPTIONAL_RANKS), exceptional=True)
            broken = self.guidance.outcome(o)
        if (
            broken == {CR_INELIGIBLE}
            and o.case.domestic
            and _per_mille(o.case.crime.crime_id, "authorised") < EXCEPTIONAL_SHARE * 1000
        ):
            # Domestic abuse resolved in the community on a recorded exceptional-circumstances
            # authorisation, which clears it (rules-review 1.10).
            self._set(o, kind, rank="inspector", exceptional=True, dpp_consent=False, penalty_value=None)
            broken = self.guidance.outcome(o)
        if broken:  # the decision maker checks the record and the guidance, and charges instead
            self._set(o, CHARGE, exceptional=False, dpp_consent=False, penalty_value=None)
        elif kind == ADULT_CAUTION:
            self._repeat_boundary(o, 731, "repeat_731")
        elif kind == COMMUNITY_RESOLUTION:
            self._similar_cr_boundary(o, 366, "similar_cr_366")
        elif kind == PND and o.penalty_value is not None:
            self._value_boundary(o, code, exact=True)

    def _honest_value(self, code: OffenceCode) -> float | None:
        limit = self.reference.policy(code.code).pnd_value_limit
        if limit is None:
            return None
        return round(self.rng.uniform(HONEST_VALUE_FLOOR, limit - 0.01), 2)

    def _value_boundary(self, o: Outcome, code: OffenceCode, exact: bool) -> None:
        """A penalty value exactly at the code's limit (allowed) or one penny over (not)."""
        limit = self.reference.policy(code.code).pnd_value_limit
        kind = "value_at_limit" if exact else "value_over_limit"
        if limit is None or not self._boundary(kind):
            return
        o.penalty_value = float(limit) if exact else round(limit + 0.01, 2)
        if exact and self.guidance.outcome(o):  # must stay a clean notice
            o.penalty_value = self._honest_value(code)
            return
        self.placed.add(kind)

    def _repeat_boundary(self, o: Outcome, days: int, kind: str) -> None:
        """Date the offender's latest similar caution/conviction exactly ``days`` before the offence.

        Only for offenders with this one case, so no other decision's history moves.
        """
        offender = o.offender
        assert offender is not None
        if offender.cases != 1 or o.exceptional or not self._boundary(kind):
            return
        group = self._code(o).offence_group
        offence_day = offence_date(o.case.crime)
        similar = [d for d in offender.priors if d.kind in CAUTION_OR_CONVICTION and d.offence_group == group]
        if days == 731:  # none may be nearer than the boundary
            if not similar or any((offence_day - d.day).days <= 731 for d in similar):
                return
        elif len([d for d in similar if (offence_day - d.day).days <= days]) != 1:
            return
        latest = max(similar, key=lambda d: d.day)
        moved = Disposal("adult_caution", group, latest.hocr_code, offence_day - timedelta(days=days))
        offender.priors[offender.priors.index(latest)] = moved
        offender.priors.sort(key=lambda d: (d.day, d.kind, d.offence_group))
        self.placed.add(kind)

    def _similar_cr_boundary(self, o: Outcome, days: int, kind: str) -> None:
        """Date an adult offender's latest community resolution for the same offence group (one added
        if there is none) exactly ``days`` before the offence: 365 is a similar prior resolution
        (flagged), 366 is not.

        Only for offenders with this one case, so no other decision's history moves; a clean
        decision that the move would flag for another reason keeps its history.
        """
        offender = o.offender
        assert offender is not None
        window = self.guidance.t.cr_similar_days
        if window is None or offender.cases != 1 or offender.juvenile or not self._boundary(kind):
            return
        code = self._code(o)
        offence_day = offence_date(o.case.crime)
        similar = [
            d for d in offender.priors if d.kind == "community_resolution" and d.offence_group == code.offence_group
        ]
        if days > window and any(0 <= (offence_day - d.day).days <= days for d in similar):
            return
        before = list(offender.priors)
        placed = Disposal("community_resolution", code.offence_group, code.code, offence_day - timedelta(days=days))
        if similar:  # the latest similar one moves onto the boundary
            offender.priors[offender.priors.index(max(similar, key=lambda d: d.day))] = placed
        else:  # or one is added to the record
            offender.priors.append(placed)
        offender.priors.sort(key=lambda d: (d.day, d.kind, d.offence_group))
        if days > window and self.guidance.outcome(o):  # must stay a clean resolution
            offender.priors[:] = before
            return
        self.placed.add(kind)

    # -- deliberate breaches: who is eligible, and the decision taken ---------------------------------

    def _indictable_eligible(self, o: Outcome) -> bool:
        """Adult suspects of an indictable-only offence, and a few of a class that also holds one
        (17A, 20A: a caution there is a review finding, rules-review 1.5 point 4)."""
        mode = self._code(o).mode_of_trial
        mixed = mode == "mixed" and _per_mille(o.case.crime.crime_id, "mixed") < MIXED_BREACH_PER_MILLE
        return _adult(o) and (mode == "indictable_only" or mixed)

    def _indictable(self, o: Outcome) -> None:
        missing = _pick(self.rng, (("both", 70), ("exceptional_only", 15), ("dpp_only", 15)))
        exceptional, dpp = missing == "exceptional_only", missing == "dpp_only"
        self._set(o, ADULT_CAUTION, exceptional=exceptional, dpp_consent=dpp, penalty_value=None, caution_kind="simple")
        self._views_not_sought(o)

    def _specified_eligible(self, o: Outcome) -> bool:
        """A simple caution here would raise CAUTION_SPECIFIED_EITHER_WAY: an SI 2015/790 offence
        (for 92A, a Class A drug or one of unknown class)."""
        caution = self._breaks(o, ADULT_CAUTION, exceptional=False, caution_kind="simple")
        return _adult(o) and CAUTION_SPECIFIED in caution

    def _specified(self, o: Outcome) -> None:
        if self.rng.random() < 0.6:  # no exceptional circumstances at all
            self._set(o, ADULT_CAUTION, exceptional=False, dpp_consent=False, penalty_value=None, caution_kind="simple")
        else:  # exceptional, but judged below the rank the rule needs
            rank = self.rng.choice(("constable", "sergeant"))
            self._set(
                o,
                ADULT_CAUTION,
                rank=rank,
                exceptional=True,
                dpp_consent=False,
                penalty_value=None,
                caution_kind="simple",
            )

    def _repeat_eligible(self, o: Outcome) -> bool:
        return _adult(o) and REPEAT_CAUTION in self._breaks(o, ADULT_CAUTION)

    def _repeat(self, o: Outcome) -> None:
        self._set(o, ADULT_CAUTION, exceptional=False, dpp_consent=False, penalty_value=None, caution_kind="simple")
        self._views_not_sought(o)
        self._repeat_boundary(o, 730, "repeat_730")

    @staticmethod
    def _views_not_sought(o: Outcome) -> None:
        """Some cautions taken in breach also lack the victim's views (said on their findings)."""
        if o.victim_views is not None and _per_mille(o.case.crime.crime_id, "views") < 300:
            o.victim_views = False

    def _cannabis_eligible(self, o: Outcome) -> bool:
        if not self.reference.policy(self._code(o).code).cannabis:
            return False
        if _per_mille(o.case.crime.crime_id, "aggravated") < AGGRAVATED_PER_MILLE:
            return True  # aggravating factors rule out a warning or notice whatever the count
        return CANNABIS_ESCALATION in self._breaks(o, CANNABIS_WARNING) | self._breaks(o, PND)

    def _cannabis(self, o: Outcome) -> None:
        if CANNABIS_ESCALATION in self._breaks(o, CANNABIS_WARNING):
            self._set(o, CANNABIS_WARNING, exceptional=False, dpp_consent=False, penalty_value=None)
        elif CANNABIS_ESCALATION in self._breaks(o, PND):
            self._set(o, PND, exceptional=False, dpp_consent=False, penalty_value=None)
        else:  # a warning despite aggravating factors (smoking in public, near a school)
            self._set(o, CANNABIS_WARNING, exceptional=False, dpp_consent=False, penalty_value=None)
            o.aggravating_factors = True

    def _pnd_eligible(self, o: Outcome) -> bool:
        code = self._code(o)
        policy = self.reference.policy(code.code)
        plausible = policy.pnd_eligible or (code.mode_of_trial != "indictable_only" and code.seriousness <= 40)
        if not plausible:  # nobody gives a penalty notice for a burglary
            return False
        value = self._honest_value(code)
        return policy.pnd_value_limit is not None or PND_ELIGIBILITY in self._breaks(o, PND, penalty_value=value)

    def _pnd(self, o: Outcome) -> None:
        code = self._code(o)
        value = self._honest_value(code)
        self._set(o, PND, exceptional=False, dpp_consent=False, penalty_value=value)
        limit = self.reference.policy(code.code).pnd_value_limit
        # The value boundary (a penny over the limit) is placed on the first notice that can take
        # it, even one already in breach for another reason (earlier thefts, say).
        boundary_due = limit is not None and "value_over_limit" not in self.placed
        if PND_ELIGIBILITY in self.guidance.outcome(o) and not boundary_due:
            return
        assert limit is not None  # eligibility: a clean notice here has a value limit to break
        ways = [
            (way, weight)
            for way, weight in PND_BREACHES
            if way == "value"
            or (way == "goods" and code.code in self.guidance.t.retail_codes)
            or (way == "views" and code.victim_based)
        ]
        way = "value" if boundary_due else _pick(self.rng, tuple(ways))
        if way == "goods":  # a retail-theft notice for goods not recovered
            o.goods_recovered = False
        elif way == "views":  # the victim's views never sought
            o.victim_views = False
        else:
            o.penalty_value = round(self.rng.uniform(limit + 0.01, OVER_LIMIT_FACTOR * limit), 2)
            self._value_boundary(o, code, exact=False)

    def _cr_eligible(self, o: Outcome) -> bool:
        return o.victim_views is not None or CR_INELIGIBLE in self._breaks(o, COMMUNITY_RESOLUTION)

    def _cr(self, o: Outcome) -> None:
        self._set(o, COMMUNITY_RESOLUTION, exceptional=False, dpp_consent=False, penalty_value=None)
        if CR_INELIGIBLE not in self.guidance.outcome(o):
            self._similar_cr_boundary(o, 365, "similar_cr_365")  # a similar resolution a year before
        if CR_INELIGIBLE not in self.guidance.outcome(o):
            o.victim_views = False  # the victim was never asked


CONDITIONAL_SHARE_PER_MILLE = 150  # adult cautions that are conditional (assumed)


def _caution_kind(crime_id: str) -> str:
    """Simple or conditional, as a fixed function of the crime (stable across runs and seeds)."""
    return "conditional" if zlib.crc32(crime_id.encode()) % 1000 < CONDITIONAL_SHARE_PER_MILLE else "simple"


def _per_mille(crime_id: str, purpose: str) -> int:
    """A number in [0, 1000) fixed by the crime and the purpose (no draw from the generator)."""
    return zlib.crc32(f"{crime_id}:{purpose}".encode()) % 1000
