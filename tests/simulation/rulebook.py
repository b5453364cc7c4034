"""docs/rules.md recomputed plainly from a written history, to check the simulator's truth.

Deliberately independent of the simulator and the monitor: dicts and loops over the file's
events, reference tables read straight from the CSVs, thresholds written out as the defaults
docs/rules.md states.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from .reading import (
    CANCEL_AUTHORITY,
    HOCR_CODES,
    INCIDENT_CODES,
    OUTCOME_TYPES,
    SPECIFIED_OFFENCES,
    code_class,
    distinct,
    ms,
    policy,
)

NOT_CRIMED = "CRIME_INDICATIVE_INCIDENT_NOT_CRIMED"
CRD_LATE = "CRD_LATE"
CLOSE_DOWNGRADE = "CLOSE_CATEGORY_DOWNGRADE"
ONE_PER_VICTIM = "ONE_CRIME_PER_VICTIM"
INDICTABLE = "CAUTION_INDICTABLE_ONLY"
SPECIFIED = "CAUTION_SPECIFIED_EITHER_WAY"
REPEAT = "REPEAT_CAUTION_2Y"
PND_RULE = "PND_ELIGIBILITY"
CANNABIS = "CANNABIS_ESCALATION"
CR_RULE = "CR_INELIGIBLE"
FAST = "FAST_UNSUCCESSFUL_OUTCOME"
CANCEL = "CANCEL_WITHOUT_AVI"
RECLASS = "RECLASS_DOWN_NO_REASON"
NEW_RULES = (CLOSE_DOWNGRADE, ONE_PER_VICTIM, INDICTABLE, SPECIFIED, REPEAT, PND_RULE, CANNABIS, CR_RULE, FAST)
NEW_RULES += (CANCEL, RECLASS)
# DISPOSAL_OUTSIDE_FRAMEWORK raises nothing for the default force (`[force] oocd_framework` is
# national), and CANCEL_WITHOUT_AVI judges no missing C1/C3 reference by default: neither is
# recomputed here.

DAY = 86_400_000
RANKS = [
    "staff",
    "constable",
    "sergeant",
    "inspector",
    "chief_inspector",
    "superintendent",
    "chief_superintendent",
    "chief_officer",
]
REGISTRARS = {"force_crime_registrar", "designated_decision_maker"}
PHRASES = ["no complaint", "victim withdrew", "withdrew support", "does not wish", "declined to support"]
CAUTION_OR_CONVICTION = {"conviction", "adult_caution", "youth_caution", "conditional_caution"}
PND_OR_CAUTION = {"penalty_notice", "adult_caution", "youth_caution", "conditional_caution"}
OOCD = {"adult_caution", "youth_caution", "conditional_caution", "penalty_notice", "cannabis_warning"}
OOCD |= {"community_resolution"}


def stamp(at: int) -> str:
    moment = datetime.fromtimestamp(at / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds" if at % 1000 else "seconds")


def record(kind: str, rule: str, subject: str, sid: str, division: str, at: int) -> dict[str, Any]:
    return {
        "type": kind,
        "finding_id": f"{rule}/{subject}/{sid}",
        "rule": rule,
        "subject": {"kind": subject, "id": sid},
        "division": division,
        "occurred_at": stamp(at),
    }


def utc_date(at: int) -> date:
    return datetime.fromtimestamp(at / 1000, tz=UTC).date()


def incident_code(event: dict[str, Any]) -> str:
    p = event["payload"]
    key = {"incident.opened": "opening_code", "incident.updated": "to_code", "incident.closed": "closing_code"}
    return p[key[event["type"]]]


def recompute(events: list[dict[str, Any]], deadline_hours: float = 24.0) -> list[dict[str, Any]]:
    """Every finding of every rule, sorted like the truth file."""
    events = distinct(events)
    out = incident_rules(events, deadline_hours) + crime_rules(events)
    return sorted(out, key=lambda x: (ms(x["occurred_at"]), x["finding_id"], x["type"]))


# -- incidents -------------------------------------------------------------------------------------


# The recording rules' defaults (docs/rules.md, "Recording rules"): the clock runs from the
# disclosure; sexual offences and violence closed to a sink code with a rationale are reviewed.
SINK_REVIEW_GROUPS = {"sexual_offences", "violence_against_the_person"}


def is_n100(crime: dict[str, Any]) -> bool:
    p = crime["payload"]
    return p.get("record_kind") == "n100" or (p.get("record_kind") is None and p["hocr_code"] == "N100")


def incident_rules(events: list[dict[str, Any]], deadline_hours: float) -> list[dict[str, Any]]:
    deadline = round(deadline_hours * 3_600_000)
    t_end = max(ms(e["occurred_at"]) for e in events)
    incidents = {e["payload"]["incident_id"]: e for e in events if e["type"] == "incident.opened"}
    incident_events: dict[str, list[dict[str, Any]]] = {iid: [] for iid in incidents}
    linked_crimes: dict[str, list[dict[str, Any]]] = {iid: [] for iid in incidents}
    for e in events:
        if e["type"].startswith("incident."):
            incident_events[e["payload"]["incident_id"]].append(e)
        elif e["type"] == "crime.recorded" and e["payload"]["incident_id"] is not None:
            linked_crimes[e["payload"]["incident_id"]].append(e)

    out = []
    for iid, opened in incidents.items():
        r = ms(opened["occurred_at"])
        own = incident_events[iid]
        linked = linked_crimes[iid]  # crimes and N100 records
        division = opened["division"]
        crime_coded = sorted(
            (ms(e["occurred_at"]), incident_code(e)) for e in own if code_class(incident_code(e)) == "crime"
        )
        disclosed = crime_coded[0][0] if crime_coded else None
        # CRD_LATE: the recording decision (crd_at, else the record's time) more than the deadline
        # after the disclosure (the first crime-indicative code; the report if none came by then).
        for crime in linked:
            at = ms(crime["occurred_at"])
            decided = ms(crime["payload"]["crd_at"]) if crime["payload"].get("crd_at") else at
            start = disclosed if disclosed is not None and disclosed <= decided else r
            if decided - start > deadline:
                out.append(
                    record("finding.raised", CRD_LATE, "crime", crime["payload"]["crime_id"], crime["division"], at)
                )
        check_at = disclosed + deadline if disclosed is not None else None
        closes = sorted(
            (ms(e["occurred_at"]), e["event_id"], e["payload"]) for e in own if e["type"] == "incident.closed"
        )
        closure = (closes[0][0], closes[0][2]) if closes else None

        # CRIME_INDICATIVE_INCIDENT_NOT_CRIMED at the check time, resolved by the first record after it.
        raised = False
        if check_at is not None and check_at <= t_end and not any(ms(c["occurred_at"]) <= check_at for c in linked):
            rape = any(INCIDENT_CODES[code]["rape"] == "true" and t <= check_at for t, code in crime_coded)
            closed = closure if closure is not None and closure[0] <= check_at else None
            explained = (
                closed is not None
                and closed[1]["rationale_recorded"]
                and code_class(closed[1]["closing_code"]) in ("non_crime", "sink", "admin")
            )
            raised = True
            if explained and not rape:  # a rape report ends only as a crime or an N100 record
                assert closed is not None
                group = INCIDENT_CODES[crime_coded[0][1]]["offence_group"]
                sink = code_class(closed[1]["closing_code"]) == "sink" and group in SINK_REVIEW_GROUPS
                raised = sink or closed[1].get("victim_informed") is False  # else explained: no finding
            if raised:
                out.append(record("finding.raised", NOT_CRIMED, "incident", iid, division, check_at))
                later = [ms(c["occurred_at"]) for c in linked if ms(c["occurred_at"]) > check_at]
                if later:
                    out.append(record("finding.resolved", NOT_CRIMED, "incident", iid, division, min(later)))

        # CLOSE_CATEGORY_DOWNGRADE: closed non-crime/sink without rationale while crime-indicative
        # from an opening or updated code, with no linked record yet; a closure by the check time
        # is judged then (and only if the file reaches it); none where the incident was raised as
        # unrecorded: that finding names the closure.
        if closure is not None and not raised:
            t, p = closure
            indicative = any(
                x["type"] in ("incident.opened", "incident.updated")
                and code_class(incident_code(x)) == "crime"
                and ms(x["occurred_at"]) <= t
                for x in own
            )
            recorded = any(ms(c["occurred_at"]) <= t for c in linked)
            downgrade = code_class(p["closing_code"]) in ("non_crime", "sink") and not p["rationale_recorded"]
            judged = check_at is None or t > check_at or check_at <= t_end
            if downgrade and indicative and not recorded and judged:
                out.append(record("finding.raised", CLOSE_DOWNGRADE, "incident", iid, division, t))

        # ONE_CRIME_PER_VICTIM: 1 <= victim-based crimes (not N100 records) by the check time < victims.
        victims = opened["payload"].get("victims", 0)
        if check_at is not None and check_at <= t_end and victims >= 2:
            in_time = [
                c["payload"]["hocr_code"]
                for c in linked
                if ms(c["occurred_at"]) <= check_at
                and not is_n100(c)
                and HOCR_CODES[c["payload"]["hocr_code"]]["victim_based"] == "true"
            ]
            # Household and business property counts once per household (rules-review 1.4).
            household = {"28E", "28F", "28G", "29A", "58A", "58B", "58C", "58D", "30C"}
            k = len(in_time)
            if not household & set(in_time) and 1 <= k < victims:
                out.append(record("finding.raised", ONE_PER_VICTIM, "incident", iid, division, check_at))
    return out


# -- crimes: outcomes and decisions ----------------------------------------------------------------


class Crimes:
    """Crime records and their reclassifications, as read off the file."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.recorded = {e["payload"]["crime_id"]: e for e in events if e["type"] == "crime.recorded"}
        self.moves: dict[str, list[dict[str, Any]]] = {}
        for e in events:
            if e["type"] == "crime.reclassified":
                self.moves.setdefault(e["payload"]["crime_id"], []).append(e)

    def known_at(self, crime_id: str, t: int) -> bool:
        crime = self.recorded.get(crime_id)
        return crime is not None and ms(crime["occurred_at"]) <= t

    def code_at(self, crime_id: str, t: int) -> str:
        code = self.recorded[crime_id]["payload"]["hocr_code"]
        moves = sorted(self.moves.get(crime_id, []), key=lambda e: (ms(e["occurred_at"]), e["event_id"]))
        for move in moves:
            if ms(move["occurred_at"]) <= t:
                code = move["payload"]["to_code"]
        return code

    def offence_date(self, crime_id: str) -> date:
        """When the offence was committed (offence_from, if not after the record), else the
        record's date (rules-review 1.7)."""
        crime = self.recorded[crime_id]
        recorded = ms(crime["occurred_at"])
        committed = crime["payload"].get("offence_from")
        return utc_date(ms(committed) if committed and ms(committed) <= recorded else recorded)

    def drug_class(self, crime_id: str) -> str | None:
        return self.recorded[crime_id]["payload"].get("drug_class")


