"""What the guard remembers of each notice it published, and its Avro form.

A :class:`Publication` is written with every public notice, in the same
transaction, to the restricted publications topic: to the partition of the
custody event it came from (the partition's owner is the worker that may
withdraw it), keyed by notice id. It holds opaque references and registry
digests, never plaintext, and it is what a later protection is matched
against.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from guard.codec.avro import codec_for
from guard.codec.errors import DecodeError
from guard.codec.schemas import SchemaName
from guard.identity.blind import DIGEST_BYTES

_SCHEMA = SchemaName.PUBLICATION


@dataclass(frozen=True, slots=True)
class Publication:
    """One published notice, as far as withdrawing it needs."""

    notice_id: str
    """Hex; the key of the publication record and the id subscribers hold."""
    subject_ref: str
    """Hex; the public topic's key for this notice (a tombstone under it withdraws it)."""
    is_redacted: bool
    """A REDACT notice (no name, no A-number) rather than a full one."""
    input_topic: str
    input_partition: int
    input_offset: int
    blinded_keys: tuple[bytes, ...]
    """The event's strong probes under the registry blinding key."""
    published_at: datetime
    weak_keys: tuple[bytes, ...] = ()
    """The event's weak probes: a protection that meets only these still withdraws the
    notice, since the event would be held for review if it were decided now."""
    is_reviewed: bool = False
    """Published by a reviewer's release: only a strong match withdraws it."""

    @property
    def position(self) -> str:
        """``topic/partition/offset`` of the custody event: the key of its audit records."""
        return f"{self.input_topic}/{self.input_partition}/{self.input_offset}"

    def __repr__(self) -> str:
        return (
            f"Publication({self.position}, {len(self.blinded_keys)}+{len(self.weak_keys)} keys)"
        )


def encode_publication(publication: Publication) -> bytes:
    return codec_for(_SCHEMA).encode(
        {
            "notice_id": publication.notice_id,
            "subject_ref": publication.subject_ref,
            "redacted": publication.is_redacted,
            "reviewed": publication.is_reviewed,
            "input_topic": publication.input_topic,
            "input_partition": publication.input_partition,
            "input_offset": publication.input_offset,
            "blinded_keys": list(publication.blinded_keys),
            "weak_keys": list(publication.weak_keys),
            "published_at": publication.published_at,
        }
    )


def decode_publication(data: bytes) -> Publication:
    """Raises DecodeError for anything that is not a canonical Publication."""
    decoded: Mapping[str, Any] = codec_for(_SCHEMA).decode(data)
    for name in ("notice_id", "subject_ref"):
        if not is_reference(decoded[name]):
            raise DecodeError(_SCHEMA.value, f"{name}: must be {2 * DIGEST_BYTES} hex digits")
    keys, weak = decoded["blinded_keys"], decoded["weak_keys"]
    for name, values in (("blinded_keys", keys), ("weak_keys", weak)):
        if not all(isinstance(key, bytes) and len(key) == DIGEST_BYTES for key in values):
            raise DecodeError(_SCHEMA.value, f"{name}: must be {DIGEST_BYTES}-byte values")
    return Publication(
        notice_id=decoded["notice_id"],
        subject_ref=decoded["subject_ref"],
        is_redacted=decoded["redacted"],
        input_topic=decoded["input_topic"],
        input_partition=decoded["input_partition"],
        input_offset=decoded["input_offset"],
        blinded_keys=tuple(keys),
        published_at=decoded["published_at"],
        weak_keys=tuple(weak),
        is_reviewed=decoded["reviewed"],
    )


def is_reference(value: str) -> bool:
    """A keyed reference as the guard writes them: 64 lower-case hex digits."""
    return len(value) == 2 * DIGEST_BYTES and all(ch in "0123456789abcdef" for ch in value)
