"""A case timeline: each evidence event as one plain-English line, in event-time order.

Pure. Lines are written when an event is stored (so the view holds what the page shows) from the
event's own fields and the reference tables (code descriptions, outcome names). They are case
data: they appear only behind the workbench's sign-in, never in metrics or logs.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from cdi.core.reference import ReferenceData


def _yes_no(value: bool | None, yes: str, no: str, unknown: str) -> str:
    return unknown if value is None else yes if value else no


class Narrator:
    """Writes the line for an input event, naming codes by their reference descriptions."""

    def __init__(self, reference: ReferenceData) -> None:
        self.reference = reference

    def incident_code(self, code: str) -> str:
        known = self.reference.incident_code(code)
        return f"{code} ({known.description.lower()})" if known else code

    def offence(self, code: str | None) -> str:
        if code is None:
            return "no Home Office code"
        known = self.reference.offence_codes.get(code)
        return f"{code} ({known.offence.lower()})" if known else code

    def outcome(self, number: int) -> str:
        known = self.reference.outcome_types.get(number)
        return f"outcome {number} ({known.name.lower()})" if known else f"outcome {number}"

    def line(self, kind: str, p: dict[str, Any]) -> str:
        """The line for an event of type ``kind`` with payload ``p`` (valid against its contract)."""
        describe = getattr(self, "_" + kind.replace(".", "_"), None)
        return describe(p) if describe else kind

    def _incident_opened(self, p: dict[str, Any]) -> str:
        victims = p.get("victims")
        people = f", {victims} victim{'s' if victims != 1 else ''}" if victims is not None else ""
        return f"Incident {p['incident_id']} opened as {self.incident_code(p['opening_code'])}{people}."

    def _incident_updated(self, p: dict[str, Any]) -> str:
        why = "with a recorded rationale" if p["rationale_recorded"] else "with no recorded rationale"
        return (
            f"Incident {p['incident_id']} re-coded from {self.incident_code(p['from_code'])} "
            f"to {self.incident_code(p['to_code'])}, {why}."
        )

    def _incident_closed(self, p: dict[str, Any]) -> str:
        why = "with a recorded rationale" if p["rationale_recorded"] else "with no recorded rationale"
        told = _yes_no(p.get("victim_informed"), "; the victim was told", "; the victim was not told", "")
        return f"Incident {p['incident_id']} closed as {self.incident_code(p['closing_code'])}, {why}{told}."

    def _crime_recorded(self, p: dict[str, Any]) -> str:
        link = f", linked to incident {p['incident_id']}" if p.get("incident_id") else ", linked to no incident"
        group = p["offence_group"].replace("_", " ")
        facts = []
        if p.get("crd_at"):
            facts.append(f"recording decision at {p['crd_at']}")
        if p.get("offence_from"):
            facts.append(
                f"offence committed from {p['offence_from']}"
                + (f" to {p['offence_to']}" if p.get("offence_to") else "")
            )
        if p.get("drug_class"):
            facts.append(f"Class {p['drug_class']} drug")
        extra = "; " + "; ".join(facts) if facts else ""
        if p.get("record_kind") == "n100":
            return f"Rape report {p['crime_id']} held as an N100 record (not a crime){link}{extra}."
        return f"Crime {p['crime_id']} recorded as {self.offence(p.get('hocr_code'))}, {group}{link}{extra}."

    def _crime_reclassified(self, p: dict[str, Any]) -> str:
        reason = f'; reason given: "{p["reason"]}"' if (p.get("reason") or "").strip() else "; no reason given"
        return (
            f"Crime {p['crime_id']} reclassified from {self.offence(p['from_code'])} to "
            f"{self.offence(p['to_code'])} by {_role(p['role'])}{reason}."
        )

    def _crime_cancelled(self, p: dict[str, Any]) -> str:
        avi = (
            "with additional verifiable information"
            if p["avi_recorded"]
            else "with no additional verifiable information"
        )
        reason = f'; reason: "{p["reason"]}"' if (p.get("reason") or "").strip() else ""
        told = _yes_no(p.get("victim_informed"), "; the victim was told", "; the victim was not told", "")
        refs = ""
        if p.get("surviving_crime_id"):
            refs += f"; the record it duplicates: {p['surviving_crime_id']}"
        if p.get("receiving_force"):
            refs += f"; transferred to {p['receiving_force']}"
        return (
            f"Crime {p['crime_id']} cancelled under {p['cancellation_code']} {avi}, authorised by "
            f"{_role(p['authoriser_role'])}{reason}{told}{refs}."
        )

    def _outcome_assigned(self, p: dict[str, Any]) -> str:
        parts = [f"Crime {p['crime_id']} given {self.outcome(p['outcome_type'])}"]
        if p.get("caution_kind"):
            parts.append(f"a {p['caution_kind']} caution")
        if p.get("alternate_offence_code"):
            parts.append(f"for the alternate offence {self.offence(p['alternate_offence_code'])}")
        if p.get("offender_ref"):
            age = f", aged {p['offender_age']}" if p.get("offender_age") is not None else ""
            parts.append(f"offender {p['offender_ref']}{age}")
        if p.get("decision_maker_rank"):
            parts.append(f"decided by a {p['decision_maker_rank'].replace('_', ' ')}")
        for key, words in (
            ("exceptional_circumstances", "exceptional circumstances"),
            ("dpp_consent", "DPP consent"),
            ("domestic_abuse", "domestic abuse"),
            ("victim_views_recorded", "victim's views recorded"),
            ("goods_recovered", "goods recovered"),
            ("aggravating_factors", "aggravating factors"),
        ):
            if key in p:
                parts.append(_yes_no(p[key], f"{words}: yes", f"{words}: no", f"{words}: not recorded"))
        if p.get("penalty_value") is not None:
            parts.append(f"penalty £{p['penalty_value']:g}")
        return "; ".join(parts) + "."

    def _offender_history(self, p: dict[str, Any]) -> str:
        disposals = p.get("disposals") or []
        if not disposals:
            return f"Offender {p['offender_ref']}: no prior disposals on record."
        kinds = Counter(d["disposal"].replace("_", " ") for d in disposals)
        listed = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
        latest = max(d["disposed_on"] for d in disposals)
        return f"Offender {p['offender_ref']}: {len(disposals)} prior disposals ({listed}); latest on {latest}."


def ordered(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Timeline order: event time, then event id (two events in the same millisecond keep one
    order on every page and every rebuild)."""
    return sorted(items, key=lambda item: (item["at"] is None, item["at"] or 0, item["event_id"]))


def _role(role: str) -> str:
    """A role as a phrase: "a designated decision maker", "crime management staff"."""
    words = role.replace("_", " ")
    if role == "crime_management":
        return "crime management staff"
    if role == "other":
        return "someone in another role"
    return f"{'an' if words[:1] in 'aeiou' else 'a'} {words}"
