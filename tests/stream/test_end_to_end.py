"""The whole pipeline on the real broker: what gets published, dropped and rejected."""

from __future__ import annotations

import asyncio
import uuid

from stream_harness import GuardHarness, by_event, custody_event, protection

from guard.codec.avro import codec_for
from guard.codec.jsonlines import custody_event_from_json
from guard.codec.schemas import SchemaName
from guard.kafka.clients import new_producer

JOSE = protection(
    "rec-jose",
    a_numbers=["A-012-345-678"],
    names=[{"given_name": "José", "family_name": "GARCÍA LÓPEZ"}],
    date_of_birth="1987-03-14",
)
AMINA = protection(
    "rec-amina",
    fbi_numbers=["123-456-AB7"],
    fins_numbers=["fins 77-1234"],
    names=[
        {"given_name": "Amina", "family_name": "Haddad"},
        {"given_name": "Amina", "family_name": "Mansour"},
    ],
    date_of_birth="1992-11-02",
)

# Every way upstream may write the same protected people.
PROTECTED_VARIANTS = [
    custody_event("p-anum-dashes", a_number="A-012-345-678"),
    custody_event("p-anum-lower", a_number="a12345678"),
    custody_event("p-anum-digits", a_number="012345678"),
    custody_event("p-anum-spaces", a_number="A 012 345 678"),
    custody_event(
        "p-name-plain", given_name="Jose", family_name="Garcia", date_of_birth="1987-03-14"
    ),
    custody_event(
        "p-name-swapped", given_name="GARCIA", family_name="JOSE", date_of_birth="1987-03-14"
    ),
    custody_event(
        "p-name-full",
        given_name="josé",
        middle_name="Maria",
        family_name="garcía-lópez",
        date_of_birth="1987-03-14",
    ),
    custody_event(
        "p-alias",
        given_name="Someone",
        family_name="Else",
        aliases=[{"given_name": "Jose", "family_name": "Lopez"}],
        date_of_birth="1987-03-14",
    ),
    custody_event("p-fbi", fbi_number="123456ab7"),
    custody_event("p-fins", fins_number="FINS-77 1234"),
    custody_event(
        "p-second-name", given_name="AMINA", family_name="mansour", date_of_birth="1992-11-02"
    ),
]
UNPROTECTED = [
    custody_event(
        "u-miller",
        a_number="A-055-123-456",
        given_name="Robert",
        family_name="Miller",
        date_of_birth="1970-01-05",
    ),
    # Same name as a protected person but another date of birth (not January 1,
    # which may stand for a year only): not a match.
    custody_event(
        "u-namesake", given_name="Jose", family_name="Garcia", date_of_birth="1990-06-15"
    ),
]


async def test_protected_dropped_unprotected_published_with_allowlist_only(
    guard: GuardHarness,
) -> None:
    await guard.protect(JOSE, AMINA)
    guard.start_worker()
    events = PROTECTED_VARIANTS + UNPROTECTED
    await guard.send(*events)

    decided = by_event(await guard.decisions(at_least=len(events)))

    assert set(decided) == {e["event_id"] for e in events}
    for event in PROTECTED_VARIANTS:
        assert decided[event["event_id"]]["decision"] == "DROP", event["event_id"]
    for event in UNPROTECTED:
        assert decided[event["event_id"]]["decision"] == "PUBLISH", event["event_id"]
    notices = await guard.notices(at_least=len(UNPROTECTED))
    assert sorted(n["event_id"] for n in notices) == ["u-miller", "u-namesake"]
    miller = next(n for n in notices if n["event_id"] == "u-miller")
    assert miller["a_number"] == "055123456"
    assert set(miller) - {"event_id"} == {  # event_id: the harness's annotation
        "notice_id",
        "subject_ref",
        "redacted",
        "a_number",
        "given_name",
        "family_name",
        "custody_status",
        "facility_code",
        "facility_name",
        "facility_city",
        "facility_state",
        "status_changed_at",
        "occurred_at",
    }
    public = b"".join(await guard.public_bytes())
    assert b"CASE-NOTE" not in public
    assert b"1970" not in public  # date of birth is not allowlisted
    for protected in (b"012345678", b"Amina", b"AMINA", b"Mansour", b"Haddad", b"123456AB7"):
        assert protected not in public


async def test_malformed_bytes_go_to_dead_letter_and_the_next_event_flows(
    guard: GuardHarness,
) -> None:
    guard.start_worker()
    await guard.send_raw(guard.topics.custody, b"\x02\xff not avro at all")
    await guard.send(custody_event("after-garbage", a_number="A-055-123-456"))

    decisions = await guard.decisions(at_least=2)
    letters = await guard.dead_letters(at_least=1)

    rejects = [d for d in decisions if d["decision"] == "REJECT"]
    assert [d["reason"] for d in rejects] == ["undecodable"]
    assert by_event(decisions)["after-garbage"]["decision"] == "PUBLISH"
    assert len(letters) == 1
    headers = dict(letters[0].headers)
    assert headers["guard.reason"] == b"undecodable"
    assert letters[0].value == b"\x02\xff not avro at all"


