"""Blinding a registry entry (``guard.registry.writer.blind_entry``): what it refuses."""

from __future__ import annotations

import io
import json

import pytest

from guard.cli.feed import _parse_lines, _registry_record
from guard.codec.errors import JsonInputError
from guard.codec.jsonlines import registry_entry_from_json
from guard.identity.blind import Blinder
from guard.registry.errors import EntryProtectsNobody
from guard.registry.model import ProtectionStatus, record_reference
from guard.registry.writer import blind_entry

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
