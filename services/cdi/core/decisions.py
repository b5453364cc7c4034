"""Rules on single decisions, judged in the crime stage (docs/rules.md):
CAUTION_INDICTABLE_ONLY, CAUTION_SPECIFIED_EITHER_WAY, DISPOSAL_OUTSIDE_FRAMEWORK,
FAST_UNSUCCESSFUL_OUTCOME (outcomes),
CANCEL_WITHOUT_AVI (cancellations), RECLASS_DOWN_NO_REASON (reclassifications). Outcomes that
are disposals go on to the offender stage, where the rules that need the offender's history run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cdi.core import findings
from cdi.core.disposals import in_force
from cdi.core.events import CrimeCancelled, CrimeReclassified, DisposalObserved, Event, OutcomeAssigned, Subject
from cdi.core.reference import GRAVITIES, CancellationAuthority, OffenceCode, ReferenceData, SpecifiedOffence
from cdi.core.rules import (
    CANCEL_WITHOUT_AVI,
    CAUTION_INDICTABLE_ONLY,
    CAUTION_SPECIFIED_EITHER_WAY,
    DISPOSAL_OUTSIDE_FRAMEWORK,
    FAST_UNSUCCESSFUL,
    RECLASS_DOWN,
    TWO_TIER,
    RulesConfig,
    RuleSettings,
)
from cdi.core.stage import OFFENDERS, Forward, Step
from cdi.core.times import format_duration, format_time, utc_date

if TYPE_CHECKING:
    from cdi.core.crimes import Classification, CrimeCase

ADULT_CAUTION, PENALTY_NOTICE, CANNABIS_WARNING = 3, 6, 7
N100 = "N100"  # the contracts' code for a rape report not recorded as a crime


@dataclass(slots=True)
class Caution:
    """An adult caution being judged by the s17 rules, with what every finding on it names."""

    case: CrimeCase
    crime: Classification
    event: Event
    outcome: OutcomeAssigned
    what: str  # the offence as the finding names it
    evidence: list[str]
    on: str  # the caution's UTC date (ISO)
    views: str = ""  # a sentence on the victim's views, said on any finding raised


class DecisionRules:
    def __init__(self, config: RulesConfig, reference: ReferenceData) -> None:
        self.config = config
        self.reference = reference
        self.indictable = config.rule(CAUTION_INDICTABLE_ONLY)
        self.specified = config.rule(CAUTION_SPECIFIED_EITHER_WAY)
        self.fast = config.rule(FAST_UNSUCCESSFUL)
        self.cancel = config.rule(CANCEL_WITHOUT_AVI)
        self.reclass = config.rule(RECLASS_DOWN)
        # Absent only from a configuration built without the loader from a file older than the rule.
        self.framework = config.rules.get(DISPOSAL_OUTSIDE_FRAMEWORK)
        self.authority = authority_with_rules(self.cancel.params, reference.cancellation_authority)

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
        if outcome.outcome_type in OUTSIDE_TWO_TIER and self.config.framework_at(utc_date(event.at)) == TWO_TIER:
            self._outside_framework(case, crime, event, outcome, what, evidence, out)
        # s17 restricts adult *simple* cautions: a conditional one is out of its scope, and one of
        # unknown kind is only likely within it (rules-review 1.5). An alternate-offence caution
        # (3A: theft on a robbery record) is judged on the offence cautioned.
        if outcome.outcome_type == ADULT_CAUTION and outcome.caution_kind != "conditional":
            cautioned = outcome.alternate_offence_code or crime.hocr_code
            if cautioned != crime.hocr_code:
                what += f", cautioned for {cautioned} (an alternate offence)"
            offence = self.reference.offence_codes.get(cautioned)
            caution = Caution(case, crime, event, outcome, what, evidence, utc_date(event.at))
            caution.views = _victim_views(outcome, offence)
            # A caution before s17 was in force is judged by no edition of the rule (rules-review 1.5 point 5).
            if (
                offence is not None
                and offence.mode_of_trial in ("indictable_only", "mixed")
                and in_force(self.indictable.params.get("in_force_from"), caution.on)
            ):
                self._indictable_only(caution, offence.mode_of_trial == "mixed", out)
            if offence is not None:  # SI 2015/790 rows in force on the caution's date, for the offence's date
                rows = self.reference.specified(cautioned, caution.on, crime.offence_date)
                if rows:
                    self._specified_either_way(caution, rows, out)
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

    def _outside_framework(
        self,
        case: CrimeCase,
        crime: Classification,
        event: Event,
        outcome: OutcomeAssigned,
        what: str,
        evidence: list[str],
        out: Step,
    ) -> None:
        """A force on the NPCC two-tier framework gives an adult out of court only a community
        resolution or a conditional caution: a simple caution, a penalty notice or a cannabis/khat
        warning is outside it (rules-review 1.8 point 7 [V]). A caution of unknown kind may be
        conditional: a review one step lower, asking for the kind."""
        rule = self.framework
        if rule is None or (outcome.outcome_type == ADULT_CAUTION and outcome.caution_kind == "conditional"):
            return
        since = self.config.oocd_framework_from
        framework = (
            "the force uses the two-tier out-of-court disposal framework (community resolution and conditional "
            f"caution){f' from {since}' if since else ''}"
        )
        given, unused = OUTSIDE_TWO_TIER[outcome.outcome_type]
        unknown_kind = outcome.outcome_type == ADULT_CAUTION and outcome.caution_kind is None
        if unknown_kind:
            given = "an adult caution (outcome 3)"
        head = f"Crime {case.key}, {what}, was dealt with by {given} on {utc_date(event.at)}"
        group = crime.offence_group
        if unknown_kind:
            explanation = (
                f"{head}, and the source does not say whether it was simple or conditional: {framework}, "
                "under which an adult caution is conditional only. Confirm the kind on the crime record."
            )
            severity = findings.one_step_lower(rule.severity)
            self._raise(case, rule, severity, event, group, evidence, explanation, out, findings.REVIEW)
            return
        explanation = f"{head}: {framework}, which does not use {unused}."
        self._raise(case, rule, rule.severity, event, group, evidence, explanation, out)

    def _indictable_only(self, c: Caution, mixed: bool, out: Step) -> None:
        """DPP consent and exceptional circumstances determined at the prescribed rank are all
        needed (s17(2), (5)): one recorded as absent (or a rank recorded below) proves the breach of
        a simple caution; what the source does not record makes it only likely. A class that holds
        indictable-only offences with either-way ones (``mixed``: 17A and 20A hold assault by
        penetration) cannot show which was cautioned: a review one step lower (rules-review 1.5
        point 4)."""
        outcome = c.outcome
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
        shown = ""
        if missing:
            shown = f"without {' or '.join(missing)} recorded"
            if rank_ok is False:
                shown += f" (decided by a {rank.replace('_', ' ')})"
        needs = (
            f"allowed only in exceptional circumstances determined at {rank_min.replace('_', ' ')} rank "
            "and with DPP consent"
        )
        if mixed:
            severity = findings.one_step_lower(self.indictable.severity)
            facts = [f"it was given {shown}"] if missing else []
            facts += [findings.not_recorded(unknown)] if unknown else []
            explanation = (
                f"{_caution(outcome)} for crime {c.case.key}, {c.what}, a class that holds indictable-only "
                f"offences as well as either-way ones: a caution for the indictable-only one is {needs}; "
                f"{'; '.join(facts)}; confirm on the crime record which offence was cautioned."
            )
            if outcome.caution_kind is None:
                explanation += KIND_NOT_RECORDED
            explanation += c.views
            self._raise_for(c, self.indictable, severity, explanation, findings.REVIEW, out)
            return
        head = f"{_caution(outcome)} for crime {c.case.key}, {c.what}, an indictable-only offence"
        if missing:
            severity = self.indictable.severity
            explanation = f"{head}, {shown}."
            if unknown:
                explanation += f" {findings.sentence(findings.not_recorded(unknown))}"
        else:
            severity = findings.one_step_lower(self.indictable.severity)
            explanation = f"{head}: {needs}, and {findings.not_recorded(unknown)}; confirm on the crime record."
        if outcome.caution_kind is None:  # s17 governs simple cautions only
            severity = findings.one_step_lower(severity) if missing else severity
            explanation += KIND_NOT_RECORDED
        explanation += c.views
        # Shown only when a condition is recorded as absent on a caution known to be simple.
        settled = bool(missing) and outcome.caution_kind is not None
        self._raise_for(c, self.indictable, severity, explanation, findings.BREACH if settled else findings.REVIEW, out)

    def _specified_either_way(self, c: Caution, rows: tuple[SpecifiedOffence, ...], out: Step) -> None:
        """s17(3) and SI 2015/790: a simple caution for a specified either-way offence needs
        exceptional circumstances, determined at the prescribed rank (s17(5)). A row whose
        condition the record cannot settle (the drug's class unknown, a victim under 16, one
        offence among others of its class) makes the breach only likely: a review one step lower
        that asks for the fact (rules-review 1.6)."""
        outcome, drug_class = c.outcome, c.crime.drug_class
        sure = [r for r in rows if r.condition == "" or (r.condition == "class_a" and drug_class == "A")]
        # Class B or C settles a Class A row: not specified.
        open_ = [r for r in rows if r.condition != "class_a" or drug_class is None] if not sure else []
        open_ = [r for r in open_ if r.condition]
        if not sure and not open_:
            return
        rank_min = self.specified.params["rank_min"]
        exceptional, rank = outcome.exceptional_circumstances, outcome.decision_maker_rank
        rank_ok = None if rank is None else self.reference.rank_at_least(rank, rank_min)
        if exceptional and rank_ok:
            return
        severity = self.specified.severity
        settled = outcome.caution_kind is not None and bool(sure)
        lowered = False
        if exceptional is False:
            why = "no exceptional circumstances recorded"
        elif rank is not None and not rank_ok:
            why = f"decided by a {rank.replace('_', ' ')}, below {rank_min}"
            if exceptional is None:
                why += f"; {findings.not_recorded(['exceptional circumstances'])}"
        else:  # nothing recorded against the caution, but what would allow it is not known
            unknown = ["exceptional circumstances"] if exceptional is None else []
            unknown += ["the decision maker's rank"] if rank is None else []
            severity, lowered, settled = findings.one_step_lower(severity), True, False
            why = f"{findings.not_recorded(unknown)} (at least {rank_min} rank is needed); confirm on the crime record"
        if sure:
            law = _law(sure, drug_class)
            explanation = (
                f"{_caution(outcome)} for crime {c.case.key}, {c.what}, a specified either-way offence ({law}): {why}."
            )
            if outcome.caution_kind is None:  # s17 governs simple cautions only
                if not lowered:
                    severity = findings.one_step_lower(severity)
                explanation += KIND_NOT_RECORDED
        else:
            only = " or ".join(dict.fromkeys(CONDITION_WORDS[r.condition][0] for r in open_))
            lacks = " or ".join(dict.fromkeys(CONDITION_WORDS[r.condition][1] for r in open_))
            confirm = " and ".join(dict.fromkeys(CONDITION_WORDS[r.condition][2] for r in open_))
            explanation = (
                f"{_caution(outcome)} for crime {c.case.key}, {c.what}: a specified either-way offence "
                f"({_law(open_, drug_class)}) only {only}, and {findings.not_recorded([lacks])}; {why}. "
                f"Confirm {confirm} on the crime record."
            )
            if not lowered:
                severity = findings.one_step_lower(severity)
            if outcome.caution_kind is None:
                explanation += KIND_NOT_RECORDED
        explanation += c.views
        self._raise_for(c, self.specified, severity, explanation, findings.BREACH if settled else findings.REVIEW, out)

    def _raise_for(
        self, c: Caution, rule: RuleSettings, severity: str, explanation: str, assessment: str, out: Step
    ) -> None:
        group = c.crime.offence_group
        self._raise(c.case, rule, severity, c.event, group, c.evidence, explanation, out, assessment)

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
            goods_recovered=outcome.goods_recovered,
            aggravating_factors=outcome.aggravating_factors,
            committed_on=crime.committed_on,
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
        gravities = self._gravities(crime)
        rape = gravities == ("rape",)
        role, code = cancel.authoriser_role, cancel.cancellation_code
        breaches: list[str] = []  # what the record shows
        # What a person must look at: (reason, severity alone, what to confirm). Alone, a review finding.
        reviews: list[tuple[str, str, str]] = []
        unknown: list[str] = []  # sentences on what the source lacks, said if a finding is raised
        if code == "C2" and not cancel.avi_recorded:
            breaches.append("C2 (no crime) without additional verifiable information")
        if rape and role not in params["rape_roles"]:
            breaches.append(f"a rape record cancelled by a role other than the {_roles(params['rape_roles'])}")
        else:
            # Judged by the edition in force on the cancellation's date, whenever it is replayed.
            edition = self.authority.edition_at(utc_date(event.at))
            allowed = [edition.roles[(code, gravity)] for gravity in gravities]
            if not any(role in roles for roles in allowed):
                if role == LEGACY_OTHER and any(CRIME_MANAGEMENT in roles for roles in allowed):
                    # Sources written before the contracts named crime-management staff sent "other"
                    # for them: the role is not known, not shown wrong.
                    reviews.append(
                        (
                            f"authorised by a role recorded only as other, where crime-management staff may "
                            f"authorise a {code} cancellation under {edition.title} (in force from "
                            f"{edition.effective_from}); records written before the contracts named them "
                            "(crime_management) call them other",
                            findings.one_step_lower(self.cancel.severity),
                            "Confirm on the crime record who authorised it.",
                        )
                    )
                else:
                    breaches.append(
                        _unauthorised(role, code, gravities, edition.title, edition.effective_from, allowed)
                    )
            elif not all(role in roles for roles in allowed):  # lawful for some gravity the crime may have
                unknown.append(
                    f"{_no_gravity(crime)}, so whether the {role.replace('_', ' ')} may authorise a {code} "
                    "cancellation of this offence was not checked."
                )
        victim_not_told = False
        if crime is not None and crime.offence_group in params.get("victim_informed_groups", VICTIM_INFORMED_GROUPS):
            if cancel.victim_informed is False:
                victim_not_told = True
                breaches.append("the record shows the victim was not told of the cancellation")
            elif cancel.victim_informed is None:
                unknown.append(findings.sentence(findings.not_recorded(["whether the victim was told"])))
        # A C3 names the record it duplicates, a C1 the force it went to (rules-review 1.12 point 5 [K]).
        # Only where the force's source sends them: a source that never does cannot be judged on them.
        if params.get("require_c1_c3_references", False):
            missing_severity = params.get("severity_missing_reference", "medium")
            if code == "C3" and cancel.surviving_crime_id is None:
                reviews.append(
                    (
                        "a C3 (duplicate) that names no surviving record",
                        missing_severity,
                        "Confirm on the crime record which record it duplicates, and that that record stands.",
                    )
                )
            if code == "C1" and cancel.receiving_force is None:
                reviews.append(
                    (
                        "a C1 (transfer) that names no receiving force or agency",
                        missing_severity,
                        "Confirm on the crime record where it was transferred, and that the receiving force "
                        "recorded it.",
                    )
                )
        text = (cancel.reason or "").lower()
        phrase = next((p for p in params["invalid_reason_phrases"] if p.lower() in text), None)
        if phrase is not None:
            # A phrase also occurs in lawful reasons ("does not wish to support, but CCTV shows no
            # offence"): alone it asks for a review, never a breach (rules-review 1.12 point 6).
            reviews.append(
                (
                    f'the reason given contains "{phrase}", which is not a cancellation ground by itself',
                    params.get("severity_reason_phrase", "medium"),
                    "A phrase alone does not settle it: check the reason against the crime record.",
                )
            )
        if breaches:
            assessment = findings.BREACH
            if rape:
                severity = params["severity_rape"]
            elif victim_not_told and len(breaches) == 1:
                severity = params.get("severity_victim_not_informed", "medium")
            else:
                severity = self.cancel.severity
        elif reviews:
            assessment = findings.REVIEW
            if rape:
                severity = findings.one_step_lower(params["severity_rape"])
            else:
                severity = max((s for _, s, _ in reviews), key=findings.SEVERITIES.index)
        else:
            return
        reasons = breaches + [reason for reason, _, _ in reviews]
        explanation = (
            f"Crime {case.key}{f', {self._describe(crime)},' if crime else ''} was cancelled ({code}) at "
            f"{format_time(event.at)}: " + "; ".join(reasons) + "."
        )
        if not breaches:
            explanation += "".join(f" {advice}" for _, _, advice in reviews)
        explanation += "".join(f" {sentence}" for sentence in unknown)
        evidence = [event.event_id] + ([crime.recorded_event] if crime else [])
        group = crime.offence_group if crime else None
        self._raise(case, self.cancel, severity, event, group, evidence, explanation, out, assessment)

    def _gravities(self, crime: Classification | None) -> tuple[str, ...]:
        """The crime's gravity for the cancellation authority table: rape (a rape code), serious
        (indictable-only, sexual or high-harm) or other; without a known code, every gravity its
        offence group allows (a sexual offence may be rape; no other group holds rape)."""
        offence = self.reference.offence_codes.get(crime.hocr_code or "") if crime else None
        if offence is not None:
            return (gravity_of(self.reference, offence),)
        if crime is None:
            return GRAVITIES
        return ("rape", "serious") if crime.offence_group == "sexual_offences" else ("serious", "other")

    # -- reclassifications ----------------------------------------------------------------------------

    def reclassification(
        self, case: CrimeCase, crime: Classification | None, event: Event, change: CrimeReclassified, out: Step
    ) -> None:
        before = self.reference.offence_codes.get(change.from_code)
        after = self.reference.offence_codes.get(change.to_code)
        # N100 (a rape report not recorded as a crime) is below every code: the record leaves the
        # crime count (rules-review 1.13).
        to_n100 = change.to_code == N100
        if before is None or (not to_n100 and (after is None or after.seriousness >= before.seriousness)):
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
        if after is not None:
            target = f"{change.to_code} ({after.offence.lower()})"
            note = (
                "Down means lower on the monitor's own seriousness ranking of Home Office codes, "
                "not a Home Office scale."
            )
        else:
            target = "N100 (a report of rape not recorded as a crime)"
            note = (
                "The record leaves the crime count: a recorded crime is removed by a section C cancellation, "
                "with additional verifiable information, not by reclassification; check that one was made."
            )
        self._raise(
            case,
            self.reclass,
            severity,
            event,
            before.offence_group,
            evidence,
            f"Crime {case.key} was reclassified down from {change.from_code} ({before.offence.lower()}) to "
            f"{target}: " + "; ".join(reasons) + f". ({note})",
            out,
        )


# Outcomes the two-tier framework does not use: (as a finding names it, as the framework's
# absent disposal). Outcome 3 counts only as a simple caution (or one of unknown kind).
OUTSIDE_TWO_TIER = {
    ADULT_CAUTION: ("an adult simple caution (outcome 3)", "simple cautions"),
    PENALTY_NOTICE: ("a penalty notice for disorder (outcome 6)", "penalty notices"),
    CANNABIS_WARNING: ("a cannabis or khat warning (outcome 7)", "cannabis or khat warnings"),
}

KIND_NOT_RECORDED = (
    " The source does not say whether the caution was simple or conditional: s17 restricts simple cautions only; "
    "confirm the kind on the crime record."
)


# Crime-management (administrative) staff in the contracts' roles, and the role records written
# before it existed gave them (docs/rules.md, cancellation authority).
CRIME_MANAGEMENT, LEGACY_OTHER = "crime_management", "other"
# Offence groups whose victims must be told of a cancellation, when the rules file does not say.
VICTIM_INFORMED_GROUPS = ("sexual_offences", "violence_against_the_person", "robbery")
GRAVITY_WORDS = {"rape": "a rape record", "serious": "a serious offence", "other": "this offence"}


def authority_with_rules(params: dict, table: CancellationAuthority) -> CancellationAuthority:
    """The reference table with the rules file's changes (CANCEL_WITHOUT_AVI ``authority`` and
    ``edition_from``). ``allowed_roles``, from rules files before 2026.12.2, lets those roles
    authorise every cancellation in every edition, as those files did."""
    if not table.editions:
        raise ValueError("the reference data holds no cancellation authority table (cancellation_authority.csv)")
    rows = list(params.get("authority", ()))
    if "allowed_roles" in params:
        every = {
            "codes": ["C1", "C2", "C3", "C4", "C5"],
            "gravities": list(GRAVITIES),
            "roles": params["allowed_roles"],
        }
        names = [e.name for e in table.editions] + list(params.get("edition_from", {}))
        rows = [{"edition": name, **every} for name in names] + rows
    return table.with_overrides(rows, params.get("edition_from", {}))


def _roles(roles: Iterable[str]) -> str:
    """'the designated decision maker or force crime registrar': roles in words, in a fixed order."""
    words = sorted(role.replace("_", " ") for role in roles)
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _no_gravity(crime: Classification | None) -> str:
    """Why the crime's gravity is not known."""
    if crime is None:
        return "No record of the crime was seen"
    if crime.hocr_code is None:
        return "The source gives no Home Office code"
    return f"Code {crime.hocr_code} is not in the monitor's Home Office code table"


