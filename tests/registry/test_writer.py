"""Blinding a registry entry (``guard.registry.writer.blind_entry``): what it refuses."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

import pytest

from guard.cli.feed import _parse_lines, _registry_record
from guard.cli.rotation import Latest, registry_state
from guard.codec.errors import JsonInputError
from guard.codec.jsonlines import registry_entry_from_json
from guard.config.keys import registry_keys
from guard.config.settings import load_config
from guard.identity.blind import Blinder
from guard.registry.errors import EntryProtectsNobody
from guard.registry.model import ProtectionStatus, record_reference
from guard.registry.writer import blind_entry, revoke_registry

if TYPE_CHECKING:
    from conftest import TopicNames

BLINDER = Blinder(bytes(range(32)), "test-k1")
PLACEHOLDERS_ONLY = {
    "record_id": "rec-ghost",
    "basis": "VAWA_SELF_PETITION",
    "status": "ACTIVE",
    "a_numbers": ["000000000"],
    "names": [{"given_name": "FNU", "family_name": "LNU"}],
}


def test_an_active_entry_that_yields_no_key_is_refused_without_its_values() -> None:
    with pytest.raises(EntryProtectsNobody, match="would protect nobody") as refused:
        blind_entry(BLINDER, registry_entry_from_json(PLACEHOLDERS_ONLY))
    assert "rec-ghost" not in str(refused.value) and "FNU" not in str(refused.value)


def test_a_revoked_entry_needs_no_key() -> None:
    revoked = {**PLACEHOLDERS_ONLY, "status": "REVOKED"}
    record = blind_entry(BLINDER, registry_entry_from_json(revoked))
    assert record.status is ProtectionStatus.REVOKED
    assert record.blinded_keys == frozenset() and record.weak_keys == frozenset()
    assert record.record_ref == record_reference(BLINDER, "rec-ghost")


def test_an_import_file_names_the_line_that_would_protect_nobody() -> None:
    good = {"record_id": "r1", "basis": "U_VISA", "status": "ACTIVE", "a_numbers": ["A012345678"]}
    source = io.StringIO("".join(json.dumps(line) + "\n" for line in (good, PLACEHOLDERS_ONLY)))
    with pytest.raises(JsonInputError, match="line 2") as refused:
        _parse_lines(source, lambda obj: _registry_record(BLINDER, obj))
    assert "protect nobody" in str(refused.value) and "rec-ghost" not in str(refused.value)


async def test_a_revocation_during_a_rotation_tombstones_the_previous_reference(
    kafka_bootstrap: str, topic_names: TopicNames
) -> None:
    """The current reference gets a REVOKED record (the trail); the retiring key's gets a
    tombstone, so nothing under the retiring key is written after the rotation began
    (such a record would halt every worker later started without the previous key)."""
    config = load_config({
        "GUARD_BROKERS": kafka_bootstrap, **topic_names.environment(),
        "GUARD_BLINDING_KEY": "ab" * 32, "GUARD_BLINDING_KEY_ID": "k2",
        "GUARD_BLINDING_KEY_PREVIOUS": "cd" * 32, "GUARD_BLINDING_KEY_PREVIOUS_ID": "k1",
    })  # fmt: skip
    keys = registry_keys(config)
    assert keys.previous is not None

    reference = await revoke_registry(config, "rec-7")

    state = await registry_state(config)
    assert reference == record_reference(keys.current, "rec-7")
    assert state[reference] == Latest(keys.current.key_id, is_active=False)
    assert state[record_reference(keys.previous, "rec-7")] == Latest(None, is_active=False)
    assert len(state) == 2
