"""The resolution checker, held against an independent one: the Apache ``avro`` package's
``ReaderWriterCompatibilityChecker`` (a port of Java's ``SchemaCompatibility``)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import avro.compatibility
import avro.schema
import pytest

from guard.codec.compatibility import check_compatibility
from guard.codec.schemas import SchemaName, load_schema

Schema = dict[str, Any]


def _schema(name: SchemaName) -> Schema:
    return copy.deepcopy(dict(load_schema(name).raw))


def _fields(schema: Schema, *path: str) -> list[dict[str, Any]]:
    """The field list of the record at ``path`` (field names, top down)."""
    record = schema
    for name in path:
        record = next(f for f in record["fields"] if f["name"] == name)["type"]
    fields: list[dict[str, Any]] = record["fields"]
    return fields


def _field(schema: Schema, *path: str) -> dict[str, Any]:
    found: dict[str, Any] = next(f for f in _fields(schema, *path[:-1]) if f["name"] == path[-1])
    return found


def _add_optional(s: Schema) -> None:
    _fields(s, "subject").append({"name": "x", "type": ["null", "string"], "default": None})


def _add_required(s: Schema) -> None:
    _fields(s, "custody").append({"name": "x", "type": "string"})


def _drop_defaulted(s: Schema) -> None:
    _fields(s, "subject").pop(0)  # a_number has a default


def _drop_required(s: Schema) -> None:
    del _fields(s, "subject")[3]  # given_name has none


def _widen_to_string_union(s: Schema) -> None:
    _field(s, "subject", "given_name")["type"] = ["null", "string"]


def _promote_int(s: Schema) -> None:
    _field(s, "input_partition")["type"] = "long"


def _enum_symbol(s: Schema) -> None:
    _field(s, "custody", "status")["type"]["symbols"].append("NEW")


def _reorder(s: Schema) -> None:
    s["fields"].reverse()


def _rename_record(s: Schema) -> None:
    s["name"] = "Other"


def _array_items(s: Schema) -> None:
    _field(s, "subject", "aliases")["type"]["items"] = "string"


MUTATIONS: dict[str, tuple[SchemaName, Callable[[Schema], None]]] = {
    "add optional": (SchemaName.CUSTODY_EVENT, _add_optional),
    "add required": (SchemaName.CUSTODY_EVENT, _add_required),
    "drop defaulted": (SchemaName.CUSTODY_EVENT, _drop_defaulted),
    "drop required": (SchemaName.CUSTODY_EVENT, _drop_required),
    "union widening": (SchemaName.CUSTODY_EVENT, _widen_to_string_union),
    "enum symbol": (SchemaName.CUSTODY_EVENT, _enum_symbol),
    "reorder": (SchemaName.CUSTODY_EVENT, _reorder),
    "rename record": (SchemaName.CUSTODY_EVENT, _rename_record),
    "array items": (SchemaName.CUSTODY_EVENT, _array_items),
    "int to long": (SchemaName.GUARD_DECISION, _promote_int),
}


def _theirs(reader: Schema, writer: Schema) -> bool:
    checker = avro.compatibility.ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]
    result = checker.get_compatibility(
        avro.schema.parse(json.dumps(reader)), avro.schema.parse(json.dumps(writer))
    )
    return bool(result.compatibility is avro.compatibility.SchemaCompatibilityType.compatible)


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
@pytest.mark.parametrize("direction", ["new reads old", "old reads new"])
def test_agrees_with_the_avro_package(mutation: str, direction: str) -> None:
    name, mutate = MUTATIONS[mutation]
    old = _schema(name)
    new = _schema(name)
    mutate(new)
    reader, writer = (new, old) if direction == "new reads old" else (old, new)
    ours = check_compatibility(reader, writer)
    assert ours.is_compatible == _theirs(reader, writer), ours.problems


def test_problems_name_reader_fields_and_defaults_are_reported() -> None:
    old = _schema(SchemaName.CUSTODY_EVENT)
    new = _schema(SchemaName.CUSTODY_EVENT)
    _drop_required(new)
    _drop_defaulted(new)
    verdict = check_compatibility(old, new)
    assert verdict.problems == ("subject.given_name: missing from the writer, and no default",)
    assert verdict.defaulted == {"subject.a_number"}


def test_logical_types_must_agree_because_fastavro_converts_by_the_writers() -> None:
    reader = _schema(SchemaName.CUSTODY_EVENT)
    writer = _schema(SchemaName.CUSTODY_EVENT)
    _field(writer, "occurred_at")["type"] = "long"
    assert check_compatibility(reader, writer).problems == ("occurred_at: logical types differ",)


def test_recursive_named_types_terminate() -> None:
    node = {
        "type": "record",
        "name": "Node",
        "fields": [{"name": "next", "type": ["null", "Node"], "default": None}],
    }
    assert check_compatibility(node, copy.deepcopy(node)).is_compatible