def histories(events: list[dict[str, Any]], crimes: Crimes) -> tuple[dict[str, list], dict[str, list]]:
    """Per offender: snapshots [(time, disposals)] and observed disposals [(time, disposal)]."""
    snapshots: dict[str, list] = {}
    observed: dict[str, list] = {}
    for e in events:
        p, t = e["payload"], ms(e["occurred_at"])
        if e["type"] == "offender.history":
            snapshots.setdefault(p["offender_ref"], []).append((t, p["disposals"]))
        elif e["type"] == "outcome.assigned" and p["offender_ref"] is not None:
            row = OUTCOME_TYPES[str(p["outcome_type"])]
            if row["out_of_court"] == "true" and crimes.known_at(p["crime_id"], t):
                code = crimes.code_at(p["crime_id"], t)
                disposal = {
                    "disposal": row["disposal"],
                    "offence_group": HOCR_CODES[code]["offence_group"],
                    "hocr_code": code,
                    "disposed_on": utc_date(t).isoformat(),
                }
                observed.setdefault(p["offender_ref"], []).append((t, disposal))
    return snapshots, observed


def history_at(ref: str, t: int, snapshots: dict[str, list], observed: dict[str, list]) -> list[dict[str, Any]]:
    """rules.md "Offender history as of an outcome at t"."""
    outcome_date = utc_date(t)
    items = []
    for at, disposals in snapshots.get(ref, []):
        if at <= t:
            items += [d for d in disposals if date.fromisoformat(d["disposed_on"]) < outcome_date]
    items += [d for at, d in observed.get(ref, []) if at < t]
    return items


