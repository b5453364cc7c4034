"""rules-review 1.8 point 7 [V]: forces on the NPCC two-tier out-of-court disposal framework
(community resolution and conditional caution; about a third of forces in 2021) use no simple
cautions, penalty notices or cannabis/khat warnings at all (Commons Library summary,
http://data.parliament.uk/resources/1302103, read through
https://search-prototype.herokuapp.com/search-prototype/objects; Sentencing Academy, https://www.sentencingacademy.org.uk/research-articles/out-of-court-disposals/).
A force setting (`[force] oocd_framework`, `oocd_framework_from`) makes each of them a
DISPOSAL_OUTSIDE_FRAMEWORK finding there (docs/rules.md). The adoption date is tested on both
sides of the UTC midnight that starts it."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from cdi import rules
from cdi.core.pipeline import Monitor, OfflineRun
from cdi.core.rules import RulesConfig
from cdi.core.times import MS_PER_HOUR, parse_time
from tests.core.scenario import BASE, CONTRACTS, REFERENCE, Scenario, of_rule, run

RULE = "DISPOSAL_OUTSIDE_FRAMEWORK"
ADOPTED = "2021-04-01"
# One crime per outcome type: (Home Office code, offence group).
CRIMES = {
    1: ("49", "theft"),
    2: ("49", "theft"),
    3: ("49", "theft"),
    6: ("46", "theft"),
    7: ("92E", "drug_offences"),
    8: ("49", "theft"),
}


def hours(iso: str) -> float:
    """Hours after the scenarios' base (2026-03-02T00:00Z) of an RFC 3339 time."""
    return (parse_time(iso) - BASE) / MS_PER_HOUR


def config(**force: Any) -> RulesConfig:
    """The default rules with [force] settings changed, validated by the rules schema."""
    data = tomllib.loads(rules.DEFAULT.read_text(encoding="utf-8"))
    data["force"].update(force)
    assert not CONTRACTS.check_config("rules-config", data)
    return RulesConfig.from_dict(data)


TWO_TIER = config(oocd_framework="two_tier")


def found(cfg: RulesConfig | None, kind: int, moment: str = "2026-03-02T12:00:00+00:00", **kw: Any) -> list:
    """DISPOSAL_OUTSIDE_FRAMEWORK findings for one outcome of ``kind`` at ``moment`` (an hour after
    its crime was recorded); ``cfg`` None: the packaged rules."""
    code, group = CRIMES[kind]
    s = Scenario()
    s.crime("C1", None, hours(moment) - 1, code, group)
    age = 16 if kind == 2 else 30
    s.outcome("C1", hours(moment), kind, age=age, value=50.0 if kind == 6 else None, **kw)
    if cfg is None:
        return of_rule(run(s.records)[0], RULE)
    offline = OfflineRun.start(Monitor(cfg, REFERENCE))
    steps = [offline.process(CONTRACTS.parse(r)) for r in s.records] + [offline.finish()]
    return [f for step in steps for f in step.findings if f.payload.rule == RULE]


@pytest.mark.parametrize(
    ("kind", "caution_kind", "words"),
    [
        (3, "simple", "an adult simple caution (outcome 3)"),
        (6, None, "a penalty notice for disorder (outcome 6)"),
        (7, None, "a cannabis or khat warning (outcome 7)"),
    ],
)
def test_review_1_8_point_7_two_tier_simple_caution_penalty_notice_and_warning_are_findings(
    kind: int, caution_kind: str | None, words: str
) -> None:
    """rules-review 1.8 point 7 [V]: under the two-tier framework an outcome 6 or 7, or an
    outcome 3 that is a simple caution, is itself a breach of the force's framework (medium: the
    national law, s17 and the penalty notice scheme, still stands)."""
    [finding] = found(TWO_TIER, kind, caution_kind=caution_kind)
    assert (finding.payload.severity, finding.payload.assessment) == ("medium", "breach")
    assert finding.payload.subject.id == "C1" and finding.occurred_at == "2026-03-02T12:00:00+00:00"
    assert f"was dealt with by {words} on 2026-03-02" in finding.payload.explanation
    assert "the force uses the two-tier out-of-court disposal framework (community resolution and conditional" in (
        finding.payload.explanation
    )
    assert "community resolution or a conditional caution" in finding.payload.guidance


@pytest.mark.parametrize(("kind", "caution_kind"), [(3, "conditional"), (8, None), (1, None), (2, None)])
def test_review_1_8_point_7_two_tier_allows_conditional_cautions_resolutions_charges_and_youth(
    kind: int, caution_kind: str | None
) -> None:
    """rules-review 1.8 point 7 [V]: the two tiers are the community resolution and the conditional
    caution; a charge is no out-of-court disposal; youth cautions (outcome 2) belong to the youth
    framework, which the adult two-tier model does not change."""
    assert found(TWO_TIER, kind, caution_kind=caution_kind) == []


