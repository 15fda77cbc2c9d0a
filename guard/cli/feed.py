"""Commands that write: ``guard produce``, ``guard registry import`` and ``guard registry revoke``.

Registry writes are transactional: an import file lands whole or not at all,
and a worker reading ``read_committed`` never applies half an import. Plain
identifiers from an import file are blinded here, in this process, before
anything is sent: the registry topic never holds a plaintext identifier.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO, TypeVar

from aiokafka import AIOKafkaProducer

from guard.cli.errors import CliError
from guard.codec.avro import codec_for
from guard.codec.errors import JsonInputError
from guard.codec.jsonlines import (
    RegistryEntry,
    custody_event_from_json,
    iter_json_lines,
    protection_record_to_avro,
    registry_entry_from_json,
)
from guard.codec.schemas import SchemaName
from guard.config.keys import registry_blinder
from guard.config.settings import GuardConfig
from guard.identity.blind import Blinder
from guard.identity.keys import identity_keys
from guard.registry.model import ProtectionBasis, ProtectionRecord, ProtectionStatus

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
    codec = codec_for(SchemaName.CUSTODY_EVENT)
    with open_input(path) as source:
        payloads = [codec.encode(event) for event in _parse_lines(source, custody_event_from_json)]
    await send_custody(config, payloads)
    return len(payloads)


async def send_custody(config: GuardConfig, payloads: list[bytes]) -> None:
    """Send already-encoded custody events, in order, acknowledged by the broker."""
    producer = AIOKafkaProducer(
        bootstrap_servers=config.brokers, acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        for payload in payloads:
            await producer.send(config.custody_topic, payload, key=uuid.uuid4().bytes)
        await producer.flush()
    finally:
        await producer.stop()


async def import_registry(config: GuardConfig, path: str) -> int:
    """Blind each entry of a JSON-lines file and write it to the registry in one transaction."""
    blinder = registry_blinder(config)
    with open_input(path) as source:
        entries = _parse_lines(source, registry_entry_from_json)
    records = [blind_entry(blinder, entry) for entry in entries]
    await write_registry(config, records)
    return len(records)


def blind_entry(blinder: Blinder, entry: RegistryEntry) -> ProtectionRecord:
    """The registry record for an entry: its identifiers replaced by their blinded keys.

    Refuses an ACTIVE entry from which no key comes out (say an A-number
    ``N/A`` and a name without a date of birth): it would protect nobody.
    """
    keys = identity_keys(entry.identity)
    if not keys and entry.status is ProtectionStatus.ACTIVE:
        raise CliError(
            f"registry entry {entry.record_id}: no identifier yields a key "
            "(A-number, FBI or FINS number, or a name with a date of birth), "
            "so it would protect nobody"
        )
    now = datetime.now(UTC)
    return ProtectionRecord(
        record_id=entry.record_id,
        basis=entry.basis,
        status=entry.status,
        created_at=now,
        updated_at=now,
        blinding_key_id=blinder.key_id,
        blinded_keys=blinder.blind_all(keys),
    )


async def revoke_registry(config: GuardConfig, record_id: str) -> None:
    """Write a REVOKED version of a record: it lifts the protection and keeps the trail."""
    key_id = registry_blinder(config).key_id
    now = datetime.now(UTC)
    await write_registry(
        config,
        [
            ProtectionRecord(
                record_id=record_id,
                basis=ProtectionBasis.OTHER_1367,
                status=ProtectionStatus.REVOKED,
                created_at=now,
                updated_at=now,
                blinding_key_id=key_id,
                blinded_keys=frozenset(),
            )
        ],
    )


async def write_registry(config: GuardConfig, records: list[ProtectionRecord]) -> None:
    codec = codec_for(SchemaName.PROTECTION_RECORD)
    encoded = [
        (r.record_id.encode("ascii"), codec.encode(protection_record_to_avro(r))) for r in records
    ]
    producer = AIOKafkaProducer(
        bootstrap_servers=config.brokers,
        transactional_id=f"guard-registry-writer-{uuid.uuid4()}",
        enable_idempotence=True,
        acks="all",
    )
    await producer.start()
    try:
        async with producer.transaction():
            for key, value in encoded:
                await producer.send(config.registry_topic, value, key=key)
    finally:
        await producer.stop()
