"""Scenario ``matching``: how often the matcher catches someone it should not.

A realistic multilingual population is generated with Faker (seeded, so two
runs see the same people): a registry of protected people and, separately,
custody subjects who are *not* any of them. Every subject is decided by the
real engine against the registry; whatever is not PUBLISHed is a false
positive, DROPped (a strong key met) or HELD (only weak keys met). The
variant corpus in ``tests/decision/variant_corpus.py`` measures the other
error, the misses.

The population: names from Faker's locales, weighted toward the origins
of people in US immigration custody (Mexican, Central and South American
Spanish, Brazilian Portuguese, Haitian/French, Chinese, Indian, Vietnamese,
Filipino, Arabic, Persian, Russian and Ukrainian, written in their own
scripts where Faker does). Spanish-speaking subjects often carry two family
names. Dates of birth are uniform over ages 18 to 75; a few subjects and
registry entries have none, a few subjects have ``FNU`` for a given name,
and some have an alias. Every subject carries its own A-number, so only
names and dates can collide.

Run: ``python -m bench.matching [--events N] [--registry N] [--seed S]``;
results go to ``bench/results/matching.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from faker import Faker

from guard.decision.engine import DecisionEngine
from guard.identity.blind import Blinder
from guard.identity.keys import registry_keys
from guard.identity.model import Identity, PersonName
from guard.policy.model import default_policy
from guard.registry.index import RegistryIndex
from guard.registry.model import ProtectionBasis, ProtectionRecord, ProtectionStatus

RESULTS = Path(__file__).parent / "results" / "matching.json"

LOCALE_WEIGHTS = {
    "es_MX": 30, "es_CO": 5, "es_ES": 4, "es_AR": 2, "es_CL": 2, "es_VE": 3, "pt_BR": 5,
    "fr_FR": 2, "en_US": 8, "zh_CN": 4, "hi_IN": 3, "en_IN": 3, "vi_VN": 3, "fil_PH": 2,
    "ar_AA": 2, "ar_EG": 2, "fa_IR": 1, "ru_RU": 2, "uk_UA": 2, "tr_TR": 1, "ro_RO": 1,
    "pl_PL": 1, "en_NG": 2, "ko_KR": 1, "ne_NP": 1, "bn_BD": 1,
}  # fmt: skip
SPANISH = frozenset(locale for locale in LOCALE_WEIGHTS if locale.startswith("es_"))
NO_DATE_SHARE_EVENTS = 0.01
NO_DATE_SHARE_REGISTRY = 0.01
FNU_SHARE = 0.005
ALIAS_SHARE = 0.05
MIDDLE_SHARE = 0.3


@dataclass(frozen=True)
class Parameters:
    events: int
    registry: int
    seed: int


class Population:
    """Seeded Faker people across the weighted locales."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)
        self._fakers = {locale: Faker(locale) for locale in LOCALE_WEIGHTS}
        for offset, faker in enumerate(self._fakers.values()):
            faker.seed_instance(seed + offset)
        self._locales = list(LOCALE_WEIGHTS)
        self._weights = list(LOCALE_WEIGHTS.values())
        self._a_numbers: set[int] = set()

    def person(self, *, no_date_share: float, fnu_share: float) -> Identity:
        locale = self._random.choices(self._locales, self._weights)[0]
        faker = self._fakers[locale]
        given = faker.first_name()
        family = faker.last_name()
        if locale in SPANISH and self._random.random() < 0.6:
            family = f"{family} {faker.last_name()}"
        middle = faker.first_name() if self._random.random() < MIDDLE_SHARE else None
        if self._random.random() < fnu_share:
            given, middle = "FNU", None
        names = [PersonName(given, family, middle)]
        if self._random.random() < ALIAS_SHARE:
            names.append(PersonName(faker.first_name(), faker.last_name()))
        born: date | None = date(1950, 1, 1) + timedelta(days=self._random.randrange(57 * 365))
        if self._random.random() < no_date_share:
            born = None
        return Identity(a_numbers=(self._a_number(),), names=tuple(names), date_of_birth=born)

    def _a_number(self) -> str:
        while True:
            number = self._random.randrange(10_000_000, 330_000_000)
            if number not in self._a_numbers:
                self._a_numbers.add(number)
                return f"A{number:09d}"


