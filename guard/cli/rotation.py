"""``guard registry retire-previous FILE``: the last step of a blinding-key rotation.

A rotation from key k1 to k2, without a moment in which a protected person's
record is under a key the workers do not use (docs/DESIGN.md §1.12):

1. workers restart with ``GUARD_BLINDING_KEY`` = k2 and
   ``GUARD_BLINDING_KEY_PREVIOUS`` = k1: they accept records under both ids
   and match every event under both while any k1 record is active;
2. ``guard registry import FILE`` under k2, from the operator's source
   records: every person now has a k2 record as well (new record
   references: a reference is an HMAC under the key);
3. this command, with the same FILE and both keys: it reads the registry to
   its end and refuses unless every ACTIVE entry of FILE is active under k2
   and every active k1 record is the k1 reference of an id in FILE (else
   retiring it would lift a protection FILE does not carry). Then it writes,
   in one transaction, a tombstone for every record whose latest version is
   under k1. Workers stop matching under k1 as soon as they have applied them.

Only the old key can compute the old references, so step 3 needs it; the
registry itself is read only to check, never trusted to say what to keep.
The canary's records (``canary-<n>``) are the exception: they are not in
FILE, and are retired once the canary, restarted with the new key, has
installed its people under it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from aiokafka import TopicPartition

from guard.canary.people import canary_record_ids
from guard.cli.errors import CliError
from guard.cli.feed import open_input
from guard.cli.tail import committed_reader
from guard.codec.errors import DecodeError, JsonInputError
from guard.codec.jsonlines import RegistryEntry, iter_json_lines, registry_entry_from_json
from guard.config.keys import registry_keys
from guard.config.settings import GuardConfig
from guard.kafka.connection import kafka_connection
from guard.registry.model import ProtectionStatus, record_reference
from guard.registry.records import decode_protection_record
from guard.registry.writer import write_registry_messages


@dataclass(frozen=True, slots=True)
class Latest:
    """The latest version of one registry key: its blinding key id and whether it protects."""

    key_id: str | None
    """None for a tombstone."""
    is_active: bool


async def registry_state(config: GuardConfig) -> dict[str, Latest]:
    """Record reference → its latest version, read ``read_committed`` to the end now."""
    latest: dict[str, Latest] = {}
    async with committed_reader(kafka_connection(config), config.registry_topic) as (consumer, tps):
        if not tps:
            raise CliError(f"GUARD_REGISTRY_TOPIC ({config.registry_topic}): topic does not exist")
        await consumer.seek_to_beginning(*tps)
        ends: dict[TopicPartition, int] = await consumer.end_offsets(tps)
        remaining = {tp for tp in tps if ends[tp] > 0}
        while remaining:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    ref = (record.key or b"").decode("ascii", "replace")
                    latest[ref] = _latest(record.value)
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
    return latest


def _latest(value: bytes | None) -> Latest:
    if value is None:
        return Latest(None, False)
    try:
        record = decode_protection_record(value)
    except DecodeError:
        # Unreadable: not ours to retire; it halts the workers until an operator acts.
        return Latest("(undecodable)", True)
    return Latest(record.blinding_key_id, record.status is ProtectionStatus.ACTIVE)


async def retire_previous(config: GuardConfig, path: str) -> int:
    """Check, then tombstone every record under the previous key; the number retired."""
    keys = registry_keys(config)
    if keys.previous is None:
        raise CliError(
            "GUARD_BLINDING_KEY_PREVIOUS(_FILE) and _ID: name the key being retired"
        )
    with open_input(path) as source:
        entries = [(line, _entry_at(line, obj)) for line, obj in iter_json_lines(source)]
    state = await registry_state(config)
    current_id, previous_id = keys.current.key_id, keys.previous.key_id
    for line, entry in entries:
        if entry.status is not ProtectionStatus.ACTIVE:
            continue
        now = state.get(record_reference(keys.current, entry.record_id))
        if now is None or now.key_id != current_id or not now.is_active:
            raise CliError(
                f"{path} line {line}: this entry is not active under the new key "
                f"{current_id} yet; run `guard registry import {path}` first"
            )
    known = {record_reference(keys.previous, entry.record_id) for _, entry in entries}
    # The canary's people are derived from the key, so they are not in FILE: a canary
    # restarted with the new key installed its own under it; the old ones go too.
    old_canaries = {record_reference(keys.previous, cid): cid for cid in canary_record_ids()}
    known |= {
        old_ref for old_ref, cid in old_canaries.items()
        if state.get(record_reference(keys.current, cid)) == Latest(current_id, is_active=True)
    }  # fmt: skip
    retiring = sorted(ref for ref, now in state.items() if now.key_id == previous_id)
    unaccounted = [ref for ref in retiring if state[ref].is_active and ref not in known]
    if any(ref in old_canaries for ref in unaccounted):
        raise CliError(
            f"the canary's people are still protected under {previous_id} only; restart "
            "`guard canary` with the new key first (it installs its people under it)"
        )
    if unaccounted:
        raise CliError(
            f"{len(unaccounted)} active records under {previous_id} are not in {path} "
            f"(first: record {unaccounted[0][:16]}…); retiring them would lift protections "
            "the new key does not carry. Add them to the source and import it again"
        )
    await write_registry_messages(config, [(ref.encode("ascii"), None) for ref in retiring])
    return len(retiring)


def _entry_at(line: int, obj: dict[str, Any]) -> RegistryEntry:
    try:
        return registry_entry_from_json(obj)
    except JsonInputError as problem:
        raise problem.at_line(line) from None


def run_retire(config: GuardConfig, path: str) -> str:
    retired = asyncio.run(retire_previous(config, path))
    keys = registry_keys(config)
    return f"retired {retired} records blinded under {keys.previous_key_id}"
