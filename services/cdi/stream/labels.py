"""Closed sets for the metric labels that come from record content: ``division`` and
``offence_group``.

An event's ``division`` is whatever the upstream system put there. Used as a label as it is, a
name placed in it became a few dozen series per value (every rate metric of a division and
offence group is created at first sight), and a few thousand values grew /metrics to megabytes:
personal data in the monitoring system, and a cardinality bomb. So a label only takes values
from a list the deployment knows: the divisions in the rules configuration's ``[force]`` table
and the offence groups of the contracts and reference data (plus ``unknown``, for a finding
with no group). Anything else is counted under ``other``.

A value folded into ``other`` is reported in the log the first time, and again when the number
of distinct such values reaches 10, 100, 1,000 and 10,000, and never quoted: it may be the
personal data the closed set keeps out. Distinct values are told apart by a keyed hash that
lives only in this process (capped at 10,000), not by the values themselves.

The core and the findings keep the real values; only the labels are closed. See docs/metrics.md.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from cdi.contracts import COMMON_ID, Contracts
from cdi.core.reference import ReferenceData
from cdi.core.rules import RulesConfig

log = logging.getLogger("cdi.metrics")

#: The label value for anything outside a closed set. Division codes are upper case and offence
#: groups are the contracts' enum, so no real value can be "other".
OTHER = "other"
#: The offence group of a finding or observation that has none (an unknown crime, say).
UNKNOWN_GROUP = "unknown"

#: How many distinct unknown values a set tells apart (by hash) before it stops counting.
DISTINCT_CAP = 10_000
#: The distinct counts at which the log is told again.
REPORT_AT = frozenset({1, 10, 100, 1_000, DISTINCT_CAP})


class ClosedSet:
    """Maps a value to itself when known, to ``other`` otherwise, reporting unknown ones without
    quoting them."""

    def __init__(self, known: Iterable[str], what: str, where: str) -> None:
        self.known = frozenset(known)
        self.what = what  # "a division", for the log line
        self.where = where  # "the rules configuration's [force] divisions", for the log line
        self._key = os.urandom(16)  # per process: the digests cannot be matched against a guess list
        self._unknown: set[bytes] = set()

    def __call__(self, value: str) -> str:
        if value in self.known:
            return value
        self._note(value)
        return OTHER

    @property
    def distinct_unknown(self) -> int:
        """Distinct values counted as ``other`` so far (at most DISTINCT_CAP)."""
        return len(self._unknown)

    def _note(self, value: Any) -> None:
        if len(self._unknown) >= DISTINCT_CAP:
            return
        digest = hashlib.blake2b(str(value).encode("utf-8", "replace"), digest_size=8, key=self._key).digest()
        if digest in self._unknown:
            return
        self._unknown.add(digest)
        count = len(self._unknown)
        if count in REPORT_AT:
            more = "; no longer counting" if count >= DISTINCT_CAP else ""
            log.warning(
                "an event carried %s not in %s; counted as '%s' in metric labels (%d distinct so far%s). "
                "The value is not logged: it may be personal data",
                self.what,
                self.where,
                OTHER,
                count,
                more,
            )


@dataclass(frozen=True)
class LabelSets:
    division: ClosedSet
    offence_group: ClosedSet

    @classmethod
    def of(cls, divisions: Iterable[str], offence_groups: Iterable[str]) -> LabelSets:
        divisions = tuple(divisions)
        if not divisions:
            log.warning(
                "the rules configuration lists no divisions ([force] divisions): every division is counted "
                "as '%s' in metric labels",
                OTHER,
            )
        return cls(
            ClosedSet(divisions, "a division", "the rules configuration's [force] divisions"),
            ClosedSet({*offence_groups, UNKNOWN_GROUP}, "an offence group", "the contracts and reference data"),
        )

    @classmethod
    def for_rules(cls, config: RulesConfig, reference: ReferenceData, contracts: Contracts) -> LabelSets:
        return cls.of(config.divisions, offence_groups(reference, contract_offence_groups(contracts)))

    @classmethod
    def default(cls) -> LabelSets:
        """The packaged rules' divisions and every known offence group (a fresh instance each call:
        each one reports its own unknown values)."""
        divisions, groups = _defaults()
        return cls.of(divisions, groups)


def offence_groups(reference: ReferenceData, contract_groups: Iterable[str] = ()) -> frozenset[str]:
    """Every offence group an event or finding can carry: those of the reference tables (HOCR
    codes, crime-indicative incident codes) and the contracts' enum (which also has
    ``miscellaneous``, the police.uk "Other crime" group that no HOCR code in the table maps to)."""
    groups = {code.offence_group for code in reference.offence_codes.values()}
    groups |= {code.offence_group for code in reference.incident_codes.values() if code.offence_group}
    return frozenset(groups | set(contract_groups))


def contract_offence_groups(contracts: Contracts) -> tuple[str, ...]:
    """The ``offence_group`` enum of the common contract (schemas/common.v1.json)."""
    return tuple(contracts.schemas[COMMON_ID]["$defs"]["offence_group"]["enum"])


@cache
def _defaults() -> tuple[tuple[str, ...], frozenset[str]]:
    from cdi import reference as reference_tables
    from cdi import rules as rules_files

    contracts = Contracts()
    config = rules_files.load(None, contracts)
    return config.divisions, offence_groups(reference_tables.load(), contract_offence_groups(contracts))