async def test_an_event_of_an_aborted_upstream_transaction_is_never_decided(
    guard: GuardHarness,
) -> None:
    """Upstream wrote an event in a transaction and aborted it: the event never happened.
    The worker reads custody ``read_committed``, so it decides only the committed one
    sent after it (the aborted record sits at a lower offset of the same partition)."""
    guard.start_worker()
    codec = codec_for(SchemaName.CUSTODY_EVENT)
    aborted = custody_event("aborted-upstream", a_number="A-055-000-111")
    guard.remember("aborted-upstream")
    upstream = new_producer(guard.connection, transactional_id=f"upstream-{uuid.uuid4()}")
    await upstream.start()
    try:
        await upstream.begin_transaction()
        await upstream.send_and_wait(guard.topics.custody, codec.encode(
            custody_event_from_json(aborted)), key=b"same-key", partition=0)  # fmt: skip
        await upstream.abort_transaction()
        await upstream.begin_transaction()
        await upstream.send_and_wait(guard.topics.custody, codec.encode(
            custody_event_from_json(custody_event("committed-upstream", a_number="A-055-000-222"))
        ), key=b"same-key", partition=0)  # fmt: skip
        await upstream.commit_transaction()
    finally:
        await upstream.stop()
    guard.remember("committed-upstream")

    decisions = await guard.decisions(at_least=1)
    assert [d["event_id"] for d in decisions] == ["committed-upstream"]
    assert by_event(decisions)["committed-upstream"]["decision"] == "PUBLISH"
    assert [n["event_id"] for n in await guard.notices()] == ["committed-upstream"]


async def test_invalid_a_number_is_rejected_not_published(guard: GuardHarness) -> None:
    guard.start_worker()
    await guard.send(custody_event("bad-anum", a_number="A-12"))

    (decision,) = await guard.decisions(at_least=1)

    assert decision["decision"] == "REJECT"
    assert decision["reason"] == "invalid_a_number"
    assert await guard.notices() == []


async def test_revocation_and_tombstone_lift_protection(guard: GuardHarness) -> None:
    await guard.protect(JOSE, AMINA)
    guard.start_worker()
    await guard.send(
        custody_event("before-jose", a_number="A12345678"),
        custody_event("before-amina", fbi_number="123-456-AB7"),
    )
    first = by_event(await guard.decisions(at_least=2))
    assert first["before-jose"]["decision"] == "DROP"
    assert first["before-amina"]["decision"] == "DROP"

    revoked = dict(JOSE, status="REVOKED")
    await guard.protect(revoked)
    await guard.tombstone("rec-amina")
    await guard.send(
        custody_event("after-jose", a_number="A12345678"),
        custody_event("after-amina", fbi_number="123-456-AB7"),
    )

    after = by_event(await guard.decisions(at_least=4))
    assert after["after-jose"]["decision"] == "PUBLISH"
    assert after["after-amina"]["decision"] == "PUBLISH"


async def test_protection_written_just_before_the_event_always_wins(guard: GuardHarness) -> None:
    guard.start_worker()
    await guard.send(custody_event("warm-up", a_number="A-099-000-000"))
    await guard.decisions(at_least=1)  # the worker is up and deciding

    rounds = 15
    for n in range(rounds):
        number = f"A-3{n:02d}-000-001"
        await guard.protect(protection(f"late-{n}", a_numbers=[number]))
        await guard.send(custody_event(f"race-{n}", a_number=number))

    decided = by_event(await guard.decisions(at_least=rounds + 1))
    for n in range(rounds):
        assert decided[f"race-{n}"]["decision"] == "DROP", n


async def test_protection_added_while_running_takes_effect_within_a_bound(
    guard: GuardHarness,
) -> None:
    guard.start_worker()
    await guard.send(custody_event("open-1", a_number="A-444-555-666"))
    assert by_event(await guard.decisions(at_least=1))["open-1"]["decision"] == "PUBLISH"

    await guard.protect(protection("rec-new", a_numbers=["444555666"]))
    await guard.send(custody_event("closed-1", a_number="A-444-555-666"))

    decided = by_event(await asyncio.wait_for(guard.decisions(at_least=2), timeout=60))
    assert decided["closed-1"]["decision"] == "DROP"
    assert decided["closed-1"]["matched_record_refs"] == [guard.record_ref("rec-new")]
