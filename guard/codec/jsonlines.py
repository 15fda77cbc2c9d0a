"""The CLI's JSON-lines formats: custody events, registry entries, and ``guard tail`` output.

``guard produce`` reads custody events and ``guard registry import`` reads
registry entries, one JSON object a line; ``guard tail`` prints decoded records
the same way. Input is validated here, field by field, so that a bad line is
refused with its line number and field before anything reaches Kafka, and so that
nothing is silently dropped on the way: an unknown or misspelt key is an error,
because a lost identifier means a protected person no longer matches.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TextIO

from guard.codec import jsonfields as field
from guard.codec.errors import JsonInputError
from guard.decision.event import CUSTODY_STATUSES
from guard.identity.model import Identity, PersonName
from guard.registry.model import ProtectionBasis, ProtectionStatus

RECORD_ID_MAX_LENGTH = 128

_EVENT_KEYS = frozenset(
    {"event_id", "occurred_at", "source_system", "subject", "custody", "case_notes"}
)
_SUBJECT_KEYS = frozenset(
    {
        "a_number", "fbi_number", "fins_number", "given_name", "middle_name",
        "family_name", "aliases", "date_of_birth", "country_of_birth",
    }
)
_ALIAS_KEYS = frozenset({"given_name", "family_name"})
_CUSTODY_KEYS = frozenset(
    {
        "status", "facility_code", "facility_name", "facility_city",
        "facility_state", "status_changed_at",
    }
)
_ENTRY_KEYS = frozenset(
    {
        "record_id", "basis", "status", "a_numbers", "fbi_numbers",
        "fins_numbers", "names", "date_of_birth",
    }
)
_NAME_KEYS = frozenset({"given_name", "middle_name", "family_name"})


def custody_event_from_json(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A custody event for the Avro codec, from JSON mirroring its schema.

    Every schema field is present in the result (absent nullable fields as None,
    absent aliases as []), timestamps are UTC-aware, dates are dates.
    """
    event = field.require_object(obj, "")
    field.refuse_unknown_keys(event, _EVENT_KEYS, "")
    subject = field.require_object(event.get("subject"), "subject")
    field.refuse_unknown_keys(subject, _SUBJECT_KEYS, "subject")
    custody = field.require_object(event.get("custody"), "custody")
    field.refuse_unknown_keys(custody, _CUSTODY_KEYS, "custody")
    aliases = []
    for path, alias in field.object_list(subject, "aliases", "subject"):
        field.refuse_unknown_keys(alias, _ALIAS_KEYS, path)
        aliases.append(
            {
                "given_name": field.required_str(alias, "given_name", path, is_blank_ok=True),
                "family_name": field.required_str(alias, "family_name", path, is_blank_ok=True),
            }
        )

    def optional(obj: Mapping[str, Any], key: str, prefix: str) -> str | None:
        return field.optional_str(obj, key, prefix, is_blank_ok=True)

    return {
        "event_id": field.required_str(event, "event_id", "", is_blank_ok=False),
        "occurred_at": field.required_timestamp(event, "occurred_at", ""),
        "source_system": field.required_str(event, "source_system", "", is_blank_ok=True),
        "subject": {
            "a_number": optional(subject, "a_number", "subject"),
            "fbi_number": optional(subject, "fbi_number", "subject"),
            "fins_number": optional(subject, "fins_number", "subject"),
            "given_name": field.required_str(subject, "given_name", "subject", is_blank_ok=True),
            "middle_name": optional(subject, "middle_name", "subject"),
            "family_name": field.required_str(subject, "family_name", "subject", is_blank_ok=True),
            "aliases": aliases,
            "date_of_birth": field.optional_date(subject, "date_of_birth", "subject"),
            "country_of_birth": optional(subject, "country_of_birth", "subject"),
        },
        "custody": {
            "status": field.enum_name(custody, "status", "custody", CUSTODY_STATUSES),
            "facility_code": optional(custody, "facility_code", "custody"),
            "facility_name": optional(custody, "facility_name", "custody"),
            "facility_city": optional(custody, "facility_city", "custody"),
            "facility_state": optional(custody, "facility_state", "custody"),
            "status_changed_at": field.required_timestamp(custody, "status_changed_at", "custody"),
        },
        "case_notes": optional(event, "case_notes", ""),
    }


@dataclass(frozen=True, slots=True)
class RegistryEntry:
    """One person to protect, as imported: plaintext identity, not yet blinded.

    The default repr is safe: ``Identity`` redacts its own.
    """

    record_id: str
    basis: ProtectionBasis
    status: ProtectionStatus
    identity: Identity


