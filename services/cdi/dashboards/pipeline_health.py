"""Pipeline health: is the monitor itself keeping up (throughput, lag, rejected input, workers)."""

from __future__ import annotations

from .panels import COUNT, PER_SECOND, PIPELINE, SECONDS, Board, Query, single_stat, time_series

UID = "cdi-pipeline-health"
TITLE = "CDI Monitor — Pipeline health"
FILENAME = "pipeline-health.json"

RATE = "[$__rate_interval]"
#: The selected pipeline's series only (see panels.PIPELINE).
ONE = f"{{{PIPELINE}}}"


def build() -> Board:
    board = Board(
        uid=UID,
        title=TITLE,
        description=(
            "Whether the monitor is keeping up with the force's event feed: throughput, lag, records it "
            "rejected, and the state of its workers. A monitor that stops silently looks like a force with "
            "no problems, so check this dashboard whenever the findings look unusually quiet."
        ),
        time_from="now-6h",
        refresh="30s",
    )
    board.row("Throughput and lag")
    board.add(
        time_series(
            "Events consumed per second by type",
            "Events applied to the detection rules per second, by event type, summed over the workers "
            "(after duplicates and late events are removed). It follows the force's daily rhythm; a drop "
            "to zero while the force is busy means the feed or the monitor has stopped.",
            [Query(f"sum by (type) (rate(cdi_events_consumed_total{ONE}{RATE}))", "{{type}}")],
            unit=PER_SECOND,
        ),
        time_series(
            "Processing lag (p50, p99)",
            "Time from an input record's publication on Kafka to the monitor processing it, across all "
            "workers: the median (p50) and the slowest 1% (p99). Compare the p99 with its usual level: "
            "short peaks follow bursts of input or a rebalance, while a p99 that keeps growing means the "
            "monitor is falling behind the feed.",
            [
                Query(
                    f"histogram_quantile(0.5, sum by (le) (rate(cdi_processing_lag_seconds_bucket{ONE}{RATE})))",
                    "p50",
                ),
                Query(
                    f"histogram_quantile(0.99, sum by (le) (rate(cdi_processing_lag_seconds_bucket{ONE}{RATE})))",
                    "p99",
                ),
            ],
            unit=SECONDS,
        ),
        time_series(
            "Event-time lag by worker",
            "How far each worker's event-time watermark trails the wall clock, in seconds. Deadlines "
            "(such as the 24-hour recording deadline) fire only once the watermark passes them, so this "
            "is how late findings are. In live mode it stays at or below the allowed lateness (10 minutes "
            "by default); a line climbing past that means the worker is stuck. When replaying a history "
            "it shows how far in the past the replay is.",
            [Query(f"instance:cdi_event_time_lag_seconds:max{ONE}", "{{instance}}")],
            unit=SECONDS,
        ),
        time_series(
            "Consumer lag by topic",
            "Records published on each input topic that the monitor's consumer group has not yet "
            "committed (end offset minus committed offset, summed over partitions). Near zero is healthy; "
            "a growing backlog means the workers cannot keep up or are not consuming.",
            [Query(f"topic:cdi_consumer_lag:sum{ONE}", "{{topic}}")],
            unit=COUNT,
        ),
    )
    board.row("Rejected input")
    board.add(
        time_series(
            "Dead letters by reason",
            "Records per second sent to the dead-letter topic, by reason (malformed, unknown_type and "
            "schema for invalid records, late for events older than the watermark). Any sustained rate "
            "means findings may be missing: fix the producer, or replay the dead letters once fixed.",
            [Query(f"sum by (reason) (rate(cdi_dead_letters_total{ONE}{RATE}))", "{{reason}}")],
            unit=PER_SECOND,
            width=8,
        ),
        time_series(
            "Invalid events by reason",
            "Records per second that failed decoding (malformed), named an unknown event type "
            "(unknown_type) or broke their JSON schema contract (schema). These are producer problems; "
            "all of them are also dead-lettered.",
            [Query(f"sum by (reason) (rate(cdi_events_invalid_total{ONE}{RATE}))", "{{reason}}")],
            unit=PER_SECOND,
            width=8,
        ),
        time_series(
            "Late and duplicate events by type",
            "Events per second dropped as late (older than the watermark; also dead-lettered) or as "
            "duplicates (an event id already applied), by event type. A small duplicate rate is normal "
            "with at-least-once delivery; late events mean a producer is sending events long after they "
            "happened, beyond the allowed lateness.",
            [
                Query(f"sum by (type) (rate(cdi_events_late_total{ONE}{RATE}))", "late {{type}}"),
                Query(f"sum by (type) (rate(cdi_events_duplicate_total{ONE}{RATE}))", "duplicate {{type}}"),
            ],
            unit=PER_SECOND,
            width=8,
        ),
    )
    board.row("Workers")
    board.add(
        single_stat(
            "Workers up",
            "Whether Prometheus can scrape each monitor worker (job cdi-monitor): green UP or red DOWN, "
            "one tile per worker of the selected pipeline (the one the worker last reported; a worker "
            "that never answered counts as live). A worker that is down leaves its partitions to the "
            "others after a rebalance; if every tile is red, nothing is being monitored.",
            [Query(f"instance:cdi_up:max{ONE}", "{{instance}}")],
            steps=[(None, "red"), (1, "green")],
            mappings={"0": ("DOWN", "red"), "1": ("UP", "green")},
            height=8,
        ),
        time_series(
            "Rebalances in progress",
            "Consumer-group rebalances under way on each worker, from Faust's own sensor: 'assigning' "
            "while partitions are being handed out, 'recovering' while a worker rebuilds its tables "
            "after the assignment. Each is normally 0, with short blips when a worker starts or stops. "
            "A value that stays at 1 means a worker is stuck in a rebalance or a table recovery and is "
            "not processing.",
            [
                Query(f"max by (instance) (cdi_faust_total_rebalances{ONE})", "assigning {{instance}}"),
                Query(f"max by (instance) (cdi_faust_total_rebalances_recovering{ONE})", "recovering {{instance}}"),
            ],
            unit=COUNT,
            width=8,
        ),
        time_series(
            "Seconds since last processed record",
            "Wall-clock seconds since each worker last processed an input record. It resets to near zero "
            "with every record; a line that climbs steadily while the force is busy means the worker is "
            "stuck even though it is up.",
            [Query(f"time() - max by (instance) (cdi_last_processed_timestamp_seconds{ONE})", "{{instance}}")],
            unit=SECONDS,
            width=8,
        ),
    )
    return board
