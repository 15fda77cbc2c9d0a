"""No failure of the codec may carry a plaintext identifier.

Each test plants an A-number, a family name, a date of birth and case notes in
the input, makes the codec fail, and searches the exception (str, repr, args and
anything chained) for them. Where fastavro's or the standard library's own
message *does* quote the value, the test shows that first, so it proves the
codec is what keeps the value out.
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial
from typing import Any

import pytest
from codec_samples import (
    PLANTED_A_NUMBER,
    PLANTED_DOB,
    PLANTED_FAMILY_NAME,
    PLANTED_NOTES,
    PLANTED_TEXTS,
    assert_no_plaintext,
    custody_event,
    protection_record,
)
from fastavro import schemaless_writer
from hypothesis import given, settings
from hypothesis import strategies as st

from guard.codec.avro import codec_for
from guard.codec.errors import CodecError, DecodeError, EncodeError, JsonInputError
from guard.codec.jsonlines import (
    custody_event_from_json,
    iter_json_lines,
    registry_entry_from_json,
    to_json_line,
)
from guard.codec.schemas import SchemaName, load_schema
from guard.identity.model import Identity, PersonName
from guard.registry.records import protection_record_from_avro, protection_record_to_avro

CUSTODY = codec_for(SchemaName.CUSTODY_EVENT)
PLANTED_EVENT_BYTES = CUSTODY.encode(custody_event())

BAD_VALUES: tuple[Any, ...] = (
    PLANTED_A_NUMBER,
    PLANTED_DOB.isoformat(),
    1985,
    [PLANTED_FAMILY_NAME],
    {PLANTED_FAMILY_NAME: PLANTED_NOTES},
    PLANTED_NOTES.encode(),
    f"{PLANTED_NOTES}\ud800",
    datetime(1985, 3, 14),
    "",
)


def failure(action: Callable[[], object], expected: type[CodecError]) -> CodecError:
    with pytest.raises(expected) as caught:
        action()
    return caught.value


def raw_fastavro_message(record: Any) -> str:
    try:
        schemaless_writer(
            io.BytesIO(), load_schema(SchemaName.CUSTODY_EVENT).parsed, record, strict=True
        )
    except (ValueError, TypeError) as exc:
        return str(exc)
    raise AssertionError("fastavro accepted the record")


def leaf_paths(obj: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every position in a nested dict/list (each container and each leaf)."""
    if prefix:
        yield prefix
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from leaf_paths(value, (*prefix, key))
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            yield from leaf_paths(value, (*prefix, index))


def replaced(obj: Any, path: tuple[Any, ...], value: Any) -> Any:
    copied = copy.deepcopy(obj)
    target = copied
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return copied


# --- decoding -----------------------------------------------------------------------


def test_truncations_never_quote_the_payload() -> None:
    for length in range(len(PLANTED_EVENT_BYTES)):
        prefix = PLANTED_EVENT_BYTES[:length]
        assert_no_plaintext(failure(partial(CUSTODY.decode, prefix), DecodeError))


def test_trailing_bytes_never_quote_the_payload() -> None:
    data = PLANTED_EVENT_BYTES + PLANTED_FAMILY_NAME.encode()
    assert_no_plaintext(failure(lambda: CUSTODY.decode(data), DecodeError))


def test_invalid_utf8_inside_a_name_never_quotes_it() -> None:
    position = PLANTED_EVENT_BYTES.index(PLANTED_FAMILY_NAME.encode())
    data = PLANTED_EVENT_BYTES[: position + 3] + b"\xff" + PLANTED_EVENT_BYTES[position + 4 :]
    error = failure(lambda: CUSTODY.decode(data), DecodeError)
    assert "UnicodeDecodeError" in str(error)
    assert_no_plaintext(error)


