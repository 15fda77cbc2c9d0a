"""The guard speaking the wire format: its output subjects, their ids, and its decoders.

With ``GUARD_SCHEMA_REGISTRY_URL`` set, every Avro topic the guard writes
carries the wire format under the TopicNameStrategy subject
``<topic>-value``, and every one it reads (custody events, and its own
review topic read back) is decoded by the writer schema the value names. The
registry topic stays schemaless: it is the guard's internal state, written
and read only by the guard, and a protection must never wait on a second
server to be applied.

Output schemas are registered when the worker starts (and by ``guard
schemas register``). Before registering, each is checked for BACKWARD
compatibility with the subject's latest version *here*, by
:func:`guard.codec.compatibility.check_compatibility` (the guard's schema as
reader, the registered one as writer), whatever level the registry is set
to; the registry's own verdict is asked as well, for operators who set a
stricter level. Either refusal stops start-up with one line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from guard.codec.avro import codec_for
from guard.codec.compatibility import check_compatibility
from guard.codec.schemas import SchemaName, load_schema
from guard.codec.wire import WireDecoder, WriterSchema, frame, schema_id_of
from guard.config.errors import ConfigError
from guard.config.settings import GuardConfig
from guard.schemaregistry.cache import DEFAULT_CAPACITY, SchemaCache
from guard.schemaregistry.client import (
    RegistryAccess,
    SchemaRegistryClient,
    SchemaRegistryError,
)


def value_subject(topic: str) -> str:
    """The TopicNameStrategy subject of a topic's values."""
    return f"{topic}-value"


def output_subjects(config: GuardConfig) -> dict[str, SchemaName]:
    """Every subject the guard writes values under, with its schema."""
    return {
        value_subject(config.public_topic): SchemaName.PUBLIC_NOTICE,
        value_subject(config.audit_topic): SchemaName.GUARD_DECISION,
        value_subject(config.review_topic): SchemaName.HELD_EVENT,
        value_subject(config.retractions_topic): SchemaName.RETRACTION,
    }


def schema_text(name: SchemaName) -> str:
    """The schema as sent to the registry (the same text every time, so ids are reused)."""
    return json.dumps(load_schema(name).raw, separators=(",", ":"), ensure_ascii=False)


def registry_client(config: GuardConfig) -> SchemaRegistryClient:
    """A client of the configured registry, for commands that cannot work without one."""
    access = registry_access(config)
    if access is None:
        raise ConfigError("GUARD_SCHEMA_REGISTRY_URL: not set; these commands need a registry")
    return SchemaRegistryClient(access)


def registry_access(config: GuardConfig) -> RegistryAccess | None:
    """How to reach the registry, or None when the wire format is off."""
    url = config.schema_registry_url
    if url is None:
        return None
    password = _password(config)
    if password is not None and config.schema_registry_user is None:
        raise ConfigError("GUARD_SCHEMA_REGISTRY_PASSWORD: set GUARD_SCHEMA_REGISTRY_USER too")
    ca_file = config.schema_registry_ca_file
    if ca_file is not None and not ca_file.is_file():
        raise ConfigError(f"GUARD_SCHEMA_REGISTRY_CA_FILE ({ca_file}): no such file")
    return RegistryAccess(
        url=url,
        username=config.schema_registry_user,
        password=password,
        ca_file=config.schema_registry_ca_file,
        timeout=config.schema_registry_timeout,
    )


def _password(config: GuardConfig) -> str | None:
    """The password from its variable or its file; never echoed in an error."""
    value, file = config.schema_registry_password, config.schema_registry_password_file
    if value is not None and file is not None:
        raise ConfigError(
            "GUARD_SCHEMA_REGISTRY_PASSWORD: given both as a value and as a file; give one"
        )
    if file is None:
        return value
    try:
        text = file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"GUARD_SCHEMA_REGISTRY_PASSWORD_FILE ({file}): cannot read it ({type(exc).__name__})"
        ) from None
    if not text:
        raise ConfigError(f"GUARD_SCHEMA_REGISTRY_PASSWORD_FILE ({file}): the file is empty")
    return text


@dataclass(frozen=True, slots=True)
class SubjectCheck:
    """Where one output subject stands against the guard's schema."""

    subject: str
    name: SchemaName
    latest_version: int | None
    """None: the subject does not exist yet."""
    problems: tuple[str, ...]
    schema_id: int | None = None
    """Set once registered."""

    @property
    def is_compatible(self) -> bool:
        return not self.problems


async def check_subject(
    client: SchemaRegistryClient, subject: str, name: SchemaName
) -> SubjectCheck:
    """BACKWARD: can the guard's ``name`` schema read the subject's latest registered version?"""
    latest = await client.latest(subject)
    if latest is None:
        return SubjectCheck(subject, name, None, ())
    if latest.schema_type not in (None, "", "AVRO"):
        return SubjectCheck(subject, name, latest.version, ("the latest version is not Avro",))
    try:
        registered = json.loads(latest.schema)
    except ValueError:
        return SubjectCheck(subject, name, latest.version, ("the latest version is not JSON",))
    verdict = check_compatibility(load_schema(name).raw, registered)
    problems = verdict.problems
    if not problems and not await client.registry_says_compatible(subject, schema_text(name)):
        problems = ("the registry's own compatibility rule for the subject refuses it",)
    return SubjectCheck(subject, name, latest.version, problems)


