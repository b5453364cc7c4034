"""The worker's HTTP server serves /metrics, /healthz and /readyz only (issue 9, part 4): Faust's
/router/ and /table/<name>/<key>/ pages, which returned whole case records with the RocksDB
store, are gone. A real worker on a real broker, with each store."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import orjson
import pytest

from cdi.core.times import format_time
from cdi.publish import publish
from tests.stream.worker_process import WorkerProcess, isolated_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

INCIDENT_ID = "INC-HTTP-0001"


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return 0, ""  # not listening yet


def request(url: str, method: str) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method, data=b""), timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def incident(at_ms: int) -> bytes:
    return orjson.dumps(
        {
            "event_id": f"{INCIDENT_ID}.opened",
            "type": "incident.opened",
            "schema_version": 1,
            "occurred_at": format_time(at_ms),
            "force": "SYNTH",
            "division": "NORTH",
            "payload": {"incident_id": INCIDENT_ID, "opening_code": "ASSAULT"},
        }
    )


@pytest.mark.parametrize("store", ["memory", "rocksdb"])
def test_the_worker_serves_metrics_and_health_and_nothing_else(kafka_bootstrap, store):
    settings = isolated_settings(kafka_bootstrap, partitions=1, store=store)
    worker = WorkerProcess(settings)
    base = worker.base_url
    try:
        # Launched by hand, to watch /healthz and /readyz from the first moment the server answers.
        process = worker.launch()
        deadline = time.monotonic() + 90
        ready_seen: list[int] = []
        while True:
            assert process.poll() is None and time.monotonic() < deadline, worker.log()[-4000:]
            health, _ = get(f"{base}/healthz")
            if health:
                assert health == 200
                status, _ = get(f"{base}/readyz")
                ready_seen.append(status)
                if status == 200:
                    # Ready exactly when Faust says so.
                    assert "Worker ready" in worker.log()
                    break
            time.sleep(0.05)
        # Alive before ready: /healthz answered while /readyz still said 503 (recovery takes seconds).
        assert ready_seen[0] == 503 and set(ready_seen[:-1]) == {503}, ready_seen

        publish(settings, [incident(int(time.time() * 1000))], end=False)
        deadline = time.monotonic() + 60
        while worker.total("cdi_events_consumed_total") < 1:
            assert time.monotonic() < deadline, worker.log()[-4000:]
            time.sleep(0.2)

        status, text = get(f"{base}/metrics")
        assert status == 200
        assert "cdi_events_consumed_total" in text and "cdi_faust_" in text
        assert get(f"{base}/healthz") == (200, "ok\n")
        assert get(f"{base}/readyz") == (200, "ready\n")

        # Faust's pages, and anything else, are not served; the case is in the table all the same.
        for path in (
            "/router/",
            "/router",
            "/table/incidents/",
            f"/table/incidents/{INCIDENT_ID}/",
            "/table/incidents/x/",
            "/table/offenders/x/",
            "/",
            "/metrics/extra",
            "/healthz/",
        ):
            status, text = get(f"{base}{path}")
            assert status == 404, path
            assert INCIDENT_ID not in text
        assert request(f"{base}/metrics", "POST") == 404
        assert request(f"{base}/readyz", "DELETE") == 404
        # Not a terminal: JSON lines with the stable keys (README, "Logs"), Faust's own included.
        lines = [orjson.loads(line) for line in worker.log().splitlines() if line.strip()]
        assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
        assert any("Worker ready" in line["message"] and line["level"] == "INFO" for line in lines)
        assert INCIDENT_ID not in worker.log()
    finally:
        worker.stop()
