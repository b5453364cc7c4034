"""Which rules each simulated decision breaks, judged on the simulator's own records.

The definitions are docs/rules.md's, with the thresholds of the default rules configuration
(``services/cdi/rules/default.toml``) and the reference tables. They are applied to what the
simulator decided (each crime's classification timeline, each offender's prior disposals and
outcomes, every flag it set), never to the written file: the file is checked against the truth
by the tests' own recomputation instead. The same judgement lets honest decision makers in the
simulator avoid breaches they can see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from cdi import rules
from cdi.core.decisions import VICTIM_INFORMED_GROUPS, authority_with_rules, gravity_of, serious_offence
from cdi.core.disposals import CAUTION_OR_CONVICTION, OUT_OF_COURT, PND_OR_CAUTION
from cdi.core.reference import RANKS, CancellationAuthority
from cdi.core.times import MS_PER_DAY
from cdi.simulation import crime_facts
from cdi.simulation.codes import ReferenceData
from cdi.simulation.decisions import Cancellation, CrimeCase, Reclassification
from cdi.simulation.offenders import Disposal, Offender

if TYPE_CHECKING:
    from cdi.simulation.crimes import CrimePlan
    from cdi.simulation.outcomes import Outcome

CLOSE_DOWNGRADE = "CLOSE_CATEGORY_DOWNGRADE"
ONE_CRIME_PER_VICTIM = "ONE_CRIME_PER_VICTIM"
CAUTION_INDICTABLE_ONLY = "CAUTION_INDICTABLE_ONLY"
CAUTION_SPECIFIED = "CAUTION_SPECIFIED_EITHER_WAY"
REPEAT_CAUTION = "REPEAT_CAUTION_2Y"
PND_ELIGIBILITY = "PND_ELIGIBILITY"
CANNABIS_ESCALATION = "CANNABIS_ESCALATION"
CR_INELIGIBLE = "CR_INELIGIBLE"
FAST_UNSUCCESSFUL = "FAST_UNSUCCESSFUL_OUTCOME"
CANCEL_WITHOUT_AVI = "CANCEL_WITHOUT_AVI"
RECLASS_DOWN = "RECLASS_DOWN_NO_REASON"
DISPOSAL_OUTSIDE_FRAMEWORK = "DISPOSAL_OUTSIDE_FRAMEWORK"
OUTCOME_RULES = (
    CAUTION_INDICTABLE_ONLY,
    CAUTION_SPECIFIED,
    REPEAT_CAUTION,
    PND_ELIGIBILITY,
    CANNABIS_ESCALATION,
    CR_INELIGIBLE,
    FAST_UNSUCCESSFUL,
    DISPOSAL_OUTSIDE_FRAMEWORK,
)

# The disposal groupings and rank order are definitions (docs/rules.md), shared with the core;
# how the truth is derived from the simulator's choices is this module's own.
ADULT_CAUTION, PND, CANNABIS_WARNING, COMMUNITY_RESOLUTION = 3, 6, 7, 8
EPOCH = date(1970, 1, 1)


def utc_day(ms: int) -> date:
    """The UTC calendar date of an event time (integer arithmetic: exact at midnight)."""
    return EPOCH + timedelta(days=ms // MS_PER_DAY)


def offence_date(crime: CrimePlan) -> date:
    """The date history windows count back from: when the offence was committed, where the
    record gives it (never after the record), else the record's date (docs/rules.md)."""
    committed = crime_facts.offence_from(crime)
    return utc_day(committed if committed is not None else crime.recorded_at)


# Every kind of disposal an offender's history lists (a retail-theft notice counts any of them).
EVERY_DISPOSAL = OUT_OF_COURT | CAUTION_OR_CONVICTION