async def register_subjects(
    client: SchemaRegistryClient, subjects: Mapping[str, SchemaName], *, register: bool = True
) -> list[SubjectCheck]:
    """Check every subject first; register them all only if every one passed."""
    checks = [await check_subject(client, s, n) for s, n in subjects.items()]
    if not register or not all(c.is_compatible for c in checks):
        return checks
    registered = []
    for check in checks:
        schema_id = await client.register(check.subject, schema_text(check.name))
        registered.append(
            SubjectCheck(check.subject, check.name, check.latest_version, (), schema_id)
        )
    return registered


def refusal_line(check: SubjectCheck) -> str:
    """One line saying why a subject refuses the guard's schema (reader field names only)."""
    version = f"version {check.latest_version}" if check.latest_version is not None else "it"
    return (
        f"{check.subject}: the guard's {check.name.value} schema is not BACKWARD compatible "
        f"with registered {version}: {'; '.join(check.problems)}"
    )


class WireFormat:
    """Encoders for the guard's outputs and decoders for what it reads, over one schema cache."""

    def __init__(
        self,
        cache: SchemaCache,
        subjects: Mapping[str, SchemaName],
        *,
        max_writers: int = DEFAULT_CAPACITY,
        hold: bool = False,
    ) -> None:
        self.cache = cache
        self._hold = hold
        self.subjects = dict(subjects)
        self._max_writers = max_writers
        self._output_ids: dict[SchemaName, int] = {}
        self._decoders: dict[SchemaName, WireDecoder] = {}

    @classmethod
    def from_config(cls, config: GuardConfig, *, hold: bool = False) -> WireFormat | None:
        """None when no registry is configured. ``hold``: wait out registry outages (the
        worker) instead of failing (a command, which then ends with one line)."""
        access = registry_access(config)
        if access is None:
            return None
        cache = SchemaCache(SchemaRegistryClient(access))
        return cls(cache, output_subjects(config), hold=hold)

    @property
    def client(self) -> SchemaRegistryClient:
        return self.cache.client

    async def register_outputs(self) -> None:
        """Check and register every output subject, or raise ConfigError with one line."""
        url = self.client.url
        try:
            checks = await register_subjects(self.client, self.subjects)
        except SchemaRegistryError as exc:
            raise ConfigError(f"GUARD_SCHEMA_REGISTRY_URL ({url}): {exc}") from None
        finally:
            await self.client.close()
        for check in checks:
            if not check.is_compatible:
                raise ConfigError(f"GUARD_SCHEMA_REGISTRY_URL ({url}): {refusal_line(check)}")
            if check.schema_id is not None:
                self._output_ids[check.name] = check.schema_id

    def use_output_id(self, name: SchemaName, schema_id: int) -> None:
        """Write ``name`` under an id registered elsewhere (``guard produce`` for custody)."""
        self._output_ids[name] = schema_id

    def encode(self, name: SchemaName, record: Mapping[str, Any]) -> bytes:
        """The record in the wire format under the id registered for ``name``.

        Raises:
            EncodeError: the record does not fit (from the codec).
            KeyError: ``name`` was never registered; a bug, never an event's fault.
        """
        return frame(self._output_ids[name], codec_for(name).encode(record))

    def decoder(self, name: SchemaName) -> WireDecoder:
        found = self._decoders.get(name)
        if found is None:
            found = self._decoders[name] = WireDecoder(name, self._max_writers)
        return found

    async def writers_for(self, values: Iterable[bytes | None]) -> Mapping[int, WriterSchema]:
        """The writer schemas the values name (ids the registry does not know are left out).

        Raises:
            RegistryUnavailable: no answer, unless built to ``hold``: then it waits.
        """
        ids = {schema_id for v in values if (schema_id := schema_id_of(v)) is not None}
        if not ids:
            return {}
        if self._hold:
            return await self.cache.wait_for(ids)
        return await self.cache.lookup(ids)


ValueDecoder = Callable[[bytes], Any]
"""Decodes one value of a fetched batch; raises a CodecError for one it cannot read."""


async def batch_decoder(
    name: SchemaName, wire: WireFormat | None, values: Iterable[bytes | None]
) -> ValueDecoder:
    """How to read a batch of the guard's ``name`` records as they were written: schemaless
    Avro, or (with a registry) under the writer schemas the batch's values name, fetched once
    for the whole batch."""
    if wire is None:
        return codec_for(name).decode
    writers = await wire.writers_for(values)
    decoder = wire.decoder(name)
    return lambda value: decoder.decode(value, writers)