def test_review_1_8_point_7_caution_of_unknown_kind_is_a_review_one_step_lower() -> None:
    """rules-review 1.8 point 7 with docs/rules.md "Facts the source does not record": a caution
    whose kind the source does not give may be conditional: a review one step lower (low) that asks
    for the kind; never a breach."""
    [finding] = found(TWO_TIER, 3, caution_kind=None)
    assert (finding.payload.severity, finding.payload.assessment) == ("low", "review")
    assert "was dealt with by an adult caution (outcome 3)" in finding.payload.explanation
    assert "the source does not say whether it was simple or conditional" in finding.payload.explanation
    assert finding.payload.explanation.endswith("Confirm the kind on the crime record.")


@pytest.mark.parametrize(("kind", "caution_kind"), [(3, "simple"), (3, None), (6, None), (7, None)])
def test_review_1_8_point_7_national_framework_is_the_default_and_raises_nothing(
    kind: int, caution_kind: str | None
) -> None:
    """rules-review 1.8 point 7: the packaged rules describe a force on the national menu
    (`oocd_framework = "national"`), where every one of these disposals is in use."""
    assert rules.load().oocd_framework == "national"
    assert found(None, kind, caution_kind=caution_kind) == []
    assert found(config(oocd_framework="national", oocd_framework_from=ADOPTED), kind, caution_kind=caution_kind) == []


@pytest.mark.parametrize(
    ("moment", "judged"),
    [
        ("2021-03-31T23:59:59+00:00", False),
        ("2021-04-01T00:30:00+01:00", False),  # 23:30 UTC the day before (UK summer time)
        ("2021-04-01T00:00:00+00:00", True),
        ("2021-04-01T01:00:00+01:00", True),
    ],
)
@pytest.mark.parametrize("kind", [3, 6, 7])
def test_review_1_8_point_7_adoption_date_boundary(moment: str, judged: bool, kind: int) -> None:
    """rules-review 1.8 point 7: a force that adopted the two-tier framework on a known day
    (`oocd_framework_from`) is judged by it from that UTC date on; an outcome the second before is
    judged under the national menu, as the rules editions are (docs/rules.md)."""
    got = found(config(oocd_framework="two_tier", oocd_framework_from=ADOPTED), kind, moment, caution_kind="simple")
    assert bool(got) is judged
    if got:
        assert f"(community resolution and conditional caution) from {ADOPTED}," in got[0].payload.explanation


def test_review_1_8_point_7_alongside_the_eligibility_rules() -> None:
    """rules-review 1.8 point 7: the framework finding stands beside the national eligibility
    rules, which still judge the disposal: a penalty notice over the value limit under the two-tier
    framework raises both PND_ELIGIBILITY and DISPOSAL_OUTSIDE_FRAMEWORK."""
    s = Scenario()
    s.crime("C1", None, 1, "46", "theft")
    s.outcome("C1", 2, 6, value=250.0)
    offline = OfflineRun.start(Monitor(TWO_TIER, REFERENCE))
    steps = [offline.process(CONTRACTS.parse(r)) for r in s.records] + [offline.finish()]
    assert sorted(f.payload.rule for step in steps for f in step.findings) == [
        "DISPOSAL_OUTSIDE_FRAMEWORK",
        "PND_ELIGIBILITY",
    ]


def test_review_1_8_point_7_rule_can_be_disabled() -> None:
    """The rule is a rule like the others: `enabled = false` turns it off under two_tier."""
    data = tomllib.loads(rules.DEFAULT.read_text(encoding="utf-8"))
    data["force"]["oocd_framework"] = "two_tier"
    data["rules"][RULE]["enabled"] = False
    assert not CONTRACTS.check_config("rules-config", data)
    assert found(RulesConfig.from_dict(data), 6) == []


@pytest.mark.parametrize(
    ("force", "field"),
    [
        ({"oocd_framework": "three_tier"}, "oocd_framework"),
        ({"oocd_framework": "two_tier", "oocd_framework_from": "2021-13-01"}, "oocd_framework_from"),
        ({"oocd_framework": "two_tier", "oocd_framework_from": "1 April 2021"}, "oocd_framework_from"),
    ],
)
def test_review_1_8_point_7_framework_settings_are_validated(force: dict[str, str], field: str) -> None:
    """The rules schema admits only the two frameworks and an ISO adoption date."""
    data = tomllib.loads(rules.DEFAULT.read_text(encoding="utf-8"))
    data["force"].update(force)
    errors = CONTRACTS.check_config("rules-config", data)
    assert errors and any(field in e for e in errors)


def test_review_1_8_point_7_rules_file_written_before_the_rule_still_loads(tmp_path: Path) -> None:
    """A force's rules file written before DISPOSAL_OUTSIDE_FRAMEWORK (no section, no framework
    setting) is still valid and takes the packaged section: on the national menu it raises nothing."""
    text = rules.DEFAULT.read_text(encoding="utf-8")
    start = text.index(f"[rules.{RULE}]")
    end = text.index("\n[", start)
    older = tmp_path / "older.toml"
    older.write_text(text[:start] + text[end + 1 :], encoding="utf-8")
    assert RULE not in tomllib.loads(older.read_text(encoding="utf-8"))["rules"]
    loaded = rules.load(older)
    assert loaded.rule(RULE).enabled and loaded.oocd_framework == "national"
    assert found(loaded, 6) == []
