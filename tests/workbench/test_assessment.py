"""Breach or review in the case workbench, on a real SQLite file and a real PostgreSQL, with no
broker: the police.uk month's findings are stored with their assessment, filtered and counted
apart in the API and the pages (a visible review badge), kept out of the gauge the case alerts
page on; and a view made by migration 0001 upgrades to 0002 with its rows as breaches."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from prometheus_client.core import Metric

from cdi import backtest
from cdi import reference as reference_tables
from cdi import rules as rules_files
from cdi.settings import Settings
from cdi.sources import open_history
from cdi.workbench.access import Tokens
from cdi.workbench.audit_desk import AuditDesk
from cdi.workbench.case_actions import ActionDesk
from cdi.workbench.config import WorkbenchSettings
from cdi.workbench.feed import Feed, FeedStatus
from cdi.workbench.metrics import WorkbenchCollector
from cdi.workbench.queries import Filters
from cdi.workbench.schema import metadata
from cdi.workbench.service import Parts, create_app
from cdi.workbench.store import FINDINGS_ROLE, MIGRATIONS, CaseStore, FeedRecord
from cdi.workbench.timeline import Narrator

FIXTURES = Path(__file__).parents[1] / "fixtures" / "policeuk"
PIPELINE = "live"
VIEWER = "viewer-token-assess"
OLDER = "CR_INELIGIBLE/crime/written-before-2026-12-1"
_names = itertools.count()


@pytest.fixture(scope="module")
def kent() -> list[dict[str, Any]]:
    """The police.uk month's raised findings (2 breaches, 2 for review), and one as written
    before rules 2026.12.1: no assessment, so a breach, though copied from one for review."""
    source = open_history([FIXTURES / "2022-01-kent-street.csv", FIXTURES / "2022-01-kent-outcomes.csv"])
    raised = [f.to_dict() for f in backtest.run(source).findings if f.type == "finding.raised"]
    older = copy.deepcopy(next(r for r in raised if r["payload"]["severity"] == "low"))
    del older["payload"]["assessment"]
    older["event_id"] = older["payload"]["finding_id"] = OLDER
    older["payload"]["subject"] = {"kind": "crime", "id": OLDER.rsplit("/", 1)[-1]}
    return [*raised, older]


def ids(findings: list[dict[str, Any]], assessment: str | None = None, rule: str | None = None) -> set[str]:
    """Finding ids, of one assessment (absent: breach) and rule when given."""
    return {
        p["finding_id"]
        for p in (f["payload"] for f in findings)
        if assessment in (None, p.get("assessment", "breach")) and rule in (None, p["rule"])
    }


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cases.db'}"
    return request.getfixturevalue("postgres_server").create_database(f"assessment_{next(_names)}")


@pytest.fixture
def store(database: str, kent: list[dict[str, Any]]) -> Iterator[CaseStore]:
    """The view migrated to head and fed the month's findings from the findings topic."""
    store = CaseStore(database, PIPELINE, Narrator(reference_tables.load()), divisions=rules_files.load().divisions)
    store.migrate()
    records = [FeedRecord(FINDINGS_ROLE, "cdi.findings", 0, n, orjson.dumps(f)) for n, f in enumerate(kent)]
    applied = store.apply(records)
    assert applied.records == len(kent) and not applied.refused
    yield store
    store.close()


def test_each_finding_is_stored_with_its_assessment(store: CaseStore, kent: list[dict[str, Any]]) -> None:
    items, _ = store.list_findings(Filters(), 50, None)
    assert sorted((i["rule"], i["division"], i["severity"], i["assessment"]) for i in items) == [
        ("CAUTION_INDICTABLE_ONLY", "MAIDSTONE", "high", "review"),
        ("CR_INELIGIBLE", "DARTFORD", "low", "breach"),  # written before rules 2026.12.1
        ("CR_INELIGIBLE", "DARTFORD", "low", "review"),
        ("CR_INELIGIBLE", "MEDWAY", "high", "breach"),
        ("PND_ELIGIBILITY", "DOVER", "medium", "breach"),
    ]
    assert store.finding(OLDER)["assessment"] == "breach"