@settings(max_examples=300)
@given(st.data())
def test_mutated_planted_events_never_quote_the_payload(draw: st.DataObject) -> None:
    data = bytearray(PLANTED_EVENT_BYTES)
    for _ in range(draw.draw(st.integers(1, 3))):
        data[draw.draw(st.integers(0, len(data) - 1))] = draw.draw(st.integers(0, 255))
    try:
        CUSTODY.decode(bytes(data))
    except DecodeError as error:
        assert_no_plaintext(error)


# --- encoding -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value", "planted"),
    [
        (("custody", "status"), PLANTED_FAMILY_NAME, PLANTED_FAMILY_NAME),
        (("subject", "a_number"), PLANTED_A_NUMBER.encode(), PLANTED_A_NUMBER),
        (("subject", "date_of_birth"), PLANTED_FAMILY_NAME, PLANTED_FAMILY_NAME),
        (("subject", PLANTED_FAMILY_NAME), "x", PLANTED_FAMILY_NAME),
        (("case_notes",), [PLANTED_NOTES], PLANTED_NOTES),
    ],
)
def test_fastavro_quotes_values_but_the_codec_does_not(
    path: tuple[str, ...], value: Any, planted: str
) -> None:
    record = replaced(custody_event(), path, value)
    assert planted in raw_fastavro_message(record)
    assert_no_plaintext(failure(lambda: CUSTODY.encode(record), EncodeError))


def test_every_bad_value_anywhere_in_an_event_fails_without_plaintext() -> None:
    event = custody_event()
    failures = 0
    for path in leaf_paths(event):
        for value in BAD_VALUES:
            try:
                CUSTODY.encode(replaced(event, path, value))
            except EncodeError as error:
                assert_no_plaintext(error)
                failures += 1
    assert failures > 150  # the sweep really exercised the failure paths


@pytest.mark.parametrize("name", list(SchemaName))
def test_encoding_a_non_record_fails_without_plaintext(name: SchemaName) -> None:
    error = failure(lambda: codec_for(name).encode(PLANTED_A_NUMBER), EncodeError)  # type: ignore[arg-type]
    assert_no_plaintext(error)


# --- JSON input ------------------------------------------------------------------------


def _event_json() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(to_json_line(custody_event()))
    return loaded


def test_every_bad_value_anywhere_in_event_json_fails_without_plaintext() -> None:
    obj = _event_json()
    failures = 0
    for path in leaf_paths(obj):
        for value in BAD_VALUES:
            if isinstance(value, (bytes, datetime)):
                continue  # not JSON types
            try:
                custody_event_from_json(replaced(obj, path, value))
            except JsonInputError as error:
                assert_no_plaintext(error)
                failures += 1
    assert failures > 100


def test_stdlib_timestamp_parser_quotes_the_value_but_the_codec_does_not() -> None:
    text = f"{PLANTED_A_NUMBER}T00:00"
    with pytest.raises(ValueError, match=PLANTED_A_NUMBER):
        datetime.fromisoformat(text)
    obj = replaced(_event_json(), ("occurred_at",), text)
    assert_no_plaintext(failure(lambda: custody_event_from_json(obj), JsonInputError))
    obj = replaced(_event_json(), ("subject", "date_of_birth"), "1985-02-30")
    assert_no_plaintext(failure(lambda: custody_event_from_json(obj), JsonInputError))


