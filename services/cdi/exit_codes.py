"""Exit codes of every ``cdi`` command (README, "Exit codes"). Scripts and supervisors tell
failures apart by them: the codes above 64 are the BSD sysexits values for the same causes."""

from __future__ import annotations

OK = 0
DIFFERS = 1  # findings differ from the expected ones (backtest --truth)
USAGE = 2  # a bad option or argument (click uses 2 as well)
NOTHING = 3  # the input, or the selection of it, held no events where a result was asked for
UNREADABLE_INPUT = 65  # EX_DATAERR: a history file damaged or not of a known kind
UNAVAILABLE = 69  # EX_UNAVAILABLE: the Kafka broker (or the cases database) did not answer
INTERNAL = 70  # EX_SOFTWARE: a defect; rerun with --debug (or CDI_DEBUG=1) for the traceback
CANNOT_WRITE = 73  # EX_CANTCREAT: an output file cannot be created (missing folder, no permission)
CONFIG = 78  # EX_CONFIG: a CDI_* variable, a rules file or a port the settings name is unusable
INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)

MEANINGS = {
    OK: "done",
    DIFFERS: "findings differ from the expected findings (backtest --truth)",
    USAGE: "a bad option or argument",
    NOTHING: "the input, or the part of it selected, held no events",
    UNREADABLE_INPUT: "an input file is damaged or not a history the monitor reads",
    UNAVAILABLE: "the Kafka broker (or the cases database) did not answer",
    INTERNAL: "an internal error (a defect: rerun with --debug and report the traceback)",
    CANNOT_WRITE: "an output file cannot be written",
    CONFIG: "a setting (CDI_* variable, rules file, port) is unusable",
    INTERRUPTED: "interrupted (Ctrl-C)",
}