def within(history: list[dict[str, Any]], offence: date, days: int, kinds: set[str], group: str | None = None) -> int:
    """How many disposals of these kinds (and group) lie 0..days days before the offence date."""
    return sum(
        1
        for d in history
        if d["disposal"] in kinds
        and (group is None or d["offence_group"] == group)
        and 0 <= (offence - date.fromisoformat(d["disposed_on"])).days <= days
    )


ANY_TIME = 10**6  # days: cannabis escalation counts earlier disposals whenever given (rules-review 1.9)


def specified(code: str, cautioned_on: str, committed_on: str, drug_class: str | None) -> bool:
    """specified_either_way.csv: a row for the code in force on the caution's date, for the
    offence's date, whose condition holds or is unknown (a Class A row with class B or C does not)."""
    return any(
        code in row["hocr_codes"].split()
        and row["in_force_from"] <= cautioned_on
        and (not row["in_force_to"] or cautioned_on < row["in_force_to"])
        and (not row["committed_before"] or committed_on < row["committed_before"])
        and (row["condition"] != "class_a" or drug_class in ("A", None))
        for row in SPECIFIED_OFFENCES
    )


def outcome_rules(p: dict[str, Any], t: int, crimes: Crimes, history: list | None) -> set[str]:
    """The rules one outcome breaks; ``history`` is None without an offender reference."""
    kind = p["outcome_type"]
    code = crimes.code_at(p["crime_id"], t)
    hocr = HOCR_CODES[code]
    group = hocr["offence_group"]
    offence = crimes.offence_date(p["crime_id"])
    age = p["offender_age"]
    broken = set()
    # s17 CJCA 2015 restricts simple cautions (a conditional one is outside it); exceptional
    # circumstances count only when decided at the prescribed rank: superintendent for
    # indictable-only, inspector for specified either-way and repeat cautions (rules-review 1.5-1.7).
    day = utc_date(t).isoformat()
    if kind == 3 and p.get("caution_kind") != "conditional" and day >= "2015-04-13":  # s17 in force
        rank = RANKS.index(p["decision_maker_rank"])
        # A class holding indictable-only offences too (mixed) is a review (rules-review 1.5 point 4).
        if hocr["mode_of_trial"] in ("indictable_only", "mixed") and not (
            p["dpp_consent"] and p["exceptional_circumstances"] and rank >= RANKS.index("superintendent")
        ):
            broken.add(INDICTABLE)
        ok_rank = rank >= RANKS.index("inspector")
        if specified(code, day, offence.isoformat(), crimes.drug_class(p["crime_id"])) and not (
            p["exceptional_circumstances"] and ok_rank
        ):
            broken.add(SPECIFIED)
        excused = p["exceptional_circumstances"] and ok_rank
        if history is not None and not excused and within(history, offence, 730, CAUTION_OR_CONVICTION, group):
            broken.add(REPEAT)
    if kind == 6:
        limit = policy(code, "pnd_value_limit")
        value = p["penalty_value"]
        if policy(code, "pnd_eligible") != "true":
            broken.add(PND_RULE)  # ineligible_offence
        if value is not None and limit and value > float(limit):
            broken.add(PND_RULE)  # over_value_limit
        if age is not None and age < 18:
            broken.add(PND_RULE)  # under_18
        if code == "46" and p.get("goods_recovered") is False:
            broken.add(PND_RULE)  # goods_not_recovered (rules-review 1.8 point 2)
        if p.get("victim_views_recorded") is False and hocr["victim_based"] == "true":
            broken.add(PND_RULE)  # victim_views_missing (rules-review 1.8 point 6)
        if history is not None:
            if code == "92E" and within(history, offence, ANY_TIME, {"cannabis_warning"}) == 0:
                broken.add(PND_RULE)  # cannabis_without_prior_warning
            if within(history, offence, 730, PND_OR_CAUTION, group):
                broken.add(PND_RULE)  # prior_similar_disposal
            if within(history, offence, 730, OOCD | {"conviction"}) >= 3:
                broken.add(PND_RULE)  # significant_history
            if code == "46" and within(history, offence, ANY_TIME, OOCD | {"conviction"}, "theft"):
                broken.add(PND_RULE)  # not_first_offence: any earlier theft disposal
    cannabis_case = kind == 7 or (kind == 6 and code == "92E")
    if cannabis_case and age is not None and age < 18:
        broken.add(CANNABIS)  # under_18
    if cannabis_case and p.get("aggravating_factors"):
        broken.add(CANNABIS)  # aggravating_factors (rules-review 1.9)
    if history is not None and kind == 7 and within(history, offence, ANY_TIME, {"cannabis_warning"}):
        broken.add(CANNABIS)  # second_warning
    cannabis_pnd = kind == 6 and code == "92E"
    if history is not None and cannabis_pnd and within(history, offence, ANY_TIME, {"penalty_notice"}, "drug_offences"):
        broken.add(CANNABIS)  # pnd_after_pnd
    if kind == 8:
        # Any domestic abuse, family members included, unless an exceptional-circumstances
        # authorisation is recorded (rules-review 1.10).
        if p["domestic_abuse"] and not p["exceptional_circumstances"]:
            broken.add(CR_RULE)
        if hocr["mode_of_trial"] == "indictable_only" or policy(code, "high_harm") == "true":
            broken.add(CR_RULE)
        # Two or more earlier out-of-court disposals (rules-review 1.10).
        if history is not None and within(history, offence, 730, OOCD) >= 2:
            broken.add(CR_RULE)
        # A community resolution for the same offence group within 365 days (rules-review 1.10).
        if history is not None and within(history, offence, 365, {"community_resolution"}, group):
            broken.add(CR_RULE)
        if p.get("victim_views_recorded") is False:
            broken.add(CR_RULE)
    quick = t - ms(crimes.recorded[p["crime_id"]]["occurred_at"]) < 14 * DAY
    if kind in (14, 16, 18) and policy(code, "fast_outcome_watch") == "true" and quick:
        broken.add(FAST)
    return broken


