"""Failure modes the rules cannot see (issue 12; rules-review section 5), laid over the plan.

The rules read structured codes and links. Real crime data has what they cannot read: crimes
disclosed only in the narrative of an incident coded as something else, crimes recorded with no
link to their incident, rationales that exist but are wrong, and codes typed wrongly or entered
late. Each is a rate in ``SimulationOptions`` (``hidden_rates``): the share of the incidents
eligible for it, one mode at most per incident:

- ``narrative_only``: an incident opened under a non-crime code that can turn out to disclose an
  offence (``UPGRADES``) and never shows a crime code; its narrative disclosed a crime while it was
  open. It closes to a non-crime or sink code, with or without a rationale; most are never recorded
  (HMIC's largest failure mode), ``NARRATIVE_RECORDED_SHARE`` are recorded, linked, within the
  deadline of the disclosure. The rules see no crime code, so they raise nothing on the incident
  (a linked record may still be timed from the report, having no disclosure to time it from).
- ``unlinked_record``: a crime-indicative incident recorded in time whose records carry no
  ``incident_id``: the rules raise the unrecorded-incident finding, which a reviewer finds is not
  a breach ("recorded under another reference").
- ``wrong_rationale``: a crime-indicative incident (opened or re-categorised to a crime code) that
  would have been recorded in time is never recorded, closed to a non-crime or sink code with a
  rationale: the rules count it explained, unless it is a rape report or a closure they review.
- ``mistyped_code``: an incident opened under a crime code is coded with a non-crime code by
  mistake: the rules see no crime code, whatever its fate.
- ``late_code``: a crime-indicative incident (opened or re-categorised) recorded late gets its crime
  code only after the deadline, at most the deadline before the record, so the rules time the
  record from the code and see it in time.

Every draw comes from a generator of its own, seeded from the run's seed, and only where a rate is
above 0: with every rate at 0 the plan, and so the history, is what it was without them.
"""

from __future__ import annotations

import random
from collections import Counter

from cdi.simulation.codes import EXPLAINING_CLASSES, OffenceCode, ReferenceData, can_close
from cdi.simulation.crimes import CrimePlan, choose_hocr, victim_ref
from cdi.simulation.incidents import (
    MIN_RECORDING_MS,
    NON_VICTIM_CODES,
    UPGRADES,
    VICTIM_INFORMED,
    Fate,
    IncidentPlan,
    Route,
    Update,
    delay,
    whole_seconds,
)
from cdi.simulation.options import SimulationOptions

NARRATIVE, UNLINKED, WRONG_RATIONALE, MISTYPED, LATE_CODE = (
    "narrative_only",
    "unlinked_record",
    "wrong_rationale",
    "mistyped_code",
    "late_code",
)
HIDDEN_MODES = (NARRATIVE, UNLINKED, WRONG_RATIONALE, MISTYPED, LATE_CODE)
# Engineering assumptions, not evidence: they exercise the estimates.
# Of narrative-only crimes, the share recorded (linked) within the deadline of the disclosure.
NARRATIVE_RECORDED_SHARE = 0.25
# Of narrative-only incidents, the share closed with a rationale (which hides nothing more: no
# rule looks at an incident without a crime code).
NARRATIVE_RATIONALE_SHARE = 0.5
# Closures of a narrative-only incident ("SAME" = the opening code itself): the domestic incident,
# welfare or ASB call closed as what it was opened as, or as advice or no offence.
NARRATIVE_CLOSES: dict[str, int] = {
    "SAME": 35,
    "ADVICE_GIVEN": 25,
    "NO_OFFENCE_DISCLOSED": 20,
    "CRIME_RELATED_INCIDENT": 12,
    "MISC": 8,
}
# Closures a wrong rationale is written on (LOST_PROPERTY too for thefts).
WRONG_CLOSES: dict[str, int] = {
    "NO_OFFENCE_DISCLOSED": 40,
    "ADVICE_GIVEN": 25,
    "CRIME_RELATED_INCIDENT": 20,
    "MISC": 15,
}


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(tuple(weights), weights=tuple(weights.values()))[0]


def mistyped(crime_code: str, reference: ReferenceData) -> tuple[str, ...]:
    """The non-crime opening codes a call of this crime code may be typed as by mistake: those that
    can turn out to disclose it (``UPGRADES``), else by offence group."""
    found = tuple(code for code, crimes in UPGRADES.items() if crime_code in crimes)
    if found:
        return found
    if reference.incident_codes[crime_code].offence_group == "sexual_offences":
        return ("CONCERN_FOR_WELFARE",)
    return ("SUSPICIOUS_CIRCUMSTANCES",)


