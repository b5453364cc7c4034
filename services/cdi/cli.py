"""The ``cdi`` command line."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table

from cdi import exit_codes
from cdi.core.stage import CRIMES, INCIDENTS, OFFENDERS

# Imported where used: the settings (pydantic) and the topics (kafka) take longer to import than
# `cdi backtest` takes over a day's history, and the offline commands need neither.
if TYPE_CHECKING:
    from cdi.core.events import Event
    from cdi.settings import Settings
    from cdi.topics import TopicConfig

console = Console(stderr=True)
# Tables go to stdout; piped output (CI logs, files) gets room for the rule names.
tables = Console() if Console().is_terminal else Console(width=120)


def fail(message: str, code: int = exit_codes.USAGE) -> None:
    """One or two lines saying what is wrong and what to do, then exit with ``code``."""
    console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise SystemExit(code)


def warn_nothing(message: str) -> None:
    """The input, or the part selected, held no events where the user asked for a result."""
    console.print(f"[yellow]nothing to do:[/] {message}", highlight=False)
    raise SystemExit(exit_codes.NOTHING)


class OutputFile(click.Path):
    """A file a command writes: its folder must exist and be writable, found out before any work
    (not by a traceback at the end of an hour's backtest)."""

    def __init__(self) -> None:
        super().__init__(dir_okay=False, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import os

        path = Path(super().convert(value, param, ctx))
        folder = path.parent if str(path.parent) else Path(".")
        option = param.opts[0] if param is not None and param.opts else "output"
        if not folder.is_dir():
            fail(
                f"{option} {path}: the folder {folder} does not exist; create it or choose another path",
                exit_codes.CANNOT_WRITE,
            )
        if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
            fail(f"{option} {path}: not writable by this user; choose another path", exit_codes.CANNOT_WRITE)
        return path


def event_time(value: str | None, option: str) -> int | None:
    """--from/--to: a date (midnight UTC) or an RFC 3339 time; without an offset, UTC."""
    if value is None:
        return None
    from datetime import UTC, datetime

    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r}: give a date (2026-03-01) or a time (2026-03-01T08:00:00Z)")
        raise
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)


def selection_options(command):  # type: ignore[no-untyped-def]
    """--from, --to, --division and --type: which events of a history a command takes."""
    for option in reversed(
        [
            click.option("--from", "start", help="Only events at or after this event time (date or RFC 3339, UTC)."),
            click.option("--to", "end", help="Only events before this event time (date or RFC 3339, UTC)."),
            click.option("--division", "divisions", multiple=True, help="Only this division (repeatable)."),
            click.option(
                "--type", "types", multiple=True, help="Only this event type, e.g. crime.recorded (repeatable)."
            ),
        ]
    ):
        command = option(command)
    return command


def make_selection(start: str | None, end: str | None, divisions: tuple[str, ...], types: tuple[str, ...]):  # type: ignore[no-untyped-def]
    from cdi.core.topology import TOPIC_FOR_TYPE
    from cdi.sources.selection import Selection

    unknown = sorted(set(types) - set(TOPIC_FOR_TYPE))
    if unknown:
        fail(f"--type {', '.join(unknown)}: not an input event type; use one of {', '.join(TOPIC_FOR_TYPE)}")
    selection = Selection(event_time(start, "--from"), event_time(end, "--to"), frozenset(divisions), frozenset(types))
    if selection.start_ms is not None and selection.end_ms is not None and selection.end_ms <= selection.start_ms:
        fail("--to must be after --from")
    return selection


def open_sources(paths: tuple[Path, ...]):  # type: ignore[no-untyped-def]
    from cdi.sources import SourceError, open_history

    try:
        history = open_history(paths)
    except SourceError as exc:
        fail(
            f"{exc}. History commands read JSON-lines histories (.jsonl, .jsonl.gz) and police.uk CSV exports.",
            exit_codes.UNREADABLE_INPUT,
        )
        raise
    for note in history.notes:
        console.print(f"[yellow]{history.kind}:[/] {note}")
    return history


def settings_from_env() -> Settings:
    from cdi.settings import Settings, SettingsError

    try:
        return Settings.from_env()
    except SettingsError as exc:
        fail(str(exc), exit_codes.CONFIG)
        raise


def require_bootstrap(settings: Settings, hint: str = "or run `cdi demo`, which starts an embedded broker") -> str:
    if not settings.bootstrap:
        fail(f"CDI_KAFKA_BOOTSTRAP is not set. Point it at the Kafka cluster (host:port), {hint}.", exit_codes.CONFIG)
    assert settings.bootstrap
    return settings.bootstrap


def reach_broker(settings: Settings) -> None:
    """Fail within seconds, with a spinner meanwhile, when no bootstrap address answers."""
    from cdi.broker_reach import check_answers, check_reachable

    bootstrap = require_bootstrap(settings)
    with console.status(f"connecting to Kafka at {bootstrap}...") as status:
        check_reachable(
            bootstrap,
            timeout=settings.connect_timeout,
            waiting=lambda left: status.update(f"connecting to Kafka at {bootstrap}... ({left:.0f} s left)"),
        )
        status.update(f"asking Kafka at {bootstrap} for the cluster's metadata...")
        # A live broker on a busy machine may take a few seconds to bootstrap a client: twice the time.
        check_answers(bootstrap, settings.security, timeout=2 * settings.connect_timeout)


EXIT_CODES_HELP = "\b\nExit codes:\n" + "\n".join(
    f"  {code:>3}  {meaning}" for code, meaning in exit_codes.MEANINGS.items()
)


class Commands(click.Group):
    """Ctrl-C ends any command with exit code 130 and a line saying what to do, not click's bare
    "Aborted!" and exit 1 (a replay interrupted while publishing says how far it got itself); a
    history file found damaged part-way ends it with the file's name and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        from cdi.broker_reach import BrokerUnreachable
        from cdi.history import HistoryFileError

        try:
            return super().invoke(ctx)
        except HistoryFileError as exc:  # found while reading on (a replay's second pass, say)
            fail(str(exc), exit_codes.UNREADABLE_INPUT)
        except BrokerUnreachable as exc:
            fail(str(exc), exit_codes.UNAVAILABLE)
        except KeyboardInterrupt:
            console.print(
                f"[yellow]interrupted[/] (Ctrl-C): `cdi {ctx.invoked_subcommand or ''}` stopped before it "
                "finished. Run the same command again to finish; a replay drops events already applied."
            )
            raise SystemExit(exit_codes.INTERRUPTED) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            if isinstance(exc, config_errors()):
                fail(str(exc), exit_codes.CONFIG)
            if ctx.meta.get("cdi.debug"):
                raise
            # The type and the place, not the message: an internal error's text may quote a record.
            where = _origin(exc)
            fail(
                f"internal error ({type(exc).__name__}{where}). Run again with --debug (or CDI_DEBUG=1) "
                "for the traceback, and report it with the command you ran.",
                exit_codes.INTERNAL,
            )


def config_errors() -> tuple[type[Exception], ...]:
    """What a bad setting or rules file raises. Imported only once a command has failed: one that
    never loaded these modules cannot have raised their errors, and the offline commands never do."""
    from cdi.kafka_security import KafkaSecurityError
    from cdi.rules import RulesFileError
    from cdi.settings import SettingsError

    return (SettingsError, RulesFileError, KafkaSecurityError)


def _origin(exc: BaseException) -> str:
    """`` in module:line`` of the innermost frame of the monitor's own code, if any."""
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/cdi/" in f.filename.replace("\\", "/")]
    if not frames:
        return ""
    last = frames[-1]
    module = last.filename.replace("\\", "/").rsplit("/cdi/", 1)[1].removesuffix(".py").replace("/", ".")
    return f" in cdi.{module}:{last.lineno}"


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_CODES_HELP)
@click.version_option(package_name="cdi-monitor")
@click.option(
    "--debug",
    is_flag=True,
    envvar="CDI_DEBUG",
    show_envvar=True,
    help="Show the traceback of an internal error instead of one line.",
)
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """CDI Monitor: finds unrecorded, late and wrongly resolved crimes as they happen."""
    ctx.meta["cdi.debug"] = debug