def test_a_resolution_read_before_its_raise_leaves_the_raise_to_say_review(
    database: str, kent: list[dict[str, Any]]
) -> None:
    """After a rebuild a resolution can be read first: its row is a breach by the column's
    default until the raise arrives and says review."""
    store = CaseStore(database, PIPELINE, Narrator(reference_tables.load()))
    store.migrate()
    review = next(f for f in kent if f["payload"].get("assessment") == "review")
    p = review["payload"]
    resolved = {
        **{k: review[k] for k in ("schema_version", "occurred_at", "force", "division")},
        "event_id": f"{p['finding_id']}#resolved",
        "type": "finding.resolved",
        "payload": {
            **{k: p[k] for k in ("finding_id", "rule", "subject", "offence_group", "evidence", "rules_version")},
            "resolution": "recorded_late",
            "explanation": "a crime was recorded after the deadline",
        },
    }
    store.apply([FeedRecord(FINDINGS_ROLE, "cdi.findings", 0, 0, orjson.dumps(resolved))])
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT assessment FROM findings")).scalar_one() == "breach"
    store.apply([FeedRecord(FINDINGS_ROLE, "cdi.findings", 0, 1, orjson.dumps(review))])
    item = store.finding(p["finding_id"])
    assert (item["assessment"], item["status"]) == ("review", "resolved")
    store.close()


def test_the_assessment_filter_and_counts_keep_reviews_apart(store: CaseStore, kent: list[dict[str, Any]]) -> None:
    def listed(**filters: Any) -> set[str]:
        return {i["finding_id"] for i in store.list_findings(Filters(**filters), 50, None)[0]}

    assert listed(assessment=("review",)) == ids(kent, assessment="review") and len(ids(kent, assessment="review")) == 2
    assert listed(assessment=("breach",)) == ids(kent, assessment="breach") and len(ids(kent, assessment="breach")) == 3
    assert listed(assessment=("breach", "review")) == listed() == ids(kent)
    assert listed(assessment=("review",), rule=("CR_INELIGIBLE",)) == ids(
        kent, assessment="review", rule="CR_INELIGIBLE"
    )

    rows = store.counts(Filters())
    assert {tuple(r) for r in rows} == {("rule", "division", "status", "assessment", "count")}
    assert [tuple(r.values()) for r in rows] == [
        ("CAUTION_INDICTABLE_ONLY", "MAIDSTONE", "open", "review", 1),
        ("CR_INELIGIBLE", "DARTFORD", "open", "breach", 1),
        ("CR_INELIGIBLE", "DARTFORD", "open", "review", 1),
        ("CR_INELIGIBLE", "MEDWAY", "open", "breach", 1),
        ("PND_ELIGIBILITY", "DOVER", "open", "breach", 1),
    ]
    assert [(r["rule"], r["count"]) for r in store.counts(Filters(assessment=("review",)))] == [
        ("CAUTION_INDICTABLE_ONLY", 1),
        ("CR_INELIGIBLE", 1),
    ]


def _samples(families: list[Metric], name: str) -> dict[tuple[str, ...], float]:
    [family] = [f for f in families if f.name == name]
    keys = ("rule", "division", "severity", "status", "acknowledged")
    return {tuple(s.labels[k] for k in keys): s.value for s in family.samples}


def test_the_paging_gauge_counts_breaches_only(store: CaseStore) -> None:
    """CDICriticalCaseUnacknowledged and CDIHighCasesUnacknowledged read cdi_cases: an open,
    unacknowledged high review finding must not be in it."""
    collector = WorkbenchCollector(store, FeedStatus(), set(rules_files.load().rules), store.divisions)
    families = list(collector.collect())
    assert _samples(families, "cdi_cases") == {
        ("CR_INELIGIBLE", "DARTFORD", "low", "open", "false"): 1,
        ("CR_INELIGIBLE", "MEDWAY", "high", "open", "false"): 1,
        ("PND_ELIGIBILITY", "DOVER", "medium", "open", "false"): 1,
    }
    assert _samples(families, "cdi_cases_review") == {
        ("CAUTION_INDICTABLE_ONLY", "MAIDSTONE", "high", "open", "false"): 1,
        ("CR_INELIGIBLE", "DARTFORD", "low", "open", "false"): 1,
    }


@pytest.fixture
def client(store: CaseStore) -> TestClient:
    """The app on this store; the feed is never started (no lifespan), the store was fed above."""
    kafka = Settings()
    ws = WorkbenchSettings(kafka=kafka, tokens=Tokens(Tokens.parse_env(f"S-0001:viewer:{VIEWER}")))
    feed = Feed(kafka, store, ws.event_retention_days)
    feed.status.caught_up = True
    desk = ActionDesk(kafka, store, feed, store.contracts)
    audit = AuditDesk(store, feed, desk, store.contracts, None, "UNKNOWN")
    parts = Parts(store, feed, desk, audit, rules_files.load())
    return TestClient(create_app(ws, parts), headers={"Authorization": f"Bearer {VIEWER}"})


