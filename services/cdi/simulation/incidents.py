"""Incidents: opening, re-categorisation, closure, and whether and when each gets crimed.

Every decision the ground truth depends on is taken here and kept on the plan: which incidents
are crime-indicative and from when, and each one's fate (recorded in time, recorded late, never
recorded, or closed with a rationale). Times are epoch milliseconds. The recording clock runs from
the disclosure (the first crime-indicative code, docs/rules.md): in time means at most the deadline
after it.

The facts the legal review added (late disclosures, N100 records of rape reports, Crime Recording
Decision times, whether the victim was told, sink closures with a rationale) are drawn from a
generator of their own, seeded from the run's seed, and laid over the incident as planned: the
incident plan makes the same draws from the run's main generator as before they existed.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from cdi.core.times import MS_PER_HOUR, MS_PER_MINUTE
from cdi.simulation.calibration import Calibration
from cdi.simulation.codes import CRIME, EXPLAINING_CLASSES, OffenceCode, ReferenceData, can_close
from cdi.simulation.crimes import CrimePlan, choose_hocr, victim_ref
from cdi.simulation.extract import TimedEvent, envelope
from cdi.simulation.force import Force
from cdi.simulation.options import SimulationOptions

# Follow-ups (re-categorisation, closure) happen within this long of the report (capped at half the
# recording deadline); a late disclosure comes later (LATE_DISCLOSURE_SHARE).
FOLLOW_UP_MS = 12 * MS_PER_HOUR
MIN_RECORDING_MS = 5 * MS_PER_MINUTE  # a crime record takes at least this long to create
MAX_LATENESS_MS = 72 * MS_PER_HOUR  # late records come at most this long after the deadline

# Non-crime opening -> crime codes it is re-categorised to when an offence comes to light.
UPGRADES: dict[str, tuple[str, ...]] = {
    "DOMESTIC_INCIDENT": ("ASSAULT", "ASSAULT", "HARASSMENT", "THREATS"),
    "SUSPICIOUS_CIRCUMSTANCES": ("BURGLARY_DWELLING", "VEHICLE_CRIME", "THEFT", "CRIMINAL_DAMAGE"),
    "ASB_PERSONAL": ("HARASSMENT", "PUBLIC_ORDER", "ASSAULT"),
    "ASB_NUISANCE": ("CRIMINAL_DAMAGE", "CRIMINAL_DAMAGE", "PUBLIC_ORDER"),
    "CONCERN_FOR_WELFARE": ("ASSAULT", "THREATS", "SEXUAL_OFFENCE"),
    "MISSING_PERSON": ("SEXUAL_OFFENCE", "ASSAULT"),
    "ALARM_ACTIVATION": ("BURGLARY_OTHER", "BURGLARY_DWELLING"),
    "LOST_PROPERTY": ("THEFT",),
    "RTC_DAMAGE_ONLY": ("CRIMINAL_DAMAGE", "VEHICLE_CRIME"),
    "PUBLIC_SAFETY": ("PUBLIC_ORDER", "WEAPONS"),
}
# Codes a crime-indicative incident is wrongly closed to (NOPD's Signal 21/21L, Cheshire's CRIs).
FAILURE_CLOSES: dict[str, int] = {
    "NO_OFFENCE_DISCLOSED": 25,
    "ADVICE_GIVEN": 20,
    "CRIME_RELATED_INCIDENT": 20,
    "MISC": 15,
    "NO_TRACE": 10,
}
# Ordinary closures of non-crime incidents ("SAME" = the opening code itself).
ORDINARY_CLOSES: dict[str, int] = {
    "NO_OFFENCE_DISCLOSED": 25,
    "ADVICE_GIVEN": 25,
    "SAME": 15,
    "NO_TRACE": 10,
    "FALSE_ALARM": 5,
    "MISC": 5,
    "DUPLICATE_CALL": 4,
    "TRANSFERRED": 3,
    "CRIME_RELATED_INCIDENT": 3,
}
VICTIM_COUNTS = ((1, 88), (2, 9), (3, 3))
# Engineering assumptions for the facts of the legal review (rules-review 1.1, 1.2; section 5 point 7:
# tidy timing hid the clock-start defect). None is evidence; they exercise the rules.
# Of re-categorised incidents, the share whose offence is disclosed at a later visit or welfare
# check: between the follow-up window and two deadlines after the report.
LATE_DISCLOSURE_SHARE = 0.2
# Of welfare and missing-person calls that turn out to disclose a sexual offence, the share that
# disclose a rape.
RAPE_DISCLOSURE_SHARE = 0.5
# Of rape reports that get a record, the share recorded as N100 (not a crime) instead.
N100_SHARE = 0.4
# Share of records carrying a Crime Recording Decision time (crd_at) apart from their creation.
CRD_SHARE = 0.3
# Of crime-indicative incidents closed with a rationale and no crime, the share closed to the sink
# code CRIME_RELATED_INCIDENT rather than NO_OFFENCE_DISCLOSED.
SINK_EXPLAINED_SHARE = 0.3
# victim_informed on closures of crime-indicative incidents to a non-crime, sink or admin code.
VICTIM_INFORMED = ((True, 60), (False, 15), (None, 25))
# An N100 record: Home Office classification N100, a rape report not recorded as a crime. Not in
# hocr_codes.csv (it is not a crime), so no rule reads its classification.
N100_CODE = OffenceCode("N100", "Rape report held under N100 (not a crime)", "sexual_offences", "summary", 0, False)
QUALIFIER_ORDER = ("domestic_abuse", "hate", "repeat_victim", "vulnerable", "child")
DOMESTIC_PRONE = {"ASSAULT": 0.3, "HARASSMENT": 0.35, "THREATS": 0.3, "RAPE": 0.3, "SEXUAL_OFFENCE": 0.15}
HATE_PRONE = {"ASSAULT": 0.03, "HARASSMENT": 0.04, "PUBLIC_ORDER": 0.08, "CRIMINAL_DAMAGE": 0.02}
NON_VICTIM_CODES = frozenset({"DRUGS", "WEAPONS", "PUBLIC_ORDER"})


class Fate(StrEnum):
    RECORDED = "recorded"  # crimed (or N100) within the deadline from the disclosure
    LATE = "late"  # crimed (or N100), but more than the deadline after the disclosure
    NOT_RECORDED = "not_recorded"  # never crimed, closed without a rationale
    # Not crimed, closed with a rationale in time (NO_OFFENCE_DISCLOSED or, some, the sink code
    # CRIME_RELATED_INCIDENT): for a rape report still a breach, for violence or a sexual offence
    # on the sink code, or with the victim not told, a finding for review (docs/rules.md).
    EXPLAINED = "explained"


class Route(StrEnum):
    OPENED = "opened"  # opening code is crime-class
    UPDATED = "updated"  # re-categorised to a crime code by incident.updated
    CLOSED = "closed"  # closed with a crime code although opened non-crime


@dataclass(slots=True)
class Update:
    at: int
    from_code: str
    to_code: str
    rationale: bool


@dataclass(slots=True)
class IncidentPlan:
    incident_id: str
    division: str
    reported_at: int
    opening_code: str
    victims: int | None = None
    qualifiers: tuple[str, ...] = ()
    update: Update | None = None
    closed_at: int = 0
    closing_code: str = ""
    closing_rationale: bool = False
    crime_code: str | None = None  # the crime-class code that makes it crime-indicative
    indicative_at: int | None = None
    route: Route | None = None
    fate: Fate | None = None
    closed_before_crime: bool = False  # closed non-crime without rationale, then crimed in time
    victim_informed: bool | None = None  # on the closure; None: not known to the source
    late_disclosure: bool = False  # the offence came to light after the follow-up window
    crimes: list[CrimePlan] = field(default_factory=list)
    # A failure mode the rules cannot see (cdi.simulation.hidden), laid over the plan: None, or
    # narrative_only, unlinked_record, wrong_rationale, mistyped_code, late_code.
    hidden: str | None = None
    # When the offence came to light where no code shows it (a narrative); else indicative_at.
    disclosed_at: int | None = None
    # The classification a crime should have had where no record of the plan shows it (a
    # narrative's offence, the record a wrong rationale replaced).
    offence: OffenceCode | None = None

    def events(self, force: str) -> list[TimedEvent]:
        opened: dict[str, object] = {"incident_id": self.incident_id, "opening_code": self.opening_code}
        if self.victims is not None:
            opened["victims"] = self.victims
        if self.qualifiers:
            opened["qualifiers"] = list(self.qualifiers)
        iid, division = self.incident_id, self.division
        out = [envelope(f"{iid}.opened", "incident.opened", self.reported_at, force, division, opened)]
        if self.update is not None:
            u = self.update
            payload = {
                "incident_id": iid,
                "from_code": u.from_code,
                "to_code": u.to_code,
                "rationale_recorded": u.rationale,
            }
            out.append(envelope(f"{iid}.updated", "incident.updated", u.at, force, division, payload))
        closed = {
            "incident_id": iid,
            "closing_code": self.closing_code,
            "rationale_recorded": self.closing_rationale,
        }
        if self.victim_informed is not None:
            closed["victim_informed"] = self.victim_informed
        out.append(envelope(f"{iid}.closed", "incident.closed", self.closed_at, force, division, closed))
        return out


def delay(rng: random.Random, lo: int, hi: int, median: int, sigma: float = 1.0) -> int:
    """A right-skewed delay in [lo, hi] ms: lo plus a log-normal with the given median.

    Rejection keeps the shape without piling mass on ``hi`` (which would fake boundary cases).
    """
    for _ in range(32):
        value = lo + int(rng.lognormvariate(math.log(max(median, 1)), sigma))
        if value <= hi:
            return value
    return rng.randint(lo, hi)


def whole_seconds(ms: int) -> int:
    """Round up to a whole second: the incident log stamps seconds, the crime system milliseconds."""
    return ms + (-ms % 1000)


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(tuple(weights), weights=tuple(weights.values()))[0]


class IncidentPlanner:
    """Draws incidents and their fates; one instance per simulation run."""

    def __init__(
        self,
        rng: random.Random,
        options: SimulationOptions,
        force: Force,
        calibration: Calibration,
        reference: ReferenceData,
    ) -> None:
        self.rng = rng
        # The legal review's facts: a generator of their own, so the plan's main draws stay as they were.
        self.extra = random.Random(f"{options.seed}:recording-review")
        self.options = options
        self.force = force
        self.codes = reference.incident_codes
        self.reference = reference
        self.assumptions = calibration.assumptions
        weights = calibration.opening_weights()
        self.opening_codes = tuple(weights)
        self.opening_weights = tuple(weights.values())
        self.deadline = options.deadline_ms
        self.follow_up = min(FOLLOW_UP_MS, self.deadline // 2)
        self.failure_closes = self._closes(FAILURE_CLOSES)
        self.ordinary_closes = self._closes(ORDINARY_CLOSES)

    def _closes(self, weights: dict[str, int]) -> dict[str, int]:
        for code in weights:
            if code != "SAME" and (
                not can_close(self.codes[code]) or self.codes[code].code_class not in EXPLAINING_CLASSES
            ):
                raise ValueError(f"{code} cannot close an incident as non-crime")
        return weights

    # -- reports -------------------------------------------------------------------------------

    def plan(self) -> list[IncidentPlan]:
        rng, force = self.rng, self.force
        reports: list[tuple[int, int]] = []
        for day_start in force.day_starts(self.options):
            for _ in range(force.daily_volume(day_start)):
                reports.append((force.report_time(rng, day_start), len(reports)))
        reports.sort()
        plans: list[IncidentPlan] = []
        seq_by_date: dict[str, int] = {}
        # A calendar date spans two report windows when the start is not midnight UTC.
        busiest = max(force.daily_volume(day) for day in force.day_starts(self.options))
        width = max(4, len(str(2 * busiest)))
        for reported_at, _ in reports:
            date = datetime.fromtimestamp(reported_at / 1000, tz=UTC).strftime("%Y%m%d")
            seq = seq_by_date.get(date, 0) + 1
            seq_by_date[date] = seq
            plan = IncidentPlan(f"INC-{date}-{seq:0{width}d}", force.division(rng), reported_at, "")
            self._open(plan)
            plans.append(plan)
        return plans

    def _open(self, plan: IncidentPlan) -> None:
        rng = self.rng
        code = rng.choices(self.opening_codes, weights=self.opening_weights)[0]
        plan.opening_code = code
        qualifiers: set[str] = set()
        if self.codes[code].code_class == CRIME:
            if code in NON_VICTIM_CODES:
                plan.victims = 0
            elif rng.random() < 0.95:  # victim count unknown at first contact on a few calls
                plan.victims = rng.choices(*zip(*VICTIM_COUNTS, strict=True))[0]
            if rng.random() < DOMESTIC_PRONE.get(code, 0.0):
                qualifiers.add("domestic_abuse")
            if rng.random() < HATE_PRONE.get(code, 0.0):
                qualifiers.add("hate")
            if code not in NON_VICTIM_CODES and rng.random() < 0.05:
                qualifiers.add("repeat_victim")
            if code in ("RAPE", "SEXUAL_OFFENCE") and rng.random() < 0.15:
                qualifiers.add("child")
            self._crime_indicative(plan, code, Route.OPENED)
        else:
            if code == "DOMESTIC_INCIDENT":
                qualifiers.add("domestic_abuse")
            if code in ("CONCERN_FOR_WELFARE", "MISSING_PERSON") and rng.random() < 0.3:
                qualifiers.add("vulnerable")
            if code == "MISSING_PERSON" and rng.random() < 0.3:
                qualifiers.add("child")
            upgrades = UPGRADES.get(code)
            if upgrades and rng.random() < self.assumptions.recategorised_share:
                self._crime_indicative(plan, rng.choice(upgrades), None)
            else:
                self._ordinary(plan)
        plan.qualifiers = tuple(q for q in QUALIFIER_ORDER if q in qualifiers)

    # -- lifecycle ---------------------------------------------------------------------------------

    def _closing_delay(self, after: int = 0) -> int:
        """Closure delay from the report: ~20 min to ~12 h, median ~90 min (scaled by follow_up)."""
        f = self.follow_up
        return whole_seconds(delay(self.rng, after + f // 36, max(after + f // 36, f), f // 8, 0.9))

    def _ordinary(self, plan: IncidentPlan) -> None:
        rng = self.rng
        plan.closed_at = plan.reported_at + self._closing_delay()
        if plan.opening_code == "ALARM_ACTIVATION" and rng.random() < 0.8:
            code = "FALSE_ALARM"
        else:
            code = _weighted(rng, self.ordinary_closes)
        if code == "SAME":
            same = self.codes[plan.opening_code]
            keeps = can_close(same) and same.code_class in EXPLAINING_CLASSES
            code = plan.opening_code if keeps else "ADVICE_GIVEN"
        plan.closing_code = code
        plan.closing_rationale = rng.random() < 0.6

    def _fate(self) -> Fate:
        o = self.options
        draw = self.rng.random()
        if draw < o.not_recorded_rate:
            return Fate.NOT_RECORDED
        if draw < o.not_recorded_rate + o.late_rate:
            return Fate.LATE
        if draw < o.not_recorded_rate + o.late_rate + o.explained_rate:
            return Fate.EXPLAINED
        return Fate.RECORDED

    def _crime_indicative(self, plan: IncidentPlan, crime_code: str, route: Route | None) -> None:
        rng, r, f = self.rng, plan.reported_at, self.follow_up
        fate = self._fate()
        if route is None:  # re-categorised non-crime opening; only crimed ones close as crime
            if crime_code == "SEXUAL_OFFENCE" and self.extra.random() < RAPE_DISCLOSURE_SHARE:
                crime_code = "RAPE"  # same offence group and a victim: the main draws are unchanged
            crimed = fate in (Fate.RECORDED, Fate.LATE)
            closes_as_crime = crimed and rng.random() < self.assumptions.closed_as_crime_share
            route = Route.CLOSED if closes_as_crime else Route.UPDATED
        plan.route, plan.fate, plan.crime_code = route, fate, crime_code

        if route is Route.UPDATED:
            upgraded_at = r + whole_seconds(delay(rng, f // 24, f // 2, f // 6, 0.7))
            plan.update = Update(upgraded_at, plan.opening_code, crime_code, True)
            plan.closed_at = r + self._closing_delay(upgraded_at - r)
            plan.indicative_at = upgraded_at
        else:
            plan.closed_at = r + self._closing_delay()
            plan.indicative_at = r if route is Route.OPENED else plan.closed_at

        downgrade = self.options.close_category_downgrade_rate
        if route is Route.CLOSED:
            plan.closing_code, plan.closing_rationale = crime_code, rng.random() < 0.5
        elif fate is Fate.RECORDED and downgrade and rng.random() < downgrade:
            # Closed as if nothing was wrong, then crimed in time after review: a downgrade at
            # closure (CLOSE_CATEGORY_DOWNGRADE) though not an unrecorded crime. The rate's draw is
            # skipped at 0 so the incident log is then what it was before the rule existed.
            plan.closing_code, plan.closing_rationale = self._failure_close(crime_code), False
            plan.closed_before_crime = True
        elif fate is Fate.RECORDED or (fate is Fate.LATE and rng.random() < 0.6):
            # A late one closed CRIME_RECORDED: the officer closed it "crime to follow".
            plan.closing_code, plan.closing_rationale = "CRIME_RECORDED", rng.random() < 0.2
        elif fate is Fate.EXPLAINED:
            plan.closing_code, plan.closing_rationale = "NO_OFFENCE_DISCLOSED", True
            if self.extra.random() < SINK_EXPLAINED_SHARE:
                plan.closing_code = "CRIME_RELATED_INCIDENT"
        else:  # never recorded, or late and closed as if nothing was wrong
            plan.closing_code, plan.closing_rationale = self._failure_close(crime_code), False

        # Some uncrimed ones were first downgraded: with a rationale if explained, else without.
        if route is Route.OPENED and fate in (Fate.NOT_RECORDED, Fate.EXPLAINED) and rng.random() < 0.3:
            gap = f // 72
            at = r + whole_seconds(rng.randint(gap, plan.closed_at - r - gap))
            plan.update = Update(at, crime_code, self._downgrade(plan, crime_code), fate is Fate.EXPLAINED)

        if fate in (Fate.RECORDED, Fate.LATE):
            self._record(plan, fate)
        if route is Route.UPDATED and self.extra.random() < LATE_DISCLOSURE_SHARE:
            self._disclose_later(plan)
        self._review_facts(plan)

    def _disclose_later(self, plan: IncidentPlan) -> None:
        """The offence comes to light at a later visit, between the follow-up window and two
        deadlines after the report: everything from the update on moves with it, so the fate
        (judged from the disclosure) holds (rules-review 1.1 point 1, section 5 point 7)."""
        assert plan.update is not None
        u = plan.update
        disclosed = plan.reported_at + whole_seconds(self.extra.randint(self.follow_up, 2 * self.deadline))
        shift = disclosed - u.at
        plan.update = Update(disclosed, u.from_code, u.to_code, u.rationale)
        plan.indicative_at = disclosed
        plan.closed_at += shift
        for crime in plan.crimes:
            crime.recorded_at += shift
        plan.late_disclosure = True

    def _review_facts(self, plan: IncidentPlan) -> None:
        """N100 records of rape reports, Crime Recording Decision times, and whether the victim was
        told of a closure that records no crime."""
        assert plan.crime_code is not None and plan.indicative_at is not None
        if plan.crimes and self.codes[plan.crime_code].rape and self.extra.random() < N100_SHARE:
            first = plan.crimes[0]  # the earliest: one N100 record, not a crime per victim
            plan.crimes = [
                CrimePlan(first.recorded_at, N100_CODE, first.division, first.incident_id, None, kind="n100")
            ]
        limit = plan.indicative_at + self.deadline
        for crime in plan.crimes:
            crime.crd_at = self._crd(crime.recorded_at, plan.indicative_at, limit)
        victim = plan.crime_code not in NON_VICTIM_CODES  # no victim to tell of a drugs or weapons call
        if victim and self.codes[plan.closing_code].code_class in EXPLAINING_CLASSES:
            values, weights = zip(*VICTIM_INFORMED, strict=True)
            plan.victim_informed = self.extra.choices(values, weights=weights)[0]

    def _crd(self, recorded_at: int, disclosed: int, limit: int) -> int | None:
        """A Crime Recording Decision time for some records: at or before the record, after the
        disclosure. A late record's decision may have been in time (typed up later), on the limit,
        1 ms past it, or late."""
        x = self.extra
        if x.random() >= CRD_SHARE:
            return None
        if recorded_at <= limit:
            return x.randint(disclosed, recorded_at)
        draw = x.random()
        if draw < 0.15:
            return limit  # exactly the deadline after the disclosure: in time
        if draw < 0.3:
            return limit + 1
        if draw < 0.6:
            return x.randint(max(disclosed, limit - 6 * MS_PER_HOUR), limit)
        return x.randint(limit + 1, recorded_at)

    def _failure_close(self, crime_code: str) -> str:
        codes = dict(self.failure_closes)
        if self.codes[crime_code].offence_group == "theft":
            codes["LOST_PROPERTY"] = 15  # NOPD's "lost" signal for thefts
        return _weighted(self.rng, codes)

    def _downgrade(self, plan: IncidentPlan, crime_code: str) -> str:
        group = self.codes[crime_code].offence_group
        if group == "theft":
            return "LOST_PROPERTY"
        if group in ("violence_against_the_person", "sexual_offences"):
            return "DOMESTIC_INCIDENT" if "domestic_abuse" in plan.qualifiers else "ASB_PERSONAL"
        if group == "criminal_damage_and_arson":
            return "ASB_NUISANCE"
        return "SUSPICIOUS_CIRCUMSTANCES"

    def _record(self, plan: IncidentPlan, fate: Fate) -> None:
        rng, r, deadline, a = self.rng, plan.reported_at, self.deadline, self.assumptions
        assert plan.crime_code is not None and plan.indicative_at is not None
        # The deadline runs from the disclosure. In-time records are drawn between the disclosure
        # and the report's own deadline (in time from either clock), as before the clock moved.
        disclosed = plan.indicative_at
        if fate is Fate.RECORDED:
            if rng.random() < a.on_deadline_share:
                first = disclosed + deadline  # exactly on the deadline: still in time
            else:
                lo = max(MIN_RECORDING_MS, plan.indicative_at - r + MIN_RECORDING_MS)
                if plan.closed_before_crime:
                    lo = max(lo, plan.closed_at - r + MIN_RECORDING_MS)
                first = r + delay(rng, lo, deadline - 1, min(2 * MS_PER_HOUR, deadline // 4))
            last_allowed: int | None = disclosed + deadline
        else:
            if rng.random() < a.just_late_share:
                first = disclosed + deadline + rng.choice((1, 1000))  # 1 ms or 1 s past the deadline
            else:
                first = disclosed + deadline + delay(rng, MS_PER_MINUTE, MAX_LATENESS_MS, 8 * MS_PER_HOUR)
            last_allowed = None
        hate = "hate" in plan.qualifiers
        hocr = choose_hocr(rng, plan.crime_code, hate, self.reference)
        count = 1
        multi = bool(plan.victims and plan.victims > 1 and hocr.victim_based)
        if multi and rng.random() < 1 - self.options.one_crime_per_victim_rate:
            count = plan.victims or 1
        for n in range(count):
            at = first if n == 0 else first + rng.randint(0, 30 * MS_PER_MINUTE)
            if last_allowed is not None:
                at = min(at, last_allowed)
            ref = victim_ref(rng) if hocr.victim_based else None
            plan.crimes.append(CrimePlan(at, hocr, plan.division, plan.incident_id, ref))


def crime_code_weights(calibration: Calibration, reference: ReferenceData) -> dict[str, int]:
    """The calibrated weights of crime-class opening codes: the offence mix of direct reports."""
    return {
        code: w
        for code, w in calibration.opening_weights().items()
        if reference.incident_codes[code].code_class == CRIME
    }