@dataclass(frozen=True)
class Thresholds:
    """The default configuration's parameters of the rules judged here."""

    enabled: frozenset[str]
    rank_min: str
    indictable_rank_min: str
    repeat_rank_min: str
    repeat_days: int
    pnd_days: int
    pnd_cannabis_days: int | None
    significant_min: int
    significant_days: int
    cannabis_days: int | None
    cr_days: int
    cr_prior_min: int
    # Outcome rules of rules-review 1.5 to 1.10 (docs/rules.md)
    indictable_from: str | None  # s17 in force from (ISO date)
    repeat_from: str | None
    retail_codes: frozenset[str]  # retail theft: goods recovered and a first offence
    first_groups: frozenset[str]
    first_days: int | None  # None: any earlier disposal
    cr_similar_days: int | None
    cr_exceptional_clears: bool
    fast_ms: int
    fast_types: frozenset[int]
    cancel_params: dict[str, Any]  # changes to the cancellation authority table (Guidance applies them)
    rape_roles: frozenset[str]
    victim_groups: frozenset[str]
    no_ground_phrases: tuple[str, ...]
    reclass_roles: frozenset[str]
    reclass_role_test: str  # serious | all
    # [force] oocd_framework and its adoption date: under two_tier, a simple caution, penalty
    # notice or cannabis warning is outside the framework (the default force is national).
    oocd_framework: str
    oocd_framework_from: str | None


@cache
def thresholds() -> Thresholds:
    config = rules.load()

    def param(rule: str, name: str) -> Any:
        return config.rule(rule).params[name]

    return Thresholds(
        enabled=frozenset(name for name, rule in config.rules.items() if rule.enabled),
        rank_min=param(CAUTION_SPECIFIED, "rank_min"),
        indictable_rank_min=param(CAUTION_INDICTABLE_ONLY, "rank_min"),
        repeat_rank_min=param(REPEAT_CAUTION, "rank_min"),
        repeat_days=param(REPEAT_CAUTION, "window_days"),
        pnd_days=param(PND_ELIGIBILITY, "window_days"),
        pnd_cannabis_days=config.rule(PND_ELIGIBILITY).params.get("cannabis_window_days"),
        significant_min=param(PND_ELIGIBILITY, "significant_history_min"),
        significant_days=param(PND_ELIGIBILITY, "significant_history_days"),
        cannabis_days=config.rule(CANNABIS_ESCALATION).params.get("window_days"),
        cr_days=param(CR_INELIGIBLE, "window_days"),
        cr_prior_min=param(CR_INELIGIBLE, "prior_min"),
        indictable_from=config.rule(CAUTION_INDICTABLE_ONLY).params.get("in_force_from"),
        repeat_from=config.rule(REPEAT_CAUTION).params.get("in_force_from"),
        retail_codes=frozenset(config.rule(PND_ELIGIBILITY).params.get("retail_theft_codes", ())),
        first_groups=frozenset(config.rule(PND_ELIGIBILITY).params.get("first_offence_groups", ("theft",))),
        first_days=config.rule(PND_ELIGIBILITY).params.get("first_offence_window_days"),
        cr_similar_days=config.rule(CR_INELIGIBLE).params.get("similar_cr_window_days"),
        cr_exceptional_clears=config.rule(CR_INELIGIBLE).params.get("exceptional_clears_domestic_abuse", True),
        fast_ms=round(float(param(FAST_UNSUCCESSFUL, "min_days")) * MS_PER_DAY),
        fast_types=frozenset(param(FAST_UNSUCCESSFUL, "outcome_types")),
        cancel_params=dict(config.rule(CANCEL_WITHOUT_AVI).params),
        rape_roles=frozenset(param(CANCEL_WITHOUT_AVI, "rape_roles")),
        victim_groups=frozenset(
            config.rule(CANCEL_WITHOUT_AVI).params.get("victim_informed_groups", VICTIM_INFORMED_GROUPS)
        ),
        no_ground_phrases=tuple(p.lower() for p in param(CANCEL_WITHOUT_AVI, "invalid_reason_phrases")),
        reclass_roles=frozenset(param(RECLASS_DOWN, "allowed_roles")),
        reclass_role_test=config.rule(RECLASS_DOWN).params.get("role_test", "serious"),
        oocd_framework=config.oocd_framework,
        oocd_framework_from=config.oocd_framework_from,
    )