@main.command()
@click.option("--days", type=click.IntRange(1, 366), default=7, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--out",
    "out",
    type=OutputFile(),
    required=True,
    help="History file to write (.jsonl or .jsonl.gz).",
)
@click.option(
    "--truth",
    type=OutputFile(),
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
@click.option(
    "--audit-truth",
    type=OutputFile(),
    help="What a careful reviewer would find, independently of the rules: one JSON line per incident, "
    "finding and out-of-court disposal.",
)
@click.option(
    "--narrative-crime-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Hidden: share of non-crime incidents whose narrative alone discloses a crime (most never recorded).",
)
@click.option(
    "--unlinked-record-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Hidden: share of crime-indicative incidents recorded in time whose records carry no incident link.",
)
@click.option(
    "--wrong-rationale-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Hidden: share of crime-indicative incidents that would be recorded in time, closed as non-crime "
    "with a rationale instead.",
)
@click.option(
    "--mistyped-code-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Hidden: share of incidents opened under a crime code that are coded non-crime by mistake.",
)
@click.option(
    "--late-code-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Hidden: share of late-recorded incidents whose crime code is entered only after the deadline.",
)
def simulate(
    days: int,
    seed: int,
    out: Path,
    truth: Path | None,
    incidents_per_day: int,
    not_recorded_rate: float,
    late_rate: float,
    duplicate_rate: float,
    audit_truth: Path | None,
    narrative_crime_rate: float,
    unlinked_record_rate: float,
    wrong_rationale_rate: float,
    mistyped_code_rate: float,
    late_code_rate: float,
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
            narrative_crime_rate=narrative_crime_rate,
            unlinked_record_rate=unlinked_record_rate,
            wrong_rationale_rate=wrong_rationale_rate,
            mistyped_code_rate=mistyped_code_rate,
            late_code_rate=late_code_rate,
        )
    except ValueError as exc:
        fail(f"{exc}; adjust the options (see `cdi simulate --help`)")
        raise
    with console.status(f"simulating {days} days (seed {seed})..."):
        sim = run_simulation(options)
        write_simulation(sim, out, truth, audit_truth)
    console.print(
        f"wrote {len(sim.events):,} events to {out}"
        + (f" and {len(sim.truth):,} expected findings to {truth}" if truth else "")
        + (f" and {len(sim.audit_truth):,} audit units to {audit_truth}" if audit_truth else "")
    )


@main.command()
@click.argument("history", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=OutputFile(),
    help="Write every finding.raised / finding.resolved here, in order (JSON lines).",
)
@click.option(
    "--rules",
    "rules_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="CDI_RULES",
    help="Rules file (TOML); default: CDI_RULES, as the worker reads it, else the packaged rules.",
)
@click.option(
    "--truth",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Compare with expected findings and print precision and recall per rule.",
)
@click.option(
    "--dead-letters",
    type=OutputFile(),
    help="Write rejected lines here with their reason.",
)
@click.option(
    "--compare-rules",
    "compare_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A changed rules file: print what it adds and removes against --rules (or the packaged rules).",
)
@click.option(
    "--diff-out",
    type=OutputFile(),
    help="With --compare-rules: write every added, removed and changed finding here (JSON lines).",
)
@selection_options
def backtest(
    history: tuple[Path, ...],
    out: Path | None,
    rules_path: Path | None,
    truth: Path | None,
    dead_letters: Path | None,
    compare_path: Path | None,
    diff_out: Path | None,
    start: str | None,
    end: str | None,
    divisions: tuple[str, ...],
    types: tuple[str, ...],
) -> None:
    """Run the rules over a history, offline, with no broker.

    HISTORY is one or more files of one kind: JSON-lines histories (.jsonl, .jsonl.gz) or a
    police.uk street/outcomes CSV export, recognised from their content."""
    from cdi import backtest as offline
    from cdi.history import read_events, write_events

    source = open_sources(history)
    selection = make_selection(start, end, divisions, types)
    if compare_path is not None:
        compare_rules(source, selection, rules_path, compare_path, diff_out)
        return
    # A bad rules file or a damaged history ends the command through Commands (exit 78 or 65).
    with console.status("backtesting...") as status:
        result = offline.run(
            source,
            rules_path,
            progress=lambda n: status.update(f"backtesting... line {n:,}"),
            selection=selection,
        )
    if not sum(result.events.values()):
        warn_nothing(nothing_applied(source.name, result.lines, result.refused_lines, selection))
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
    tables.print(findings_table(f"Backtest of {source.name}", result.findings))
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


def nothing_applied(name: str, lines: int, rejected: int, selection) -> str:  # type: ignore[no-untyped-def]
    """Why a run over a history applied no event, and what to try."""
    if lines and rejected == lines:
        return f"all {lines:,} lines of {name} were rejected (write them out with --dead-letters to see why)"
    if selection.everything:
        return f"{name} holds no events; check that it is the history you meant"
    return f"no event of {name} matched the selection ({selection.describe()}); widen --from/--to, --division or --type"


def findings_table(title: str, findings: Sequence[Event]) -> Table:
    """Findings raised per rule, breaches apart from those for review (never summed together:
    docs/rules.md, "Breach or review"), and resolutions."""
    from cdi.core.findings import BREACH, REVIEW

    columns = (BREACH, REVIEW, "resolved")
    rules: dict[str, Counter[str]] = {}
    for f in findings:
        column = "resolved"
        if f.type == "finding.raised":  # a resolution carries no assessment
            column = REVIEW if f.payload.assessment == REVIEW else BREACH
        rules.setdefault(f.payload.rule, Counter())[column] += 1
    table = Table(title=title, show_header=True)
    table.add_column("rule")
    for header in ("breaches", "for review", "resolved"):
        table.add_column(header, justify="right")
    for rule, counts in sorted(rules.items()):
        table.add_row(rule, *(f"{counts[c]:,}" for c in columns))
    table.add_section()
    every = sum(rules.values(), Counter())
    table.add_row("all rules", *(f"{every[c]:,}" for c in columns))
    return table


def compare_rules(source, selection, rules_a: Path | None, rules_b: Path, diff_out: Path | None) -> None:  # type: ignore[no-untyped-def]
    from cdi import rule_change

    with console.status("comparing rules...") as status:
        change = rule_change.compare(
            source,
            rules_a,
            rules_b,
            progress=lambda which, n: status.update(f"backtesting with rules {which}... line {n:,}"),
            selection=selection,
        )
    rule_change.render(change, tables)
    if diff_out:
        written = rule_change.write_diff(change, diff_out)
        console.print(f"{written:,} changed findings written to {diff_out}")


@main.command()
def topics() -> None:
    """Create the monitor's topics on CDI_KAFKA_BOOTSTRAP (where missing, with their role's
    retention: README "Topics") and list them with their partitions and retention configs. Existing
    topics are not altered; where one differs from its role's configs, the difference is shown."""
    from kafka.errors import KafkaError

    from cdi.topics import Topics, describe_topic_configs, ensure_topics, topic_configs

    settings = settings_from_env()
    reach_broker(settings)
    counts = ensure_topics(settings)
    configs: dict[str, dict[str, TopicConfig]] = {}
    try:
        configs = describe_topic_configs(settings)
    except (KafkaError, RuntimeError) as exc:  # some Kafka-compatible brokers (the demo's) cannot describe them
        console.print(f"[yellow]the broker did not report the topics' configs ({exc})[/]")
    names = Topics(settings.topic_prefix)
    for role, partitions in counts.items():
        held = configs.get(role, {})
        line = f"{names.name(role)}: {partitions} partitions"
        if held:
            line += f", {configs_text(held)}"
        # soft_wrap: one line per topic whatever the terminal's width, for grep.
        console.print(line, soft_wrap=True)
        differs = {key: value for key, value in topic_configs(role).items() if key in held and held[key].value != value}
        if differs:
            wanted = ", ".join(f"{key}={value}" for key, value in differs.items())
            console.print(
                f"  [yellow]differs from its role's configs ({wanted}): the topic existed and was not altered; "
                "change it with kafka-configs.sh --alter if intended[/]",
                soft_wrap=True,
            )


def configs_text(held: dict[str, TopicConfig]) -> str:
    """The retention in words, then the configs set on the topic and those it inherits from the
    broker: ``kept 30 days (retention.ms=...; cluster defaults: ...)``."""
    from cdi.topics import DAY_MS, KEEP_FOREVER, SHOWN_CONFIGS

    retention = held.get("retention.ms")
    if retention is None or retention.value is None:
        kept = "retention unknown"
    elif retention.value == KEEP_FOREVER:
        kept = "kept forever"
    elif int(retention.value) % DAY_MS == 0:
        days = int(retention.value) // DAY_MS
        kept = f"kept {days:,} day{'s' if days != 1 else ''}"
    else:
        kept = f"kept {int(retention.value) / 3_600_000:g} hours"
    own = [f"{key}={held[key].value}" for key in SHOWN_CONFIGS if key in held and held[key].on_topic]
    inherited = [f"{key}={held[key].value}" for key in SHOWN_CONFIGS if key in held and not held[key].on_topic]
    parts = [", ".join(own)] if own else []
    if inherited:
        parts.append("cluster defaults: " + ", ".join(inherited))
    return f"{kept} ({'; '.join(parts)})"


def namespace_settings(namespace: str | None) -> Settings:
    """Settings from the environment, moved into ``namespace`` when one is given."""
    from cdi.settings import SettingsError, namespace_prefix

    settings = settings_from_env()
    require_bootstrap(settings)
    if namespace is not None:
        try:
            settings = settings.with_(namespace=namespace, topic_prefix=namespace_prefix(namespace))
        except SettingsError as exc:
            fail(f"--namespace {exc}")
    return settings


def progress_bar():  # type: ignore[no-untyped-def]
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


@main.command()
@click.argument("history", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--from-topic",
    "from_topics",
    multiple=True,
    help="Read the history from this Kafka topic instead of files (repeatable; e.g. cdi.incidents).",
)
@click.option(
    "--speed",
    default="max",
    show_default=True,
    help="Event-time seconds per wall second (1 = real time, 100 = 100 times faster), or max.",
)
@click.option(
    "--namespace",
    help="Replay into this namespace's own topics (cdi.<namespace>.*), beside live traffic; "
    "run its worker with CDI_NAMESPACE=<namespace> cdi worker.",
)
@selection_options
def replay(
    history: tuple[Path, ...],
    from_topics: tuple[str, ...],
    speed: str,
    namespace: str | None,
    start: str | None,
    end: str | None,
    divisions: tuple[str, ...],
    types: tuple[str, ...],
) -> None:
    """Publish a history into the input topics, keeping each event's key and event time, and end
    it with history.ended markers so the workers close every deadline it covers.

    HISTORY is one or more files of one kind (JSON-lines histories or a police.uk export),
    or use --from-topic to replay a range of live topics. Re-running the same replay adds no
    findings: the workers drop events they have already applied."""
    from cdi.publish import publish

    settings = namespace_settings(namespace)
    try:
        rate = None if speed == "max" else float(speed)
    except ValueError:
        fail(f"--speed {speed!r}: give a number of event-time seconds per wall second, or max")
        raise
    if rate is not None and rate <= 0:
        fail("--speed must be positive")
    selection = make_selection(start, end, divisions, types)
    if bool(history) == bool(from_topics):
        fail("give either history files or --from-topic, not both and not neither")
    if namespace is not None and from_topics and any(t.startswith(settings.topic_prefix) for t in from_topics):
        fail(f"--from-topic reads from the namespace {namespace!r} itself; replay into another namespace")
    lines, total, name = replay_lines(settings, history, from_topics, selection)
    if not total:
        warn_nothing(
            f"{name} holds no event to replay ({selection.describe()}); widen the selection or check the input"
        )
    if history:  # --from-topic reached the broker already
        reach_broker(settings)
    create_topics(settings)
    with progress_bar() as bar:
        task = bar.add_task(f"replaying {name}", total=total, rate="")

        def progress(p) -> None:  # type: ignore[no-untyped-def]
            rate_text = f"{p.lines / p.seconds:,.0f} events/s" if p.seconds else ""
            bar.update(task, completed=p.lines, rate=rate_text)

        result = publish(settings, lines, speed=rate, source=namespace or "replay", progress=progress)
    where = f"namespace {settings.namespace!r} ({settings.topic_prefix}*)"
    if result.interrupted:
        from cdi.core.times import format_time

        reached = format_time(result.last_event_ms) if result.last_event_ms is not None else "no event"
        console.print(
            f"[yellow]stopped[/] after {result.lines:,} of {total:,} events (event time reached: {reached}) "
            f"into {where}; no end marker was sent, so deadlines after that point stay open. Run the same "
            "command again to finish: events already applied are dropped as duplicates."
        )
        raise SystemExit(130)
    console.print(
        f"published {result.events:,} events ({result.unroutable:,} unroutable, sent to be "
        f"dead-lettered) in {result.seconds:.1f} s to {where}"
    )


def replay_lines(settings: Settings, history: tuple[Path, ...], from_topics: tuple[str, ...], selection):  # type: ignore[no-untyped-def]
    """The raw lines a replay publishes, how many, and a name for the progress bar."""
    if history:
        source = open_sources(history)
        if source.kind == "findings":
            fail(f"{source.name} holds findings, not events: replay the history they came from")
        # Two passes over the files rather than a list in memory: a year of history stays on disk.
        with console.status(f"counting the events of {source.name}..."):
            total = sum(1 for _ in selection.apply(source.lines()))
        return (raw for _, raw in selection.apply(source.lines())), total, source.name
    reach_broker(settings)
    lines = read_topics(settings, from_topics, selection)
    return lines, len(lines), ", ".join(from_topics)


def read_topics(settings: Settings, names: tuple[str, ...], selection) -> list[bytes]:  # type: ignore[no-untyped-def]
    from cdi.kafka_security import KafkaSecurityError
    from cdi.sources.topic_range import TopicRangeError, read_range

    assert settings.bootstrap
    with progress_bar() as bar:
        task = bar.add_task(f"reading {', '.join(names)}", total=None, rate="")
        try:
            lines = read_range(
                settings.bootstrap,
                names,
                selection,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                security=settings.security,
            )
        except TopicRangeError as exc:
            fail(str(exc), exit_codes.UNAVAILABLE)
            raise
        except KafkaSecurityError as exc:
            fail(str(exc), exit_codes.CONFIG)
            raise
    console.print(f"read {len(lines):,} records ({selection.describe()}) from {', '.join(names)}")
    return lines


def create_topics(settings: Settings) -> None:
    from cdi.topics import ensure_topics

    try:
        ensure_topics(settings)
    except RuntimeError as exc:  # refused, or the topics did not appear in time
        fail(str(exc), exit_codes.UNAVAILABLE)


@main.command()
@click.option(
    "--topic",
    "roles",
    multiple=True,
    help="Topic to export, by role (incidents, crimes, outcomes, offender-history, findings, dead-letters) "
    "or full name; repeatable. Default: the four input topics.",
)
@click.option("--namespace", help="Export from this replay namespace's topics instead of live ones.")
@click.option("--out", type=OutputFile(), required=True, help="History to write (.jsonl.gz).")
@selection_options
def export(
    roles: tuple[str, ...],
    namespace: str | None,
    out: Path,
    start: str | None,
    end: str | None,
    divisions: tuple[str, ...],
    types: tuple[str, ...],
) -> None:
    """Write a range of topics back to a history file, in event-time order, for backtests,
    reports and replays."""
    from cdi.history import write_events
    from cdi.topics import INPUT_ROLES, Topics

    settings = namespace_settings(namespace)
    names = Topics(settings.topic_prefix)
    known = set(names.all_roles())
    topics = tuple(names.name(r) if r in known else r for r in (roles or INPUT_ROLES))
    selection = make_selection(start, end, divisions, types)
    reach_broker(settings)
    lines = read_topics(settings, topics, selection)
    if not lines:
        warn_nothing(f"{', '.join(topics)} hold no record ({selection.describe()}); {out} was not written")
    written = write_events(out, lines)
    console.print(f"wrote {written:,} records to {out}")


@main.command()
@click.argument("history", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=OutputFile(), required=True, help="HTML report to write.")
@click.option(
    "--rules",
    "rules_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="CDI_RULES",
    help="Rules file (TOML) for a history; default: CDI_RULES, as the worker reads it, else the packaged rules.",
)
@click.option("--title", default="Crime data integrity report", show_default=True)
@click.option(
    "--verdicts",
    "verdict_paths",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="audit.verdict events (repeatable): add the audit's estimates, as `cdi audit estimate` makes them.",
)
@click.option(
    "--sample",
    "sample_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="With --verdicts: the sample they are on (its design and period are used).",
)
@selection_options
def report(
    history: tuple[Path, ...],
    out: Path,
    rules_path: Path | None,
    title: str,
    verdict_paths: tuple[Path, ...],
    sample_path: Path | None,
    start: str | None,
    end: str | None,
    divisions: tuple[str, ...],
    types: tuple[str, ...],
) -> None:
    """Write a self-contained HTML report for an audit team: recording compliance with 95%
    intervals, the within-24-hours rate, findings by rule, the outcome mix, and every finding
    with its evidence; with --verdicts, the audit of a reviewed sample too.

    HISTORY is a history (JSON lines or a police.uk export: the rules run over it offline) or
    a findings file (then the report has the findings only)."""
    from cdi import backtest as offline
    from cdi.history import read_events
    from cdi.report import write_report
    from cdi.sources import FINDINGS

    source = open_sources(history)
    selection = make_selection(start, end, divisions, types)
    sources = [str(p) for p in history]
    if sample_path is not None and not verdict_paths:
        fail("--sample: give the verdicts on it with --verdicts")
    if verdict_paths and source.kind == FINDINGS:
        fail("--verdicts: the audit needs the history the sample was drawn from, not a findings file")
    audit_result = None
    if verdict_paths:
        # The same estimates as `cdi audit estimate`: the sample's period, or the report's --from/--to.
        audit_result, *_ = estimate_from_verdicts(
            history,
            verdict_paths,
            sample_path,
            rules_path,
            None if sample_path is not None else start,
            None if sample_path is not None else end,
            divisions,
        )
    if source.kind == FINDINGS:
        import dataclasses

        # --type names input events; a findings file is selected by time and division only.
        by_time = dataclasses.replace(selection, types=frozenset())
        findings = [r for p in source.paths for r in read_events(p) if by_time.takes_record(r)]
        if not findings:
            warn_nothing(f"{source.name} holds no finding ({by_time.describe()}); {out} was not written")
        summary = write_report(out, findings, None, title=title, sources=sources)
    else:
        with console.status("running the rules...") as status:
            result = offline.run(
                source,
                rules_path,
                progress=lambda n: status.update(f"running the rules... line {n:,}"),
                keep_observations=True,
                selection=selection,
            )
        if not sum(result.events.values()):
            warn_nothing(
                nothing_applied(source.name, result.lines, result.refused_lines, selection) + f"; {out} was not written"
            )
        from cdi import rules as rules_files

        version = rules_files.load(rules_path).version
        summary = write_report(
            out,
            [f.to_dict() for f in result.findings],
            result.observations,
            title=title,
            sources=sources,
            rules_version=version,
            audit=audit_result,
        )
    overall = summary.compliance_overall
    compliance = f"; recording compliance {overall.share:.1%}" if overall is not None else ""
    accuracy = audit_result.recording_accuracy.estimate if audit_result is not None else None
    audited = f"; audited recording accuracy {accuracy:.1%}" if accuracy is not None else ""
    console.print(
        f"report written to {out}: {summary.findings_raised:,} breaches and "
        f"{summary.reviews_raised:,} findings for review raised{compliance}{audited}"
    )


def settings_epilog() -> str:
    """Every CDI_* variable with its default, for --help (cdi.environment declares them)."""
    from cdi.environment import listing

    rows = [f"  {name} (default {default}): {meaning}" for name, default, meaning in listing()]
    return "\b\nSettings (environment variables; `cdi config` shows the effective values):\n" + "\n".join(rows)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object: variable -> {value, source}.")
def config(as_json: bool) -> None:
    """Print the effective configuration: every CDI_* setting the commands use, its value and
    whether it came from the environment or is the default. Secrets (passwords, keys, tokens)
    show as ****; a database URL without its password. Invalid settings fail as they would for
    `cdi worker` (exit 78)."""
    import orjson

    from cdi.effective_config import described, effective

    settings_from_env()  # the same validation every command applies
    rows = effective()
    if as_json:
        click.echo(orjson.dumps({r.variable: {"value": r.value, "source": r.source} for r in rows}).decode())
        return
    meanings = described()
    table = Table(title="CDI Monitor configuration")
    for column in ("variable", "value", "source", "meaning"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(row.variable, row.value, row.source, meanings.get(row.variable, ""))
    tables.print(table)


class WithSettingsEpilog(click.Command):
    """A command whose --help ends with every CDI_* variable, listed only when help is shown:
    cdi.environment imports pydantic, which every other command would pay for at start-up."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.epilog = settings_epilog()
        super().format_epilog(ctx, formatter)


@main.command(cls=WithSettingsEpilog)
def worker() -> None:
    """Run a stream processor (Faust worker) against CDI_KAFKA_BOOTSTRAP.

    Everything it is told is checked before it connects: the settings (`cdi config` shows them),
    the rules file, the metrics port; then the broker must answer within CDI_CONNECT_TIMEOUT."""
    from cdi import rules
    from cdi.broker_reach import BrokerUnreachable
    from cdi.kafka_security import KafkaSecurityError
    from cdi.stream.http import port_free
    from cdi.stream.runner import run_worker

    settings = settings_from_env()
    require_bootstrap(settings)
    rules.load(settings.rules_path)  # a bad file ends here (exit 78), naming what to fix
    problem = port_free(settings.metrics_host, settings.metrics_port)
    if problem:
        fail(
            f"CDI_METRICS_HOST:CDI_METRICS_PORT {settings.metrics_host}:{settings.metrics_port} {problem}; "
            "set CDI_METRICS_PORT to a free port, or stop what holds it",
            exit_codes.CONFIG,
        )
    reach_broker(settings)
    try:
        run_worker(settings)
    except KafkaSecurityError as exc:
        fail(str(exc), exit_codes.CONFIG)
    except (BrokerUnreachable, RuntimeError) as exc:  # the broker stopped answering, or topics never appeared
        fail(str(exc), exit_codes.UNAVAILABLE)


@main.command()
def serve() -> None:
    """Run the case workbench (web page and JSON API) for CDI_NAMESPACE's findings."""
    from cdi import log_format
    from cdi.settings import SettingsError
    from cdi.topics import ensure_topics
    from cdi.workbench.config import WorkbenchSettings
    from cdi.workbench.service import serve as run_service

    settings = settings_from_env()
    require_bootstrap(settings, "the cluster the worker uses, or run `cdi demo`")
    try:
        workbench = WorkbenchSettings.from_env(settings)
    except SettingsError as exc:
        fail(str(exc), exit_codes.CONFIG)
        raise
    reach_broker(settings)
    log_format.configure(settings.log_level, settings.log_format)
    try:
        ensure_topics(settings)  # the case-actions topic may be new to an older deployment
        run_service(workbench)
    except RuntimeError as exc:
        fail(str(exc), exit_codes.UNAVAILABLE)
    except Exception as exc:
        # A database that refuses (wrong URL, password, unreachable): say which, without the password.
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, SQLAlchemyError):
            fail(
                f"the cases database refused ({type(exc).__name__}); check CDI_CASES_DATABASE_URL",
                exit_codes.UNAVAILABLE,
            )
        raise


@main.command("serve-token")
@click.option("--staff", required=True, help="Pseudonymous staff reference or team, e.g. S-1042 (never a name).")
@click.option("--role", type=click.Choice(["viewer", "operator", "registrar"]), required=True)
def serve_token(staff: str, role: str) -> None:
    """Make a workbench sign-in token: prints the token once (give it to the person) and the
    entry for CDI_WORKBENCH_TOKENS_FILE (only its SHA-256)."""
    from cdi.workbench.access import STAFF, digest, new_token

    if not STAFF.fullmatch(staff):
        fail("--staff: letters, digits, '.', '_' or '-' (a pseudonymous reference, not a name)")
    token = new_token()
    console.print(f"token for {staff} ({role}), shown once: [bold]{token}[/]")
    click.echo(f'[[tokens]]\nstaff = "{staff}"\nrole = "{role}"\nsha256 = "{digest(token)}"')


@main.command("reset-clock")
@click.option(
    "--stage", "stages", multiple=True, type=click.Choice([INCIDENTS, CRIMES, OFFENDERS]), help="(repeatable)"
)
@click.option("--partition", "partitions", multiple=True, type=click.IntRange(0), help="(repeatable)")
@click.option("--namespace", help="A replay namespace instead of CDI_NAMESPACE.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def reset_clock(stages: tuple[str, ...], partitions: tuple[int, ...], namespace: str | None, yes: bool) -> None:
    """Clear the saved event-time clock of stage partitions (all by default).

    Stop every worker of the namespace first. The workers then relearn each clock from their
    inputs' progress; deadlines fire again once every input has moved on."""
    from cdi.clock_reset import reset_clocks
    from cdi.settings import SettingsError, namespace_prefix

    settings = settings_from_env()
    if namespace:
        try:
            settings = settings.with_(namespace=namespace, topic_prefix=namespace_prefix(namespace))
        except SettingsError as exc:
            fail(f"--namespace {exc}")
    require_bootstrap(settings, "the cluster the workers use")
    reach_broker(settings)
    which = f"stages {', '.join(stages) or 'all'}, partitions {', '.join(map(str, partitions)) or 'all'}"
    if not yes and not click.confirm(
        f"Reset the saved clocks of pipeline {settings.namespace!r} ({which})? Every worker must be stopped."
    ):
        raise SystemExit(1)
    try:
        done = reset_clocks(settings, stages, partitions)
    except LookupError as exc:
        fail(f"{exc}. Check CDI_NAMESPACE/--namespace and CDI_KAFKA_BOOTSTRAP.", exit_codes.CONFIG)
        raise
    for reset in done:
        console.print(f"cleared the {reset.stage} stage's clock for partition {reset.partition} ({reset.changelog})")
    console.print(f"{len(done)} clock(s) cleared; start the workers again.")


@main.command()
@click.option("--days", type=click.IntRange(1, 60), default=3, show_default=True, help="Simulated days to stream.")
@click.option(
    "--seconds", type=click.FloatRange(5, 3600), default=60, show_default=True, help="Wall time to stream them in."
)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--exit-after-feed", is_flag=True, help="Stop once every finding is in (for scripts and tests).")
@click.option(
    "--status-file",
    type=OutputFile(),
    help='Once everything is up, write {"workbench": URL, "token": TOKEN, "metrics": URL} here (removed on exit).',
)
def demo(days: int, seconds: float, seed: int, exit_after_feed: bool, status_file: Path | None) -> None:
    """Stream a simulated force through a worker on an embedded broker (or CDI_KAFKA_BOOTSTRAP),
    with the case workbench (cdi serve) beside it."""
    from cdi.demo import run_demo

    settings = settings_from_env()
    if settings.bootstrap:
        reach_broker(settings)
    sys.exit(
        run_demo(
            settings,
            days=days,
            seconds=seconds,
            seed=seed,
            exit_after_feed=exit_after_feed,
            status_file=status_file,
        )
    )


# -- the offline audit (issue 12; docs/audit.md) ---------------------------------------------------


@main.group()
def audit() -> None:
    """The offline audit: draw a random sample of a period's records for auditors to read,
    record their verdicts, and estimate what inspectors measure (recording accuracy, unrecorded
    crimes, each rule's precision, the monitor's blind-spot rate), each with a 95% interval.
    See docs/audit.md."""


def audit_period_options(command):  # type: ignore[no-untyped-def]
    """--from, --to and --division: the period and divisions whose units are audited."""
    for option in reversed(
        [
            click.option(
                "--from", "start", help="Units at or after this time (date or RFC 3339, UTC): incidents by report."
            ),
            click.option("--to", "end", help="Units before this time (date or RFC 3339, UTC)."),
            click.option("--division", "divisions", multiple=True, help="Only this division (repeatable)."),
            click.option(
                "--rules",
                "rules_path",
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
                envvar="CDI_RULES",
                help="Rules file (TOML); default: CDI_RULES, else the packaged rules.",
            ),
        ]
    ):
        command = option(command)
    return command


def audit_population(source, rules_path: Path | None, start: int | None, end: int | None, divisions: tuple[str, ...]):  # type: ignore[no-untyped-def]
    """The population of ``source``: history files (open_sources) or a namespace's input topics
    (namespace_history)."""
    from cdi.audit import population

    if start is not None and end is not None and end <= start:
        fail("--to must be after --from")
    with console.status("running the rules over the history...") as status:
        found = population.build(
            source,
            rules_path,
            start=start,
            end=end,
            divisions=divisions,
            progress=lambda n: status.update(f"running the rules over the history... line {n:,}"),
        )
    if not found.units:
        if not found.events:
            warn_nothing(f"{source.name} holds no events the monitor reads ({found.dead_letters:,} dead letters)")
        warn_nothing(
            f"{source.name} holds no incident, finding or disposal from {found.describe()}"
            + (f" in {', '.join(divisions)}" if divisions else "")
            + " (by default the period ends one recording deadline before the history's last event; "
            "choose it with --from and --to)"
        )
    return found


def audit_settings(namespace: str) -> Settings:
    """The namespace's settings from the environment, its broker found answering (or exit 69)."""
    settings = namespace_settings(namespace)
    reach_broker(settings)
    return settings


def read_from_namespace(settings: Settings, what: str, read):  # type: ignore[no-untyped-def]
    """``read(progress)`` of a namespace's topics, with the progress bar `cdi export` shows."""
    from cdi.sources.topic_range import TopicRangeError

    with progress_bar() as bar:
        task = bar.add_task(f"reading {what}", total=None, rate="")
        try:
            return read(lambda done, total: bar.update(task, completed=done, total=total))
        except TopicRangeError as exc:
            fail(f"{exc}; check --namespace {settings.namespace}", exit_codes.UNAVAILABLE)
            raise


def namespace_history(settings: Settings):  # type: ignore[no-untyped-def]
    """The namespace's input topics, start to end, as a history in event-time order."""
    from cdi.audit import namespace

    found = read_from_namespace(
        settings, f"the input topics of {settings.namespace}", lambda p: namespace.read_history(settings, p)
    )
    console.print(f"read {len(found.records):,} records from {', '.join(found.topics)}")
    return found


def namespace_audit(settings: Settings):  # type: ignore[no-untyped-def]
    """The audit samples and verdicts on the namespace's case-actions topic; a record its
    contract refuses is counted and said, not fatal."""
    from cdi.audit import namespace

    topic = namespace.case_actions_topic(settings)
    found = read_from_namespace(settings, topic, lambda p: namespace.read_audit(settings, p))
    if found.invalid:
        records = "1 record fails its" if found.invalid == 1 else f"{found.invalid:,} records fail their"
        console.print(f"[yellow]note:[/] {records} contract on {topic}; left out")
    return found


def read_sample(path: Path):  # type: ignore[no-untyped-def]
    """The audit.sample event of a file written by `cdi audit sample`, checked against its contract."""
    from cdi.audit.sample import TYPE, AuditSample
    from cdi.audit.verdicts import checked_record
    from cdi.contracts import Contracts, InvalidEvent
    from cdi.history import read_lines

    contracts = Contracts()
    found = []
    for number, raw in read_lines(path):
        try:
            record = checked_record(contracts, raw)
        except InvalidEvent as exc:
            fail(f"{path}:{number}: not a valid audit sample ({exc.detail})", exit_codes.UNREADABLE_INPUT)
            raise
        if record.get("type") == TYPE:
            found.append(record)
    if len(found) != 1:
        fail(
            f"{path}: holds {len(found)} audit.sample events; give the file `cdi audit sample --out` wrote",
            exit_codes.UNREADABLE_INPUT,
        )
    return AuditSample.from_event(found[0])


@audit.command("sample")
@click.argument("history", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--namespace",
    help="Draw from this namespace's input topics (start to end, in event-time order) instead of HISTORY.",
)
@click.option(
    "--publish",
    is_flag=True,
    help="With --namespace: also write the sample to the namespace's case-actions topic, "
    "where the workbench shows it as a batch to review.",
)
@click.option(
    "--out", type=OutputFile(), help="The sample to write: one audit.sample event (JSON); optional with --publish."
)
@click.option(
    "--seed", type=click.IntRange(0, 2**53 - 1), required=True, help="Seed of the draw: the same seed, the same sample."
)
@click.option("--size", type=click.IntRange(1), help="Incidents to sample, allocated in proportion to the strata.")
@click.option(
    "--target-width",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    help="Instead of --size: as many incidents as a 95%% interval of +-W on recording accuracy needs (0.02: 2 points).",
)
@click.option(
    "--prior",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.5,
    show_default=True,
    help="With --target-width: the accuracy expected (0.5 is the worst case).",
)
@click.option(
    "--findings-per-rule", type=click.IntRange(0), default=30, show_default=True, help="Findings to sample per rule."
)
@click.option(
    "--disposals", type=click.IntRange(0), default=100, show_default=True, help="Out-of-court disposals to sample."
)
@click.option("--name", help="The batch's name (default: audit-START-END-sSEED).")
@audit_period_options
def audit_sample(
    history: tuple[Path, ...],
    namespace: str | None,
    publish: bool,
    out: Path | None,
    seed: int,
    size: int | None,
    target_width: float | None,
    prior: float,
    findings_per_rule: int,
    disposals: int,
    name: str | None,
    start: str | None,
    end: str | None,
    divisions: tuple[str, ...],
    rules_path: Path | None,
) -> None:
    """Draw a reproducible stratified random sample of a period for auditors to read: incidents
    (crime-indicative of every result, and those closed to non-crime or catch-all codes),
    findings and out-of-court disposals. Strata: division x offence group (findings: rule).

    HISTORY is one or more history files of one kind (JSON lines or a police.uk export); or give
    --namespace to draw from a namespace's input topics (CDI_KAFKA_BOOTSTRAP), and --publish to
    put the sample on its case-actions topic for the workbench."""
    import re

    from cdi.audit.population import DISPOSAL, FINDING, INCIDENT
    from cdi.audit.sample import draw_sample
    from cdi.history import write_events

    if bool(history) == (namespace is not None):
        fail("give either HISTORY files or --namespace, not both and not neither")
    if publish and namespace is None:
        fail("--publish writes the sample to a namespace's case-actions topic: give --namespace")
    if out is None and not publish:
        fail("give --out FILE for the sample (or --namespace NS --publish to put it on the topic)")
    if (size is None) == (target_width is None):
        fail("give either --size N or --target-width W")
    if name is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,79}", name):
        fail("--name: letters, digits, '.', '_', ':' or '-', at most 80 characters")
    settings = audit_settings(namespace) if namespace is not None else None
    source = namespace_history(settings) if settings is not None else open_sources(history)
    found = audit_population(source, rules_path, event_time(start, "--from"), event_time(end, "--to"), divisions)
    drawn = draw_sample(
        found,
        seed,
        size=size,
        target_width=target_width,
        prior=prior,
        findings_per_rule=findings_per_rule,
        disposals=disposals,
        sample_id=name,
    )
    already = published_before(settings, drawn) if settings is not None and publish else False
    if out is not None:
        write_events(out, [drawn.to_event()])
    table = Table(title=f"Audit sample {drawn.sample_id}")
    for column in ("kind", "strata", "population", "sample"):
        table.add_column(column, justify="left" if column == "kind" else "right")
    for kind in (INCIDENT, FINDING, DISPOSAL):
        strata = [s for s in drawn.design.strata if s.kind == kind]
        table.add_row(
            kind, f"{len(strata):,}", f"{sum(s.population for s in strata):,}", f"{sum(s.sample for s in strata):,}"
        )
    tables.print(table)
    if target_width is not None:
        console.print(
            f"+-{target_width:g} on recording accuracy (prior {prior:g}, crime-indicative share "
            f"{drawn.design.crime_share:.3f}) needs {drawn.design.incidents:,} incidents"
        )
    if found.not_due:
        console.print(
            f"[yellow]note:[/] {found.not_due:,} crime-indicative incidents of the period are not in the population: "
            "their recording deadline falls after the history's end"
        )
    if found.end > found.history_end - found.deadline:
        console.print(
            "[yellow]note:[/] the period ends less than a recording deadline before the history's last event: "
            "crimes reported at its end may not be due yet, and a reviewer may find them unrecorded"
        )
    where = [str(out)] if out is not None else []
    if settings is not None and publish:
        where.append(publish_sample(settings, drawn, already, out))
    written = " and ".join(where)
    console.print(f"period {found.describe()}; {len(drawn.items):,} items (seed {seed}) written to {written}")


def published_before(settings: Settings, drawn) -> bool:  # type: ignore[no-untyped-def]
    """Whether this very sample is on the case-actions topic already. A different sample under
    the same id fails: verdicts name the sample by id, so two samples must never share one."""
    import dataclasses

    from cdi.audit.namespace import case_actions_topic

    create_topics(settings)  # a namespace made before the case-actions topic existed lacks it
    held = namespace_audit(settings).samples.get(drawn.sample_id)
    # The same draw from another copy of the events (the workbench's view, say) is the same sample.
    if held is not None and dataclasses.replace(held, sources=drawn.sources) != drawn:
        fail(
            f"a different sample named {drawn.sample_id} is on {case_actions_topic(settings)} already "
            f"(seed {held.seed}, {len(held.items):,} items): give this one another --name"
        )
    return held is not None


def publish_sample(settings: Settings, drawn, already: bool, out: Path | None) -> str:  # type: ignore[no-untyped-def]
    """Put the sample on the case-actions topic, acknowledged by the broker; where it went."""
    from cdi.audit.namespace import PublishError, case_actions_topic
    from cdi.audit.namespace import publish_sample as publish

    topic = case_actions_topic(settings)
    if already:
        return f"{topic} (there already: not published again)"
    try:
        with console.status(f"publishing the sample to {topic}..."):
            publish(settings, drawn)
    except PublishError as exc:
        written = f"; the sample was written to {out}, but not published" if out is not None else ""
        fail(f"{exc}{written}", exit_codes.UNAVAILABLE)
    return topic


@audit.command("verdicts")
@click.argument("sample", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--from-truth",
    "truth_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The simulator's audit truth (cdi simulate --audit-truth).",
)
@click.option("--out", type=OutputFile(), required=True, help="Verdicts to write: audit.verdict events, one a line.")
@click.option(
    "--error-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of verdicts the simulated reviewer gets wrong (each flipped with this probability).",
)
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True, help="Seed of the reviewer's errors.")
@click.option("--reviewer", default="S-0001", show_default=True, help="Pseudonymous staff reference (never a name).")
def audit_verdicts(sample: Path, truth_path: Path, out: Path, error_rate: float, seed: int, reviewer: str) -> None:
    """The simulated reviewer: one audit.verdict per sample item, as the simulator's audit truth
    has it, optionally with errors. For testing the estimates on simulated histories."""
    import re

    from cdi.audit import truth as audit_truth
    from cdi.audit.verdicts import simulated_review
    from cdi.history import write_events

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", reviewer):
        fail("--reviewer: a pseudonymous staff reference (letters, digits, '.', '_', '-'), never a name")
    drawn = read_sample(sample)
    review = simulated_review(drawn, audit_truth.read(truth_path), error_rate=error_rate, seed=seed, reviewer=reviewer)
    if not review.events:
        warn_nothing(
            f"{truth_path} knows none of the {len(drawn.items):,} items of {sample}: is it the same simulation?"
        )
    write_events(out, review.events)
    if review.missing:
        console.print(f"[yellow]note:[/] {len(review.missing):,} items are not in {truth_path.name} and got no verdict")
    console.print(
        f"{len(review.events):,} verdicts by {reviewer} ({review.flipped:,} wrong on purpose) written to {out}"
    )


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _interval(estimate) -> str:  # type: ignore[no-untyped-def]
    if estimate.low is None:
        return "-"
    return f"[{estimate.low:.1%}, {estimate.high:.1%}]"


