"""Blinding-key rotation in memory: the keys from configuration, the index's key roles,
the engine matching under both keys only while the previous key's records remain."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from decision_builders import (
    REGISTRY_BLINDER,
    SUBJECT_REF_BLINDER,
    custody_event,
    protection_record,
)

from guard.config.errors import ConfigError
from guard.config.keys import registry_keys
from guard.config.settings import load_config
from guard.decision.engine import DecisionEngine
from guard.identity.blind import Blinder
from guard.identity.errors import KeyMaterialError
from guard.identity.model import Identity
from guard.ops.health import Rotation
from guard.policy.model import Decision, default_policy
from guard.registry.index import CURRENT_KEY, PREVIOUS_KEY, RegistryIndex

NEW = Blinder(bytes(range(200, 232)), "k2.new")
PERSON = Identity(a_numbers=("A-012-345-678",))


def engine(index: RegistryIndex, previous: Blinder | None) -> DecisionEngine:
    return DecisionEngine(NEW, SUBJECT_REF_BLINDER, index, default_policy(), previous=previous)


def test_a_record_under_the_previous_key_is_met_only_while_matching_under_both() -> None:
    index = RegistryIndex()
    index.apply("old-ref", protection_record("old-ref", PERSON), key_role=PREVIOUS_KEY)
    event = custody_event(a_number="012345678")
    assert engine(index, previous=REGISTRY_BLINDER).decide(event).decision is Decision.DROP
    # Without the previous key the old digests are unreachable: this is the gap
    # the rotation procedure must never open (the reader halts instead).
    assert engine(index, previous=None).decide(event).decision is Decision.PUBLISH


def test_the_engine_stops_probing_the_previous_key_once_its_records_are_gone() -> None:
    index = RegistryIndex()
    new_record = protection_record("new-ref", PERSON, blinder=NEW)
    index.apply("new-ref", new_record, key_role=CURRENT_KEY)
    index.apply("old-ref", protection_record("old-ref", PERSON), key_role=PREVIOUS_KEY)
    event = custody_event(a_number="012345678")
    both = engine(index, previous=REGISTRY_BLINDER).decide(event)
    assert {m.record_ref for m in both.matches} == {"new-ref", "old-ref"}
    assert index.active_count_for(PREVIOUS_KEY) == 1
    index.apply("old-ref", None)  # retired: a tombstone
    assert index.active_count_for(PREVIOUS_KEY) == 0
    after = engine(index, previous=REGISTRY_BLINDER).decide(event)
    assert after.decision is Decision.DROP
    assert len(after.strong_keys) == len(both.strong_keys) // 2  # one key's probes only


def test_key_role_counts_follow_replacement_and_revocation() -> None:
    index = RegistryIndex()
    index.apply("r", protection_record("r", PERSON), key_role=PREVIOUS_KEY)
    index.apply("r", protection_record("r", PERSON, blinder=NEW), key_role=CURRENT_KEY)
    assert (index.active_count_for(CURRENT_KEY), index.active_count_for(PREVIOUS_KEY)) == (1, 0)
    index.apply("r", None)
    assert index.active_count == index.active_count_for(CURRENT_KEY) == 0


def test_the_subject_reference_key_must_differ_from_the_previous_key_too() -> None:
    with pytest.raises(KeyMaterialError):
        DecisionEngine(NEW, SUBJECT_REF_BLINDER, RegistryIndex(), default_policy(),
                       previous=Blinder(SUBJECT_REF_BLINDER._secret, "k1.x"))  # fmt: skip


def _config(tmp_path: Path, **env: str) -> dict[str, str]:
    return {"GUARD_BLINDING_KEY": secrets.token_hex(32), **env}


def test_registry_keys_reads_the_previous_key_with_its_own_id(tmp_path: Path) -> None:
    previous = tmp_path / "k1.key"
    previous.write_text(secrets.token_hex(32))
    previous.chmod(0o600)
    keys = registry_keys(load_config(_config(
        tmp_path, GUARD_BLINDING_KEY_ID="k2", GUARD_BLINDING_KEY_PREVIOUS_FILE=str(previous),
        GUARD_BLINDING_KEY_PREVIOUS_ID="k1",
    )))  # fmt: skip
    assert keys.current.key_id.startswith("k2.") and keys.previous_key_id is not None
    assert keys.previous_key_id.startswith("k1.")
    assert "k2." in repr(keys) and previous.read_text() not in repr(keys)


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"GUARD_BLINDING_KEY_PREVIOUS_ID": "k0"}, "give both"),
        ({"GUARD_BLINDING_KEY_PREVIOUS": "ab" * 32}, "give both"),
        ({"GUARD_BLINDING_KEY_PREVIOUS": "ab" * 32, "GUARD_BLINDING_KEY_PREVIOUS_ID": "k1"},
         "must differ"),
    ],
)  # fmt: skip
def test_a_half_or_ambiguous_previous_key_is_refused(
    tmp_path: Path, env: dict[str, str], problem: str
) -> None:
    with pytest.raises(ConfigError, match=problem):
        registry_keys(load_config(_config(tmp_path, **env)))


def test_the_same_secret_twice_is_refused(tmp_path: Path) -> None:
    secret = secrets.token_hex(32)
    config = load_config({"GUARD_BLINDING_KEY": secret, "GUARD_BLINDING_KEY_ID": "k2",
                          "GUARD_BLINDING_KEY_PREVIOUS": secret,
                          "GUARD_BLINDING_KEY_PREVIOUS_ID": "k1"})  # fmt: skip
    with pytest.raises(ConfigError, match="same secret"):
        registry_keys(config)


@pytest.mark.parametrize(
    ("previous", "records", "state"),
    [(None, 0, "none"), ("k1.a", 3, "in_progress"), ("k1.a", 0, "previous_retired")],
)
def test_rotation_state(previous: str | None, records: int, state: str) -> None:
    assert Rotation("k2.b", previous, 5, records).state == state
