"""How many previous convictions and cautions an offender has: the Ministry of Justice distribution.

The MoJ criminal-history Sankey data (``shared/data/moj-criminal-history-Sankey_data_2024.csv``)
counts offenders cautioned or convicted in a year by criminal-history band, offence group and
adults/juveniles (its ``orderID`` 1 rows). :func:`derive_from_moj` folds the latest year onto the
monitor's offence groups; ``calibration.toml`` holds the result and a test reruns the derivation.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Band index -> (fewest, most) previous convictions/cautions; None = open-ended.
BANDS: tuple[tuple[int, int | None], ...] = ((0, 0), (1, 2), (3, 6), (7, 10), (11, 14), (15, None))
BAND_NAMES = ("first_time", "1-2", "3-6", "7-10", "11-14", "15+")
# MoJ `target` of an orderID 1 row -> band index.
MOJ_BANDS: dict[str, int] = {
    "1 First time offenders": 0,
    "2 1-2 previous convictions/cautions": 1,
    "3 3-6 previous convictions/cautions": 2,
    "4 7-10 previous convictions/cautions": 3,
    "5 11-14 previous convictions/cautions": 4,
    "6 15 or more previous convictions/cautions": 5,
}
# MoJ `offence_type` -> the calibration's age group.
MOJ_AGE_GROUPS: dict[str, str] = {"Adults": "adults", "Juveniles": "juveniles"}
# Monitor offence group -> MoJ offence group(s) whose counts it takes. MoJ "Theft Offences"
# includes burglary, so burglary and theft share it. Not mapped: "10 Fraud offences" (the monitor
# has no fraud codes), "11 Summary offences excluding motoring" and "12 Summary motoring
# offences" (mostly non-notifiable: outside recorded crime).
MOJ_GROUPS: dict[str, tuple[str, ...]] = {
    "violence_against_the_person": ("01 Violence against the person",),
    "sexual_offences": ("02 Sexual offences",),
    "robbery": ("03 Robbery",),
    "burglary": ("04 Theft Offences",),
    "theft": ("04 Theft Offences",),
    "criminal_damage_and_arson": ("05 Criminal damage and arson",),
    "drug_offences": ("06 Drug offences",),
    "possession_of_weapons": ("07 Possession of weapons",),
    "public_order_offences": ("08 Public order offences",),
    "miscellaneous": ("09 Miscellaneous crimes against society",),
}
MAPPED_MOJ_GROUPS = frozenset(g for groups in MOJ_GROUPS.values() for g in groups)
# The open band's length above 15: geometric with this mean (engineering assumption, no data).
OPEN_BAND_MEAN_EXTRA = 10
OPEN_BAND_MAX = 80


def derive_from_moj(csv_path: str | Path) -> dict[str, Any]:
    """Band counts per monitor offence group for adults and juveniles, latest year of the file.

    Reads the ``orderID`` 1 rows ("All offenders" -> band), keeps the latest ``year``, sums over
    gender and over the MoJ groups each monitor group takes (MOJ_GROUPS). Returns ``year``,
    ``rows`` (orderID 1 rows of that year in a mapped MoJ group), and ``adults`` / ``juveniles``:
    monitor group -> six counts, first-time offenders first.
    """
    with Path(csv_path).open(newline="", encoding="utf-8-sig") as fh:  # the file starts with a BOM
        rows = [row for row in csv.DictReader(fh) if row["orderID"] == "1"]
    year = max(int(row["year"]) for row in rows)
    by_moj: dict[tuple[str, str], list[int]] = {}
    used = 0
    for row in rows:
        if int(row["year"]) != year or row["offence_group"] not in MAPPED_MOJ_GROUPS:
            continue
        used += 1
        counts = by_moj.setdefault((MOJ_AGE_GROUPS[row["offence_type"]], row["offence_group"]), [0] * len(BANDS))
        counts[MOJ_BANDS[row["target"]]] += int(row["value"])
    out: dict[str, Any] = {"year": year, "rows": used}
    for age_group in sorted(set(MOJ_AGE_GROUPS.values())):
        out[age_group] = {
            group: [sum(by_moj.get((age_group, g), [0] * len(BANDS))[band] for g in moj) for band in range(len(BANDS))]
            for group, moj in sorted(MOJ_GROUPS.items())
        }
    return out


@dataclass(frozen=True)
class CriminalHistory:
    """The derived band counts, and draws from them."""

    year: int
    rows: int
    adults: dict[str, tuple[int, ...]]
    juveniles: dict[str, tuple[int, ...]]

    def counts(self, offence_group: str, juvenile: bool) -> tuple[int, ...]:
        return (self.juveniles if juvenile else self.adults)[offence_group]

    def shares(self, offence_group: str, juvenile: bool) -> tuple[float, ...]:
        counts = self.counts(offence_group, juvenile)
        total = sum(counts)
        return tuple(count / total for count in counts)

    def juvenile_share(self, offence_group: str) -> float:
        """Share of juveniles among the group's offenders (both age groups' totals)."""
        young, old = sum(self.juveniles[offence_group]), sum(self.adults[offence_group])
        return young / (young + old)

    def draw_band(self, rng: random.Random, offence_group: str, juvenile: bool) -> int:
        return rng.choices(range(len(BANDS)), weights=self.counts(offence_group, juvenile))[0]

    @staticmethod
    def draw_count(rng: random.Random, band: int) -> int:
        """Previous convictions/cautions within a band; the open band tails off geometrically."""
        low, high = BANDS[band]
        if high is not None:
            return rng.randint(low, high)
        extra = int(rng.expovariate(1 / OPEN_BAND_MEAN_EXTRA))
        return low + min(extra, OPEN_BAND_MAX - low)

    @staticmethod
    def band_of(count: int) -> int:
        return next(n for n, (low, high) in enumerate(BANDS) if count >= low and (high is None or count <= high))

    @classmethod
    def from_toml(cls, data: dict[str, Any]) -> CriminalHistory:
        return cls(
            year=data["year"],
            rows=data["rows"],
            adults={group: tuple(counts) for group, counts in data["adults"].items()},
            juveniles={group: tuple(counts) for group, counts in data["juveniles"].items()},
        )

    def check(self, offence_groups: set[str]) -> None:
        for age_group in (self.adults, self.juveniles):
            missing = offence_groups - age_group.keys()
            bad = [g for g, counts in age_group.items() if len(counts) != len(BANDS) or sum(counts) <= 0]
            if missing or bad:
                raise ValueError(f"calibration.toml criminal_history lacks groups {missing} or has bad rows {bad}")
