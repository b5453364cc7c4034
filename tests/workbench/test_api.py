"""The case workbench's JSON API against a running `cdi serve`, fed by a real worker on a real
Kafka broker with a simulated history: the view equals the offline backtest, filters and paging
are exact, timelines list exactly the evidence in event-time order, actions round-trip through
the case-actions topic, a restart or a deleted database rebuilds the same view, and PostgreSQL
answers exactly as SQLite does."""

from __future__ import annotations

import shutil
from collections import Counter
from typing import Any

import httpx
import orjson
import pytest

from cdi import backtest, rules
from cdi.core.events import Event
from cdi.core.times import parse_time
from cdi.history import read_lines, write_events
from cdi.publish import publish
from cdi.simulation import SimulationOptions, simulate
from tests.stream.worker_process import WorkerProcess, findings, isolated_settings, read_topic
from tests.workbench.serve_process import ServeProcess, all_findings, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def fed(kafka_bootstrap, tmp_path_factory):
    """A namespace whose findings topic holds exactly the backtest's findings of a 4-day history."""
    sim = simulate(SimulationOptions(days=4, seed=11))
    path = tmp_path_factory.mktemp("workbench") / "history.jsonl"
    write_events(path, sim.events)
    offline = backtest.run(path)
    raised = {f.payload.finding_id: f for f in offline.findings if f.type == "finding.raised"}
    resolved = {f.payload.finding_id: f for f in offline.findings if f.type == "finding.resolved"}
    assert len(raised) > 40 and resolved, "the history must raise and resolve findings"
    events = {e["event_id"]: Event.from_dict(e) for e in sim.events if e["type"] != "history.ended"}
    settings = isolated_settings(kafka_bootstrap)
    with WorkerProcess(settings):
        publish(settings, [raw for _, raw in read_lines(path)])
        on_topic = findings(read_topic(settings, "findings", until=len(offline.findings)))
    assert len(on_topic) == len(offline.findings), "the worker must give the backtest's findings"
    return settings, raised, resolved, events


def expected_status(fid: str, resolved: dict[str, Any]) -> str:
    return "resolved" if fid in resolved else "open"


@pytest.fixture(scope="module")
def served(fed):
    settings, raised, _, _ = fed
    with ServeProcess(settings) as serve:
        with serve.client() as client:
            wait_for(lambda: len(all_findings(client)) == len(raised), "the view to hold every finding")
        yield serve


def test_the_list_equals_the_backtest(fed, served):
    _, raised, resolved, _ = fed
    with served.client("viewer") as client:
        items = all_findings(client)
    assert {i["finding_id"]: i["status"] for i in items} == {f: expected_status(f, resolved) for f in raised}
    # Newest first: event time, then id, descending.
    keys = [(parse_time(i["raised_at"]), i["finding_id"]) for i in items]
    assert keys == sorted(keys, reverse=True)
    sample = items[0]
    source = raised[sample["finding_id"]].payload
    assert sample["rule"] == source.rule and sample["severity"] == source.severity
    assert {i["finding_id"]: i["assessment"] for i in items} == {f: r.payload.assessment for f, r in raised.items()}
    assert sample["explanation"] == source.explanation and sample["rules_version"] == source.rules_version


