"""The CLI's JSON-lines formats: custody events, registry entries, tail output."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from codec_samples import NOW, custody_event, protection_record
from codec_strategies import custody_events
from hypothesis import given

from guard.codec.avro import codec_for
from guard.codec.errors import JsonInputError
from guard.codec.jsonlines import (
    RegistryEntry,
    custody_event_from_json,
    iter_json_lines,
    registry_entry_from_json,
    to_json_line,
)
from guard.codec.schemas import SchemaName, load_schema
from guard.identity.model import PersonName
from guard.registry.model import ProtectionBasis, ProtectionStatus
from guard.registry.records import protection_record_to_avro

CUSTODY = codec_for(SchemaName.CUSTODY_EVENT)
REGISTRY = codec_for(SchemaName.PROTECTION_RECORD)


def event_json() -> dict[str, Any]:
    """The JSON form of ``codec_samples.custody_event()``."""
    loaded: dict[str, Any] = json.loads(to_json_line(custody_event()))
    return loaded


def json_error(obj: Any, *, registry: bool = False) -> JsonInputError:
    convert = registry_entry_from_json if registry else custody_event_from_json
    with pytest.raises(JsonInputError) as caught:
        convert(obj)
    return caught.value


# --- custody events ------------------------------------------------------------


def test_event_json_converts_to_the_codec_record() -> None:
    assert custody_event_from_json(event_json()) == custody_event()


@given(custody_events.filter(lambda event: event["event_id"].strip() != ""))
def test_tail_output_reads_back_as_the_same_event(event: dict[str, Any]) -> None:
    line = to_json_line(event)
    assert custody_event_from_json(json.loads(line)) == event


def test_input_keys_are_exactly_the_schema_fields() -> None:
    raw = load_schema(SchemaName.CUSTODY_EVENT).raw
    subject = next(f["type"] for f in raw["fields"] if f["name"] == "subject")
    custody = next(f["type"] for f in raw["fields"] if f["name"] == "custody")
    converted = custody_event_from_json(event_json())
    assert list(converted) == [f["name"] for f in raw["fields"]]
    assert list(converted["subject"]) == [f["name"] for f in subject["fields"]]
    assert list(converted["custody"]) == [f["name"] for f in custody["fields"]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-06T07:08:09.123Z", NOW),
        ("2024-05-06T07:08:09.123+00:00", NOW),
        ("2024-05-06T07:08:09.123", NOW),
        ("2024-05-06 07:08:09.123", NOW),
        ("2024-05-06T09:08:09.123+02:00", NOW),
        ("2024-05-06T02:08:09.123-05:00", NOW),
        ("2024-05-06T07:08:09.123999Z", NOW),
        ("2024-05-06T07:08:09Z", NOW.replace(microsecond=0)),
    ],
)
def test_timestamps_naive_or_zoned_become_utc_milliseconds(text: str, expected: datetime) -> None:
    obj = event_json()
    obj["occurred_at"] = text
    converted = custody_event_from_json(obj)["occurred_at"]
    assert converted == expected
    assert converted.tzinfo is UTC
    assert CUSTODY.decode(CUSTODY.encode(custody_event_from_json(obj)))["occurred_at"] == expected


def test_missing_optional_fields_default_and_nulls_are_accepted() -> None:
    obj = event_json()
    for key in ("a_number", "fbi_number", "middle_name", "aliases", "date_of_birth"):
        del obj["subject"][key]
    obj["subject"]["fins_number"] = None
    del obj["case_notes"]
    del obj["custody"]["facility_name"]
    converted = custody_event_from_json(obj)
    assert converted["subject"]["a_number"] is None
    assert converted["subject"]["fins_number"] is None
    assert converted["subject"]["aliases"] == []
    assert converted["subject"]["date_of_birth"] is None
    assert converted["case_notes"] is None
    assert converted["custody"]["facility_name"] is None
    assert CUSTODY.decode(CUSTODY.encode(converted)) == converted


def _set(obj: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    *parents, last = path.split(".")
    target = obj
    for key in parents:
        target = target[key]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return obj


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "field", "problem"),
    [
        ("event_id", _DELETE, "event_id", "is required"),
        ("event_id", " ", "event_id", "must not be blank"),
        ("event_id", 17, "event_id", "must be a string"),
        ("occurred_at", _DELETE, "occurred_at", "is required"),
        ("occurred_at", 1714979289123, "occurred_at", "ISO-8601"),
        ("occurred_at", "yesterday", "occurred_at", "is not an ISO-8601 timestamp"),
        ("subject", _DELETE, "subject", "must be a JSON object"),
        ("subject", ["x"], "subject", "must be a JSON object"),
        ("subject.given_name", _DELETE, "subject.given_name", "is required"),
        ("subject.given_name", None, "subject.given_name", "is required"),
        ("subject.family_name", ["GARCIA"], "subject.family_name", "must be a string"),
        ("subject.a_number", 12345678, "subject.a_number", "must be a string"),
        ("subject.family_name", "GARC\ud800IA", "subject.family_name", "not valid Unicode"),
        ("subject.date_of_birth", "19850314", "subject.date_of_birth", "YYYY-MM-DD"),
        ("subject.date_of_birth", "1985-02-30", "subject.date_of_birth", "calendar date"),
        ("subject.date_of_birth", "1985-03-14T00:00", "subject.date_of_birth", "YYYY-MM-DD"),
        ("subject.date_of_birth", "١٩٨٥-٠٣-١٤", "subject.date_of_birth", "YYYY-MM-DD"),
        ("subject.aliases", {"given_name": "x"}, "subject.aliases", "must be a list"),
        ("subject.aliases", ["GARCIA"], "subject.aliases[0]", "must be a JSON object"),
        (
            "subject.aliases",
            [{"given_name": "A", "family_name": "B"}, {"given_name": "C"}],
            "subject.aliases[1].family_name",
            "is required",
        ),
        ("custody.status", "in_custody", "custody.status", "must be one of IN_CUSTODY"),
        ("custody.status", _DELETE, "custody.status", "is required"),
        ("custody.status_changed_at", _DELETE, "custody.status_changed_at", "is required"),
        ("case_notes", 3.5, "case_notes", "must be a string"),
    ],
)
def test_event_field_problems_are_located(path: str, value: Any, field: str, problem: str) -> None:
    error = json_error(_set(event_json(), path, value))
    assert error.field == field
    assert problem in error.problem
    assert error.line_no is None


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ("a_numbr", None),
        ("subject.a_numbr", "subject"),
        ("custody.facility", "custody"),
        ("subject.aliases", "subject.aliases[0]"),
    ],
)
def test_unknown_keys_are_refused_with_the_allowed_names(path: str, where: str | None) -> None:
    obj = event_json()
    if path == "subject.aliases":
        obj["subject"]["aliases"][0]["middle_name"] = "X"
    else:
        _set(obj, path, "A-012-345-678")
    error = json_error(obj)
    assert error.field == where
    assert error.problem.startswith("1 unknown field(s); allowed:")


def test_a_non_object_is_refused() -> None:
    assert json_error(["event"]).problem == "must be a JSON object"


# --- registry entries -----------------------------------------------------------


def entry_json(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "record_id": "REG-0001",
        "basis": "T_VISA",
        "a_numbers": ["A-012-345-678", "12345678"],
        "fbi_numbers": ["123456AB7"],
        "fins_numbers": [],
        "names": [
            {"given_name": "MARIA", "middle_name": "ELENA", "family_name": "GARCIA LOPEZ"},
            {"given_name": "MARY", "family_name": "LOPEZ"},
        ],
        "date_of_birth": "1985-03-14",
    }
    entry.update(overrides)
    return {key: value for key, value in entry.items() if value is not _DELETE}


def test_registry_entry_converts_with_defaults() -> None:
    entry = registry_entry_from_json(entry_json())
    assert isinstance(entry, RegistryEntry)
    assert entry.record_id == "REG-0001"
    assert entry.basis is ProtectionBasis.T_VISA
    assert entry.status is ProtectionStatus.ACTIVE
    assert entry.identity.a_numbers == ("A-012-345-678", "12345678")
    assert entry.identity.fbi_numbers == ("123456AB7",)
    assert entry.identity.fins_numbers == ()
    assert entry.identity.names == (
        PersonName(given_name="MARIA", family_name="GARCIA LOPEZ", middle_name="ELENA"),
        PersonName(given_name="MARY", family_name="LOPEZ", middle_name=None),
    )
    assert entry.identity.date_of_birth == date(1985, 3, 14)


def test_revoked_status_and_absent_lists_are_accepted() -> None:
    entry = registry_entry_from_json(
        entry_json(status="REVOKED", fbi_numbers=_DELETE, fins_numbers=_DELETE, names=_DELETE)
    )
    assert entry.status is ProtectionStatus.REVOKED
    assert entry.identity.names == ()
    assert entry.identity.fbi_numbers == ()


@pytest.mark.parametrize(
    "overrides",
    [
        {"names": _DELETE, "date_of_birth": _DELETE},  # numbers only
        {"a_numbers": _DELETE, "fbi_numbers": _DELETE},  # names and DOB
        {"date_of_birth": _DELETE},  # names without DOB, but numbers match
        {"a_numbers": _DELETE, "fbi_numbers": _DELETE, "names": [{"family_name": "LOPEZ"}]},
        {"record_id": "R" * 128},
        {"record_id": "reg:2024/0001#a~b"},
    ],
)
def test_entries_that_can_match_are_accepted(overrides: dict[str, Any]) -> None:
    line = entry_json(**overrides)
    entry = registry_entry_from_json(line)
    assert entry.record_id == line["record_id"]
    identity = entry.identity
    assert identity.a_numbers or identity.fbi_numbers or identity.fins_numbers or identity.names
    assert identity.names == tuple(
        PersonName(n.get("given_name"), n.get("family_name"), n.get("middle_name"))
        for n in line.get("names", [])
    )


_NO_NUMBERS = {"a_numbers": _DELETE, "fbi_numbers": _DELETE, "fins_numbers": _DELETE}


@pytest.mark.parametrize(
    ("overrides", "field", "problem"),
    [
        ({**_NO_NUMBERS, "names": _DELETE}, None, "no identifier"),
        ({**_NO_NUMBERS, "names": []}, None, "no identifier"),
        ({"record_id": _DELETE}, "record_id", "is required"),
        ({"record_id": ""}, "record_id", "must not be blank"),
        ({"record_id": "R" * 129}, "record_id", "printable ASCII"),
        ({"record_id": "REG 0001"}, "record_id", "printable ASCII"),
        ({"record_id": "REG-0001\n"}, "record_id", "printable ASCII"),
        ({"record_id": "REG-0001\x00"}, "record_id", "printable ASCII"),
        ({"record_id": "REG-é"}, "record_id", "printable ASCII"),
        ({"record_id": 1}, "record_id", "must be a string"),
        ({"basis": _DELETE}, "basis", "is required"),
        ({"basis": "t_visa"}, "basis", "must be one of"),
        ({"status": "EXPIRED"}, "status", "must be one of ACTIVE, REVOKED"),
        ({"status": None}, "status", "is required"),
        ({"a_numbers": "A-012-345-678"}, "a_numbers", "must be a list"),
        ({"a_numbers": ["A-012-345-678", " "]}, "a_numbers[1]", "must not be blank"),
        ({"fins_numbers": [1234567]}, "fins_numbers[0]", "must be a string"),
        ({"names": [{}]}, "names[0]", "neither given_name nor family_name"),
        ({"names": [{"given_name": " "}]}, "names[0].given_name", "must not be blank"),
        ({"names": [{"family_name": "X", "surname": "Y"}]}, "names[0]", "unknown field"),
        ({"names": ["GARCIA"]}, "names[0]", "must be a JSON object"),
        ({"date_of_birth": "14/03/1985"}, "date_of_birth", "YYYY-MM-DD"),
        ({"dob": "1985-03-14"}, None, "unknown field"),
    ],
)
def test_registry_entry_problems(
    overrides: dict[str, Any], field: str | None, problem: str
) -> None:
    error = json_error(entry_json(**overrides), registry=True)
    assert error.field == field
    assert problem in error.problem


# --- tail output -------------------------------------------------------------------


def test_json_line_renders_avro_values() -> None:
    decoded = REGISTRY.decode(REGISTRY.encode(protection_record_to_avro(protection_record())))
    line = to_json_line(decoded)
    assert "\n" not in line
    parsed = json.loads(line)
    assert list(parsed) == sorted(parsed)
    assert parsed["created_at"] == "2024-05-06T07:08:09.123Z"
    assert parsed["blinded_keys"][0] == "00" * 32
    assert json.loads(to_json_line(custody_event()))["subject"]["date_of_birth"] == "1985-03-14"


def test_json_line_is_stable_whatever_the_key_order() -> None:
    event = custody_event()
    reordered = dict(reversed(list(event.items())))
    assert to_json_line(reordered) == to_json_line(event)


def test_json_line_converts_zones_to_utc() -> None:
    eastern = datetime(2024, 5, 6, 2, 8, 9, 123000, tzinfo=timezone(timedelta(hours=-5)))
    assert to_json_line({"t": eastern}) == '{"t":"2024-05-06T07:08:09.123Z"}'
    assert to_json_line({"t": datetime(2024, 5, 6, 7, 8, 9)}) == '{"t":"2024-05-06T07:08:09.000Z"}'


def test_json_line_refuses_unknown_types_by_type_name_only() -> None:
    with pytest.raises(TypeError, match="cannot render a frozenset as JSON"):
        to_json_line({"keys": frozenset({"GARCIA"})})


# --- line reading -------------------------------------------------------------------


def test_lines_are_numbered_from_one_and_blank_lines_skipped() -> None:
    stream = io.StringIO('{"a": 1}\n\n   \n{"b": 2}\n{"c": 3}')
    assert list(iter_json_lines(stream)) == [(1, {"a": 1}), (4, {"b": 2}), (5, {"c": 3})]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"a_number": "A-012-345-678"', "invalid JSON at column"),
        ('["GARCIA"]', "not a JSON object"),
        ('"GARCIA"', "not a JSON object"),
        ('{"a": 1, "a": 2}', "duplicate key"),
        ('{"a": {"b": 1, "b": 1}}', "duplicate key"),
        ('{"a": NaN}', "NaN and Infinity"),
        ('{"a": Infinity}', "NaN and Infinity"),
        ("{" * 100_000, "invalid JSON"),
    ],
)
def test_bad_lines_name_the_line_not_the_content(text: str, problem: str) -> None:
    stream = io.StringIO('{"ok": true}\n\n' + text + "\n")
    lines = iter_json_lines(stream)
    assert next(lines) == (1, {"ok": True})
    with pytest.raises(JsonInputError) as caught:
        next(lines)
    assert caught.value.line_no == 3
    assert problem in caught.value.problem
    assert str(caught.value).startswith("line 3: ")


def test_undecodable_bytes_are_a_json_input_error() -> None:
    stream = io.TextIOWrapper(io.BytesIO(b'{"a": "GARC\xffIA"}\n'), encoding="utf-8")
    with pytest.raises(JsonInputError, match="not valid UTF-8"):
        list(iter_json_lines(stream))


def test_at_line_locates_a_converter_error() -> None:
    error = json_error(_set(event_json(), "event_id", _DELETE)).at_line(7)
    assert (error.line_no, error.field, error.problem) == (7, "event_id", "is required")
    assert str(error) == "line 7: event_id: is required"


def test_json_line_escapes_control_and_non_ascii_characters() -> None:
    line = to_json_line({"name": "GARCÍA\u009b2J\u2028\x1b[0m"})
    assert line.isascii()
    assert json.loads(line) == {"name": "GARCÍA\u009b2J\u2028\x1b[0m"}


def test_a_registry_entry_with_names_but_no_number_or_date_is_accepted() -> None:
    """It protects through weak keys only: events that meet it are held for review."""
    entry = registry_entry_from_json(entry_json(**{**_NO_NUMBERS, "date_of_birth": None}))
    assert entry.identity.date_of_birth is None and entry.identity.names
