"""The ``cdi`` command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from cdi.settings import Settings, SettingsError

console = Console(stderr=True)
# Tables go to stdout; piped output (CI logs, files) gets room for the rule names.
tables = Console() if Console().is_terminal else Console(width=120)


def fail(message: str) -> None:
    console.print(f"[bold red]error:[/] {message}")
    raise SystemExit(2)


def settings_from_env() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        fail(str(exc))
        raise


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cdi-monitor")
def main() -> None:
    """CDI Monitor: finds unrecorded, late and wrongly resolved crimes as they happen."""


@main.command()
@click.option("--days", type=click.IntRange(1, 366), default=7, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="History file to write (.jsonl or .jsonl.gz).",
)
@click.option(
    "--truth",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Ground truth: the findings the rules must raise, one JSON line each.",
)
@click.option("--incidents-per-day", type=click.IntRange(1, 100_000), default=800, show_default=True)
@click.option(
    "--not-recorded-rate",
    type=click.FloatRange(0, 1),
    default=0.10,
    show_default=True,
    help="Share of crime-indicative incidents never recorded.",
)
@click.option(
    "--late-rate",
    type=click.FloatRange(0, 1),
    default=0.05,
    show_default=True,
    help="Share of crime-indicative incidents recorded after the 24 h limit.",
)
@click.option("--duplicate-rate", type=click.FloatRange(0, 0.5), default=0.01, show_default=True)
def simulate(
    days: int,
    seed: int,
    out: Path,
    truth: Path | None,
    incidents_per_day: int,
    not_recorded_rate: float,
    late_rate: float,
    duplicate_rate: float,
) -> None:
    """Write a synthetic force's event history, and the findings it must produce."""
    from cdi.simulation import SimulationOptions, write_simulation
    from cdi.simulation import simulate as run_simulation

    try:
        options = SimulationOptions(
            days=days,
            seed=seed,
            incidents_per_day=incidents_per_day,
            not_recorded_rate=not_recorded_rate,
            late_rate=late_rate,
            duplicate_rate=duplicate_rate,
        )
    except ValueError as exc:
        fail(f"{exc}; adjust the options (see `cdi simulate --help`)")
        raise
    with console.status(f"simulating {days} days (seed {seed})..."):
        sim = run_simulation(options)
        write_simulation(sim, out, truth)
    console.print(
        f"wrote {len(sim.events):,} events to {out}"
        + (f" and {len(sim.truth):,} expected findings to {truth}" if truth else "")
    )


@main.command()
@click.argument("history", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every finding.raised / finding.resolved here, in order (JSON lines).",
)
@click.option(
    "--rules",
    "rules_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Rules file (TOML); default: the packaged rules.",
)
@click.option(
    "--truth",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Compare with expected findings and print precision and recall per rule.",
)
@click.option(
    "--dead-letters",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write rejected lines here with their reason.",
)
def backtest(
    history: Path, out: Path | None, rules_path: Path | None, truth: Path | None, dead_letters: Path | None
) -> None:
    """Run the rules over a history file, offline, with no broker."""
    from cdi import backtest as offline
    from cdi.history import read_events, write_events
    from cdi.rules import RulesFileError

    try:
        with console.status("backtesting...") as status:
            result = offline.run(history, rules_path, progress=lambda n: status.update(f"backtesting... line {n:,}"))
    except RulesFileError as exc:
        fail(str(exc))
    records = [f.to_dict() for f in result.findings]
    if out:
        write_events(out, records)
    if dead_letters:
        write_events(
            dead_letters,
            [
                {"line": d.line, "reason": d.reason, "detail": d.detail, "raw": d.raw.decode("utf-8", "replace")}
                for d in result.dead_letters
            ],
        )
    total = sum(result.events.values())
    summary = Table(title=f"Backtest of {history.name}", show_header=True)
    summary.add_column("rule")
    summary.add_column("raised", justify="right")
    summary.add_column("resolved", justify="right")
    rules: dict[str, list[int]] = {}
    for f in result.findings:
        rules.setdefault(f.payload.rule, [0, 0])[0 if f.type == "finding.raised" else 1] += 1
    for rule, (raised, resolved) in sorted(rules.items()):
        summary.add_row(rule, f"{raised:,}", f"{resolved:,}")
    tables.print(summary)
    rate = total / result.seconds if result.seconds else 0.0
    console.print(
        f"{result.lines:,} lines: {total:,} events applied, {result.duplicates:,} duplicates dropped, "
        f"{len(result.dead_letters):,} dead-lettered {dict(result.rejected) or ''}; "
        f"decisions {dict(result.decisions)}; open cases at end {sum(result.open_cases.values()):,}; "
        f"{result.seconds:.2f} s ({rate:,.0f} events/s)"
    )
    if out:
        console.print(f"findings written to {out}")
    if truth:
        from cdi.scoring import differences, score

        expected = list(read_events(truth))
        scores = score(expected, records)
        table = Table(title="Against ground truth")
        for col in ("rule", "expected", "found", "matched", "precision", "recall"):
            table.add_column(col, justify="left" if col == "rule" else "right")
        for s in scores:
            table.add_row(
                s.rule, str(s.expected), str(s.found), str(s.matched), f"{s.precision:.3f}", f"{s.recall:.3f}"
            )
        tables.print(table)
        missing, unexpected = differences(expected, records)
        if missing or unexpected:
            for key in missing[:10]:
                console.print(f"  missing: {key}")
            for key in unexpected[:10]:
                console.print(f"  unexpected: {key}")
            raise SystemExit(1)


