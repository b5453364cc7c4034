"""End to end on a real Prometheus (Debian package): a worker processes a simulated fortnight with
known failures while Prometheus scrapes it and evaluates the repository's recording and alert
rules. The alerts the data calls for reach `firing`, the others stay inactive, and every query of
every Grafana panel fed by the workers answers with data (the audit dashboard, fed by the case
workbench, is left out: cdi.dashboards.WORKBENCH_FED). The worker runs in the default namespace:
every series it serves, and so every alert, carries pipeline="live".

`for:` and `keep_firing_for:` are set to zero and group intervals to the global one (1 s) in the
copy of the rules this test loads: a test minutes long cannot wait the hour some alerts hold
for, and the promtool unit tests (deploy/prometheus/tests) prove every `for` boundary. What this
test proves is that the expressions work on the series a real worker exposes.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from cdi import alerting, backtest, dashboards
from cdi.core.observations import CancellationCounted, CrimeCounted, OutcomeCounted, RecordingDecision, RecordingDelay
from cdi.core.times import format_time
from cdi.embedded_broker import free_port
from cdi.history import read_lines, write_events
from cdi.publish import publish
from cdi.simulation import SimulationOptions, simulate
from tests.stream.worker_process import WorkerProcess, isolated_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "rules"
JOB = alerting.load(ROOT / "deploy" / "prometheus" / "alerting.toml").job  # the job the rules read `up` of
MARGIN = 0.02  # ratios this close to a threshold are not asserted either way
FINDING_ALERTS = {
    "CAUTION_INDICTABLE_ONLY": "CDICautionIndictableOnly",
    "PND_ELIGIBILITY": "CDIPenaltyNoticeIneligible",
    "CANCEL_WITHOUT_AVI": "CDICancellationWithoutGrounds",
}
MUST_STAY_QUIET = {
    "CDIMonitorDown",
    "CDIWatermarkStalled",
    "CDIProcessingLagHigh",
    "CDIConsumerLagHigh",
    "CDIRebalanceStuck",
    "CDIInputSilent",
    "CDIPeriodEndReclassificationSpike",
    "CDICriticalFindingRaised",
}


def rules_without_holds(target: Path) -> list[str]:
    target.mkdir(parents=True)
    names = []
    for path in sorted(RULES.glob("*.yml")):
        spec = yaml.safe_load(path.read_text())
        for group in spec["groups"]:
            group.pop("interval", None)
            for rule in group["rules"]:
                rule.pop("for", None)
                rule.pop("keep_firing_for", None)
        (target / path.name).write_text(yaml.safe_dump(spec, sort_keys=False))
        names.append(str(target / path.name))
    return names


class Prometheus:
    def __init__(self, folder: Path, metrics_port: int) -> None:
        binary = shutil.which("prometheus")
        if binary is None:
            pytest.fail("prometheus is missing: install the Debian package prometheus (tests/run.sh does)")
        self.port = free_port()
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": rules_without_holds(folder / "rules"),
            "scrape_configs": [{"job_name": JOB, "static_configs": [{"targets": [f"127.0.0.1:{metrics_port}"]}]}],
        }
        (folder / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.log = (folder / "prometheus.log").open("wb")
        self.process = subprocess.Popen(
            [
                binary,
                f"--config.file={folder / 'prometheus.yml'}",
                f"--storage.tsdb.path={folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError):
                if urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=1).status == 200:
                    return
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"prometheus did not start:\n{(folder / 'prometheus.log').read_text()[-3000:]}")
            time.sleep(0.2)

    def api(self, path: str, **params: str) -> dict:
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())

    def firing(self) -> set[tuple[str, str]]:
        alerts = self.api("alerts")["data"]["alerts"]
        return {(a["labels"]["alertname"], a["labels"].get("division", "")) for a in alerts if a["state"] == "firing"}

    def alert_pipelines(self) -> set[str | None]:
        return {a["labels"].get("pipeline") for a in self.api("alerts")["data"]["alerts"]}

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def expectations(result: backtest.BacktestResult, truth: list[dict]) -> tuple[set, set]:
    """(alerts that must fire, alerts that must not), as (alertname, division) pairs, from the
    offline run's observations and the ground truth; ratios near a threshold are left out."""
    fire, quiet = {("CDIWatchdog", ""), ("CDIDeadLettersRising", "")}, set()
    # Only breaches page; a review finding (say, a penalty notice flagged by the history heuristic
    # alone) is counted apart and fires nothing.
    breaches = {
        (f.payload.rule, f.division)
        for f in result.findings
        if f.type == "finding.raised" and f.payload.assessment == "breach"
    }
    for rule, alert in FINDING_ALERTS.items():
        for division in {t["division"] for t in truth if t["rule"] == rule}:
            if (rule, division) in breaches:
                fire.add((alert, division))

    def judge(alert: str, values: dict[str, tuple[float, bool]], threshold: float, above: bool) -> None:
        for division, (value, enough) in values.items():
            if not enough or abs(value - threshold) < MARGIN:
                if not enough:
                    quiet.add((alert, division))
                continue
            (fire if (value > threshold) == above else quiet).add((alert, division))

    decisions, delays = defaultdict(Counter), defaultdict(list)
    rape_crimes, rape_cancels, outcomes = Counter(), Counter(), defaultdict(Counter)
    for obs in result.observations:
        if isinstance(obs, RecordingDecision):
            decisions[obs.division][obs.result] += 1
        elif isinstance(obs, RecordingDelay):
            delays[obs.division].append(obs.seconds)
        elif isinstance(obs, CrimeCounted) and obs.rape:
            rape_crimes[obs.division] += 1
        elif isinstance(obs, CancellationCounted) and obs.rape:
            rape_cancels[obs.division] += 1
        elif isinstance(obs, OutcomeCounted):
            outcomes[obs.division][obs.outcome_type] += 1
    judge(
        "CDIRecordingComplianceLow",
        {d: ((c["recorded"] + c["explained"]) / sum(c.values()), sum(c.values()) >= 20) for d, c in decisions.items()},
        0.90,
        above=False,
    )
    judge(
        "CDIRecordingTimelinessLow",
        {d: (sum(s <= 86400 for s in v) / len(v), len(v) >= 20) for d, v in delays.items()},
        0.95,
        above=False,
    )
    judge(
        "CDIRapeCancellationRateHigh",
        {d: (rape_cancels[d] / n, n >= 20) for d, n in rape_crimes.items()},
        0.073,
        above=True,
    )
    # Each division against 1.5 times the others' pooled share (as the alert): judged as a ratio to that line.
    all16, everything = sum(c[16] for c in outcomes.values()), sum(sum(c.values()) for c in outcomes.values())
    judge(
        "CDIOutcome16Outlier",
        {
            d: (
                (c[16] / sum(c.values())) / (1.5 * (all16 - c[16]) / (everything - sum(c.values()))),
                sum(c.values()) >= 50 and everything > sum(c.values()) and all16 > c[16],
            )
            for d, c in outcomes.items()
        },
        1.0,
        above=True,
    )
    return fire, quiet


