"""Crime records: HOCR classification, victims, crime references and their events."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from cdi.core.times import format_time
from cdi.simulation.codes import CRIME, OffenceCode, ReferenceData, load_reference
from cdi.simulation.crime_facts import crime_facts
from cdi.simulation.extract import TimedEvent, envelope
from cdi.simulation.force import Force

# Incident crime code -> HOCR codes with relative weights (assumed mix, most common first).
# Every HOCR code must be in the incident code's offence group; checked in `_hocr_mix`.
HOCR_MIX: dict[str, tuple[tuple[str, int], ...]] = {
    "ASSAULT": (("105A", 55), ("8N", 35), ("8F", 6), ("5D", 2), ("105B", 1), ("8P", 1)),
    "HARASSMENT": (("8L", 80), ("8Q", 20)),
    "THREATS": (("3B", 60), ("8L", 40)),
    "RAPE": (("19C", 70), ("19D", 12), ("19F", 8), ("19E", 5), ("19G", 3), ("19H", 2)),
    # Rape is about 40% of recorded sexual offences in England and Wales; a call logged as a
    # sexual offence is often classified as rape once the account is taken.
    "SEXUAL_OFFENCE": (
        ("20A", 48),
        ("19C", 24),
        ("17A", 12),
        ("19D", 7),
        ("19F", 4),
        ("19E", 3),
        ("19G", 1),
        ("19H", 1),
    ),
    "ROBBERY": (("34B", 85), ("34A", 15)),
    "BURGLARY_DWELLING": (("28E", 70), ("28F", 20), ("28G", 7), ("29A", 3)),
    "BURGLARY_OTHER": (("30C", 80), ("30D", 20)),
    "THEFT": (("49", 70), ("39", 15), ("44", 15)),
    "SHOPLIFTING": (("46", 1),),
    "VEHICLE_CRIME": (("48", 1),),
    "CRIMINAL_DAMAGE": (("58C", 35), ("58A", 30), ("58D", 18), ("58B", 15), ("58J", 2)),
    "ARSON": (("56B", 80), ("56A", 20)),
    "WEAPONS": (("10D", 1),),
    "DRUGS": (("92E", 62), ("92D", 22), ("92A", 16)),  # cannabis is most possession offences
    "PUBLIC_ORDER": (("9A", 75), ("62A", 20), ("9B", 5)),
}
# With a hate qualifier, the racially or religiously aggravated codes apply.
HATE_HOCR: dict[str, tuple[str, ...]] = {
    "ASSAULT": ("105B", "8P"),
    "CRIMINAL_DAMAGE": ("58J",),
    "PUBLIC_ORDER": ("9B",),
}


@dataclass(slots=True)
class CrimePlan:
    recorded_at: int
    hocr: OffenceCode
    division: str
    incident_id: str | None
    victim_ref: str | None
    crime_id: str = ""
    kind: str = "crime"  # "n100": a rape report held under N100, not a crime (record_kind)
    crd_at: int | None = None  # the Crime Recording Decision's time, where the record carries one

    @property
    def event_id(self) -> str:
        return f"{self.crime_id}.recorded"


@cache
def _hocr_mix() -> dict[str, tuple[tuple[OffenceCode, ...], tuple[int, ...]]]:
    reference = load_reference()
    mix = {}
    for code, info in reference.incident_codes.items():
        if info.code_class != CRIME:
            continue
        entries = HOCR_MIX.get(code)
        if entries is None:  # a crime code added to the table later: any code of its group
            group = info.offence_group
            entries = tuple((h.code, 1) for h in reference.offence_codes.values() if h.offence_group == group)
        hocr = tuple(reference.offence_codes[name] for name, _ in entries)
        wrong = [h.code for h in hocr if h.offence_group != info.offence_group]
        if wrong or not hocr:
            raise ValueError(f"HOCR codes {wrong} do not fit {code} ({info.offence_group})")
        mix[code] = (hocr, tuple(weight for _, weight in entries))
    return mix


def choose_hocr(rng: random.Random, crime_code: str, hate: bool, reference: ReferenceData) -> OffenceCode:
    if hate and crime_code in HATE_HOCR:
        return reference.offence_codes[rng.choice(HATE_HOCR[crime_code])]
    hocr, weights = _hocr_mix()[crime_code]
    return rng.choices(hocr, weights=weights)[0]


def victim_ref(rng: random.Random) -> str:
    return f"PR-{rng.getrandbits(48):012x}"


def assign_crime_ids(crimes: list[CrimePlan]) -> None:
    """Crime references in recording order, numbered per calendar year: CR-<yy>-<seq>."""
    next_seq: dict[int, int] = {}
    order = sorted(range(len(crimes)), key=lambda n: (crimes[n].recorded_at, n))
    for n in order:
        crime = crimes[n]
        year = datetime.fromtimestamp(crime.recorded_at / 1000, tz=UTC).year
        seq = next_seq.get(year, 0) + 1
        next_seq[year] = seq
        crime.crime_id = f"CR-{year % 100:02d}-{seq:06d}"


def crime_event(crime: CrimePlan, force: str) -> TimedEvent:
    payload = {
        "crime_id": crime.crime_id,
        "incident_id": crime.incident_id,
        "hocr_code": crime.hocr.code,
        "offence_group": crime.hocr.offence_group,
        "victim_ref": crime.victim_ref,
        **crime_facts(crime),  # drug class, date of commission (outcome rules)
    }
    if crime.kind != "crime":
        payload["record_kind"] = crime.kind
    if crime.crd_at is not None:
        payload["crd_at"] = format_time(crime.crd_at)
    return envelope(crime.event_id, "crime.recorded", crime.recorded_at, force, crime.division, payload)


def plan_direct_crimes(
    rng: random.Random,
    force: Force,
    day_starts: list[int],
    crime_code_weights: dict[str, int],
    count: int,
    reference: ReferenceData,
) -> list[CrimePlan]:
    """Crimes reported straight to the crime system (no incident), spread like incident reports."""
    volumes = [force.daily_volume(day) for day in day_starts]
    codes, weights = tuple(crime_code_weights), tuple(crime_code_weights.values())
    crimes = []
    for _ in range(count):
        day = rng.choices(day_starts, weights=volumes)[0]
        # Crime-system timestamps carry milliseconds, unlike the incident log's whole seconds.
        at = force.report_time(rng, day) + rng.randrange(1000)
        hocr = choose_hocr(rng, rng.choices(codes, weights=weights)[0], False, reference)
        ref = victim_ref(rng) if hocr.victim_based else None
        crimes.append(CrimePlan(at, hocr, force.division(rng), None, ref))
    return crimes
