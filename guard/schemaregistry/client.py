"""A small client for the Confluent Schema Registry REST API (also served by Apicurio's
``/apis/ccompat/v7``): fetch a schema by id, read a subject's latest version, register.

Why not ``confluent-kafka``'s client: it is synchronous (``httpx``) and the
worker must not block its event loop while a batch waits on the registry,
and the guard needs to tell apart the answers that decide an event from
those that only mean "no answer". Only one answer decides an event: the
registry's own error code 40403, "schema not found". Everything else that
is not a success (no connection, a timeout, a 5xx, a 401/403, a 404 without
that code, which is what a wrong URL path gives, a body that is not JSON)
is :class:`RegistryUnavailable`: the worker holds the batch and asks again,
because the event itself may be fine.

Error messages carry HTTP statuses, Confluent error codes and exception
type names; never a response body.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp

from guard.codec.wire import REFERENCES

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
SCHEMA_NOT_FOUND = 40403
SUBJECT_NOT_FOUND = 40401
VERSION_NOT_FOUND = 40402


class SchemaRegistryError(Exception):
    """Base of every failure talking to the schema registry."""


class RegistryUnavailable(SchemaRegistryError):
    """No usable answer; asking again later may succeed."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what

    def __str__(self) -> str:
        return f"the schema registry did not answer: {self.what}"


class SchemaNotFound(SchemaRegistryError):
    """The registry says no schema has this id (error code 40403)."""

    def __init__(self, schema_id: int) -> None:
        super().__init__(schema_id)
        self.schema_id = schema_id

    def __str__(self) -> str:
        return f"schema id {self.schema_id} is not registered"


class SchemaRejected(SchemaRegistryError):
    """The registry refused to register a schema (409 incompatible, 422 invalid)."""

    def __init__(self, subject: str, status: int, code: int | None) -> None:
        super().__init__(subject, status, code)
        self.subject = subject
        self.status = status
        self.code = code

    def __str__(self) -> str:
        why = "incompatible with the registered versions" if self.status == 409 else "invalid"
        code = f", error code {self.code}" if self.code is not None else ""
        return f"the schema registry refused {self.subject}: {why} (HTTP {self.status}{code})"


@dataclass(frozen=True, slots=True)
class RegistryAccess:
    """Where the registry is and how to authenticate; built from configuration."""

    url: str
    """Base URL of the Confluent-compatible API, e.g. ``http://host:8080/apis/ccompat/v7``."""
    username: str | None = None
    password: str | None = None
    ca_file: Path | None = None
    timeout: float = 5.0

    def __repr__(self) -> str:
        return f"RegistryAccess(url={self.url!r}, username={self.username!r}, password=<secret>)"


@dataclass(frozen=True, slots=True)
class RegisteredSchema:
    """A subject's version as the registry holds it."""

    subject: str
    version: int
    schema_id: int
    schema_type: str | None
    schema: str


class SchemaRegistryClient:
    """One HTTP session per event loop; create it, use it, :meth:`close` it on the same loop."""

    def __init__(self, access: RegistryAccess) -> None:
        self._access = access
        self._base = access.url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return self._base

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> SchemaRegistryClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def schema_by_id(self, schema_id: int) -> tuple[str | None, str]:
        """The schema type (None: Avro) and text registered under ``schema_id``.

        Raises:
            SchemaNotFound: the registry answered 40403.
            RegistryUnavailable: any other failure.
        """
        status, body = await self._request("GET", f"/schemas/ids/{schema_id}")
        if status == 404 and _error_code(body) == SCHEMA_NOT_FOUND:
            raise SchemaNotFound(schema_id)
        document = _expect_ok(status, body, "schema by id")
        return _schema_fields(document)

    async def latest(self, subject: str) -> RegisteredSchema | None:
        """The subject's latest version, or None when the subject does not exist."""
        status, body = await self._request(
            "GET", f"/subjects/{quote(subject, safe='')}/versions/latest"
        )
        if status == 404 and _error_code(body) in (SUBJECT_NOT_FOUND, VERSION_NOT_FOUND):
            return None
        document = _expect_ok(status, body, "latest version")
        schema_type, text = _schema_fields(document)
        try:
            return RegisteredSchema(
                subject, int(document["version"]), int(document["id"]), schema_type, text
            )
        except (KeyError, TypeError, ValueError):
            raise RegistryUnavailable("latest version: unexpected answer") from None

    async def register(self, subject: str, schema: str) -> int:
        """Register ``schema`` under ``subject`` (idempotent) and return its id.

        Raises:
            SchemaRejected: 409 or 422.
            RegistryUnavailable: any other failure.
        """
        status, body = await self._request(
            "POST", f"/subjects/{quote(subject, safe='')}/versions", {"schema": schema}
        )
        if status in (409, 422):
            raise SchemaRejected(subject, status, _error_code(body))
        document = _expect_ok(status, body, "register")
        try:
            return int(document["id"])
        except (KeyError, TypeError, ValueError):
            raise RegistryUnavailable("register: unexpected answer") from None

    async def registry_says_compatible(self, subject: str, schema: str) -> bool:
        """The registry's own verdict at whatever compatibility level it has for ``subject``."""
        status, body = await self._request(
            "POST",
            f"/compatibility/subjects/{quote(subject, safe='')}/versions/latest",
            {"schema": schema},
        )
        if status == 404 and _error_code(body) in (SUBJECT_NOT_FOUND, VERSION_NOT_FOUND):
            return True
        if status == 422:
            return False
        document = _expect_ok(status, body, "compatibility")
        return document.get("is_compatible") is True

    async def _request(
        self, method: str, path: str, payload: Mapping[str, Any] | None = None
    ) -> tuple[int, Any]:
        session = self._session_for_loop()
        try:
            async with session.request(
                method,
                self._base + path,
                data=None if payload is None else json.dumps(payload),
                headers={"Content-Type": CONTENT_TYPE, "Accept": CONTENT_TYPE},
            ) as response:
                text = await response.text()
                status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError, ssl.SSLError) as exc:
            raise RegistryUnavailable(type(exc).__name__) from None
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = None
        return status, body

    def _session_for_loop(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None or session.closed:
            access = self._access
            auth = None
            if access.username is not None:
                auth = aiohttp.BasicAuth(access.username, access.password or "")
            context: ssl.SSLContext | bool = True
            if access.ca_file is not None:
                context = ssl.create_default_context(cafile=str(access.ca_file))
            session = aiohttp.ClientSession(
                auth=auth,
                timeout=aiohttp.ClientTimeout(total=access.timeout),
                connector=aiohttp.TCPConnector(ssl=context, limit=4),
            )
            self._session = session
        return session


def _error_code(body: Any) -> int | None:
    if isinstance(body, Mapping):
        code = body.get("error_code")
        if isinstance(code, int):
            return code
    return None


def _expect_ok(status: int, body: Any, what: str) -> Mapping[str, Any]:
    if status != 200 or not isinstance(body, Mapping):
        code = _error_code(body)
        detail = f", error code {code}" if code is not None else ""
        raise RegistryUnavailable(f"{what}: HTTP {status}{detail}")
    return body


def _schema_fields(document: Mapping[str, Any]) -> tuple[str | None, str]:
    text = document.get("schema")
    if not isinstance(text, str):
        raise RegistryUnavailable("schema: unexpected answer")
    schema_type = document.get("schemaType")
    if document.get("references"):
        # Referenced named types live under other subjects; not resolved here.
        schema_type = REFERENCES
    return (schema_type if isinstance(schema_type, str) else None), text
