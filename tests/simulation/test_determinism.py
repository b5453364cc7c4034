from __future__ import annotations

from pathlib import Path

import pytest

from cdi.history import read_events
from cdi.simulation import SimulationOptions, simulate, write_simulation


def _write(tmp_path: Path, name: str, options: SimulationOptions, suffix: str) -> tuple[bytes, bytes]:
    history, truth = tmp_path / f"{name}-history{suffix}", tmp_path / f"{name}-truth{suffix}"
    write_simulation(simulate(options), history, truth)
    return history.read_bytes(), truth.read_bytes()


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_same_seed_gives_byte_identical_files(tmp_path: Path, suffix: str) -> None:
    options = SimulationOptions(days=3, seed=42)
    first = _write(tmp_path, "a", options, suffix)
    second = _write(tmp_path, "b", SimulationOptions(days=3, seed=42), suffix)
    assert first == second
    assert first[0] and first[1]


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_different_seed_gives_different_files(tmp_path: Path, suffix: str) -> None:
    one = _write(tmp_path, "a", SimulationOptions(days=3, seed=1), suffix)
    two = _write(tmp_path, "b", SimulationOptions(days=3, seed=2), suffix)
    assert one[0] != two[0]
    assert one[1] != two[1]


def test_written_files_hold_the_simulation(tmp_path: Path) -> None:
    sim = simulate(SimulationOptions(days=2, seed=3))
    history, truth = tmp_path / "h.jsonl.gz", tmp_path / "t.jsonl"
    write_simulation(sim, history, truth)
    assert list(read_events(history)) == sim.events
    assert list(read_events(truth)) == sim.truth
    assert history.read_bytes()[:2] == b"\x1f\x8b"


def test_global_random_state_is_neither_used_nor_disturbed() -> None:
    import random

    random.seed(0)
    before = random.random()
    random.seed(0)
    first = simulate(SimulationOptions(days=1, seed=9))
    after = random.random()
    random.seed(12345)
    second = simulate(SimulationOptions(days=1, seed=9))
    assert before == after
    assert first.events == second.events and first.truth == second.truth


def test_output_does_not_depend_on_hash_randomisation(tmp_path: Path) -> None:
    """Set or dict-of-str iteration order would differ between these processes."""
    import os
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from cdi.simulation import SimulationOptions, simulate, write_simulation\n"
        "write_simulation(simulate(SimulationOptions(days=1, seed=4)), sys.argv[1], sys.argv[2])\n"
    )
    outputs = []
    for hash_seed in ("1", "2"):
        history, truth = tmp_path / f"h{hash_seed}.jsonl", tmp_path / f"t{hash_seed}.jsonl"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", script, str(history), str(truth)], check=True, env=env)
        outputs.append((history.read_bytes(), truth.read_bytes()))
    assert outputs[0] == outputs[1]
