"""The legal review's verified points as replayable histories (issue 11; shared/rules-review.md).

tests/fixtures/review/points.toml indexes one small JSON-lines history per point of the review
marked [V]. Each history is backtested with the packaged rules, and its findings must equal the
index's exactly: nothing missing, nothing extra, the same severity and assessment, and the
resolutions. The index must also account for the review: every [V] point that docs/rules.md says is
applied has a fixture, and the points without one are listed with the reason.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from cdi import backtest
from cdi import rules as rules_files
from cdi.cli import main
from cdi.core.events import Event
from cdi.core.times import parse_time

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "tests" / "fixtures" / "review"
INDEX: dict[str, Any] = tomllib.loads((FOLDER / "points.toml").read_text(encoding="utf-8"))
FIXTURES: list[dict[str, Any]] = INDEX["fixture"]
WITHOUT: list[dict[str, Any]] = INDEX["without_fixture"]
RULES_DOC = ROOT / "docs" / "rules.md"
MARKS = {"V", "K", "U", "none"}


def normal(text: str) -> str:
    """Whitespace folded, so a phrase matches across the documents' line breaks."""
    return " ".join(text.split())


def section(point: str) -> str:
    """The review section of a point id: "1.5 point 1" -> "1.5"; "3.1 court results" -> "3.1"."""
    return point.split()[0].rstrip(",")


def review_path() -> Path | None:
    """shared/rules-review.md, beside the repository (CDI_RULES_REVIEW overrides); None if absent."""
    named = os.environ.get("CDI_RULES_REVIEW")
    candidates = [Path(named)] if named else []
    candidates += [ROOT.parent / "shared" / "rules-review.md", ROOT / "shared" / "rules-review.md"]
    return next((path for path in candidates if path.is_file()), None)


def key(finding: Event) -> tuple[str, ...]:
    payload = finding.payload
    subject = f"{payload.subject.kind}/{payload.subject.id}"
    if finding.type == "finding.resolved":
        return ("resolved", payload.rule, subject, payload.resolution)
    return ("raised", payload.rule, subject, payload.severity, payload.assessment)


def expected_key(item: dict[str, Any]) -> tuple[str, ...]:
    if item.get("finding", "raised") == "resolved":
        return ("resolved", item["rule"], item["subject"], item["resolution"])
    return ("raised", item["rule"], item["subject"], item["severity"], item["assessment"])


def rules_for(fixture: dict[str, Any], folder: Path) -> Path:
    """The packaged rules, or, for a fixture that names [force] settings (a force on its own
    framework), a copy of them with those settings replaced."""
    force = fixture.get("force")
    if not force:
        return rules_files.DEFAULT
    text = rules_files.DEFAULT.read_text(encoding="utf-8")
    head, rest = text.split("\n[force]\n", 1)
    body, tail = rest.split("\n[", 1)
    for name, value in force.items():
        line = f"{name} = {json.dumps(value)}"
        setting = re.compile(rf"^{re.escape(name)} = .*$", re.MULTILINE)
        body = setting.sub(line, body, count=1) if setting.search(body) else f"{body}\n{line}"
    path = folder / "rules.toml"
    path.write_text(f"{head}\n[force]\n{body}\n[{tail}", encoding="utf-8")
    assert tomllib.loads(path.read_text(encoding="utf-8"))["force"].items() >= force.items()
    return path


def subjects_in(path: Path) -> set[str]:
    """Every incident and crime the history holds, as kind/id."""
    held = set()
    for line in path.read_bytes().splitlines():
        payload = orjson.loads(line)["payload"]
        if "crime_id" in payload:
            held.add(f"crime/{payload['crime_id']}")
        elif "incident_id" in payload:
            held.add(f"incident/{payload['incident_id']}")
    return held


# -- the index ------------------------------------------------------------------------------------------


def test_the_index_names_every_history_in_the_folder_once():
    files = [fixture["file"] for fixture in FIXTURES]
    assert len(files) == len(set(files))
    assert sorted(files) == sorted(path.name for path in FOLDER.glob("*.jsonl"))


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f["file"] for f in FIXTURES])
def test_each_entry_says_what_the_file_shows_and_where_the_point_comes_from(fixture):
    assert fixture["file"].startswith(section(fixture["point"]) + "-")
    assert fixture["mark"] in MARKS
    assert fixture["sources"] and fixture["shows"] and fixture["expect"]
    if fixture["mark"] == "V":
        assert fixture["review"], "a [V] point quotes the review, so its coverage can be checked"
    for item in fixture["expect"]:
        assert re.fullmatch(r"(incident|crime|offender)/\S+", item["subject"])


@pytest.mark.parametrize("entry", WITHOUT, ids=[e["point"] for e in WITHOUT])
def test_each_point_without_a_fixture_gives_the_reason(entry):
    assert entry["mark"] == "V" and entry["sources"] and entry["review"] and entry["reason"]
    assert entry["point"] not in {fixture["point"] for fixture in FIXTURES}


