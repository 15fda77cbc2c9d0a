"""Writer schemas by id: fetched once, kept in a bounded cache, waited for in an outage.

A registered id never changes its schema, so a fetched schema is kept for
good, up to :data:`DEFAULT_CAPACITY` ids (least recently used ones leave
first): a producer that registers a new schema per event cannot grow the
worker's memory without bound. An id the registry does not know is not
cached: it is asked again the next time an event names it.

:meth:`SchemaCache.wait_for` is the hold of the custody stream: it returns
only when every id of a batch has an answer (a schema, or "not registered"),
and until then asks again with back-off, with no time limit, like the
freshness gate waits for the registry topic. While it waits,
``unavailable_since`` is set, which readiness reports as
``schema_registry_unavailable``; the batch is neither decided nor committed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable

from guard.codec.wire import WriterSchema
from guard.schemaregistry.client import RegistryUnavailable, SchemaNotFound, SchemaRegistryClient

log = logging.getLogger(__name__)

DEFAULT_CAPACITY = 1000
"""Most writer schemas kept. A custody topic sees a handful; 1000 parsed schemas are a few MB."""
_FIRST_RETRY_SECONDS = 0.2
_MAX_RETRY_SECONDS = 5.0
_CONCURRENT_FETCHES = 4


class SchemaCache:
    """``schema id → WriterSchema``, least recently used out first."""

    def __init__(
        self,
        client: SchemaRegistryClient,
        *,
        capacity: int = DEFAULT_CAPACITY,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._client = client
        self._capacity = capacity
        self._clock = clock
        self._sleep = sleep
        self._schemas: OrderedDict[int, WriterSchema] = OrderedDict()
        self.unavailable_since: float | None = None
        """Clock time since which a batch waits on an unanswering registry, if one does."""

    @property
    def client(self) -> SchemaRegistryClient:
        return self._client

    def __len__(self) -> int:
        return len(self._schemas)

    async def lookup(self, ids: Iterable[int]) -> dict[int, WriterSchema]:
        """The writer schemas of ``ids`` that are registered; one attempt.

        Raises:
            RegistryUnavailable: some id could not be answered.
        """
        wanted = list(dict.fromkeys(ids))
        missing = [i for i in wanted if i not in self._schemas]
        semaphore = asyncio.Semaphore(_CONCURRENT_FETCHES)

        async def fetch(schema_id: int) -> WriterSchema | None:
            async with semaphore:
                try:
                    schema_type, text = await self._client.schema_by_id(schema_id)
                except SchemaNotFound:
                    return None
            return WriterSchema.from_registry(schema_id, schema_type, text)

        fetched = await asyncio.gather(*(fetch(i) for i in missing), return_exceptions=True)
        fresh = {r.schema_id: r for r in fetched if isinstance(r, WriterSchema)}
        for schema in fresh.values():
            self._keep(schema)
        failure = next((r for r in fetched if isinstance(r, BaseException)), None)
        if failure is not None:
            raise failure
        found: dict[int, WriterSchema] = {}
        for schema_id in wanted:
            # Taken from ``fresh`` too: a batch with more ids than the capacity
            # may have evicted some of its own already.
            known = fresh.get(schema_id) or self._schemas.get(schema_id)
            if known is not None:
                found[schema_id] = known
                if schema_id in self._schemas:
                    self._schemas.move_to_end(schema_id)
        return found

    async def wait_for(self, ids: Iterable[int]) -> dict[int, WriterSchema]:
        """Like :meth:`lookup`, but holds (asking again, backing off) until the registry answers."""
        wanted = list(ids)
        delay = _FIRST_RETRY_SECONDS
        while True:
            try:
                found = await self.lookup(wanted)
            except RegistryUnavailable as exc:
                if self.unavailable_since is None:
                    self.unavailable_since = self._clock()
                    log.warning(
                        "%s; holding the batch (no decision, no commit) until it answers", exc
                    )
                await self._sleep(delay)
                delay = min(delay * 2, _MAX_RETRY_SECONDS)
                continue
            if self.unavailable_since is not None:
                log.info(
                    "the schema registry answers again after %.1f s; deciding the held batch",
                    self._clock() - self.unavailable_since,
                )
                self.unavailable_since = None
            return found

    def _keep(self, schema: WriterSchema) -> None:
        self._schemas[schema.schema_id] = schema
        self._schemas.move_to_end(schema.schema_id)
        while len(self._schemas) > self._capacity:
            self._schemas.popitem(last=False)