def event_of(identity: Identity, n: int) -> dict[str, Any]:
    from datetime import UTC, datetime

    primary = identity.names[0]
    now = datetime(2026, 11, 30, tzinfo=UTC)
    return {
        "event_id": f"fp-{n}",
        "occurred_at": now,
        "source_system": "BENCH",
        "subject": {
            "a_number": identity.a_numbers[0],
            "fbi_number": None,
            "fins_number": None,
            "given_name": primary.given_name or "",
            "middle_name": primary.middle_name,
            "family_name": primary.family_name or "",
            "aliases": [
                {"given_name": a.given_name or "", "family_name": a.family_name or ""}
                for a in identity.names[1:]
            ],
            "date_of_birth": identity.date_of_birth,
            "country_of_birth": None,
        },
        "custody": dict.fromkeys(
            ("facility_code", "facility_name", "facility_city", "facility_state")
        )
        | {"status": "IN_CUSTODY", "status_changed_at": now},
        "case_notes": None,
    }


def run(parameters: Parameters) -> dict[str, Any]:
    blinder = Blinder(bytes(range(32)), "bench")
    population = Population(parameters.seed)
    index = RegistryIndex()
    keys_per_record: list[int] = []
    strong_per_record: list[int] = []
    started = time.perf_counter()
    for n in range(parameters.registry):
        identity = population.person(no_date_share=NO_DATE_SHARE_REGISTRY, fnu_share=FNU_SHARE)
        keys = registry_keys(identity)
        keys_per_record.append(len(keys))
        strong_per_record.append(len(keys.strong))
        index.apply(f"r{n}", ProtectionRecord(
            f"r{n}", ProtectionBasis.U_VISA, ProtectionStatus.ACTIVE,
            _epoch(), _epoch(), "bench", blinder.blind_all(keys.strong),
            blinder.blind_all(keys.weak),
        ))  # fmt: skip
    registry_seconds = time.perf_counter() - started
    engine = DecisionEngine(blinder, Blinder(bytes(range(64, 96)), "ref"), index, default_policy())
    events = [
        event_of(population.person(no_date_share=NO_DATE_SHARE_EVENTS, fnu_share=FNU_SHARE), n)
        for n in range(parameters.events)
    ]
    decisions: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    probes = 0
    started = time.perf_counter()
    for event in events:
        verdict = engine.decide(event)
        decisions[verdict.decision.value] += 1
        reasons[f"{verdict.decision.value}/{verdict.reason.value}"] += 1
        probes += len(verdict.strong_keys) + len(verdict.weak_keys)
    decide_seconds = time.perf_counter() - started
    total = parameters.events
    return {
        "parameters": parameters.__dict__,
        "decisions": dict(decisions),
        "reasons": dict(reasons),
        "dropped_share": decisions["DROP"] / total,
        "held_share": decisions["HOLD"] / total,
        "published_share": decisions["PUBLISH"] / total,
        "registry_keys_per_record": sum(keys_per_record) / len(keys_per_record),
        "registry_strong_keys_per_record": sum(strong_per_record) / len(strong_per_record),
        "event_probes_per_event": probes / total,
        "registry_build_seconds": registry_seconds,
        "decide_microseconds_per_event": decide_seconds / total * 1e6,
    }


def _epoch() -> Any:
    from datetime import UTC, datetime

    return datetime(2026, 1, 1, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--registry", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1367)
    parser.add_argument("--output", type=Path, default=RESULTS, help="where the JSON goes")
    args = parser.parse_args()
    result = run(Parameters(args.events, args.registry, args.seed))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(json.dumps(result, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