# -- the histories ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f["file"] for f in FIXTURES])
def test_the_history_is_one_event_per_line_in_event_time_order(fixture):
    records = [orjson.loads(line) for line in (FOLDER / fixture["file"]).read_bytes().splitlines()]
    assert records and all(r["schema_version"] == 1 for r in records)
    times = [parse_time(r["occurred_at"]) for r in records]
    assert times == sorted(times)
    assert len({r["event_id"] for r in records}) == len(records)


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f["file"] for f in FIXTURES])
def test_the_history_raises_exactly_the_expected_findings(fixture, tmp_path):
    path = FOLDER / fixture["file"]
    result = backtest.run(path, rules_for(fixture, tmp_path))
    assert [(d.line, d.reason) for d in result.dead_letters] == [], "every line must be applied"
    assert result.duplicates == 0
    assert Counter(key(f) for f in result.findings) == Counter(expected_key(e) for e in fixture["expect"])
    for item in fixture["expect"]:
        for phrase in item.get("says", ()):
            [finding] = [f for f in result.findings if key(f) == expected_key(item)]
            assert phrase in finding.payload.explanation, (item["subject"], phrase)
    judged = {f"{f.payload.subject.kind}/{f.payload.subject.id}" for f in result.findings}
    assert not judged & set(fixture["quiet"]), "the lawful side raises nothing"
    # Every incident and crime in the file is either expected in a finding or listed as quiet.
    assert subjects_in(path) == {e["subject"] for e in fixture["expect"]} | set(fixture["quiet"])


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f["file"] for f in FIXTURES])
def test_the_command_line_backtest_gives_the_same_findings(fixture, tmp_path):
    """`cdi backtest FILE --rules RULES` (the rules named, so CDI_RULES cannot change them)."""
    out = tmp_path / "findings.jsonl"
    rules = rules_for(fixture, tmp_path)
    done = CliRunner().invoke(
        main, ["backtest", str(FOLDER / fixture["file"]), "--rules", str(rules), "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    written = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    got = Counter(
        ("resolved", p["rule"], f"{p['subject']['kind']}/{p['subject']['id']}", p["resolution"])
        if r["type"] == "finding.resolved"
        else ("raised", p["rule"], f"{p['subject']['kind']}/{p['subject']['id']}", p["severity"], p["assessment"])
        for r in written
        for p in [r["payload"]]
    )
    assert got == Counter(expected_key(e) for e in fixture["expect"])


# -- the review, point by point -----------------------------------------------------------------------

CITATION = re.compile(r"review (\d+\.\d+)(?: to (\d+\.\d+))?(?: point (\d+))?(?P<verified>\s*\[V)?")


def citations(text: str) -> list[tuple[str, str | None, bool]]:
    """(section, point or None, marked [V]) of every "review 1.n[ point m]" in a text; "review 1.5 to
    1.7" cites each section of the range."""
    found = []
    for match in CITATION.finditer(normal(text)):
        first, last, point, verified = match.group(1), match.group(2), match.group(3), bool(match.group("verified"))
        if last:
            major, low, high = first.split(".")[0], int(first.split(".")[1]), int(last.split(".")[1])
            found += [(f"{major}.{n}", None, verified) for n in range(low, high + 1)]
        else:
            found.append((first, point, verified))
    return [(sec, point, verified) for sec, point, verified in found if sec.split(".")[0] in {"1", "3"}]


def test_every_verified_point_docs_rules_applies_has_a_fixture():
    """docs/rules.md marks what it applied "(review 1.n[ point m] ...)". A cited point the index
    holds as [V] has a fixture; a section cited as [V], or holding a [V] point, has one; a point the
    index leaves without a fixture is one docs/rules.md does not cite."""
    covered_points = {f["point"] for f in FIXTURES} | {p for f in FIXTURES for p in f.get("also", ())}
    covered_sections = {section(p) for p in covered_points}
    verified_sections = {section(f["point"]) for f in FIXTURES if f["mark"] == "V"} | {
        section(e["point"]) for e in WITHOUT
    }
    without = {e["point"] for e in WITHOUT}
    problems = []
    for sec, point, verified in citations(RULES_DOC.read_text(encoding="utf-8")):
        if point is not None:
            cited = f"{sec} point {point}"
            if cited in without:
                problems.append(f"docs/rules.md applies review {cited}, which the index lists without a fixture")
            elif verified and cited not in covered_points:
                problems.append(f"docs/rules.md applies review {cited} [V], which has no fixture")
        if (verified or sec in verified_sections) and sec not in covered_sections:
            problems.append(f"docs/rules.md applies review {sec}, a section with [V] points, and no fixture shows it")
    assert problems == []


def review_items(text: str) -> list[str]:
    """The bullets, numbered points, paragraphs and table rows of sections 1.1 to 1.14 and 3."""
    items: list[str] = []
    current: list[str] = []
    in_scope = False

    def flush() -> None:
        if current and in_scope:
            items.append(normal(" ".join(current)))
        current.clear()

    for line in text.splitlines():
        if line.startswith("#"):
            flush()
            in_scope = bool(re.match(r"#+ (1\.\d+|3\.\d*)\s", line))
            continue
        if not line.strip() or re.match(r"\s*([-*] |\d+\. |\|)", line):
            flush()
        if line.strip():
            current.append(line)
    flush()
    return items


def test_every_verified_mark_of_the_review_is_in_the_index():
    """Every bullet, point or table row of the review's sections 1.1 to 1.14 and 3 that carries a
    [V] mark holds a phrase the index quotes, with a fixture or in the list without one; and every
    phrase the index quotes is the review's."""
    path = review_path()
    if path is None:
        pytest.skip("shared/rules-review.md is not beside the repository (set CDI_RULES_REVIEW)")
    items = review_items(path.read_text(encoding="utf-8"))
    quoted = {normal(q): entry["point"] for entry in FIXTURES + WITHOUT for q in entry.get("review", ())}
    unmatched = [phrase for phrase in quoted if not any(phrase in item for item in items)]
    assert unmatched == [], "phrases not found in the review"
    verified = [item for item in items if "[V" in item]
    assert len(verified) >= 30
    missing = [item[:100] for item in verified if not any(phrase in item for phrase in quoted)]
    assert missing == [], "[V] points of the review the index does not account for"
