"""`python benchmarks/restore.py` at a smoke size: the cases written to one RocksDB partition come
back exactly (every one open, the other partition's left alone). The figure that counts (a
million cases) is measured on a quiet machine (benchmarks/RESULTS.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_restore_reads_back_exactly_one_partitions_cases():
    done = subprocess.run(
        [sys.executable, "benchmarks/restore.py", "--cases", "3000", "--other", "500"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "restored partition 0: 3,000 cases (3,000 open), agenda rebuilt" in done.stdout
    assert "none of partition 1's 500" in done.stdout