def _count(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def estimates_tables(result, truth: bool) -> list[Table]:  # type: ignore[no-untyped-def]
    main_table = Table(title="Audit estimates, 95% intervals")
    for column in ("figure", "estimate", "95% interval", "reviewed", *(["true"] if truth else [])):
        main_table.add_column(column, justify="left" if column == "figure" else "right")

    def rate_row(label: str, e, unit: str) -> None:  # type: ignore[no-untyped-def]
        row = [label, _share(e.estimate), _interval(e), f"{e.reviewed:,} {unit}"]
        main_table.add_row(*row, *([_share(e.true)] if truth else []))

    rate_row("Recording accuracy", result.recording_accuracy, "crimes")
    count = result.unrecorded_crimes
    bounds = "-" if count.high is None or count.low is None else f"[{_count(count.low)}, {_count(count.high)}]"
    main_table.add_row(
        "Unrecorded crimes in the period",
        _count(count.estimate),
        bounds,
        f"of {count.recorded_volume:,} recorded",
        *([_count(count.true)] if truth else []),
    )
    rate_row("Blind-spot rate", result.blind_spot_rate, "unrecorded")
    rate_row("Disposals appropriate", result.disposals_appropriate, "disposals")
    if result.rule_precision:
        main_table.add_section()
        for rule, e in sorted(result.rule_precision.items()):
            rate_row(f"Precision {rule}", e, "findings")
    out = [main_table]
    for dimension, domains in result.breakdowns.items():
        table = Table(title=f"By {dimension.replace('_', ' ')}")
        table.add_column(dimension.replace("_", " "))
        for column in ("accuracy", "95% interval", "crimes", "blind spot", "95% interval "):
            table.add_column(column, justify="right")
        if truth:
            table.add_column("true accuracy", justify="right")
            table.add_column("true blind spot", justify="right")
        for name, figures in domains.items():
            acc, blind = figures["recording_accuracy"], figures["blind_spot_rate"]
            row = [
                name,
                _share(acc.estimate),
                _interval(acc),
                f"{acc.reviewed:,}",
                _share(blind.estimate),
                _interval(blind),
            ]
            table.add_row(*row, *([_share(acc.true), _share(blind.true)] if truth else []))
        out.append(table)
    return out


def estimate_from_verdicts(
    history: tuple[Path, ...],
    verdict_paths: Sequence[Path],
    sample_path: Path | None,
    rules_path: Path | None,
    start: str | None,
    end: str | None,
    divisions: tuple[str, ...],
    breakdowns: Sequence[str] = ("division",),
):  # type: ignore[no-untyped-def]
    """The audit's estimates from verdicts on a sample of HISTORY, as `cdi audit estimate` and
    `cdi report --verdicts` both make them: (estimates, population, joined, sample or None).
    Fails as those commands do: 65 for a verdicts or sample file its contract refuses, 3 when the
    verdicts hold nothing to estimate from."""
    drawn = read_sample(sample_path) if sample_path is not None else None
    verdicts = read_verdict_files(verdict_paths, drawn.sample_id if drawn is not None else None)
    return estimate_from(
        lambda: open_sources(history),
        drawn,
        verdicts,
        [p.name for p in verdict_paths],
        rules_path,
        start,
        end,
        divisions,
        breakdowns,
    )


def estimate_from_namespace(
    settings: Settings,
    sample_id: str,
    history: tuple[Path, ...],
    verdict_paths: Sequence[Path],
    rules_path: Path | None,
    start: str | None,
    end: str | None,
    divisions: tuple[str, ...],
    breakdowns: Sequence[str],
):  # type: ignore[no-untyped-def]
    """The same estimates from the sample and verdicts on the namespace's case-actions topic
    (plus any verdict files), over its input topics (or HISTORY when given)."""
    from cdi.audit.namespace import case_actions_topic
    from cdi.audit.verdicts import merged

    topic = case_actions_topic(settings)
    records = namespace_audit(settings)
    drawn = records.samples.get(sample_id)
    if drawn is None:
        held = ", ".join(sorted(records.samples)) or "none"
        fail(f"--sample-id {sample_id}: no audit sample of that id on {topic} (samples there: {held})")
    verdicts = records.verdicts_on(sample_id)
    if verdict_paths:
        verdicts = merged(verdicts, read_verdict_files(verdict_paths, sample_id))
    return estimate_from(
        (lambda: open_sources(history)) if history else (lambda: namespace_history(settings)),
        drawn,
        verdicts,
        [topic, *(p.name for p in verdict_paths)],
        rules_path,
        start,
        end,
        divisions,
        breakdowns,
    )


def read_verdict_files(paths: Sequence[Path], sample_id: str | None):  # type: ignore[no-untyped-def]
    from cdi.audit.verdicts import VerdictFileError, read

    try:
        return read(paths, sample_id)
    except VerdictFileError as exc:
        fail(f"{exc}: a verdicts file holds audit.verdict events (cdi audit verdicts)", exit_codes.UNREADABLE_INPUT)
        raise


def estimate_from(
    load_history: Callable[[], Any],
    drawn: Any,  # an AuditSample, or None
    verdicts: Any,  # cdi.audit.verdicts.Verdicts
    holders: Sequence[str],
    rules_path: Path | None,
    start: str | None,
    end: str | None,
    divisions: tuple[str, ...],
    breakdowns: Sequence[str],
):  # type: ignore[no-untyped-def]
    """Everything after loading, whatever the sample and verdicts came from (files or a topic):
    the period and divisions, the population (``load_history()`` is read only once the verdicts
    are known to hold something), and ``cdi.audit.assessment.assess``."""
    from cdi.audit.assessment import assess, nothing_to_estimate
    from cdi.audit.sample import ALL_DIVISIONS

    if drawn is None and len(verdicts.sample_ids) > 1:
        names = ", ".join(sorted(verdicts.sample_ids))
        fail(f"the verdicts are on {len(verdicts.sample_ids)} samples ({names}): give --sample to choose one")
    if not verdicts.standing:
        what = f" on sample {drawn.sample_id}" if drawn is not None else ""
        hold = "hold" if len(holders) > 1 else "holds"
        warn_nothing(f"{', '.join(holders)} {hold} no verdict{what}: nothing to estimate from")
    if drawn is not None:
        if start is not None or end is not None:
            fail("--from/--to: the period is the sample's; leave them out with --sample or --sample-id")
        window = (drawn.start, drawn.end)
        chosen = divisions or ((drawn.division,) if drawn.division != ALL_DIVISIONS else ())
    else:
        window = (event_time(start, "--from"), event_time(end, "--to"))
        chosen = divisions
    found = audit_population(load_history(), rules_path, window[0], window[1], chosen)
    result, joined = assess(found, verdicts.standing, drawn, breakdowns)
    if not joined.reviewed:
        warn_nothing(
            f"none of the {len(verdicts.standing):,} verdicts is on a unit of {found.describe()} in the history given"
        )
    if nothing_to_estimate(result):
        warn_nothing("the verdicts judge no incident a crime, and no finding or disposal: nothing to estimate")
    return result, found, joined, drawn


@audit.command("estimate")
@click.argument("history", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--verdicts",
    "verdict_paths",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="audit.verdict events (JSON lines; repeatable). The latest verdict on an item stands. "
    "With --namespace, added to the topic's.",
)
@click.option(
    "--namespace",
    help="Read the sample (--sample-id) and its verdicts from this namespace's case-actions topic, and the "
    "history from its input topics unless HISTORY is given.",
)
@click.option("--sample-id", help="With --namespace: the sample on the case-actions topic to estimate from.")
@click.option(
    "--sample",
    "sample_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The sample the verdicts are on: its design (strata and N_h) and period are used.",
)
@click.option(
    "--truth",
    "truth_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The simulator's audit truth: print the true value beside each estimate.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout instead of tables.")
@click.option(
    "--by",
    "breakdowns",
    multiple=True,
    type=click.Choice(["division", "offence_group", "month"]),
    default=("division",),
    show_default=True,
    help="Break recording accuracy and the blind-spot rate down (repeatable).",
)
@audit_period_options
def audit_estimate(
    history: tuple[Path, ...],
    verdict_paths: tuple[Path, ...],
    namespace: str | None,
    sample_id: str | None,
    sample_path: Path | None,
    truth_path: Path | None,
    as_json: bool,
    breakdowns: tuple[str, ...],
    start: str | None,
    end: str | None,
    divisions: tuple[str, ...],
    rules_path: Path | None,
) -> None:
    """Estimate recording accuracy, the unrecorded crimes of the period, each rule's precision,
    the monitor's blind-spot rate and the share of appropriate disposals from reviewers'
    verdicts, each with a 95% interval for the stratified design.

    HISTORY is the history the sample was drawn from (the rules run over it again to know each
    unit's stratum, whether the monitor flagged it, and the period's recorded crimes). With
    --namespace NS --sample-id ID, the sample and its verdicts come from the namespace's
    case-actions topic, and the history from its input topics unless HISTORY is given."""
    import orjson

    from cdi.audit import estimates
    from cdi.audit import truth as audit_truth

    if namespace is None:
        if sample_id is not None:
            fail("--sample-id names a sample on a namespace's case-actions topic: give --namespace too")
        if not history or not verdict_paths:
            fail("give HISTORY and --verdicts FILE, or --namespace NS --sample-id ID")
        result, found, joined, _ = estimate_from_verdicts(
            history, verdict_paths, sample_path, rules_path, start, end, divisions, breakdowns
        )
    else:
        if sample_id is None:
            fail("--namespace: give --sample-id, the sample on its case-actions topic to estimate from")
        if sample_path is not None:
            fail("--sample: with --namespace the sample is the topic's (--sample-id); leave --sample out")
        assert sample_id is not None
        result, found, joined, _ = estimate_from_namespace(
            audit_settings(namespace), sample_id, history, verdict_paths, rules_path, start, end, divisions, breakdowns
        )
    reviewed = Counter(r.unit.kind for r in joined.reviewed)
    if truth_path is not None:
        # The true values of the period audited: its population's units.
        frame = found.index()
        result = estimates.with_truth(result, audit_truth.true_values(audit_truth.read(truth_path), frame))
    if joined.differing_strata:
        console.print(
            f"[yellow]warning:[/] the history gives other stratum sizes than the sample's design in "
            f"{len(joined.differing_strata):,} strata (first: {joined.differing_strata[0]}); the sample's are used"
        )
    if joined.unmatched:
        console.print(
            f"[yellow]note:[/] {len(joined.unmatched):,} verdicts are on items not in the population; left out"
        )
    if as_json:
        click.echo(orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2).decode())
        return
    for table in estimates_tables(result, truth_path is not None):
        tables.print(table)
    console.print(
        f"sample {result.sample['sample_id']}: {len(joined.reviewed):,} items reviewed "
        f"({', '.join(f'{n:,} {k}s' for k, n in sorted(reviewed.items()))}) in {result.sample['strata_reviewed']:,} "
        f"of {len(joined.sizes):,} strata; {found.describe()}"
    )