def dashboard_query(expr: str) -> str:
    for variable, value in (
        ("$pipeline", "live"),
        ("$division", ".*"),
        ("$__rate_interval", "1m"),
        ("$__range", "1h"),
        ("$__interval", "15s"),
    ):
        expr = expr.replace(variable, value)
    return expr


def test_alerts_fire_on_a_real_prometheus_and_every_panel_query_answers(kafka_bootstrap, tmp_path):
    # A fortnight ending minutes ago, so event-time lag is what a live force would show.
    start = (datetime.now(tz=UTC) - timedelta(days=14, hours=12, minutes=10)).replace(second=0, microsecond=0)
    sim = simulate(SimulationOptions(days=14, seed=5, start=start))
    last = max(e["occurred_at"] for e in sim.events)
    late = dict(sim.events[0], event_id="late-1")  # older than the watermark by the end: dead-lettered as late
    history = tmp_path / "history.jsonl"
    write_events(history, [*sim.events, late])
    lines = [raw for _, raw in read_lines(history)] + [b"{not json", b'{"type": "incident.deleted"}']
    offline = backtest.run(history, keep_observations=True)
    fire, quiet = expectations(offline, sim.truth)
    quiet |= {(name, "") for name in MUST_STAY_QUIET}
    settings = isolated_settings(kafka_bootstrap, partitions=2)
    with WorkerProcess(settings) as worker:
        prometheus = Prometheus(tmp_path / "prometheus", worker.settings.metrics_port)
        try:
            # Publish only once Prometheus has scraped the worker: a series it first sees with its
            # count already raised looks old to the finding alerts' "new series" term.
            # Two scrapes, so the series exist at zero before anything is counted.
            deadline = time.monotonic() + 60
            while not prometheus.api("query", query=f'count_over_time(up{{job="{JOB}"}}[5m]) >= 2')["data"]["result"]:
                assert time.monotonic() < deadline, "prometheus never scraped the worker twice"
                time.sleep(0.5)
            publish(settings, lines)
            deadline = time.monotonic() + 240
            while worker.total("cdi_events_consumed_total") < sum(offline.events.values()):
                assert time.monotonic() < deadline, "the worker did not consume the history"
                time.sleep(1)
            # Steady state: every expected alert firing and none of the quiet ones (a catch-up burst
            # may trip a pipeline alert for a moment: without its `for` it has no grace).
            deadline = time.monotonic() + 150
            while True:
                firing = prometheus.firing()
                names = {name for name, _ in firing}
                # A pair without a division is satisfied by the alert firing for any division.
                pending_fire = {a for a in fire if (a not in firing if a[1] else a[0] not in names)}
                wrongly = {(n, d) for n, d in firing if (n, d) in quiet or (n, "") in quiet}
                if not (pending_fire or wrongly) or time.monotonic() > deadline:
                    break
                time.sleep(2)
            if pending_fire:
                for q in (
                    'cdi_findings_raised_total{rule="CAUTION_INDICTABLE_ONLY"}',
                    'rule_severity_division:cdi_findings_raised:increase15m{rule="CAUTION_INDICTABLE_ONLY"}',
                    'count_over_time(cdi_findings_raised_total{rule="CAUTION_INDICTABLE_ONLY"}[15m])',
                    "sum_over_time(up[15m])",
                ):
                    print(
                        q,
                        [
                            (r["metric"].get("division"), r["value"][1])
                            for r in prometheus.api("query", query=q)["data"]["result"]
                        ],
                    )
            assert not pending_fire, f"never fired: {sorted(pending_fire)}; firing: {sorted(firing)}"
            assert not wrongly, f"fired but should not have: {sorted(wrongly)}"
            # A live worker's series, Faust's sensor's included, and so its alerts, are all live.
            samples = worker.metrics()
            unlabelled = [name for name in samples if 'pipeline="live"' not in name]
            assert samples and not unlabelled, f"samples without pipeline=live: {unlabelled[:10]}"
            assert any(name.startswith("cdi_faust_") for name in samples)
            assert prometheus.alert_pipelines() == {"live"}, prometheus.alert_pipelines()
            # rate() needs two samples of the last series to appear (the late record comes last).
            deadline = time.monotonic() + 30
            while not prometheus.api("query", query="count_over_time(cdi_events_late_total[1m]) >= 3")["data"][
                "result"
            ]:
                assert time.monotonic() < deadline, "the late record never showed in Prometheus"
                time.sleep(1)
            # Only a worker runs here: the dashboards fed by the case workbench (the audit's) have
            # nothing to answer with (dashboards.WORKBENCH_FED).
            for name, title, expr in dashboards.queries(include_workbench_fed=False):
                answer = prometheus.api("query", query=dashboard_query(expr))
                assert answer["status"] == "success", (name, title, expr)
                assert answer["data"]["result"], f"empty result for panel {title!r} of {name}: {expr}"
            print(f"\nfiring: {sorted(firing)}\nlast event {last}; now {format_time(int(time.time() * 1000))}")
        finally:
            prometheus.stop()
