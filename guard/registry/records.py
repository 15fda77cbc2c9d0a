"""The registry record's own codec: Avro bytes ↔ :class:`ProtectionRecord`.

It lives with the registry because the reader decodes and the import
command encodes exactly this record; the Avro codec underneath is shared
with every other schema.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from guard.codec.avro import codec_for
from guard.codec.errors import DecodeError
from guard.codec.schemas import SchemaName
from guard.identity.blind import DIGEST_BYTES
from guard.registry.model import BlindedKey, ProtectionBasis, ProtectionRecord, ProtectionStatus

_SCHEMA = SchemaName.PROTECTION_RECORD.value
_FIELDS = (
    "record_ref", "basis", "status", "created_at", "updated_at", "blinding_key_id",
    "blinded_keys", "weak_keys",
)  # fmt: skip


def encode_protection_record(record: ProtectionRecord) -> bytes:
    """Avro bytes of ``record``; the same record always gives the same bytes."""
    return codec_for(SchemaName.PROTECTION_RECORD).encode(protection_record_to_avro(record))


def decode_protection_record(data: bytes) -> ProtectionRecord:
    """The record in ``data``.

    Raises:
        DecodeError: the bytes are not a canonical ``ProtectionRecord``, or a
            field holds what no writer of this schema writes.
    """
    return protection_record_from_avro(codec_for(SchemaName.PROTECTION_RECORD).decode(data))


def protection_record_to_avro(record: ProtectionRecord) -> dict[str, Any]:
    """The codec's dict. Keys are sorted: a frozenset's order varies per process."""
    return {
        "record_ref": record.record_ref,
        "basis": record.basis.value,
        "status": record.status.value,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "blinding_key_id": record.blinding_key_id,
        "blinded_keys": sorted(record.blinded_keys),
        "weak_keys": sorted(record.weak_keys),
    }


def protection_record_from_avro(decoded: Mapping[str, Any]) -> ProtectionRecord:
    """A record from the codec's dict; anything off is a DecodeError, so the
    reader treats it like unreadable bytes (fail closed)."""
    missing = [name for name in _FIELDS if name not in decoded]
    if missing:
        raise DecodeError(_SCHEMA, f"missing field(s): {', '.join(missing)}")
    record_ref = decoded["record_ref"]
    blinding_key_id = decoded["blinding_key_id"]
    if not isinstance(record_ref, str) or not isinstance(blinding_key_id, str):
        raise DecodeError(_SCHEMA, "record_ref and blinding_key_id must be strings")
    if decoded["basis"] not in ProtectionBasis.__members__:
        raise DecodeError(_SCHEMA, "basis: unknown symbol")
    if decoded["status"] not in ProtectionStatus.__members__:
        raise DecodeError(_SCHEMA, "status: unknown symbol")
    return ProtectionRecord(
        record_ref=record_ref,
        basis=ProtectionBasis[decoded["basis"]],
        status=ProtectionStatus[decoded["status"]],
        created_at=_aware_utc(decoded["created_at"], "created_at"),
        updated_at=_aware_utc(decoded["updated_at"], "updated_at"),
        blinding_key_id=blinding_key_id,
        blinded_keys=_digests(decoded["blinded_keys"], "blinded_keys"),
        weak_keys=_digests(decoded["weak_keys"], "weak_keys"),
    )


def _digests(value: object, name: str) -> frozenset[BlindedKey]:
    if not isinstance(value, (list, tuple)) or not all(
        isinstance(key, bytes) and len(key) == DIGEST_BYTES for key in value
    ):
        raise DecodeError(_SCHEMA, f"{name}: must be {DIGEST_BYTES}-byte values")
    keys: Iterable[bytes] = value
    return frozenset(keys)


def _aware_utc(value: object, name: str) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise DecodeError(_SCHEMA, f"{name}: must be a time-zone-aware datetime")
    return value.astimezone(UTC)
