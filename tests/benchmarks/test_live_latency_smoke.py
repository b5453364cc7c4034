"""`benchmarks/live_latency.py` at a smoke size on the test broker: every incident published to a
live-mode worker raises exactly its one finding, dated at its deadline. The latency figures are
measured on a quiet machine (benchmarks/RESULTS.md); here they are only reported, never asserted."""

from __future__ import annotations

import pytest

from benchmarks import live_latency

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_every_live_deadline_raises_its_finding(kafka_bootstrap):
    result = live_latency.measure(kafka_bootstrap, seconds=2, rate=5, progress_interval=0.5)
    print(live_latency.report(result))
    assert result["incidents"] == 10
    assert result["findings"] == 10, result.get("worker_log_tail", "")
    assert result["min_s"] >= live_latency.LATENESS_S  # never before the lateness has passed