@main.command()
def topics() -> None:
    """Create the monitor's topics on CDI_KAFKA_BOOTSTRAP (where missing) and list them."""
    from cdi.topics import Topics, ensure_topics

    settings = settings_from_env()
    if not settings.bootstrap:
        fail("CDI_KAFKA_BOOTSTRAP is not set. Point it at the Kafka cluster (host:port).")
    try:
        counts = ensure_topics(settings)
    except RuntimeError as exc:
        fail(str(exc))
    names = Topics(settings.topic_prefix)
    for role, partitions in counts.items():
        console.print(f"{names.name(role)}: {partitions} partitions")


@main.command()
@click.argument("history", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--speed",
    default="max",
    show_default=True,
    help="Event-time seconds per wall second (1 = real time, 3600 = an hour a second), or max.",
)
def replay(history: Path, speed: str) -> None:
    """Publish a history file into the input topics of CDI_KAFKA_BOOTSTRAP, ending it with a
    history.ended marker so the workers close every deadline it covers."""
    from cdi.history import read_lines
    from cdi.publish import Published, publish
    from cdi.topics import ensure_topics

    settings = settings_from_env()
    if not settings.bootstrap:
        fail("CDI_KAFKA_BOOTSTRAP is not set. Point it at the Kafka cluster (host:port), or try `cdi demo`.")
    try:
        rate = None if speed == "max" else float(speed)
    except ValueError:
        fail(f"--speed {speed!r}: give a number of event-time seconds per wall second, or max")
        raise
    if rate is not None and rate <= 0:
        fail("--speed must be positive")
    ensure_topics(settings)
    with console.status("replaying...") as status:

        def progress(p: Published) -> None:
            status.update(
                f"replaying... {p.events:,} events ({p.events / max(p.seconds, 1e-9):,.0f}/s)"
                if p.seconds
                else f"replaying... {p.events:,} events"
            )

        result = publish(
            settings, (raw for _, raw in read_lines(history)), speed=rate, source="replay", progress=progress
        )
    console.print(
        f"published {result.events:,} events ({result.unroutable:,} unroutable, sent to be "
        f"dead-lettered) in {result.seconds:.1f} s to {settings.topic_prefix}*"
    )


@main.command()
def worker() -> None:
    """Run a stream processor (Faust worker) against CDI_KAFKA_BOOTSTRAP."""
    from cdi.stream.runner import run_worker

    settings = settings_from_env()
    if not settings.bootstrap:
        fail(
            "CDI_KAFKA_BOOTSTRAP is not set. Point it at a Kafka cluster (host:port), "
            "or run `cdi demo`, which starts an embedded broker."
        )
    run_worker(settings)


@main.command()
@click.option("--days", type=click.IntRange(1, 60), default=3, show_default=True, help="Simulated days to stream.")
@click.option(
    "--seconds", type=click.FloatRange(5, 3600), default=60, show_default=True, help="Wall time to stream them in."
)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--exit-after-feed", is_flag=True, help="Stop once every finding is in (for scripts and tests).")
def demo(days: int, seconds: float, seed: int, exit_after_feed: bool) -> None:
    """Stream a simulated force through a worker on an embedded broker (or CDI_KAFKA_BOOTSTRAP)."""
    from cdi.demo import run_demo

    sys.exit(run_demo(settings_from_env(), days=days, seconds=seconds, seed=seed, exit_after_feed=exit_after_feed))
