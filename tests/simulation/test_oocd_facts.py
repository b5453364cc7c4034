"""The simulator's out-of-court-disposal facts (rules-review 1.5 to 1.10): drug classes, dates of
commission of historic reports, goods recovered, aggravating factors, victim's views and similar
earlier community resolutions, written to the file and judged exactly as docs/rules.md says."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import pytest

from cdi.simulation import Simulation
from cdi.simulation.crime_facts import HISTORIC_MAX_DAYS

from .reading import HOCR_CODES, by_type, distinct, ms
from .rulebook import CANNABIS, CR_RULE, FAST, INDICTABLE, PND_RULE, REPEAT, SPECIFIED, Crimes, histories, history_at

DAY = 86_400_000


@pytest.fixture(scope="module")
def month(month_sim: Simulation) -> list[dict[str, Any]]:
    return distinct(month_sim.events)


def _raised(sim: Simulation, rule: str) -> set[str]:
    return {t["subject"]["id"] for t in sim.truth if t["rule"] == rule}


def test_drug_offences_carry_their_class_and_only_class_a_supply_is_specified(month_sim, month) -> None:
    """rules-review 1.6 point 2: 92A holds every class; the file carries A, B, C and some unknown,
    and a simple caution without exceptional circumstances is a finding for A or unknown only."""
    crimes = by_type(month, "crime.recorded")
    classes = Counter(c["payload"].get("drug_class") for c in crimes if c["payload"]["hocr_code"] == "92A")
    assert all(classes[k] > 0 for k in ("A", "B", "C", None))
    assert {c["payload"].get("drug_class") for c in crimes if c["payload"]["hocr_code"] == "92E"} == {"B"}
    assert all("drug_class" not in c["payload"] for c in crimes if not c["payload"]["hocr_code"].startswith("92"))
    records = Crimes(month)
    specified = _raised(month_sim, SPECIFIED)
    cautioned: list[str | None] = []
    for e in by_type(month, "outcome.assigned"):
        p, t = e["payload"], ms(e["occurred_at"])
        if p["outcome_type"] == 3 and records.code_at(p["crime_id"], t) == "92A":
            cautioned.append(records.drug_class(p["crime_id"]))
            assert records.drug_class(p["crime_id"]) not in ("B", "C") or p["crime_id"] not in specified
    assert "B" in cautioned  # simple cautions for cannabis supply are lawful, and given


def test_historic_reports_carry_a_date_of_commission_before_the_record(month) -> None:
    """rules-review 1.7: some victim-based crimes are reported after they were committed, at most
    HISTORIC_MAX_DAYS before (so their windows stay within what the monitor keeps)."""
    crimes = by_type(month, "crime.recorded")
    historic = [c for c in crimes if "offence_from" in c["payload"]]
    assert 0.02 * len(crimes) < len(historic) < 0.2 * len(crimes)
    for c in historic:
        gap = ms(c["occurred_at"]) - ms(c["payload"]["offence_from"])
        assert DAY <= gap <= (HISTORIC_MAX_DAYS + 1) * DAY
    groups = Counter(c["payload"]["offence_group"] for c in historic)
    assert groups["sexual_offences"] > 0 and groups["violence_against_the_person"] > 0


def test_new_outcome_facts_are_where_they_belong(month_sim, month) -> None:
    """goods_recovered only on retail-theft notices, aggravating_factors only on cannabis warnings
    and notices; a false one always raises its rule (rules-review 1.8 point 2, 1.9)."""
    records = Crimes(month)
    pnd, cannabis = _raised(month_sim, PND_RULE), _raised(month_sim, CANNABIS)
    seen = Counter()
    for e in by_type(month, "outcome.assigned"):
        p, t = e["payload"], ms(e["occurred_at"])
        code = records.code_at(p["crime_id"], t)
        if "goods_recovered" in p:
            assert (p["outcome_type"], code) == (6, "46")
            seen[("goods", p["goods_recovered"])] += 1
            if p["goods_recovered"] is False:
                assert p["crime_id"] in pnd
        if "aggravating_factors" in p:
            assert p["outcome_type"] == 7 or (p["outcome_type"] == 6 and code == "92E")
            seen[("aggravating", p["aggravating_factors"])] += 1
            if p["aggravating_factors"]:
                assert p["crime_id"] in cannabis
        if p["outcome_type"] in (3, 6) and p.get("victim_views_recorded") is False:
            seen[("views", p["outcome_type"])] += 1
    assert seen[("goods", True)] and seen[("aggravating", True)] and seen[("aggravating", False)]
    assert seen[("views", 3)]


def test_a_similar_resolution_365_days_before_is_flagged_and_366_is_not(month_sim, month) -> None:
    """rules-review 1.10 [U]: a community resolution for the same offence group within
    similar_cr_window_days (365) of an earlier one; both sides of the boundary are in the file."""
    records = Crimes(month)
    snapshots, observed = histories(month, records)
    flagged = _raised(month_sim, CR_RULE)
    at_365, at_366 = [], []
    for e in by_type(month, "outcome.assigned"):
        p, t = e["payload"], ms(e["occurred_at"])
        if p["outcome_type"] != 8 or p["offender_ref"] is None:
            continue
        group = HOCR_CODES[records.code_at(p["crime_id"], t)]["offence_group"]
        offence = records.offence_date(p["crime_id"])
        gaps = sorted(
            (offence - date.fromisoformat(d["disposed_on"])).days
            for d in history_at(p["offender_ref"], t, snapshots, observed)
            if d["disposal"] == "community_resolution" and d["offence_group"] == group
        )
        gaps = [gap for gap in gaps if gap >= 0]
        if gaps and gaps[0] == 365:
            at_365.append(p["crime_id"])
        if gaps and gaps[0] == 366:
            at_366.append(p["crime_id"])
    assert at_365 and set(at_365) <= flagged
    assert at_366 and not set(at_366) & flagged


def test_the_monitor_finds_exactly_the_outcome_truth(tmp_path, default_sim) -> None:
    """The backtest's outcome findings, breach and review alike, are the simulator's truth: the
    new facts are judged the same way by both (the whole-history check is test_long_history)."""
    from cdi import backtest
    from cdi.scoring import key_of
    from cdi.simulation import write_simulation

    outcome_rules = {SPECIFIED, PND_RULE, CANNABIS, CR_RULE, REPEAT, INDICTABLE, FAST}
    history = tmp_path / "history.jsonl"
    write_simulation(default_sim, history)
    found = {key_of(f.to_dict()) for f in backtest.run(history).findings if f.payload.rule in outcome_rules}
    assert found == {key_of(t) for t in default_sim.truth if t["rule"] in outcome_rules}
    assert len(found) > 20