def registry_entry_from_json(obj: Mapping[str, Any]) -> RegistryEntry:
    """A registry entry from its JSON line, refused if it could never match anyone.

    An entry with no identifier at all would be imported and protect nobody;
    the operator must hear about it instead. An entry with names but neither
    a number nor a date of birth is accepted: it protects through weak keys
    only (events that meet it are held for review, never published).
    """
    entry = field.require_object(obj, "")
    field.refuse_unknown_keys(entry, _ENTRY_KEYS, "")
    record_id = field.required_str(entry, "record_id", "", is_blank_ok=False)
    if not _is_valid_record_id(record_id):
        raise JsonInputError(
            None,
            "record_id",
            f"must be 1-{RECORD_ID_MAX_LENGTH} printable ASCII characters without spaces",
        )
    basis = ProtectionBasis(field.enum_name(entry, "basis", "", list(ProtectionBasis)))
    status = ProtectionStatus.ACTIVE
    if "status" in entry:
        status = ProtectionStatus(field.enum_name(entry, "status", "", list(ProtectionStatus)))
    names = tuple(_person_name(path, name) for path, name in field.object_list(entry, "names", ""))
    identity = Identity(
        a_numbers=field.str_list(entry, "a_numbers", ""),
        fbi_numbers=field.str_list(entry, "fbi_numbers", ""),
        fins_numbers=field.str_list(entry, "fins_numbers", ""),
        names=names,
        date_of_birth=field.optional_date(entry, "date_of_birth", ""),
    )
    has_number = bool(identity.a_numbers or identity.fbi_numbers or identity.fins_numbers)
    if not has_number and not names:
        raise JsonInputError(None, None, "entry has no identifier: it would protect nobody")
    return RegistryEntry(record_id, basis, status, identity)


def _is_valid_record_id(record_id: str) -> bool:
    # It becomes the Kafka key of a compacted topic: a stray space or control
    # character would make a second key that a later revocation does not reach.
    return 0 < len(record_id) <= RECORD_ID_MAX_LENGTH and all(
        "!" <= char <= "~" for char in record_id
    )


def _person_name(path: str, obj: Mapping[str, Any]) -> PersonName:
    field.refuse_unknown_keys(obj, _NAME_KEYS, path)
    given = field.optional_str(obj, "given_name", path, is_blank_ok=False)
    family = field.optional_str(obj, "family_name", path, is_blank_ok=False)
    if given is None and family is None:
        raise JsonInputError(None, path, "has neither given_name nor family_name")
    middle = field.optional_str(obj, "middle_name", path, is_blank_ok=False)
    return PersonName(given_name=given, family_name=family, middle_name=middle)


def to_json_line(decoded: Mapping[str, Any]) -> str:
    """One line of ``guard tail`` output: keys sorted, timestamps as UTC ``...Z``,
    dates ISO, bytes as hex. Sorted keys make output diffable between runs.

    Non-ASCII is escaped: the strings come off Kafka, and raw C1 control
    characters (U+009B is a terminal's CSI) or U+2028 would otherwise reach the
    operator's terminal or split the line for tools that treat them as breaks.
    """
    return json.dumps(decoded, default=_json_default, sort_keys=True, separators=(",", ":"))


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        utc = value.replace(tzinfo=UTC) if value.utcoffset() is None else value.astimezone(UTC)
        return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    raise TypeError(f"cannot render a {type(value).__name__} as JSON")


class _DuplicateKeyError(ValueError):
    """Two equal keys in one object: which one was meant is unknowable."""


class _NonFiniteNumberError(ValueError):
    """NaN or Infinity, which JSON does not have."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _DuplicateKeyError
    return obj


def _refuse_constant(_name: str) -> object:
    raise _NonFiniteNumberError


def iter_json_lines(stream: TextIO) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank line; 1-based line numbers.

    Errors carry the line and column, never the text: the line is someone's record.
    """
    line_no = 0
    lines = iter(stream)
    while True:
        try:
            line = next(lines)
        except StopIteration:
            return
        except UnicodeDecodeError:
            # Text streams decode in chunks, so the bad byte may sit a few lines on.
            line = None
        line_no += 1
        if line is None:
            raise JsonInputError(line_no, None, "not valid UTF-8 (on or after this line)")
        if not line.strip():
            continue
        yield line_no, _parse_line(line, line_no)


def _parse_line(line: str, line_no: int) -> dict[str, Any]:
    try:
        obj = json.loads(line, object_pairs_hook=_unique_keys, parse_constant=_refuse_constant)
    except _DuplicateKeyError:
        problem = "duplicate key in an object"
    except _NonFiniteNumberError:
        problem = "NaN and Infinity are not JSON"
    except json.JSONDecodeError as exc:
        problem = f"invalid JSON at column {exc.colno}"
    except (ValueError, RecursionError):
        problem = "invalid JSON"
    else:
        if isinstance(obj, dict):
            return obj
        problem = "line is not a JSON object"
    raise JsonInputError(line_no, None, problem)
