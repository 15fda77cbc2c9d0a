"""Commands that write: ``guard produce``, ``guard registry import`` and ``guard registry revoke``.

Registry writes are transactional: an import file lands whole or not at all,
and a worker reading ``read_committed`` never applies half an import. Plain
identifiers from an import file are blinded here, in this process, before
anything is sent: the registry topic never holds a plaintext identifier.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO, TypeVar

from guard.cli.errors import CliError
from guard.cli.schemas import custody_encoder
from guard.codec.errors import JsonInputError
from guard.codec.jsonlines import (
    RegistryEntry,
    custody_event_from_json,
    iter_json_lines,
    registry_entry_from_json,
)
from guard.config import keys as configured_keys
from guard.config.keys import registry_blinder
from guard.config.settings import GuardConfig
from guard.identity.blind import Blinder
from guard.identity.errors import IdentityTooLarge, InvalidIdentifier
from guard.identity.keys import registry_keys
from guard.kafka.acls import REGISTRY_WRITER_PREFIX
from guard.kafka.clients import new_producer
from guard.kafka.connection import kafka_connection
from guard.registry.model import (
    ProtectionBasis,
    ProtectionRecord,
    ProtectionStatus,
    record_reference,
)
from guard.registry.records import encode_protection_record

_T = TypeVar("_T")



@contextmanager
def open_input(path: str) -> Iterator[TextIO]:
    """``-`` is standard input; anything else a UTF-8 file."""
    if path == "-":
        yield sys.stdin
        return
    try:
        with Path(path).open(encoding="utf-8") as handle:
            yield handle
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None


def _parse_lines(source: TextIO, convert: Callable[[dict[str, Any]], _T]) -> list[_T]:
    """Convert every JSON line, or fail naming the first bad line (never its content)."""
    converted: list[_T] = []
    for line_no, obj in iter_json_lines(source):
        try:
            converted.append(convert(obj))
        except JsonInputError as exc:
            raise exc.at_line(line_no) from None
    return converted


async def produce_custody(config: GuardConfig, path: str) -> int:
    """Encode JSON-lines custody events and send them to the custody topic."""
    with open_input(path) as source:
        events = _parse_lines(source, custody_event_from_json)
    encode = await custody_encoder(config)  # schemaless, or the registry's wire format
    payloads = [encode(event) for event in events]
    await send_custody(config, payloads)
    return len(payloads)


async def send_custody(config: GuardConfig, payloads: list[bytes]) -> None:
    """Send already-encoded custody events, in order, acknowledged by the broker."""
    producer = new_producer(kafka_connection(config), acks="all", enable_idempotence=True)
    try:
        await producer.start()
        for payload in payloads:
            await producer.send(config.custody_topic, payload, key=uuid.uuid4().bytes)
        await producer.flush()
    finally:
        await producer.stop()


async def import_registry(config: GuardConfig, path: str) -> int:
    """Blind each entry of a JSON-lines file and write it to the registry in one transaction."""
    blinder = registry_blinder(config)
    with open_input(path) as source:
        records = _parse_lines(source, lambda obj: _registry_record(blinder, obj))
    await write_registry(config, records)
    return len(records)


def _registry_record(blinder: Blinder, obj: dict[str, Any]) -> ProtectionRecord:
    """One import line as a blinded record; a refusal names the field, never the value."""
    entry = registry_entry_from_json(obj)
    try:
        return blind_entry(blinder, entry)
    except InvalidIdentifier as problem:
        raise JsonInputError(None, _ENTRY_FIELDS.get(problem.field), problem.problem) from None
    except IdentityTooLarge as problem:
        raise JsonInputError(None, _ENTRY_FIELDS.get(problem.what), problem.problem) from None
    except CliError as refused:
        raise JsonInputError(None, None, str(refused).removeprefix("registry entry: ")) from None


# Identity problems name subject fields; an import line names its lists.
_ENTRY_FIELDS = {
    "a_number": "a_numbers", "fbi_number": "fbi_numbers", "fins_number": "fins_numbers",
    "name": "names", "names": "names", "identity": None,
}  # fmt: skip


def blind_entry(blinder: Blinder, entry: RegistryEntry) -> ProtectionRecord:
    """The registry record for an entry: its identifiers replaced by their blinded keys,
    its record id by its keyed reference.

    Refuses an ACTIVE entry from which no key comes out (say an A-number
    ``N/A`` and a name ``FNU``): it would protect nobody. The message names
    the entry by its line in the file (the caller adds it), never by its id.
    """
    keys = registry_keys(entry.identity)
    if not keys.strong and not keys.weak and entry.status is ProtectionStatus.ACTIVE:
        raise CliError(
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
    # During a rotation the person may still be protected under the previous
    # key's reference too: a revocation revokes both, in one transaction.
    blinders = [keys.current] + ([keys.previous] if keys.previous is not None else [])
    await write_registry(
        config,
        [
            ProtectionRecord(
                record_ref=record_reference(blinder, record_id),
                basis=ProtectionBasis.OTHER_1367,
                status=ProtectionStatus.REVOKED,
                created_at=now,
                updated_at=now,
                blinding_key_id=blinder.key_id,
                blinded_keys=frozenset(),
            )
            for blinder in blinders
        ],
    )
    return record_reference(keys.current, record_id)


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
