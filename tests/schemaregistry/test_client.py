"""The registry client against a real registry (Apicurio 3.0.9's Confluent API).

What matters most: only the registry's own "schema not found" (40403) may
send an event to the dead-letter topic; every other failure must read as
"no answer", so the worker holds the batch instead.
"""

from __future__ import annotations

import json
import uuid

import pytest

from guard.codec.schemas import SchemaName
from guard.devbroker.broker import free_port
from guard.schemaregistry.client import (
    RegistryAccess,
    RegistryUnavailable,
    SchemaNotFound,
    SchemaRegistryClient,
)
from guard.schemaregistry.wireformat import register_subjects, schema_text


def _subject() -> str:
    return f"t-{uuid.uuid4().hex[:10]}-value"


async def test_register_fetch_and_latest(schema_registry_url: str) -> None:
    subject = _subject()
    text = schema_text(SchemaName.PUBLIC_NOTICE)
    async with SchemaRegistryClient(RegistryAccess(schema_registry_url)) as client:
        assert await client.latest(subject) is None
        first = await client.register(subject, text)
        assert await client.register(subject, text) == first  # idempotent
        schema_type, fetched = await client.schema_by_id(first)
        assert schema_type in (None, "AVRO")
        assert json.loads(fetched) == json.loads(text)
        latest = await client.latest(subject)
        assert latest is not None and latest.schema_id == first


async def test_only_the_registrys_not_found_code_means_unknown(schema_registry_url: str) -> None:
    async with SchemaRegistryClient(RegistryAccess(schema_registry_url)) as client:
        with pytest.raises(SchemaNotFound):
            await client.schema_by_id(2_000_000_000)
    wrong_path = schema_registry_url.removesuffix("/apis/ccompat/v7")  # answers 404, no code
    async with SchemaRegistryClient(RegistryAccess(wrong_path)) as client:
        with pytest.raises(RegistryUnavailable):
            await client.schema_by_id(1)
    nobody = f"http://127.0.0.1:{free_port()}/apis/ccompat/v7"
    async with SchemaRegistryClient(RegistryAccess(nobody, timeout=2)) as client:
        with pytest.raises(RegistryUnavailable):
            await client.schema_by_id(1)


async def test_subjects_are_registered_only_if_every_one_is_backward_compatible(
    schema_registry_url: str,
) -> None:
    good, bad = _subject(), _subject()
    async with SchemaRegistryClient(RegistryAccess(schema_registry_url)) as client:
        # ``bad`` holds a schema the guard's notice cannot read (a required field is gone).
        notice = json.loads(schema_text(SchemaName.PUBLIC_NOTICE))
        notice["fields"] = [f for f in notice["fields"] if f["name"] != "subject_ref"]
        await client.register(bad, json.dumps(notice))
        subjects = {good: SchemaName.PUBLIC_NOTICE, bad: SchemaName.PUBLIC_NOTICE}
        checks = await register_subjects(client, subjects)
        assert [c.is_compatible for c in checks] == [True, False]
        assert "subject_ref" in checks[1].problems[0]
        assert await client.latest(good) is None  # nothing registered when one fails
        checks = await register_subjects(client, {good: SchemaName.PUBLIC_NOTICE})
        assert checks[0].schema_id is not None
