"""The canary's synthetic people: stable under one key, unlike under another, and protected."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from guard.canary.people import canary_people
from guard.codec.jsonlines import custody_event_from_json, registry_entry_from_json
from guard.decision.engine import DecisionEngine
from guard.identity.blind import Blinder
from guard.policy.model import Decision, default_policy
from guard.registry.index import RegistryIndex
from guard.registry.writer import blind_entry

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def blinder() -> Blinder:
    return Blinder(secrets.token_bytes(32), "k1")


def test_the_same_key_always_yields_the_same_people() -> None:
    key = secrets.token_bytes(32)
    first = canary_people(Blinder(key, "k1"), 5)
    again = canary_people(Blinder(key, "k1"), 5)
    assert first == again
    assert len({p.a_number for p in first}) == 5
    assert len({(p.given_name, p.family_name) for p in first}) == 5


def test_another_key_yields_other_people() -> None:
    ours, theirs = canary_people(blinder(), 3), canary_people(blinder(), 3)
    assert not {p.a_number for p in ours} & {p.a_number for p in theirs}


def test_a_canary_person_prints_as_its_number_only() -> None:
    (person,) = canary_people(blinder(), 1)
    assert repr(person) == "CanaryPerson(0)"
    assert person.a_number not in repr(person) and person.family_name not in repr(person)


@settings(max_examples=30, deadline=None)
@given(key=st.binary(min_size=32, max_size=32), count=st.integers(1, 4))
def test_every_canary_event_is_dropped_by_an_engine_holding_its_entries(
    key: bytes, count: int
) -> None:
    registry = Blinder(key, "k1")
    index = RegistryIndex()
    people = canary_people(registry, count)
    for person in people:
        record = blind_entry(registry, registry_entry_from_json(person.registry_entry()))
        index.apply(record.record_ref, record)
    engine = DecisionEngine(registry, blinder(), index, default_policy())

    for person in people:
        event = custody_event_from_json(person.custody_event(f"evt-{person.number}", NOW))
        assert engine.decide(event).decision is Decision.DROP


def test_without_its_entry_a_canary_event_publishes_like_anyone_else() -> None:
    """What the canary relies on to notice a missing entry: nothing else protects it."""
    registry = blinder()
    engine = DecisionEngine(registry, blinder(), RegistryIndex(), default_policy())
    for person in canary_people(registry, 3):
        event = custody_event_from_json(person.custody_event("evt", NOW))
        assert engine.decide(event).decision is Decision.PUBLISH