def _unauthorised(
    role: str, code: str, gravities: tuple[str, ...], title: str, since: str, allowed: list[frozenset[str]]
) -> str:
    what = GRAVITY_WORDS[gravities[0]] if len(gravities) == 1 else "this offence"
    text = (
        f"authorised by the {role.replace('_', ' ')}, who may not authorise a {code} cancellation of {what} "
        f"under {title} (in force from {since})"
    )
    if len(allowed) == 1:
        text += f": that is for the {_roles(allowed[0])}"
    return text


def _caution(outcome: OutcomeAssigned) -> str:
    """How a finding names the caution: its kind, where the source gives it."""
    kinds = {"simple": "Adult simple caution", "conditional": "Adult conditional caution"}
    return kinds.get(outcome.caution_kind or "", "Adult caution (kind not recorded)")


# What a condition of SI 2015/790 asks, as a finding says it: (only ..., the source does not
# record ..., confirm ...).
CONDITION_WORDS = {
    "class_a": ("for a Class A drug", "the drug's class", "the drug's class"),
    "victim_under_16": ("where the victim was under 16", "the victim's age at the time", "the victim's age"),
    "offence_within_class": (
        "for some offences of this class",
        "which offence of the class it was",
        "which offence was cautioned",
    ),
}


def _law(rows: Iterable[SpecifiedOffence], drug_class: str | None) -> str:
    """'SI 2015/790: Misuse of Drugs Act 1971 s4(2), s4(3) or s5(3), Class A': the provisions, by
    enactment, in the order of the Schedule."""
    by_act: dict[str, list[str]] = {}
    class_a = False
    for row in rows:
        by_act.setdefault(row.enactment, [])
        if row.provision not in by_act[row.enactment]:
            by_act[row.enactment].append(row.provision)
        class_a = class_a or row.condition == "class_a"
    parts = [f"{act} {_or(provisions)}" for act, provisions in by_act.items()]
    return "SI 2015/790: " + "; ".join(parts) + (", Class A" if class_a and drug_class == "A" else "")


def _or(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _victim_views(outcome: OutcomeAssigned, offence: OffenceCode | None) -> str:
    """A sentence for any caution finding when the record shows the victim's views were not
    sought for a crime with a victim (rules-review 1.8 point 6 [V]: HMIC recommended an auditable
    record of them before any caution). No finding of its own: no rule judges every caution."""
    if outcome.victim_views_recorded is False and offence is not None and offence.victim_based:
        return " The record holds no victim's views either: they are to be sought and considered before a caution."
    return ""


def gravity_of(reference: ReferenceData, code: OffenceCode) -> str:
    """An offence's gravity in the cancellation authority table: rape, serious (as a serious
    downgrade: indictable-only, sexual or high-harm) or other."""
    if reference.policy(code.code).rape:
        return "rape"
    return "serious" if serious_offence(reference, code) else "other"


def serious_offence(reference: ReferenceData, code: OffenceCode) -> bool:
    """An offence whose downgrade needs the registrar's or decision maker's hand: indictable-only,
    sexual, or high-harm (rape, robbery, residential burglary, bladed article)."""
    return (
        code.mode_of_trial == "indictable_only"
        or code.offence_group == "sexual_offences"
        or reference.policy(code.code).high_harm
    )
