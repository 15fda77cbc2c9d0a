"""The variant corpus through the real decision path: no spelling of a registered person
is published.

Each case's registry entry goes through the import path (JSON line →
``registry_entry_from_json`` → ``blind_entry``) into a ``RegistryIndex``; its
custody event goes through the JSON-lines reader, the Avro encoder and the
strict decoder into the engine, as ``guard produce`` and the worker do.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from decision_builders import REGISTRY_BLINDER, engine_for
from variant_corpus import PEOPLE, Subject, VariantCase, cases

from guard.codec.avro import codec_for
from guard.codec.jsonlines import custody_event_from_json, registry_entry_from_json
from guard.codec.schemas import SchemaName
from guard.decision.verdict import MatchStrength
from guard.policy.model import Decision
from guard.registry.index import RegistryIndex
from guard.registry.writer import blind_entry

CASES = cases()
CUSTODY = codec_for(SchemaName.CUSTODY_EVENT)


def registry_line(case_id: str, subject: Subject) -> dict[str, Any]:
    name = {"given_name": subject.given or None, "family_name": subject.family or None,
            "middle_name": subject.middle or None}  # fmt: skip
    return {
        "record_id": f"rec-{abs(hash(case_id)) % 10**8}",
        "basis": "U_VISA",
        "a_numbers": [subject.a_number] if subject.a_number else [],
        "fbi_numbers": [subject.fbi] if subject.fbi else [],
        "fins_numbers": [subject.fins] if subject.fins else [],
        "names": [name] if name["given_name"] or name["family_name"] else [],
        "date_of_birth": subject.dob.isoformat() if subject.dob else None,
    }


def custody_line(subject: Subject) -> dict[str, Any]:
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC).isoformat().replace("+00:00", "Z")
    return {
        "event_id": "evt-corpus",
        "occurred_at": now,
        "source_system": "CORPUS",
        "subject": {
            "a_number": subject.a_number,
            "fbi_number": subject.fbi,
            "fins_number": subject.fins,
            "given_name": subject.given or "",
            "middle_name": subject.middle,
            "family_name": subject.family or "",
            "aliases": [{"given_name": g, "family_name": f} for g, f in subject.aliases],
            "date_of_birth": subject.dob.isoformat() if subject.dob else None,
        },
        "custody": {"status": "IN_CUSTODY", "status_changed_at": now},
    }


def decide(case: VariantCase) -> tuple[Decision, MatchStrength]:
    line = registry_line(case.case_id, case.registry)
    line = {key: value for key, value in line.items() if value is not None}
    record = blind_entry(REGISTRY_BLINDER, registry_entry_from_json(line))
    index = RegistryIndex()
    index.apply(record.record_ref, record)
    event = CUSTODY.decode(CUSTODY.encode(custody_event_from_json(custody_line(case.event))))
    verdict = engine_for(index).decide(event)
    return verdict.decision, verdict.match_strength


def test_the_corpus_is_large_and_covers_every_kind_on_both_sides() -> None:
    kinds = Counter((case.kind, case.side) for case in CASES)
    assert len(CASES) >= 200
    for kind in {case.kind for case in CASES}:
        assert kinds[(kind, "event")] > 0, kind
        assert kinds[(kind, "registry")] > 0, kind
    assert len({case.case_id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.case_id)
def test_no_spelling_of_a_registered_person_is_published(case: VariantCase) -> None:
    decision, strength = decide(case)
    assert decision is not Decision.PUBLISH, case.case_id
    assert strength is not MatchStrength.NONE or decision is Decision.REJECT, case.case_id


def test_the_clean_spelling_matches_strongly() -> None:
    from variant_corpus import clean

    for person in PEOPLE:
        case = VariantCase("control", person.key, "event", clean(person), clean(person))
        assert decide(case) == (Decision.DROP, MatchStrength.STRONG)
