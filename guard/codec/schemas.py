"""The Avro schemas of the guard, found on disk and parsed once.

The ``.avsc`` files in ``<repo root>/schemas`` are the contract with the upstream
custody system and the public feed, so they are read from there rather than
copied into Python. ``GUARD_SCHEMA_DIR`` overrides the location for deployments
that ship the schemas elsewhere.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from fastavro import parse_schema
from fastavro.types import Schema

from guard.codec.errors import SchemaLoadError

SCHEMA_DIR_ENV = "GUARD_SCHEMA_DIR"

FieldPath = tuple[str, ...]
"""Field names from the top record down; ``*`` stands for every array item or map value."""
EVERY_ITEM = "*"


class ValueKind(StrEnum):
    """Values fastavro writes without the check the Avro type implies."""

    TIMESTAMP = "timestamp"
    """fastavro converts a naive datetime with ``time.mktime``, i.e. as local time."""
    INT = "int"
    """fastavro writes any Python int (or bool, or a truncated float) as a 32-bit int."""
    LONG = "long"
    """Likewise for 64 bits: booleans and floats pass, 1.5 becomes 1."""


@dataclass(frozen=True, slots=True)
class CheckedField:
    """A field whose values the codec checks itself before fastavro writes them."""

    path: FieldPath
    kind: ValueKind


class SchemaName(StrEnum):
    """One of the guard's schemas; the value is the file's stem under ``schemas/``."""

    CUSTODY_EVENT = "custody_status_changed"
    PROTECTION_RECORD = "protection_record"
    PUBLIC_NOTICE = "public_custody_notice"
    GUARD_DECISION = "guard_decision"
    HELD_EVENT = "held_event"
    PUBLICATION = "publication"
    RETRACTION = "retraction"

    @property
    def full_name(self) -> str:
        """The record's Avro full name, checked on load to catch a wrong directory."""
        return _FULL_NAMES[self]


_FULL_NAMES: Mapping[SchemaName, str] = {
    SchemaName.CUSTODY_EVENT: "gov.custody.v1.CustodyStatusChanged",
    SchemaName.PROTECTION_RECORD: "gov.custody.guard.v1.ProtectionRecord",
    SchemaName.PUBLIC_NOTICE: "gov.custody.public.v1.PublicCustodyNotice",
    SchemaName.GUARD_DECISION: "gov.custody.guard.v1.GuardDecision",
    SchemaName.HELD_EVENT: "gov.custody.guard.v1.HeldEvent",
    SchemaName.PUBLICATION: "gov.custody.guard.v1.Publication",
    SchemaName.RETRACTION: "gov.custody.public.v1.Retraction",
}

_TIMESTAMP_LOGICAL_TYPES = frozenset({"timestamp-millis", "timestamp-micros"})


@dataclass(frozen=True, slots=True)
class LoadedSchema:
    """A parsed schema plus what the codec must know about it beyond fastavro."""

    name: SchemaName
    parsed: Schema
    """fastavro's parsed form: parsing is costly, so it happens once per process."""
    raw: Mapping[str, Any]
    """The JSON as read, for other Avro implementations (the interop tests)."""
    checked_fields: tuple[CheckedField, ...]
    """Where the values sit that fastavro would write wrongly instead of refusing."""


def schema_dir() -> Path:
    """Where the ``.avsc`` files are: the environment's choice, else the repo's."""
    override = os.environ.get(SCHEMA_DIR_ENV)
    if override:
        return Path(override)
    # guard/codec/schemas.py -> the repository root (the package is installed editable).
    return Path(__file__).resolve().parents[2] / "schemas"


@cache
def load_schema(name: SchemaName) -> LoadedSchema:
    """Read, check and parse one schema; cached, so every codec shares one parse."""
    path = schema_dir() / f"{name.value}.avsc"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SchemaLoadError(str(path), f"unreadable ({type(exc).__name__})") from None
    try:
        raw = json.loads(text)
    except ValueError:
        raise SchemaLoadError(str(path), "not valid JSON") from None
    if not isinstance(raw, dict) or raw.get("type") != "record":
        raise SchemaLoadError(str(path), "top level is not a record schema")
    full_name = f"{raw.get('namespace', '')}.{raw.get('name', '')}".lstrip(".")
    if full_name != name.full_name:
        raise SchemaLoadError(str(path), f"record is {full_name}, expected {name.full_name}")
    try:
        # A fresh registry of named types per schema: the files are independent.
        parsed = parse_schema(raw, named_schemas={})
    except (ValueError, TypeError, KeyError) as exc:
        raise SchemaLoadError(str(path), f"rejected by fastavro ({exc})") from None
    return LoadedSchema(
        name=name,
        parsed=parsed,
        raw=raw,
        checked_fields=tuple(_checked_fields(raw, ())),
    )


def _checked_fields(schema: Any, path: FieldPath) -> Iterator[CheckedField]:
    """Walk records, arrays, maps and unions for timestamp, int and long values."""
    if isinstance(schema, list):
        for branch in schema:
            yield from _checked_fields(branch, path)
        return
    if schema in ("int", "long"):
        yield CheckedField(path, ValueKind(schema))
        return
    if not isinstance(schema, dict):
        return
    logical_type = schema.get("logicalType")
    if logical_type in _TIMESTAMP_LOGICAL_TYPES:
        yield CheckedField(path, ValueKind.TIMESTAMP)
        return
    kind = schema.get("type")
    if logical_type is None and kind in ("int", "long"):
        yield CheckedField(path, ValueKind(kind))
    elif kind == "record":
        for field in schema.get("fields", []):
            yield from _checked_fields(field["type"], (*path, field["name"]))
    elif kind == "array":
        yield from _checked_fields(schema.get("items"), (*path, EVERY_ITEM))
    elif kind == "map":
        yield from _checked_fields(schema.get("values"), (*path, EVERY_ITEM))
    elif isinstance(kind, (dict, list)):
        yield from _checked_fields(kind, path)