class Guidance:
    """The outcome and decision rules of docs/rules.md over the simulator's records."""

    def __init__(self, reference: ReferenceData) -> None:
        self.reference = reference
        self.t = thresholds()
        self.cancel_authority: CancellationAuthority = authority_with_rules(
            self.t.cancel_params, reference.cancellation_authority
        )
        # Observed outcomes that are disposals in an offender's history: the out-of-court ones.
        self.disposal_of = {
            n: kind.disposal for n, kind in reference.outcome_types.items() if kind.out_of_court and kind.disposal
        }

    # -- offender history ------------------------------------------------------------------------

    def history(self, offender: Offender, at: int) -> list[Disposal]:
        """The offender's history as of an outcome at ``at`` (rules.md "Offender history as of")."""
        outcome_day = utc_day(at)
        items: list[Disposal] = []
        if offender.snapshot_at is not None and offender.snapshot_at <= at:
            items += [d for d in offender.priors if d.day < outcome_day]
        for earlier in offender.outcomes:
            kind = self.disposal_of.get(earlier.type)
            if earlier.at < at and kind is not None:
                code = self.reference.offence_codes[earlier.case.code_at(earlier.at)]
                items.append(Disposal(kind, code.offence_group, code.code, utc_day(earlier.at)))
        return items

    @staticmethod
    def within(history: list[Disposal], offence_day: date, days: int | None, kinds: frozenset[str]) -> list[Disposal]:
        """Disposals of these kinds dated 0..days days before the offence date (None: any time)."""
        return [
            d
            for d in history
            if d.kind in kinds
            and (offence_day - d.day).days >= 0
            and (days is None or (offence_day - d.day).days <= days)
        ]

    # -- outcomes --------------------------------------------------------------------------------

    def outcome(self, o: Outcome) -> set[str]:
        """Every rule the outcome raises a finding for, breach or review (its crime is always
        recorded before it): the truth lists both, and honest decision makers avoid both."""
        t, case = self.t, o.case
        code = self.reference.offence_codes[case.code_at(o.at)]
        policy = self.reference.policy(code.code)
        offence_day = offence_date(case.crime)
        outcome_day = utc_day(o.at).isoformat()
        history = self.history(o.offender, o.at) if o.offender is not None else None
        age = o.offender.age if o.offender is not None else None
        broken: set[str] = set()

        def near(days: int | None, kinds: frozenset[str], group: str | None = None) -> list[Disposal]:
            assert history is not None
            found = self.within(history, offence_day, days, kinds)
            return [d for d in found if group is None or d.offence_group == group]

        if o.type == ADULT_CAUTION and o.caution_kind != "conditional":  # s17 governs simple cautions
            rank = RANKS.index(o.rank)
            if (
                code.mode_of_trial in ("indictable_only", "mixed")  # mixed: a review (rules-review 1.5 point 4)
                and (t.indictable_from is None or outcome_day >= t.indictable_from)
                and not (o.dpp_consent and o.exceptional and rank >= RANKS.index(t.indictable_rank_min))
            ):
                broken.add(CAUTION_INDICTABLE_ONLY)
            if self.specified(code.code, outcome_day, case.crime) and not (
                o.exceptional and rank >= RANKS.index(t.rank_min)
            ):
                broken.add(CAUTION_SPECIFIED)
            excused = o.exceptional and rank >= RANKS.index(t.repeat_rank_min)
            in_force = t.repeat_from is None or outcome_day >= t.repeat_from
            if (
                history is not None
                and in_force
                and not excused
                and near(t.repeat_days, CAUTION_OR_CONVICTION, code.offence_group)
            ):
                broken.add(REPEAT_CAUTION)
        elif o.type == PND:
            over = (
                o.penalty_value is not None
                and policy.pnd_value_limit is not None
                and o.penalty_value > policy.pnd_value_limit
            )
            retail = code.code in t.retail_codes
            if (
                (code.code in self.reference.offence_codes and not policy.pnd_eligible)
                or over
                or (age is not None and age < 18)
                or (retail and o.goods_recovered is False)
                or (o.victim_views is False and code.victim_based)
            ):
                broken.add(PND_ELIGIBILITY)
            if history is not None and (
                (policy.cannabis and not near(t.pnd_cannabis_days, frozenset({"cannabis_warning"})))
                or near(t.pnd_days, PND_OR_CAUTION, code.offence_group)
                or len(near(t.significant_days, OUT_OF_COURT | CAUTION_OR_CONVICTION)) >= t.significant_min
                or (retail and any(d.offence_group in t.first_groups for d in near(t.first_days, EVERY_DISPOSAL)))
            ):
                broken.add(PND_ELIGIBILITY)
        if o.type == CANNABIS_WARNING or (o.type == PND and policy.cannabis):
            if (age is not None and age < 18) or o.aggravating_factors:
                broken.add(CANNABIS_ESCALATION)
            if history is not None:
                if o.type == CANNABIS_WARNING and near(t.cannabis_days, frozenset({"cannabis_warning"})):
                    broken.add(CANNABIS_ESCALATION)
                if o.type == PND and near(t.cannabis_days, frozenset({"penalty_notice"}), "drug_offences"):
                    broken.add(CANNABIS_ESCALATION)
        if o.type == COMMUNITY_RESOLUTION:
            cleared = o.exceptional and t.cr_exceptional_clears  # an authorisation (rules-review 1.10)
            similar = (
                history is not None
                and t.cr_similar_days is not None
                and near(t.cr_similar_days, frozenset({"community_resolution"}), code.offence_group)
            )
            if (
                (case.domestic and not cleared)  # any domestic abuse (rules-review 1.10)
                or code.mode_of_trial == "indictable_only"
                or policy.high_harm
                or (history is not None and len(near(t.cr_days, OUT_OF_COURT)) >= t.cr_prior_min)
                or similar
                or o.victim_views is False
            ):
                broken.add(CR_INELIGIBLE)
        if o.type in t.fast_types and policy.fast_outcome_watch and o.at - case.crime.recorded_at < t.fast_ms:
            broken.add(FAST_UNSUCCESSFUL)
        two_tier = t.oocd_framework == "two_tier" and (
            t.oocd_framework_from is None or outcome_day >= t.oocd_framework_from
        )
        if two_tier and (
            o.type in (PND, CANNABIS_WARNING) or (o.type == ADULT_CAUTION and o.caution_kind != "conditional")
        ):
            broken.add(DISPOSAL_OUTSIDE_FRAMEWORK)  # the two-tier framework (rules-review 1.8 point 7)
        return broken & t.enabled

    def specified(self, code: str, cautioned_on: str, crime: CrimePlan) -> bool:
        """Whether a simple caution for ``code`` raises CAUTION_SPECIFIED_EITHER_WAY (breach or
        review) unless excused: an SI 2015/790 row in force on the caution's date, for the
        offence's date, whose condition is met or not settled by the record (a Class A row
        settles on the drug's class; the others never do)."""
        drugs = crime_facts.drug_class(crime)
        rows = self.reference.specified(code, cautioned_on, offence_date(crime).isoformat())
        return any(row.condition != "class_a" or drugs in ("A", None) for row in rows)

    # -- decisions on the record ---------------------------------------------------------------

    def cancellation(self, case: CrimeCase, c: Cancellation) -> bool:
        """Whether the cancellation raises a finding: a breach (no AVI, a role the table does not
        allow for the code, gravity and edition in force on its UTC date, rape not by a rape role,
        a watched victim not told) or a review (a reason phrase alone)."""
        t = self.t
        offence = self.reference.offence_codes[case.code_at(c.at)]
        gravity = gravity_of(self.reference, offence)
        allowed = self.cancel_authority.edition_at(utc_day(c.at).isoformat()).roles[(c.code, gravity)]
        return CANCEL_WITHOUT_AVI in t.enabled and (
            (c.code == "C2" and not c.avi)
            or c.role not in allowed
            or (c.reason is not None and any(p in c.reason.lower() for p in t.no_ground_phrases))
            or (gravity == "rape" and c.role not in t.rape_roles)
            or (offence.offence_group in t.victim_groups and c.victim_informed is False)
        )

    def reclassification(self, move: Reclassification) -> bool:
        codes, t = self.reference.offence_codes, self.t
        source, target = codes.get(move.from_code), codes.get(move.to_code)
        if RECLASS_DOWN not in t.enabled or source is None or target is None:
            return False
        down = target.seriousness < source.seriousness
        no_reason = move.reason is None or not move.reason.strip()
        role_tested = t.reclass_role_test == "all" or serious_offence(self.reference, source)
        return down and (no_reason or (role_tested and move.role not in t.reclass_roles))
