"""Writing the protection registry: blinding entries, revoking records, transactions.

Every writer of the registry (``guard registry import|revoke|retire-previous``,
the canary, tests, benchmarks) goes through here. Writes are transactional: an
import lands whole or not at all, and a worker reading ``read_committed`` never
applies half of one. Plain identifiers are blinded in this process, before
anything is sent: the registry topic never holds a plaintext identifier.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from guard.codec.jsonlines import RegistryEntry
from guard.config import keys as configured_keys
from guard.config.settings import GuardConfig
from guard.identity.blind import Blinder
from guard.identity.keys import registry_keys
from guard.kafka.acls import REGISTRY_WRITER_PREFIX
from guard.kafka.clients import new_producer
from guard.kafka.connection import kafka_connection
from guard.registry.errors import EntryProtectsNobody
from guard.registry.model import (
    ProtectionBasis,
    ProtectionRecord,
    ProtectionStatus,
    record_reference,
)
from guard.registry.records import encode_protection_record


def blind_entry(blinder: Blinder, entry: RegistryEntry) -> ProtectionRecord:
    """The registry record for an entry: its identifiers replaced by their blinded keys,
    its record id by its keyed reference.

    Refuses an ACTIVE entry from which no key comes out (say an A-number
    ``N/A`` and a name ``FNU``): it would protect nobody. The message names
    the entry by its line in the file (the caller adds it), never by its id.
    """
    keys = registry_keys(entry.identity)
    if not keys.strong and not keys.weak and entry.status is ProtectionStatus.ACTIVE:
        raise EntryProtectsNobody(
            "registry entry: no identifier yields a key (every number and name is "
            "absent or a placeholder), so it would protect nobody"
        )
    now = datetime.now(UTC)
    return ProtectionRecord(
        record_ref=record_reference(blinder, entry.record_id),
        basis=entry.basis,
        status=entry.status,
        created_at=now,
        updated_at=now,
        blinding_key_id=blinder.key_id,
        blinded_keys=blinder.blind_all(keys.strong),
        weak_keys=blinder.blind_all(keys.weak),
    )


async def revoke_registry(config: GuardConfig, record_id: str) -> str:
    """Write a REVOKED version of a record: it lifts the protection and keeps the trail.

    Returns the record's keyed reference (what the registry and the audit show).
    """
    keys = configured_keys.registry_keys(config)
    now = datetime.now(UTC)
    reference = record_reference(keys.current, record_id)
    revoked = ProtectionRecord(
        record_ref=reference,
        basis=ProtectionBasis.OTHER_1367,
        status=ProtectionStatus.REVOKED,
        created_at=now,
        updated_at=now,
        blinding_key_id=keys.current.key_id,
        blinded_keys=frozenset(),
    )
    messages: list[tuple[bytes, bytes | None]] = [
        (reference.encode("ascii"), encode_protection_record(revoked))
    ]
    if keys.previous is not None:
        # During a rotation the person may still be protected under the previous
        # key's reference too. That one gets a tombstone, not a REVOKED record: a
        # record under the retiring key written now would outlive the retirement
        # and halt every worker later started without the previous key.
        messages.append((record_reference(keys.previous, record_id).encode("ascii"), None))
    await write_registry_messages(config, messages)  # both in one transaction
    return reference


async def write_registry(config: GuardConfig, records: list[ProtectionRecord]) -> None:
    encoded = [(r.record_ref.encode("ascii"), encode_protection_record(r)) for r in records]
    await write_registry_messages(config, encoded)


async def write_registry_messages(
    config: GuardConfig, messages: Sequence[tuple[bytes, bytes | None]]
) -> None:
    """Registry messages (key, value or None for a tombstone) in one transaction."""
    producer = new_producer(
        kafka_connection(config),
        transactional_id=f"{REGISTRY_WRITER_PREFIX}{uuid.uuid4()}",
        enable_idempotence=True,
        acks="all",
    )
    try:
        await producer.start()
        async with producer.transaction():
            for key, value in messages:
                await producer.send(config.registry_topic, value, key=key)
    finally:
        await producer.stop()
