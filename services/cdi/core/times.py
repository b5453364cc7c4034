"""Event time as integer milliseconds since the Unix epoch (UTC).

Integers compare exactly and serialise compactly; RFC 3339 strings are parsed once at the edge.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

MS_PER_MINUTE = 60_000
MS_PER_HOUR = 3_600_000
MS_PER_DAY = 86_400_000
EPOCH = date(1970, 1, 1)


def parse_time(text: str) -> int:
    """RFC 3339 with offset (``Z`` or ``+hh:mm``) to epoch milliseconds."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no UTC offset")
    return round(moment.timestamp() * 1000)


def format_time(ms: int) -> str:
    """Epoch milliseconds to RFC 3339 in UTC; milliseconds only when non-zero."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    if ms % 1000:
        return moment.isoformat(timespec="milliseconds")
    return moment.isoformat(timespec="seconds")


def utc_date(ms: int) -> str:
    """The UTC calendar date of an event time, ISO format."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).date().isoformat()


def epoch_day(iso_date: str) -> int:
    """Days since 1970-01-01 of an ISO date."""
    return (date.fromisoformat(iso_date) - EPOCH).days


def day_date(day: int) -> str:
    """The ISO date of a day number (the inverse of ``epoch_day``)."""
    return (EPOCH + timedelta(days=day)).isoformat()


def format_duration(ms: int) -> str:
    """Human duration for explanations: '24 h', '31 h 5 min', '3 d 4 h', '40 min'."""
    minutes = ms // MS_PER_MINUTE
    hours, mins = divmod(minutes, 60)
    if hours >= 72:
        days, hours = divmod(hours, 24)
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"
