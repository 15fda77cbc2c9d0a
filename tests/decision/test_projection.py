"""The public notice is an allowlist: schema-valid, and nothing else gets through."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import fastavro
import pytest
from decision_builders import (
    CHANGED_AT,
    OCCURRED_AT,
    REGISTRY_BLINDER,
    SUBJECT_REF_BLINDER,
    custody_event,
)
from hypothesis import given, reject
from hypothesis import strategies as st

from guard.decision.event import read_custody_facts
from guard.decision.projection import (
    notice_id,
    notice_key,
    project_notice,
    redacted_reference,
    subject_reference,
)
from guard.decision.subject import subject_identity
from guard.identity.errors import IdentityTooLarge
from guard.identity.keys import subject_keys
from guard.identity.model import Identity, PersonName

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "public_custody_notice.avsc"
NOTICE_SCHEMA = fastavro.parse_schema(json.loads(SCHEMA_PATH.read_text()))
NOTICE_FIELDS = {field["name"] for field in json.loads(SCHEMA_PATH.read_text())["fields"]}


def notice_for(event: dict[str, Any], *, is_redacted: bool = False) -> dict[str, Any]:
    identity = subject_identity(event["subject"])
    return project_notice(
        event_id=event["event_id"],
        identity=identity,
        subject=subject_keys(identity),
        facts=read_custody_facts(event),
        subject_ref_blinder=SUBJECT_REF_BLINDER,
        is_redacted=is_redacted,
    )


def round_trip(notice: dict[str, Any]) -> dict[str, Any]:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, NOTICE_SCHEMA, notice)
    buffer.seek(0)
    decoded = fastavro.schemaless_reader(buffer, NOTICE_SCHEMA, NOTICE_SCHEMA)
    assert isinstance(decoded, dict)
    return decoded


def test_published_notice_fields() -> None:
    event = custody_event(a_number="a 12-345-678", given_name="José", family_name="García",
                          status="TRANSFERRED")
    notice = notice_for(event)
    assert set(notice) == NOTICE_FIELDS
    assert notice["notice_id"] == notice_id("evt-1", SUBJECT_REF_BLINDER)
    assert notice["notice_id"] != "evt-1" and len(notice["notice_id"]) == 64
    assert notice["a_number"] == "012345678"
    assert (notice["given_name"], notice["family_name"]) == ("José", "García")
    assert notice["redacted"] is False
    assert notice["custody_status"] == "TRANSFERRED"
    assert notice["facility_code"] == "FAC01"
    assert notice["facility_state"] == "IL"
    assert notice["status_changed_at"] == CHANGED_AT
    assert notice["occurred_at"] == OCCURRED_AT
    assert round_trip(notice) == notice


def test_redacted_notice_fields() -> None:
    event = custody_event(a_number="012345678", given_name="José", family_name="García")
    notice = notice_for(event, is_redacted=True)
    assert set(notice) == NOTICE_FIELDS
    assert notice["redacted"] is True
    assert notice["a_number"] is None
    assert notice["given_name"] is None
    assert notice["family_name"] is None
    assert notice["subject_ref"] == redacted_reference("evt-1", SUBJECT_REF_BLINDER)
    assert notice["subject_ref"] != notice_for(event)["subject_ref"]
    assert notice["notice_id"] == notice_id("evt-1", SUBJECT_REF_BLINDER)
    assert round_trip(notice) == notice


def test_an_ambiguous_a_number_is_never_published() -> None:
    notice = notice_for(custody_event(a_number="12345678.0", given_name="Ana"))
    assert notice["a_number"] is None  # 012345678 or 123456780: neither is shown


def test_redacted_references_do_not_link_events_of_one_person() -> None:
    first = notice_for(custody_event(event_id="e1", a_number="012345678"), is_redacted=True)
    second = notice_for(custody_event(event_id="e2", a_number="012345678"), is_redacted=True)
    assert first["subject_ref"] != second["subject_ref"]
    assert notice_for(custody_event(event_id="e1", a_number="012345678"))["subject_ref"] == (
        notice_for(custody_event(event_id="e2", a_number="A-12-345-678"))["subject_ref"]
    )


_text = st.text(max_size=30)


@given(
    a_number=st.text(alphabet="0123456789", min_size=7, max_size=9).filter(
        lambda digits: len(set(digits)) > 1
    ),
    fbi=_text,
    fins=_text,
    notes=_text,
    country=_text,
    dob=st.dates(),
    aliases=st.lists(st.tuples(_text, _text), max_size=3),
)
def test_allowlist_never_carries_private_fields(
    a_number: str,
    fbi: str,
    fins: str,
    notes: str,
    country: str,
    dob: date,
    aliases: list[tuple[str, str]],
) -> None:
    event = custody_event(
        a_number=a_number,
        fbi_number="FBIMARK" + fbi,
        fins_number="FINSMARK" + fins,
        case_notes="<notes>" + notes,
        country_of_birth="<country>" + country,
        date_of_birth=dob,
        aliases=tuple(aliases),
        middle_name="Middle",
    )
    for is_redacted in (False, True):
        try:
            notice = notice_for(event, is_redacted=is_redacted)
        except IdentityTooLarge:
            # An alias of more than ten words: such an event is dead-lettered before any
            # notice is made (test_engine covers that), so there is nothing to project.
            reject()
        assert set(notice) == NOTICE_FIELDS
        for private in ("case_notes", "date_of_birth", "aliases", "fbi_number", "fins_number",
                        "country_of_birth", "source_system", "middle_name", "subject"):
            assert private not in notice
        values = [v for v in notice.values() if v is not None]
        assert dob not in values
        assert "Middle" not in values
        for marker in ("FBIMARK", "FINSMARK", "<notes>", "<country>"):
            assert all(marker not in str(v) for v in values)
        assert round_trip(notice) == notice


@pytest.mark.parametrize(
    ("identity", "key"),
    [
        (Identity(a_numbers=("12345678",), fbi_numbers=("F1",)), "a:012345678"),
        (Identity(fbi_numbers=("f-1",), fins_numbers=("S1",)), "fbi:F1"),
        (Identity(fins_numbers=("s1",)), "fins:51"),
        (Identity(names=(PersonName("José", "García"),), date_of_birth=date(1980, 2, 3)),
         "name:garcia jose|1980-02-03"),
        (Identity(names=(PersonName("José", "García"),)), "event:evt-9"),
    ],
)
def test_subject_reference_uses_the_strongest_key(identity: Identity, key: str) -> None:
    reference = subject_reference(subject_keys(identity), "evt-9", SUBJECT_REF_BLINDER)
    assert reference == SUBJECT_REF_BLINDER.blind(key).hex()
    assert reference != REGISTRY_BLINDER.blind(key).hex()
    assert len(reference) == 64


def test_notice_key_is_the_reference_in_ascii() -> None:
    notice = notice_for(custody_event(a_number="012345678"))
    assert notice_key(notice) == notice["subject_ref"].encode("ascii")