@pytest.mark.parametrize(
    "overrides",
    [
        {"record_id": f"{PLANTED_A_NUMBER} {PLANTED_FAMILY_NAME}"},
        {"record_id": PLANTED_NOTES},
        {"record_id": PLANTED_A_NUMBER * 20},
        {"basis": PLANTED_FAMILY_NAME},
        {"status": PLANTED_A_NUMBER},
        {PLANTED_FAMILY_NAME: PLANTED_A_NUMBER},
        {"a_numbers": PLANTED_A_NUMBER},
        {"a_numbers": [PLANTED_A_NUMBER, 1985]},
        {"names": [{"given_name": "MARIA", PLANTED_FAMILY_NAME: PLANTED_FAMILY_NAME}]},
        {"names": [PLANTED_FAMILY_NAME]},
        {"date_of_birth": "14/03/1985"},
        {"date_of_birth": "1985-03-32"},
        {"a_numbers": [], "fbi_numbers": [], "fins_numbers": [], "names": []},
        {"a_numbers": [], "fbi_numbers": [], "names": []},
    ],
)
def test_registry_entry_failures_carry_no_plaintext(overrides: dict[str, Any]) -> None:
    entry = {
        "record_id": "REG-1",
        "basis": "U_VISA",
        "a_numbers": [PLANTED_A_NUMBER],
        "fbi_numbers": ["123456AB7"],
        "names": [{"given_name": "MARIA", "family_name": PLANTED_FAMILY_NAME}],
        "date_of_birth": PLANTED_DOB.isoformat(),
    } | overrides
    assert_no_plaintext(failure(lambda: registry_entry_from_json(entry), JsonInputError))


@pytest.mark.parametrize(
    "line",
    [
        f'{{"a_number": "{PLANTED_A_NUMBER}", "family_name": "{PLANTED_FAMILY_NAME}"',
        f'{{"case_notes": "{PLANTED_NOTES}" "x": 1}}',
        f'{{"family_name": "{PLANTED_FAMILY_NAME}", "family_name": "{PLANTED_FAMILY_NAME}"}}',
        f'["{PLANTED_A_NUMBER}"]',
        f'{{"dob": "{PLANTED_DOB}", "n": NaN}}',
        f'{{"a": "{PLANTED_FAMILY_NAME}\x01"}}',
    ],
)
def test_bad_json_lines_carry_no_plaintext(line: str) -> None:
    def read() -> object:
        return list(iter_json_lines(io.StringIO(line)))

    assert_no_plaintext(failure(read, JsonInputError))


def test_undecodable_line_carries_no_plaintext() -> None:
    raw = f'{{"family_name": "{PLANTED_FAMILY_NAME}\xff"}}'.encode("latin-1")
    stream = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8")
    assert_no_plaintext(failure(lambda: list(iter_json_lines(stream)), JsonInputError))


# --- registry records, tail output, reprs ------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("basis", PLANTED_FAMILY_NAME),
        ("status", PLANTED_A_NUMBER),
        ("record_ref", 1985),
        ("weak_keys", [PLANTED_A_NUMBER.encode()]),
        ("created_at", PLANTED_DOB.isoformat()),
        ("blinded_keys", [PLANTED_A_NUMBER.encode()]),
    ],
)
def test_registry_record_failures_carry_no_plaintext(field: str, value: Any) -> None:
    decoded = protection_record_to_avro(protection_record()) | {field: value}
    assert_no_plaintext(failure(lambda: protection_record_from_avro(decoded), DecodeError))


def test_unrenderable_tail_value_names_only_its_type() -> None:
    with pytest.raises(TypeError) as caught:
        to_json_line({"names": {PLANTED_FAMILY_NAME}})
    for planted in PLANTED_TEXTS:
        assert planted not in str(caught.value)


def test_registry_entry_repr_is_redacted() -> None:
    entry = registry_entry_from_json(
        {
            "record_id": "REG-1",
            "basis": "T_VISA",
            "a_numbers": [PLANTED_A_NUMBER],
            "names": [{"given_name": "MARIA", "family_name": PLANTED_FAMILY_NAME}],
            "date_of_birth": PLANTED_DOB.isoformat(),
        }
    )
    assert entry.identity == Identity(
        a_numbers=(PLANTED_A_NUMBER,),
        names=(PersonName(given_name="MARIA", family_name=PLANTED_FAMILY_NAME),),
        date_of_birth=PLANTED_DOB,
    )
    for planted in PLANTED_TEXTS:
        assert planted not in repr(entry)
        assert planted not in str(entry)
