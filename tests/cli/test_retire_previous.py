"""``guard registry retire-previous`` on the real broker: the canary's people are the one
kind of k1 record FILE does not list, retired only once the canary has its k2 people."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from guard.canary.people import canary_people
from guard.cli.errors import CliError
from guard.cli.feed import import_registry
from guard.cli.rotation import Latest, registry_state, retire_previous
from guard.codec.errors import JsonInputError
from guard.codec.jsonlines import registry_entry_from_json
from guard.config.keys import registry_blinder, registry_keys
from guard.config.settings import GuardConfig, load_config
from guard.registry.model import record_reference
from guard.registry.writer import blind_entry, write_registry

if TYPE_CHECKING:
    from conftest import TopicNames

K1, K2 = "ab" * 32, "cd" * 32
ENTRY = {"record_id": "rec-1", "basis": "U_VISA", "status": "ACTIVE", "a_numbers": ["A012345678"]}


def configs(kafka_bootstrap: str, topic_names: TopicNames) -> tuple[GuardConfig, GuardConfig]:
    """Before the rotation (k1 alone) and during it (k2, with k1 retiring)."""
    base = {"GUARD_BROKERS": kafka_bootstrap, **topic_names.environment()}
    before = load_config({**base, "GUARD_BLINDING_KEY": K1, "GUARD_BLINDING_KEY_ID": "k1"})
    during = load_config({**base, "GUARD_BLINDING_KEY": K2, "GUARD_BLINDING_KEY_ID": "k2",
                          "GUARD_BLINDING_KEY_PREVIOUS": K1,
                          "GUARD_BLINDING_KEY_PREVIOUS_ID": "k1"})  # fmt: skip
    return before, during


async def install_canary(config: GuardConfig) -> str:
    """What ``guard canary`` does at start with one person; returns its record id."""
    (person,) = canary_people(registry_blinder(config), 1)
    entry = registry_entry_from_json(person.registry_entry())
    await write_registry(config, [blind_entry(registry_blinder(config), entry)])
    return person.record_id


async def test_the_old_canary_records_are_retired_once_the_canary_reinstalled(
    kafka_bootstrap: str, topic_names: TopicNames, tmp_path: Path
) -> None:
    before, during = configs(kafka_bootstrap, topic_names)
    source = tmp_path / "registry.jsonl"
    source.write_text(json.dumps(ENTRY) + "\n")
    await import_registry(before, str(source))
    canary_id = await install_canary(before)
    await import_registry(during, str(source))  # step 2 of the rotation

    with pytest.raises(CliError, match="restart `guard canary` with the new key"):
        await retire_previous(during, str(source))

    await install_canary(during)  # the canary restarted with the new key
    assert await retire_previous(during, str(source)) == 2

    keys = registry_keys(during)
    assert keys.previous is not None
    state = await registry_state(during)
    for record_id in ("rec-1", canary_id):
        assert state[record_reference(keys.previous, record_id)] == Latest(None, False)
        assert state[record_reference(keys.current, record_id)].is_active


async def test_a_bad_line_of_the_source_is_named_by_its_number(
    kafka_bootstrap: str, topic_names: TopicNames, tmp_path: Path
) -> None:
    _, during = configs(kafka_bootstrap, topic_names)
    source = tmp_path / "registry.jsonl"
    source.write_text(json.dumps(ENTRY) + "\n" + json.dumps({**ENTRY, "basis": "NOPE"}) + "\n")
    with pytest.raises(JsonInputError, match=r"^line 2: basis: "):
        await retire_previous(during, str(source))