# Offence groups whose victims must be told of a cancellation (the default rules).
TOLD_GROUPS = {"sexual_offences", "violence_against_the_person", "robbery"}


def authorised(code: str, cancellation_code: str, t: int) -> set[str]:
    """Roles cancellation_authority.csv allows for the code's gravity in the edition in force on
    the UTC date of t (the latest to have started; the oldest before every one)."""
    row = HOCR_CODES[code]
    if policy(code, "rape") == "true":
        gravity = "rape"
    elif (
        row["mode_of_trial"] == "indictable_only"
        or row["offence_group"] == "sexual_offences"
        or policy(code, "high_harm") == "true"
    ):
        gravity = "serious"
    else:
        gravity = "other"
    day = utc_date(t).isoformat()
    starts = sorted({r["effective_from"] for r in CANCEL_AUTHORITY})
    start = max([s for s in starts if s <= day], default=starts[0])
    [roles] = [
        r["roles"].split()
        for r in CANCEL_AUTHORITY
        if r["effective_from"] == start and r["code"] == cancellation_code and r["gravity"] == gravity
    ]
    return set(roles)


def crime_rules(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    crimes = Crimes(events)
    snapshots, observed = histories(events, crimes)
    first: dict[tuple[str, str], tuple[int, str]] = {}  # (rule, crime) -> earliest (time, division)

    def raise_(rule: str, e: dict[str, Any]) -> None:
        key, t = (rule, e["payload"]["crime_id"]), ms(e["occurred_at"])
        if key not in first or t < first[key][0]:
            first[key] = (t, e["division"])

    for e in events:
        p, t = e["payload"], ms(e["occurred_at"])
        if e["type"] == "outcome.assigned" and crimes.known_at(p["crime_id"], t):
            ref = p["offender_ref"]
            history = history_at(ref, t, snapshots, observed) if ref is not None else None
            for rule in outcome_rules(p, t, crimes, history):
                raise_(rule, e)
        elif e["type"] == "crime.cancelled" and crimes.known_at(p["crime_id"], t):
            code = crimes.code_at(p["crime_id"], t)
            rape = policy(code, "rape") == "true"
            reason = (p.get("reason") or "").lower()
            if (
                (p["cancellation_code"] == "C2" and not p["avi_recorded"])
                or p["authoriser_role"] not in authorised(code, p["cancellation_code"], t)
                or any(phrase in reason for phrase in PHRASES)  # a review finding when alone
                # Rape: the designated decision maker or the registrar (rules-review 1.12).
                or (rape and p["authoriser_role"] not in {"designated_decision_maker", "force_crime_registrar"})
                # The victim of a sexual offence, violence or robbery not told (rules-review 1.12 point 4).
                or (HOCR_CODES[code]["offence_group"] in TOLD_GROUPS and p.get("victim_informed") is False)
            ):
                raise_(CANCEL, e)
        elif e["type"] == "crime.reclassified":
            source, target = HOCR_CODES.get(p["from_code"]), HOCR_CODES.get(p["to_code"])
            down = source and target and int(target["seriousness"]) < int(source["seriousness"])
            # The role test for serious downgrades only: indictable-only, sexual or high-harm (rules-review 1.13).
            serious = source and (
                source["mode_of_trial"] == "indictable_only"
                or source["offence_group"] == "sexual_offences"
                or policy(p["from_code"], "high_harm") == "true"
            )
            if down and (p["reason"] is None or not p["reason"].strip() or (serious and p["role"] not in REGISTRARS)):
                raise_(RECLASS, e)
    return [
        record("finding.raised", rule, "crime", crime_id, division, t)
        for (rule, crime_id), (t, division) in first.items()
    ]