def test_filters_and_paging_are_exact(fed, served):
    _, raised, resolved, _ = fed
    rows = [
        {
            "id": fid,
            "rule": f.payload.rule,
            "severity": f.payload.severity,
            "division": f.division,
            "offence_group": f.payload.offence_group,
            "status": expected_status(fid, resolved),
            "assessment": f.payload.assessment,
            "at": f.at,
        }
        for fid, f in raised.items()
    ]
    rule = Counter(r["rule"] for r in rows).most_common(1)[0][0]
    division = Counter(r["division"] for r in rows).most_common(1)[0][0]
    group = Counter(r["offence_group"] for r in rows if r["offence_group"]).most_common(1)[0][0]
    listed = set(rules.load().divisions)
    times = sorted(r["at"] for r in rows)
    since, until = times[len(times) // 4], times[3 * len(times) // 4]
    cases: list[tuple[dict[str, str], Any]] = [
        ({"rule": rule}, lambda r: r["rule"] == rule),
        ({"division": division}, lambda r: r["division"] == division),
        ({"severity": "high,critical"}, lambda r: r["severity"] in {"high", "critical"}),
        ({"offence_group": group}, lambda r: r["offence_group"] == group),
        ({"status": "resolved"}, lambda r: r["status"] == "resolved"),
        ({"assessment": "review"}, lambda r: r["assessment"] == "review"),
        ({"assessment": "breach", "rule": rule}, lambda r: r["assessment"] == "breach" and r["rule"] == rule),
        (
            {"pipeline": "live", "rule": rule, "division": division},
            lambda r: r["rule"] == rule and r["division"] == division,
        ),
        ({"pipeline": "elsewhere"}, lambda r: False),
        # "other", as in the metrics' division label: any division the rules file does not list.
        ({"division": f"other,{division}"}, lambda r: r["division"] not in listed or r["division"] == division),
        (
            {"from": _iso(since), "to": _iso(until)},
            lambda r: since <= r["at"] < until,
        ),
    ]
    with served.client("viewer") as client:
        for params, keep in cases:
            got = {i["finding_id"] for i in all_findings(client, limit=500, **params)}
            assert got == {r["id"] for r in rows if keep(r)}, params
        # Paging: small pages, no finding twice, none missing, the same order as one big page.
        paged = [i["finding_id"] for i in all_findings(client, limit=7)]
        whole = [i["finding_id"] for i in all_findings(client, limit=500)]
        assert paged == whole and len(set(paged)) == len(raised)
        counts = client.get("/api/v1/counts").json()
        key = ("rule", "division", "status", "assessment")
        assert {tuple(c[k] for k in key): c["count"] for c in counts["items"]} == Counter(
            tuple(r[k] for k in key) for r in rows
        )
        assert counts["total"] == len(rows)
        assert counts["by_assessment"] == {a: sum(r["assessment"] == a for r in rows) for a in ("breach", "review")}
        assert counts["by_assessment"]["review"] > 0, "seed 11 raises findings for review"
        bad = client.get("/api/v1/counts", params={"assessment": "maybe"})
        assert bad.status_code == 422 and "assessment must be among" in bad.text
        bad = client.get("/api/v1/findings", params={"status": "pending"})
        assert bad.status_code == 422 and "status must be among" in bad.text
        assert client.get("/api/v1/findings", params={"cursor": "not-ours"}).status_code == 422


def _iso(ms: int) -> str:
    from cdi.core.times import format_time

    return format_time(ms)


def test_timelines_list_exactly_the_evidence_in_event_time_order(fed, served):
    _, raised, resolved, events = fed
    sample = {}
    for fid, f in sorted(raised.items()):
        sample.setdefault(f.payload.rule, fid)
    sample["resolved"] = sorted(resolved)[0]
    with served.client("viewer") as client:
        for fid in sample.values():
            body = client.get(f"/api/v1/findings/{fid}").json()
            cited = list(raised[fid].payload.evidence) + (
                list(resolved[fid].payload.evidence) if fid in resolved else []
            )
            known = [e for e in dict.fromkeys(cited) if e in events]
            expected = sorted(known, key=lambda e: (events[e].at, e))
            assert [t["event_id"] for t in body["timeline"] if t["available"]] == expected, fid
            for item in body["timeline"]:
                if item["available"]:
                    assert item["type"] == events[item["event_id"]].type
                    assert item["occurred_at"] == events[item["event_id"]].occurred_at
                    assert item["line"].endswith(".") and len(item["line"]) > 20
            if fid in resolved:
                assert body["status"] == "resolved"
                assert body["resolution"]["resolution"] == resolved[fid].payload.resolution
                assert {t["event_id"] for t in body["timeline"] if t["resolving"]} == set(
                    resolved[fid].payload.evidence
                )
        assert client.get("/api/v1/findings/NO_SUCH/incident/X").status_code == 404


def test_actions_round_trip_through_the_topic_and_a_rebuild_gives_the_same_view(fed, served):
    settings, raised, _, _ = fed
    open_ids = sorted(f for f in raised if f not in fed[2])
    first, second = open_ids[0], open_ids[1]
    with served.client("operator") as operator, served.client("registrar") as registrar:
        ack = operator.post("/api/v1/actions", json={"finding_id": first, "action": "acknowledge"})
        assert ack.status_code == 201, ack.text
        assert ack.json()["by"] == "S-1042" and ack.json()["refused"] is None
        again = operator.post("/api/v1/actions", json={"finding_id": first, "action": "acknowledge"})
        assert again.status_code == 409 and "already acknowledged by S-1042" in again.json()["detail"]
        assign = operator.post(
            "/api/v1/actions",
            json={"finding_id": first, "action": "assign", "assignee": {"kind": "team", "ref": "NORTH-CMU"}},
        )
        assert assign.status_code == 201
        note = operator.post(
            "/api/v1/actions", json={"finding_id": first, "action": "annotate", "note": "Rang the OIC."}
        )
        assert note.status_code == 201
        refused = operator.post(
            "/api/v1/actions", json={"finding_id": first, "action": "close", "outcome": "rationale_added"}
        )
        assert refused.status_code == 403 and "operator role may not close" in refused.json()["detail"]
        no_reason = registrar.post(
            "/api/v1/actions", json={"finding_id": second, "action": "close", "outcome": "not_a_breach"}
        )
        assert no_reason.status_code == 422
        close = registrar.post(
            "/api/v1/actions",
            json={"finding_id": second, "action": "close", "outcome": "not_a_breach", "reason": "AVI on the log."},
        )
        assert close.status_code == 201
        unknown = operator.post("/api/v1/actions", json={"finding_id": "NO_SUCH/incident/X", "action": "acknowledge"})
        assert unknown.status_code == 404 and "nothing was written" in unknown.json()["detail"]
        too_long = operator.post(
            "/api/v1/actions", json={"finding_id": first, "action": "annotate", "note": "x" * 2001}
        )
        assert too_long.status_code == 422

        one = operator.get(f"/api/v1/findings/{first}").json()
        assert one["acknowledged"]["by"] == "S-1042"
        assert one["assignee"] == {"kind": "team", "ref": "NORTH-CMU"}
        assert [a["action"] for a in one["actions"]] == ["acknowledge", "assign", "annotate"]
        two = operator.get(f"/api/v1/findings/{second}").json()
        assert two["status"] == "closed" and two["closed"]["outcome"] == "not_a_breach"
        assert {i["finding_id"] for i in all_findings(operator, assignee="NORTH-CMU")} == {first}
        assert second in {i["finding_id"] for i in all_findings(operator, status="closed")}

    # /metrics counts the acknowledged and the closed case (an alert can wait for someone to act).
    text = httpx.get(f"{served.url}/metrics", timeout=10).text
    assert _metric(text, acknowledged="true", status="open", rule=raised[first].payload.rule) == 1
    assert _metric(text, status="closed", rule=raised[second].payload.rule) == 1

    # The topic holds exactly the four accepted actions, keyed by finding id.
    messages = read_topic(settings, "case-actions", until=4, timeout=30)
    records = [orjson.loads(m.value) for m in messages]
    assert [(m.key.decode(), r["payload"]["action"]) for m, r in zip(messages, records, strict=True)] == [
        (first, "acknowledge"),
        (first, "assign"),
        (first, "annotate"),
        (second, "close"),
    ] or sorted((m.key.decode(), r["payload"]["action"]) for m, r in zip(messages, records, strict=True)) == sorted(
        [(first, "acknowledge"), (first, "assign"), (first, "annotate"), (second, "close")]
    )

    with served.client() as client:
        before = _snapshot(client, [first, second])
    served.stop()
    served.start()  # restart: resumes from the stored offsets
    with served.client() as client:
        assert _snapshot(client, [first, second]) == before
    served.stop()
    shutil.rmtree(served.settings.data_dir)  # the SQLite file is gone: rebuild from the topics
    served.start()
    with served.client() as client:
        wait_for(lambda: len(all_findings(client)) == len(raised), "the rebuilt view")
        assert _snapshot(client, [first, second]) == before


def _metric(text: str, **labels: str) -> float:
    """Sum of cdi_cases samples whose labels include ``labels``."""
    from prometheus_client.parser import text_string_to_metric_families

    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        if family.name == "cdi_cases"
        for s in family.samples
        if all(s.labels.get(k) == v for k, v in labels.items())
    )