def test_the_api_filters_and_counts_by_assessment(client: TestClient, kent: list[dict[str, Any]]) -> None:
    body = client.get("/api/v1/findings", params={"assessment": "review"}).json()
    assert {i["finding_id"] for i in body["items"]} == ids(kent, assessment="review")
    assert {i["assessment"] for i in body["items"]} == {"review"}
    every = client.get("/api/v1/findings", params={"assessment": "breach,review"}).json()["items"]
    assert {i["finding_id"]: i["assessment"] for i in every} == {
        f["payload"]["finding_id"]: f["payload"].get("assessment", "breach") for f in kent
    }
    bad = client.get("/api/v1/findings", params={"assessment": "maybe"})
    assert bad.status_code == 422 and "assessment must be among breach, review" in bad.text
    counts = client.get("/api/v1/counts").json()
    assert (counts["total"], counts["by_assessment"]) == (5, {"breach": 3, "review": 2})
    breaches = client.get("/api/v1/counts", params={"assessment": "breach"}).json()
    assert (breaches["total"], breaches["by_assessment"]) == (3, {"breach": 3, "review": 0})
    assert {r["assessment"] for r in breaches["items"]} == {"breach"}


def test_the_pages_show_a_review_badge_and_an_assessment_filter(client: TestClient, kent: list[dict[str, Any]]) -> None:
    page = client.get("/cases").text
    assert '<select name="assessment" id="f-assessment"' in page
    assert page.count('data-assessment="review"') == 2 and page.count('data-assessment="breach"') == 3
    assert page.count('class="badge-review"') == 2  # one per review row, none on a breach
    flat = " ".join(page.split())
    assert '<strong id="total">5</strong> findings (open): <strong id="total-breaches">3</strong> breaches,' in flat
    assert '<strong id="total-reviews">2</strong> for review' in flat
    assert 'CR_INELIGIBLE</span> <strong>2</strong> <span class="review-count">+1 review</span>' in flat

    filtered = client.get("/cases", params={"assessment": "review"}).text
    assert '<option value="review" selected>for review</option>' in filtered
    assert filtered.count("<tr class=") == 2 and 'data-assessment="breach"' not in filtered
    for fid in ids(kent, assessment="review"):
        assert f'data-finding-id="{fid}"' in filtered

    review = sorted(ids(kent, assessment="review"))[0]
    case = " ".join(client.get(f"/cases/{review}").text.split())
    assert '<span class="badge-review">review</span></h1>' in case
    assert '<dd id="assessment">for review: the records cannot settle it' in case
    breach = " ".join(client.get(f"/cases/{sorted(ids(kent, assessment='breach'))[0]}").text.split())
    assert "badge-review" not in breach and '<dd id="assessment">breach: the records show it</dd>' in breach


# -- migration 0002 --------------------------------------------------------------------------------


def _alembic(conn: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def test_a_view_made_by_0001_upgrades_to_0002_with_its_rows_as_breaches(database: str) -> None:
    engine = sa.create_engine(database)
    with engine.begin() as conn:
        command.upgrade(_alembic(conn), "0001")
        findings_0001 = sa.table(
            "findings", *(sa.column(c) for c in ("pipeline", "finding_id", "rule", "severity", "raised_at", "status"))
        )
        conn.execute(
            findings_0001.insert(),
            [
                {"pipeline": PIPELINE, "finding_id": f"CRD_LATE/crime/CR-{n}", "rule": "CRD_LATE"}
                | {"severity": "medium", "raised_at": 1_700_000_000_000 + n, "status": "open"}
                for n in range(3)
            ],
        )
    store = CaseStore(database, PIPELINE, Narrator(reference_tables.load()))
    store.migrate()  # to head, as `cdi serve` does at start-up
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0003"  # head
        assert conn.execute(sa.text("SELECT assessment, count(*) FROM findings GROUP BY assessment")).all() == [
            ("breach", 3)
        ]
        # The migrations make exactly the tables schema.py describes.
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        column = next(c for c in sa.inspect(conn).get_columns("findings") if c["name"] == "assessment")
        assert column["nullable"] is False and "breach" in str(column["default"])
    assert {i["assessment"] for i in store.list_findings(Filters(), 10, None)[0]} == {"breach"}
    store.close()
    with engine.begin() as conn:  # and back
        command.downgrade(_alembic(conn), "0001")
        assert "assessment" not in {c["name"] for c in sa.inspect(conn).get_columns("findings")}
    engine.dispose()
