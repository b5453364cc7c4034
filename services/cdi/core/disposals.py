"""Outcome rules that need the offender's history (docs/rules.md): REPEAT_CAUTION_2Y,
PND_ELIGIBILITY, CANNABIS_ESCALATION, CR_INELIGIBLE. Each finding lists every reason that
applies and the history entries behind them.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdi.core import findings
from cdi.core.events import DisposalObserved, Event, Subject
from cdi.core.reference import ReferenceData
from cdi.core.rules import CANNABIS_ESCALATION, CR_INELIGIBLE, PND_ELIGIBILITY, REPEAT_CAUTION, RulesConfig
from cdi.core.stage import Step
from cdi.core.times import day_date, epoch_day, utc_date

CAUTION_OR_CONVICTION = frozenset({"conviction", "adult_caution", "youth_caution", "conditional_caution"})
OUT_OF_COURT = frozenset(
    {
        "adult_caution",
        "youth_caution",
        "conditional_caution",
        "penalty_notice",
        "cannabis_warning",
        "community_resolution",
    }
)
PND_OR_CAUTION = frozenset({"penalty_notice", "adult_caution", "youth_caution", "conditional_caution"})

ADULT_CAUTION, PND, CANNABIS_WARNING, COMMUNITY_RESOLUTION = 3, 6, 7, 8


@dataclass(frozen=True, slots=True)
class HistoryItem:
    day: int  # days since the epoch
    disposal: str
    offence_group: str
    hocr_code: str | None
    event_id: str  # the snapshot or outcome it came from


class DisposalRules:
    def __init__(self, config: RulesConfig, reference: ReferenceData) -> None:
        self.config = config
        self.reference = reference
        self.repeat = config.rule(REPEAT_CAUTION)
        self.pnd = config.rule(PND_ELIGIBILITY)
        self.cannabis = config.rule(CANNABIS_ESCALATION)
        self.cr = config.rule(CR_INELIGIBLE)
        # Offence groups holding an offence a community resolution is not for (indictable-only or
        # high-harm): a resolution known only by its group (a police.uk export) is one to review.
        self.cr_restricted_groups = frozenset(
            o.offence_group
            for o in reference.offence_codes.values()
            if o.mode_of_trial == "indictable_only" or reference.policy(o.code).high_harm
        )

    def judge(self, event: Event, d: DisposalObserved, history: list[HistoryItem], out: Step) -> None:
        # Windows count back from the date the offence was committed where the record gives it
        # (s17(4): "before the commission of the offence"), else from the record's date
        # (rules-review 1.7 [K]).
        offence_day = epoch_day(d.committed_on or d.offence_date)

        def within(
            window: int | None, kinds: frozenset[str] | None = None, group: str | None = None
        ) -> list[HistoryItem]:
            """Disposals dated 0..window days before the offence (None: any time before it)."""
            return [
                h
                for h in history
                if 0 <= offence_day - h.day <= (window if window is not None else offence_day - h.day)
                and (kinds is None or h.disposal in kinds)
                and (group is None or h.offence_group == group)
            ]

        policy = self.reference.policy(d.hocr_code)
        under_18 = d.offender_age is not None and d.offender_age < 18
        cautioned_on = utc_date(event.at)
        if (
            d.outcome_type == ADULT_CAUTION
            and d.caution_kind != "conditional"
            and self.repeat.enabled
            and in_force(self.repeat.params.get("in_force_from"), cautioned_on)
        ):
            self._repeat_caution(event, d, within, out)
        if d.outcome_type == PND and self.pnd.enabled:
            self._pnd(event, d, policy, under_18, within, out)
        cannabis_disposal = d.outcome_type == CANNABIS_WARNING or (d.outcome_type == PND and policy.cannabis)
        if cannabis_disposal and self.cannabis.enabled:
            # Escalation follows previous disposals, at any time before (ACPO 2009, rules-review 1.9
            # [V]); a force that limits it to a period sets window_days.
            window = _days(self.cannabis.params.get("window_days"))
            reasons, priors = [], []
            if d.outcome_type == CANNABIS_WARNING and (found := within(window, frozenset({"cannabis_warning"}))):
                reasons.append(
                    f"a second cannabis warning (the earlier one on {_latest(found)}): a penalty notice was due"
                )
                priors += found
            if d.outcome_type == PND and (found := within(window, frozenset({"penalty_notice"}), "drug_offences")):
                reasons.append(
                    f"a penalty notice after an earlier cannabis penalty notice (on {_latest(found)}): "
                    "an arrest was due"
                )
                priors += found
            if d.aggravating_factors:  # smoking in public, near schools, a persistent offender (ACPO 2009 [V])
                reasons.append("aggravating factors were recorded: they rule out a warning or penalty notice")
            if under_18:
                reasons.append(f"the offender was {d.offender_age}: no cannabis warning or notice under 18")
            if reasons:
                severity = self.cannabis.params["severity_under_18"] if under_18 else self.cannabis.severity
                out.findings.append(self._finding(self.cannabis, severity, event, d, priors, reasons))
        if d.outcome_type == COMMUNITY_RESOLUTION and self.cr.enabled:
            self._community_resolution(event, d, policy, under_18, within, out)

    def _community_resolution(self, event, d, policy, under_18, within, out) -> None:  # type: ignore[no-untyped-def]
        params = self.cr.params
        offence = self.reference.offence_codes.get(d.hocr_code)
        reasons, priors, serious = [], [], False
        # Out-of-court disposals are rarely right for any domestic abuse, family members
        # included: intimate partners high, the rest medium (rules-review 1.10 [V]); a recorded
        # exceptional-circumstances authorisation clears it (rules-review 1.10 [U], a parameter).
        cleared = d.exceptional_circumstances is True and params.get("exceptional_clears_domestic_abuse", True)
        unauthorised = "" if d.exceptional_circumstances is not None else EXCEPTIONAL_NOT_RECORDED
        if d.domestic_abuse and d.intimate_partner and not cleared:
            reasons.append(f"domestic abuse against an intimate partner{unauthorised}")
            serious = True
        elif d.domestic_abuse and not cleared:
            who = "a family member" if d.intimate_partner is False else "a relationship the source does not record"
            reasons.append(f"domestic abuse ({who}): a community resolution is rarely appropriate{unauthorised}")
        if offence is not None and offence.mode_of_trial == "indictable_only":
            reasons.append("an indictable-only offence")
            serious = True
        if policy.high_harm:
            reasons.append("a high-harm offence")
            serious = True
        found = within(int(params["window_days"]), OUT_OF_COURT)
        if len(found) >= int(params["prior_min"]):
            reasons.append(
                f"{len(found)} earlier out-of-court disposal{'s' if len(found) > 1 else ''} "
                f"within {params['window_days']} days"
            )
            priors += found
        similar_days = params.get("similar_cr_window_days")
        if similar_days is not None and (
            similar := within(int(similar_days), frozenset({"community_resolution"}), d.offence_group)
        ):
            # A community resolution may be repeated, but not for the same kind of offence within
            # the year (rules-review 1.10, the reviewer's suggestion [U], a parameter).
            reasons.append(
                f"an earlier community resolution for a similar offence ({d.offence_group.replace('_', ' ')}; "
                f"similar here means the same offence group) on {_latest(similar)}, within {similar_days} days"
            )
            priors += [h for h in similar if h not in priors]
        if d.victim_views_recorded is False:
            reasons.append("no record of the victim's views")
        if not reasons and d.hocr_code is None and d.offence_group in self.cr_restricted_groups:
            # The export names only the group, which holds offences a resolution is not for:
            # not a breach the records show, one to look at (rules-review 3.1).
            reasons.append(
                f"{d.offence_group.replace('_', ' ')} includes offences a community resolution is not for "
                "(indictable-only or high-harm); confirm the offence code on the crime record"
            )
            out.findings.append(self._finding(self.cr, "low", event, d, priors, reasons, findings.REVIEW))
            return
        if reasons:
            severity = params["severity_serious"] if serious else self.cr.severity
            if under_18:  # the child gravity matrix allows more for children (rules-review 1.10 [K])
                severity = findings.one_step_lower(severity)
                reasons.append(f"the offender was {d.offender_age}: the child gravity matrix applies, one step lower")
            out.findings.append(self._finding(self.cr, severity, event, d, priors, reasons))

    def _repeat_caution(self, event, d, within, out) -> None:  # type: ignore[no-untyped-def]
        """s17(4): a simple caution despite a similar caution or conviction in the two years
        before, unless exceptional circumstances were determined at the prescribed rank (s17(5)).
        A conditional caution is out of s17's scope; one of unknown kind is only likely in it."""
        rank_min = self.repeat.params["rank_min"]
        rank = d.decision_maker_rank
        rank_ok = None if rank is None else self.reference.rank_at_least(rank, rank_min)
        if d.exceptional_circumstances is True and rank_ok:
            return
        priors = within(int(self.repeat.params["window_days"]), CAUTION_OR_CONVICTION, d.offence_group)
        if not priors:
            return
        reasons = [
            f"{self._a(self._kinds(priors))} for a similar offence ({d.offence_group.replace('_', ' ')}; "
            f"similar here means the same offence group) within {self.repeat.params['window_days']} "
            f"days before the offence"
        ]
        severity = self.repeat.severity
        proven = d.exceptional_circumstances is False or rank_ok is False
        if d.exceptional_circumstances is True and rank_ok is False:
            reasons.append(f"exceptional circumstances were decided by a {rank.replace('_', ' ')}, below {rank_min}")
        if not proven:  # what would allow it is not recorded: a likely breach, not a shown one
            unknown = ["exceptional circumstances"] if d.exceptional_circumstances is None else []
            unknown += ["the decision maker's rank"] if rank is None else []
            reasons.append(f"{findings.not_recorded(unknown)}; confirm on the crime record")
            severity = findings.one_step_lower(severity)
        if d.caution_kind is None:
            if proven:
                severity = findings.one_step_lower(severity)
            reasons.append(
                "the source does not say whether the caution was simple or conditional "
                "(s17 restricts simple cautions only)"
            )
        if d.victim_views_recorded is False and self._victim_based(d):
            reasons.append("the record holds no victim's views either (to be sought before a caution)")
        assessment = findings.BREACH if proven and d.caution_kind is not None else findings.REVIEW
        out.findings.append(self._finding(self.repeat, severity, event, d, priors, reasons, assessment))

    def _pnd(self, event, d, policy, under_18, within, out) -> None:  # type: ignore[no-untyped-def]
        params = self.pnd.params
        reasons, priors, serious = [], [], False
        heuristic = None  # the significant-history flag, the one reason that is not a rule
        # The penalty notice scheme lists its offences exhaustively, so a code of the reference
        # tables that is not listed as eligible is ineligible. A code the tables do not know (a
        # force sub-code, an obsolete code) is not judged: rules-review 1.8.
        known = d.hocr_code is not None and d.hocr_code in self.reference.offence_codes
        if known and not policy.pnd_eligible:
            reasons.append(f"{d.hocr_code} is not an offence for a penalty notice")
        limit = policy.pnd_value_limit
        if limit is not None and d.penalty_value is not None and d.penalty_value > limit:
            reasons.append(f"value GBP {d.penalty_value:g} is over the GBP {limit:g} limit")
        # Retail theft: only for goods recovered fit for resale, and only for a first offence
        # (the 2009 revision of the penalty notice guidance, rules-review 1.8 point 2 [V]).
        retail = d.hocr_code in params.get("retail_theft_codes", ())
        if retail and d.goods_recovered is False:
            reasons.append("the goods were not recovered: a retail-theft notice is only for goods recovered")
        if under_18:
            reasons.append(f"the offender was {d.offender_age}: penalty notices are for adults")
            serious = True
        if d.victim_views_recorded is False and self._victim_based(d):
            # HMIC: an auditable record that the victim's views were considered before a penalty
            # notice for a crime with a victim (rules-review 1.8 point 6 [V]).
            reasons.append("no record that the victim's views were considered")
        if d.offender_ref:
            if policy.cannabis and not within(
                _days(params.get("cannabis_window_days")), frozenset({"cannabis_warning"})
            ):
                reasons.append("a cannabis penalty notice with no earlier cannabis warning")
            if retail:
                groups = frozenset(params.get("first_offence_groups", ("theft",)))
                found = [h for h in within(_days(params.get("first_offence_window_days"))) if h.offence_group in groups]
                if found:
                    reasons.append(
                        f"not a first offence: an earlier {self._kinds(found)} for "
                        f"{' or '.join(sorted(g.replace('_', ' ') for g in {h.offence_group for h in found}))} "
                        f"(the latest on {_latest(found)})"
                    )
                    priors += found
            found = within(int(params["window_days"]), PND_OR_CAUTION, d.offence_group)
            if found:
                reasons.append(
                    f"{self._a(self._kinds(found))} for a similar offence within {params['window_days']} days"
                )
                priors += [h for h in found if h not in priors]
            recent = within(int(params["significant_history_days"]))
            if len(recent) >= int(params["significant_history_min"]):
                # A risk flag, not a guidance threshold: it never raises the severity (rules-review 1.8).
                heuristic = (
                    f"{len(recent)} disposals within {params['significant_history_days']} days (a "
                    f"significant offending history by the monitor's heuristic, not a guidance threshold)"
                )
                reasons.append(heuristic)
                priors += [h for h in recent if h not in priors]
        if reasons:
            # The heuristic alone shows no breach: the finding asks for a review.
            assessment = findings.REVIEW if reasons == [heuristic] else findings.BREACH
            severity = params["severity_serious"] if serious else self.pnd.severity
            out.findings.append(self._finding(self.pnd, severity, event, d, priors, reasons, assessment))

    def _victim_based(self, d: DisposalObserved) -> bool:
        offence = self.reference.offence_codes.get(d.hocr_code or "")
        return offence is not None and offence.victim_based

    @staticmethod
    def _kinds(items: list[HistoryItem]) -> str:
        return " or ".join(sorted({h.disposal.replace("_", " ") for h in items}))

    @staticmethod
    def _a(noun: str) -> str:
        return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"

    def _not_checked(self, rule: str, d: DisposalObserved) -> list[str]:
        """What the rule could not check because the source does not record it (null fields). A
        finding stands on what is known; these only say what else might have applied."""
        notes = []
        retail = d.hocr_code in self.pnd.params.get("retail_theft_codes", ())
        if rule == PND_ELIGIBILITY and retail and d.goods_recovered is None:
            notes.append("the source does not record whether the goods were recovered, so that was not checked")
        if rule == CANNABIS_ESCALATION and d.aggravating_factors is None:
            notes.append("the source does not record aggravating factors, so they were not checked")
        if d.hocr_code is None and rule in (PND_ELIGIBILITY, CR_INELIGIBLE):
            what = "its mode of trial or harm" if rule == CR_INELIGIBLE else "whether it allows a penalty notice"
            notes.append(f"the source gives no Home Office code, so {what} was not checked")
        if d.domestic_abuse is None and rule == CR_INELIGIBLE:
            notes.append("the source does not record whether this was domestic abuse")
        if d.offender_ref is None:
            age_matters = d.offender_age is None and rule in (PND_ELIGIBILITY, CANNABIS_ESCALATION)
            what = "their age and offending history were" if age_matters else "the offending history was"
            notes.append(f"the source names no offender, so {what} not checked")
        return notes

    def _finding(  # type: ignore[no-untyped-def]
        self, rule, severity, event, d, priors, reasons, assessment: str = findings.BREACH
    ) -> Event:
        if d.hocr_code is None:
            offence = f"no Home Office code ({d.offence_group.replace('_', ' ')})"
        else:
            what = self.reference.offence_codes.get(d.hocr_code)
            offence = f"{d.hocr_code} ({what.offence.lower()})" if what else d.hocr_code
        outcome = self.reference.outcome_types.get(d.outcome_type)
        name = outcome.name.lower() if outcome else f"outcome {d.outcome_type}"
        if d.outcome_type == ADULT_CAUTION:  # s17 turns on the kind: say which it was
            name = {"simple": "adult simple caution", "conditional": "adult conditional caution"}.get(
                d.caution_kind or "", "adult caution (simple or conditional: the record does not say)"
            )
        evidence = [d.outcome_event, d.crime_event, *sorted({h.event_id for h in priors})]
        explanation = f"{name.capitalize()} for crime {d.crime_id}, {offence}: " + "; ".join(reasons) + "."
        if priors:  # say which date the history windows counted back from (rules-review 1.7)
            explanation += " " + _counted_from(d)
        notes = self._not_checked(rule.name, d)
        if notes:
            explanation += " " + findings.sentence("; ".join(notes))
        return findings.raised(
            rule.name,
            severity,
            Subject("crime", d.crime_id),
            findings.FindingContext(event.force, event.division, event.at, d.offence_group, self.config.version),
            evidence,
            explanation,
            rule.guidance,
            assessment,
        )


# Said after a domestic-abuse reason when the source does not record whether an exceptional-
# circumstances authorisation (which would clear it) was given.
EXCEPTIONAL_NOT_RECORDED = (
    " (the source does not record an exceptional-circumstances authorisation, which would clear it)"
)


def _counted_from(d: DisposalObserved) -> str:
    """Which date the history was counted back from: the offence's commission where the record
    gives it, else the record's date (docs/rules.md, "Offence date")."""
    if d.committed_on:
        return f"The history is counted back from {d.committed_on}, when the offence was committed."
    return (
        f"The history is counted back from {d.offence_date}, the date of the crime record: the source gives "
        "no date the offence was committed."
    )


def in_force(start: str | None, day: str) -> bool:
    """Whether a rule in force from ``start`` (an ISO date; None: always) judges a decision of
    this UTC date (rules editions by date, rules-review 1.5 point 5)."""
    return start is None or day >= str(start)


def _days(value: int | None) -> int | None:
    """An optional window parameter in days (absent: any time)."""
    return None if value is None else int(value)


def _latest(items: list[HistoryItem]) -> str:
    """The date of the latest of these disposals (so a reader sees how old the prior is)."""
    return day_date(max(h.day for h in items))