def _snapshot(client: Any, ids: list[str]) -> Any:
    return (
        all_findings(client, limit=500, status="open,resolved,closed"),
        [client.get(f"/api/v1/findings/{fid}").json() for fid in ids],
        client.get("/api/v1/counts").json(),
    )


def test_postgresql_gives_the_same_answers_and_replicas_share_it(fed, served, postgres_server):
    _, raised, _, _ = fed
    url = postgres_server.create_database("cases_api")
    with served.client() as client:
        sample = sorted(raised)[:3]
        expected = _snapshot(client, sample)
    with ServeProcess(fed[0], database_url=url) as one, ServeProcess(fed[0], database_url=url) as two:
        for replica in (one, two):
            with replica.client() as client:
                wait_for(lambda c=client: _snapshot(c, sample) == expected, "PostgreSQL view to match SQLite's")
        # An action through one replica shows on the other; no record is applied twice.
        target = sorted(f for f in raised if f not in fed[2])[5]
        with one.client("operator") as a, two.client("viewer") as b:
            assert a.post("/api/v1/actions", json={"finding_id": target, "action": "acknowledge"}).status_code == 201
            wait_for(lambda: b.get(f"/api/v1/findings/{target}").json()["acknowledged"], "the other replica")
            assert len(b.get(f"/api/v1/findings/{target}").json()["actions"]) == 1
            assert len(all_findings(b)) == len(raised)


