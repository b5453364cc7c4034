"""Facts a crime record may carry beyond its code: the drug's class on drug offences and, for
historic reports, when the offence was committed (crime.recorded drug_class, offence_from).

Both are fixed functions of the crime (its reference and code), drawn without the run's random
generator, so every other choice of a run stays as it was. Dates of commission lie at most
HISTORIC_MAX_DAYS before the record: the monitor keeps an offender's disposals back to the longest
history window plus a year before any decision (docs/architecture.md), so an older offence's
windows would reach past what it keeps and the truth would no longer be exact.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING, Any

from cdi.core.times import MS_PER_DAY, MS_PER_HOUR, format_time

if TYPE_CHECKING:
    from cdi.simulation.crimes import CrimePlan

# Drug class by Home Office code (weights; None: the record does not say). Supply of cannabis
# (Class B) is a large share of trafficking; possession of cannabis is always Class B.
DRUG_CLASSES: dict[str, tuple[tuple[str | None, int], ...]] = {
    "92A": (("A", 45), ("B", 40), ("C", 5), (None, 10)),
    "92D": (("A", 55), ("B", 25), ("C", 15), (None, 5)),
    "92E": (("B", 1),),
}
# Share (per mille) of victim-based crimes reported some time after they were committed, by
# offence group (assumed: non-recent sexual abuse is the typical historic report).
HISTORIC_PER_MILLE = {"sexual_offences": 250, "violence_against_the_person": 80}
HISTORIC_OTHER_PER_MILLE = 40  # other victim-based crimes (a theft found later, say)
HISTORIC_MAX_DAYS = 150


def _draw(crime: CrimePlan, purpose: str, modulus: int) -> int:
    """A number in [0, modulus) fixed by the crime's reference and the purpose."""
    return zlib.crc32(f"{crime.crime_id}:{purpose}".encode()) % modulus


def drug_class(crime: CrimePlan) -> str | None:
    weighted = DRUG_CLASSES.get(crime.hocr.code)
    if weighted is None:
        return None
    point = _draw(crime, "drug_class", sum(w for _, w in weighted))
    for value, weight in weighted:
        if point < weight:
            return value
        point -= weight
    raise AssertionError("unreachable")


def offence_from(crime: CrimePlan) -> int | None:
    """When a historic report's offence was committed (epoch ms), before the record; None for
    a crime reported when it happened (the record's time stands in)."""
    if not crime.hocr.victim_based:
        return None
    share = HISTORIC_PER_MILLE.get(crime.hocr.offence_group, HISTORIC_OTHER_PER_MILLE)
    if _draw(crime, "historic", 1000) >= share:
        return None
    days = 1 + _draw(crime, "historic_days", HISTORIC_MAX_DAYS)
    hour = _draw(crime, "historic_hour", 24)
    return crime.recorded_at - days * MS_PER_DAY - hour * MS_PER_HOUR


def crime_facts(crime: CrimePlan) -> dict[str, Any]:
    """The optional crime.recorded fields this crime carries (absent when not known)."""
    facts: dict[str, Any] = {}
    committed = offence_from(crime)
    if committed is not None:
        facts["offence_from"] = format_time(committed)
    drugs = drug_class(crime)
    if drugs is not None:
        facts["drug_class"] = drugs
    return facts