class HiddenPlanner:
    """Lays the hidden failure modes over a run's incident plans (once, before the extract cut)."""

    def __init__(self, options: SimulationOptions, reference: ReferenceData) -> None:
        self.rng = random.Random(f"{options.seed}:hidden")
        self.options = options
        self.rates = options.hidden_rates()
        self.reference = reference
        self.codes = reference.incident_codes
        self.deadline = options.deadline_ms

    def eligible(self, plan: IncidentPlan) -> list[str]:
        """The modes this incident may take, in draw order."""
        if plan.fate is None:
            return [NARRATIVE] if plan.opening_code in UPGRADES else []
        modes = []
        if plan.fate is Fate.RECORDED:
            modes.append(UNLINKED)
            if plan.route is not Route.CLOSED:
                modes.append(WRONG_RATIONALE)
        if plan.fate is Fate.LATE and plan.route is not Route.CLOSED and plan.crimes:
            modes.append(LATE_CODE)
        if plan.route is Route.OPENED:
            modes.append(MISTYPED)
        return modes

    def apply(self, incidents: list[IncidentPlan]) -> tuple[Counter[str], Counter[str]]:
        """Draw each incident's mode (one uniform draw, each eligible mode taking its rate of it)
        and apply it; returns how many incidents took each mode, and how many were eligible for
        each mode whose rate is above 0."""
        taken: Counter[str] = Counter()
        eligible: Counter[str] = Counter()
        if not any(self.rates.values()):
            return taken, eligible
        for plan in incidents:
            modes = [mode for mode in self.eligible(plan) if self.rates[mode] > 0]
            if not modes:
                continue
            eligible.update(modes)
            draw, cumulative = self.rng.random(), 0.0
            for mode in modes:
                cumulative += self.rates[mode]
                if draw < cumulative:
                    getattr(self, f"_{mode}")(plan)
                    plan.hidden = mode
                    taken[mode] += 1
                    break
        return taken, eligible

    # -- the modes -------------------------------------------------------------------------------

    def _narrative_only(self, plan: IncidentPlan) -> None:
        x, r = self.rng, plan.reported_at
        crime_code = x.choice(UPGRADES[plan.opening_code])
        # Disclosed while the incident was open (at attendance, in the log's narrative): whole seconds.
        disclosed = r + 1000 * x.randint(0, (plan.closed_at - r) // 1000)
        close = _weighted(x, NARRATIVE_CLOSES)
        if close == "SAME":
            same = self.codes[plan.opening_code]
            close = plan.opening_code if can_close(same) and same.code_class in EXPLAINING_CLASSES else "ADVICE_GIVEN"
        plan.closing_code, plan.closing_rationale = close, x.random() < NARRATIVE_RATIONALE_SHARE
        hocr = choose_hocr(x, crime_code, "hate" in plan.qualifiers, self.reference)
        plan.disclosed_at, plan.offence = disclosed, hocr
        if x.random() < NARRATIVE_RECORDED_SHARE:
            # Recorded once someone reads the narrative (a supervisor's review, the crime bureau):
            # hours later, within the deadline of the disclosure, though perhaps not of the report.
            d = self.deadline
            at = disclosed + delay(x, MIN_RECORDING_MS, d, d // 4)
            ref = victim_ref(x) if hocr.victim_based else None
            plan.crimes.append(CrimePlan(at, hocr, plan.division, plan.incident_id, ref))

    def _unlinked_record(self, plan: IncidentPlan) -> None:
        for crime in plan.crimes:
            crime.incident_id = None

    def _wrong_rationale(self, plan: IncidentPlan) -> None:
        x = self.rng
        assert plan.crime_code is not None and plan.crimes
        plan.offence = plan.crimes[0].hocr  # an N100 record's code for a rape report held so
        plan.crimes = []
        plan.fate = Fate.NOT_RECORDED
        closes = dict(WRONG_CLOSES)
        if self.codes[plan.crime_code].offence_group == "theft":
            closes["LOST_PROPERTY"] = 15
        plan.closing_code, plan.closing_rationale = _weighted(x, closes), True
        plan.closed_before_crime = False
        plan.victim_informed = None
        if plan.crime_code not in NON_VICTIM_CODES:
            values, weights = zip(*VICTIM_INFORMED, strict=True)
            plan.victim_informed = x.choices(values, weights=weights)[0]

    def _mistyped_code(self, plan: IncidentPlan) -> None:
        assert plan.crime_code is not None
        code = self.rng.choice(mistyped(plan.crime_code, self.reference))
        u = plan.update
        if u is not None:  # a downgrade from the (mistyped) opening code
            plan.update = None if u.to_code == code else Update(u.at, code, u.to_code, u.rationale)
        plan.opening_code = code

    def _late_code(self, plan: IncidentPlan) -> None:
        x = self.rng
        assert plan.crime_code is not None and plan.indicative_at is not None
        first = min(crime.recorded_at for crime in plan.crimes)
        lo = whole_seconds(max(plan.indicative_at + self.deadline + 1, first - self.deadline))
        hi = first - first % 1000  # the incident log stamps whole seconds
        at = lo if hi <= lo else lo + 1000 * x.randint(0, (hi - lo) // 1000)
        if plan.route is Route.UPDATED:
            assert plan.update is not None
            u = plan.update
            plan.update = Update(at, u.from_code, u.to_code, u.rationale)
        else:  # opened under a non-crime code, the crime code entered late
            code = x.choice(mistyped(plan.crime_code, self.reference))
            plan.opening_code = code
            plan.update = Update(at, code, plan.crime_code, True)


def offence_of(plan: IncidentPlan) -> OffenceCode | None:
    """What the plan's records are (or should have been): its first record, else ``offence``."""
    if plan.crimes:
        return plan.crimes[0].hocr
    return plan.offence
