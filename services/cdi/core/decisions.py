"""Rules on single decisions, judged in the crime stage (docs/rules.md):
CAUTION_INDICTABLE_ONLY, CAUTION_SPECIFIED_EITHER_WAY, FAST_UNSUCCESSFUL_OUTCOME (outcomes),
CANCEL_WITHOUT_AVI (cancellations), RECLASS_DOWN_NO_REASON (reclassifications). Outcomes that
are disposals go on to the offender stage, where the rules that need the offender's history run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cdi.core import findings
from cdi.core.events import CrimeCancelled, CrimeReclassified, DisposalObserved, Event, OutcomeAssigned, Subject
from cdi.core.reference import OffenceCode, ReferenceData
from cdi.core.rules import (
    CANCEL_WITHOUT_AVI,
    CAUTION_INDICTABLE_ONLY,
    CAUTION_SPECIFIED_EITHER_WAY,
    FAST_UNSUCCESSFUL,
    RECLASS_DOWN,
    RulesConfig,
    RuleSettings,
)
from cdi.core.stage import OFFENDERS, Forward, Step
from cdi.core.times import format_duration, format_time, utc_date

if TYPE_CHECKING:
    from cdi.core.crimes import Classification, CrimeCase

ADULT_CAUTION = 3


class DecisionRules:
    def __init__(self, config: RulesConfig, reference: ReferenceData) -> None:
        self.config = config
        self.reference = reference
        self.indictable = config.rule(CAUTION_INDICTABLE_ONLY)
        self.specified = config.rule(CAUTION_SPECIFIED_EITHER_WAY)
        self.fast = config.rule(FAST_UNSUCCESSFUL)
        self.cancel = config.rule(CANCEL_WITHOUT_AVI)
        self.reclass = config.rule(RECLASS_DOWN)

    def _raise(
        self,
        case: CrimeCase,
        rule: RuleSettings,
        severity: str,
        event: Event,
        group: str | None,
        evidence: list[str],
        explanation: str,
        out: Step,
        assessment: str = findings.BREACH,
    ) -> None:
        if not rule.enabled or rule.name in case.raised:
            return
        case.raised.add(rule.name)
        out.findings.append(
            findings.raised(
                rule.name,
                severity,
                Subject("crime", case.key),
                findings.FindingContext(event.force, event.division, event.at, group, self.config.version),
                evidence,
                explanation,
                rule.guidance,
                assessment,
            )
        )

    def _describe(self, crime: Classification) -> str:
        if crime.hocr_code is None:
            return f"no Home Office code ({crime.offence_group.replace('_', ' ')})"
        offence = self.reference.offence_codes.get(crime.hocr_code)
        return f"{crime.hocr_code} ({offence.offence.lower()})" if offence else crime.hocr_code

    # -- outcomes ---------------------------------------------------------------------------------

    def outcome(
        self, case: CrimeCase, crime: Classification, event: Event, outcome: OutcomeAssigned, out: Step
    ) -> None:
        offence = self.reference.offence_codes.get(crime.hocr_code)
        policy = self.reference.policy(crime.hocr_code)
        evidence = [event.event_id, crime.recorded_event]
        what = self._describe(crime)
        # s17 restricts adult *simple* cautions: a conditional one is out of its scope, and one of
        # unknown kind is only likely within it (rules-review 1.5). An alternate-offence caution
        # (3A: theft on a robbery record) is judged on the offence cautioned.
        if outcome.outcome_type == ADULT_CAUTION and outcome.caution_kind != "conditional":
            cautioned = outcome.alternate_offence_code or crime.hocr_code
            if cautioned != crime.hocr_code:
                what += f", cautioned for {cautioned} (an alternate offence)"
            offence = self.reference.offence_codes.get(cautioned)
            restriction = self.reference.policy(cautioned).caution_restriction
            if offence is not None and offence.mode_of_trial == "indictable_only":
                self._indictable_only(case, crime, event, outcome, what, evidence, out)
            if restriction == "specified_either_way":
                self._specified_either_way(case, crime, event, outcome, what, evidence, out)
        if (
            outcome.outcome_type in self.fast.params["outcome_types"]
            and policy.fast_outcome_watch
            and event.at - crime.recorded_at < self.fast.days("min_days")
        ):
            self._raise(
                case,
                self.fast,
                self.fast.severity,
                event,
                crime.offence_group,
                evidence,
                f"Crime {case.key}, {what}, was closed with outcome {outcome.outcome_type} "
                f"{format_duration(event.at - crime.recorded_at)} after it was recorded. Timing alone is "
                f"no breach: check that the record evidences the victim's decision, the lines of enquiry "
                f"and a supervisor's review (closures within {self.fast.params['min_days']} days are checked).",
                out,
                findings.REVIEW,  # timing alone shows no breach
            )
        kind = self.reference.outcome_types.get(outcome.outcome_type)
        if kind is not None and kind.disposal is not None and kind.disposal != "charge":
            self._forward(case, crime, event, outcome, kind.disposal, out)

    def _indictable_only(
        self,
        case: CrimeCase,
        crime: Classification,
        event: Event,
        outcome: OutcomeAssigned,
        what: str,
        evidence: list[str],
        out: Step,
    ) -> None:
        """DPP consent and exceptional circumstances determined at the prescribed rank are all
        needed (s17(2), (5)): one recorded as absent (or a rank recorded below) proves the breach of
        a simple caution; what the source does not record makes it only likely."""
        rank_min = self.indictable.params["rank_min"]
        rank = outcome.decision_maker_rank
        rank_ok = None if rank is None else self.reference.rank_at_least(rank, rank_min)
        # (named when recorded as absent, named when not recorded, recorded value)
        conditions = (
            ("DPP consent", "DPP consent", outcome.dpp_consent),
            ("exceptional circumstances", "exceptional circumstances", outcome.exceptional_circumstances),
            (f"a decision at {rank_min.replace('_', ' ')} rank or above", "the decision maker's rank", rank_ok),
        )
        missing = [absent for absent, _, ok in conditions if ok is False]
        unknown = [unrecorded for _, unrecorded, ok in reversed(conditions) if ok is None]
        if not missing and not unknown:
            return
        head = f"{_caution(outcome)} for crime {case.key}, {what}, an indictable-only offence"
        if missing:
            severity = self.indictable.severity
            explanation = f"{head}, without {' or '.join(missing)} recorded"
            if rank_ok is False:
                explanation += f" (decided by a {rank.replace('_', ' ')})"
            explanation += "."
            if unknown:
                explanation += f" {findings.sentence(findings.not_recorded(unknown))}"
        else:
            severity = findings.one_step_lower(self.indictable.severity)
            explanation = (
                f"{head}: allowed only in exceptional circumstances determined at "
                f"{rank_min.replace('_', ' ')} rank and with DPP consent, and "
                f"{findings.not_recorded(unknown)}; confirm on the crime record."
            )
        if outcome.caution_kind is None:  # s17 governs simple cautions only
            severity = findings.one_step_lower(severity) if missing else severity
            explanation += KIND_NOT_RECORDED
        # Shown only when a condition is recorded as absent on a caution known to be simple.
        settled = bool(missing) and outcome.caution_kind is not None
        assessment = findings.BREACH if settled else findings.REVIEW
        self._raise(case, self.indictable, severity, event, crime.offence_group, evidence, explanation, out, assessment)

    def _specified_either_way(
        self,
        case: CrimeCase,
        crime: Classification,
        event: Event,
        outcome: OutcomeAssigned,
        what: str,
        evidence: list[str],
        out: Step,
    ) -> None:
        rank_min = self.specified.params["rank_min"]
        exceptional, rank = outcome.exceptional_circumstances, outcome.decision_maker_rank
        rank_ok = None if rank is None else self.reference.rank_at_least(rank, rank_min)
        if exceptional and rank_ok:
            return
        severity = self.specified.severity
        settled = outcome.caution_kind is not None
        if exceptional is False:
            why = "no exceptional circumstances recorded"
        elif rank is not None and not rank_ok:
            why = f"decided by a {rank.replace('_', ' ')}, below {rank_min}"
            if exceptional is None:
                why += f"; {findings.not_recorded(['exceptional circumstances'])}"
        else:  # nothing recorded against the caution, but what would allow it is not known
            unknown = ["exceptional circumstances"] if exceptional is None else []
            unknown += ["the decision maker's rank"] if rank is None else []
            severity = findings.one_step_lower(severity)
            settled = False
            why = f"{findings.not_recorded(unknown)} (at least {rank_min} rank is needed); confirm on the crime record"
        explanation = f"{_caution(outcome)} for crime {case.key}, {what}, a specified either-way offence: {why}."
        if outcome.caution_kind is None:  # s17 governs simple cautions only
            if exceptional is False or (rank is not None and not rank_ok):
                severity = findings.one_step_lower(severity)
            explanation += KIND_NOT_RECORDED
        assessment = findings.BREACH if settled else findings.REVIEW
        self._raise(case, self.specified, severity, event, crime.offence_group, evidence, explanation, out, assessment)

    def _forward(
        self, case: CrimeCase, crime: Classification, event: Event, outcome: OutcomeAssigned, disposal: str, out: Step
    ) -> None:
        # The offender's history holds the offence the disposal was given for (an alternate
        # offence where the outcome names one), and the history rules judge that offence.
        code, group = crime.hocr_code, crime.offence_group
        alternate = self.reference.offence_codes.get(outcome.alternate_offence_code or "")
        if alternate is not None:
            code, group = alternate.code, alternate.offence_group
        payload = DisposalObserved(
            outcome_event=event.event_id,
            crime_id=case.key,
            offender_ref=outcome.offender_ref,
            outcome_type=outcome.outcome_type,
            disposal=disposal,
            hocr_code=code,
            offence_group=group,
            offence_date=utc_date(crime.recorded_at),
            crime_event=crime.recorded_event,
            offender_age=outcome.offender_age,
            decision_maker_rank=outcome.decision_maker_rank,
            exceptional_circumstances=outcome.exceptional_circumstances,
            dpp_consent=outcome.dpp_consent,
            penalty_value=outcome.penalty_value,
            domestic_abuse=outcome.domestic_abuse,
            intimate_partner=outcome.intimate_partner,
            victim_views_recorded=outcome.victim_views_recorded,
            caution_kind=outcome.caution_kind,
        )
        record = Event(
            f"{event.event_id}#disposal",
            DisposalObserved.TYPE,
            1,
            event.occurred_at,
            event.force,
            event.division,
            payload,
            at=event.at,
        )
        out.forwards.append(Forward(OFFENDERS, outcome.offender_ref or f"crime:{case.key}", record))

    # -- cancellations ------------------------------------------------------------------------------

    def cancellation(
        self, case: CrimeCase, crime: Classification | None, event: Event, cancel: CrimeCancelled, out: Step
    ) -> None:
        params = self.cancel.params
        rape = crime is not None and self.reference.policy(crime.hocr_code).rape
        reasons = []
        if cancel.cancellation_code == "C2" and not cancel.avi_recorded:
            reasons.append("C2 (no crime) without additional verifiable information")
        if cancel.authoriser_role not in params["allowed_roles"]:
            reasons.append(f"authorised by the {cancel.authoriser_role.replace('_', ' ')}")
        text = (cancel.reason or "").lower()
        if any(phrase in text for phrase in params["invalid_reason_phrases"]):
            reasons.append("the reason given is not a cancellation ground")
        if rape and cancel.authoriser_role not in params["rape_roles"]:
            allowed = " or ".join(r.replace("_", " ") for r in params["rape_roles"])
            reasons.append(f"a rape record cancelled by a role other than the {allowed}")
        if not reasons:
            return
        what = f", {self._describe(crime)}," if crime else ""
        evidence = [event.event_id] + ([crime.recorded_event] if crime else [])
        self._raise(
            case,
            self.cancel,
            params["severity_rape"] if rape else self.cancel.severity,
            event,
            crime.offence_group if crime else None,
            evidence,
            f"Crime {case.key}{what} was cancelled ({cancel.cancellation_code}) at {format_time(event.at)}: "
            + "; ".join(reasons)
            + ".",
            out,
        )

    # -- reclassifications ----------------------------------------------------------------------------

    def reclassification(
        self, case: CrimeCase, crime: Classification | None, event: Event, change: CrimeReclassified, out: Step
    ) -> None:
        before = self.reference.offence_codes.get(change.from_code)
        after = self.reference.offence_codes.get(change.to_code)
        if before is None or after is None or after.seriousness >= before.seriousness:
            return
        reasons = []
        if not (change.reason or "").strip():
            reasons.append("no reason recorded")
        serious = serious_offence(self.reference, before)
        # Investigators and supervisors routinely reclassify with a reason: the role test is for
        # serious downgrades (rules-review 1.13 [K]), unless the force sets role_test = "all".
        role_tested = serious or self.reclass.params.get("role_test", "serious") == "all"
        if role_tested and change.role not in self.reclass.params["allowed_roles"]:
            reasons.append(f"made by the {change.role.replace('_', ' ')}")
        if not reasons:
            return
        severity = self.reclass.params["severity_serious"] if serious else self.reclass.severity
        evidence = [event.event_id] + ([crime.recorded_event] if crime else [])
        self._raise(
            case,
            self.reclass,
            severity,
            event,
            before.offence_group,
            evidence,
            f"Crime {case.key} was reclassified down from {change.from_code} ({before.offence.lower()}) to "
            f"{change.to_code} ({after.offence.lower()}): " + "; ".join(reasons) + ". (Down means lower on the "
            "monitor's own seriousness ranking of Home Office codes, not a Home Office scale.)",
            out,
        )


KIND_NOT_RECORDED = (
    " The source does not say whether the caution was simple or conditional: s17 restricts simple cautions only; "
    "confirm the kind on the crime record."
)


def _caution(outcome: OutcomeAssigned) -> str:
    """How a finding names the caution: its kind, where the source gives it."""
    kinds = {"simple": "Adult simple caution", "conditional": "Adult conditional caution"}
    return kinds.get(outcome.caution_kind or "", "Adult caution (kind not recorded)")


def serious_offence(reference: ReferenceData, code: OffenceCode) -> bool:
    """An offence whose downgrade needs the registrar's or decision maker's hand: indictable-only,
    sexual, or high-harm (rape, robbery, residential burglary, bladed article)."""
    return (
        code.mode_of_trial == "indictable_only"
        or code.offence_group == "sexual_offences"
        or reference.policy(code.code).high_harm
    )
