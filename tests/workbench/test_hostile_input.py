"""Hostile input to `cdi serve`: markup in every place text reaches a page is shown as text, a
sign-in posted from another site is refused, and records or actions a database cannot hold are
refused and counted without stopping the view."""

from __future__ import annotations

import base64
import re

import httpx
import orjson
import pytest
from kafka import KafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from cdi.topics import Topics
from tests.workbench.serve_process import TOKENS, all_findings, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SCRIPT = '"><script>alert(1)</script>'


def signed_in(url: str, role: str = "operator") -> tuple[httpx.Client, str]:
    """A browser-like client with a session, and the page's CSRF token."""
    client = httpx.Client(base_url=url, timeout=30)
    assert client.post("/signin", data={"token": TOKENS[role][1], "next": "/cases"}).status_code == 303
    page = client.get("/cases").text
    csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', page)
    assert csrf, "the page carries its CSRF token for htmx"
    return client, csrf.group(1)


def test_markup_is_shown_as_text_everywhere(small_view):
    serve, ids = small_view
    raw = httpx.get(f"{serve.url}/signin", params={"next": "/" + SCRIPT}, timeout=10).text
    assert "<script>alert(1)" not in raw
    with serve.client("operator") as api:
        note = api.post("/api/v1/actions", json={"finding_id": ids[0], "action": "annotate", "note": SCRIPT})
        assert note.status_code == 201
    browser, _ = signed_in(serve.url)
    try:
        for path, params in (
            (f"/cases/{ids[0]}", {}),
            ("/cases", {"division": SCRIPT, "assignee": SCRIPT}),
            ("/cases/NO_SUCH/" + SCRIPT, {}),
            ("/cases/work", {"finding_id": ids[0]}),
        ):
            page = browser.get(path, params=params).text
            assert "<script>alert(1)" not in page, path
        assert "&lt;script&gt;alert(1)" in browser.get(f"/cases/{ids[0]}").text
    finally:
        browser.close()


def test_a_sign_in_posted_from_another_site_is_refused(small_view):
    serve, _ = small_view
    form = {"token": TOKENS["operator"][1], "next": "/cases"}
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}):
        refused = httpx.post(f"{serve.url}/signin", data=form, headers=headers, timeout=10)
        assert refused.status_code == 403 and "cdi_session" not in refused.headers.get("set-cookie", ""), headers
    same = httpx.post(f"{serve.url}/signin", data=form, headers={"Origin": serve.url}, timeout=10)
    assert same.status_code == 303 and "cdi_session" in same.headers["set-cookie"]


def test_bad_cursors_and_control_characters_are_refused_with_422(small_view):
    serve, ids = small_view
    with serve.client("operator") as api:
        for value in ([True, "x"], [2**63, "x"], [-1, "x"], "x"):
            cursor = base64.urlsafe_b64encode(orjson.dumps(value)).decode().rstrip("=")
            assert api.get("/api/v1/findings", params={"cursor": cursor}).status_code == 422, value
        nul = api.post("/api/v1/actions", json={"finding_id": ids[0], "action": "annotate", "note": "a\x00b"})
        assert nul.status_code == 422 and "nothing was written" in nul.json()["detail"]


def test_records_the_view_cannot_hold_are_counted_and_the_view_goes_on(small_view):
    serve, ids = small_view
    settings = serve.settings
    topic = Topics(settings.topic_prefix).name("findings")
    with serve.client("viewer") as api:
        template = api.get(f"/api/v1/findings/{ids[0]}").json()
    base = {
        "type": "finding.raised",
        "schema_version": 1,
        "occurred_at": "2026-03-09T10:00:00+00:00",
        "force": "SYNTH",
        "division": "NORTH",
        "payload": {
            "finding_id": "CRD_LATE/crime/CR-HOSTILE-1",
            "rule": "CRD_LATE",
            "severity": "low",
            "subject": {"kind": "crime", "id": "CR-HOSTILE-1"},
            "offence_group": None,
            "evidence": ["ev-1"],
            "explanation": "x",
            "guidance": "y",
            "rules_version": template["rules_version"],
        },
    }
    nul = orjson.loads(orjson.dumps(base))
    nul["event_id"] = nul["payload"]["finding_id"]
    nul["payload"]["explanation"] = "a\x00b"
    huge = orjson.loads(orjson.dumps(nul))
    huge["payload"]["explanation"] = "x" * 600_000
    fine = orjson.loads(orjson.dumps(base))
    fine["payload"]["finding_id"] = fine["event_id"] = "CRD_LATE/crime/CR-HOSTILE-2"
    fine["payload"]["subject"]["id"] = "CR-HOSTILE-2"
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap, max_request_size=2_000_000)
    for record in (nul, huge, fine):
        producer.send(topic, key=b"CR-HOSTILE", value=orjson.dumps(record)).get(timeout=30)
    producer.close()
    with serve.client("viewer") as api:
        wait_for(lambda: "CRD_LATE/crime/CR-HOSTILE-2" in {i["finding_id"] for i in all_findings(api)}, "the good one")
        assert "CRD_LATE/crime/CR-HOSTILE-1" not in {i["finding_id"] for i in all_findings(api)}
    text = httpx.get(f"{serve.url}/metrics", timeout=10).text
    refused = {
        s.labels["reason"]: s.value
        for f in text_string_to_metric_families(text)
        if f.name == "cdi_workbench_records_refused"
        for s in f.samples
        if s.name.endswith("_total")
    }
    assert refused.get("nul_character") == 1 and refused.get("too_large") == 1, refused
    assert "a\x00b" not in serve.log() and "CR-HOSTILE" not in serve.log()