def test_a_forged_or_unknown_action_on_the_topic_is_kept_and_changes_nothing(fed, served):
    from kafka import KafkaProducer

    from cdi.topics import Topics

    settings, raised, resolved, _ = fed
    target = sorted(f for f in raised if f not in resolved)[2]
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap)
    topic = Topics(settings.topic_prefix).name("case-actions")
    envelope = {
        "type": "case.action",
        "schema_version": 1,
        "occurred_at": "2026-03-03T08:00:00+00:00",
        "force": "KENT",
        "division": "NORTH",
    }
    forged = {
        **envelope,
        "event_id": "act-forged-1",
        "payload": {
            "finding_id": target,
            "action": "close",
            "by": "S-9",
            "role": "operator",
            "outcome": "rationale_added",
        },
    }
    stray = {
        **envelope,
        "event_id": "act-stray-1",
        "payload": {"finding_id": "NOT_A/finding/1", "action": "acknowledge", "by": "S-9", "role": "operator"},
    }
    for record in (forged, stray):
        producer.send(topic, key=record["payload"]["finding_id"].encode(), value=orjson.dumps(record)).get(timeout=30)
    producer.close()
    with served.client("viewer") as client:
        wait_for(
            lambda: any(
                a["action_id"] == "act-stray-1" for a in client.get("/api/v1/actions/unmatched").json()["items"]
            ),
            "the stray action to be listed",
        )
        body = wait_for(
            lambda: (b := client.get(f"/api/v1/findings/{target}").json())["actions"] and b, "the forged action"
        )
        assert body["status"] == "open"
        assert body["actions"][-1]["refused"] == "the operator role may not close a finding"
