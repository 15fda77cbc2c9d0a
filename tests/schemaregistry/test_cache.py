"""The schema cache: bounded, never caches 'not registered', holds while the registry is away."""

from __future__ import annotations

import json
from typing import Any, cast

import pytest

from guard.codec.schemas import SchemaName, load_schema
from guard.schemaregistry.cache import SchemaCache
from guard.schemaregistry.client import RegistryUnavailable, SchemaNotFound, SchemaRegistryClient

TEXT = json.dumps(load_schema(SchemaName.PUBLIC_NOTICE).raw)


class FakeRegistry:
    """Answers ``schema_by_id`` from a dict; ``down`` makes it answer nothing."""

    def __init__(self, known: set[int]) -> None:
        self.known = known
        self.down = False
        self.asked: list[int] = []

    async def schema_by_id(self, schema_id: int) -> tuple[str | None, str]:
        self.asked.append(schema_id)
        if self.down:
            raise RegistryUnavailable("ClientConnectorError")
        if schema_id not in self.known:
            raise SchemaNotFound(schema_id)
        return None, TEXT


def _cache(registry: FakeRegistry, **kwargs: Any) -> SchemaCache:
    return SchemaCache(cast(SchemaRegistryClient, registry), **kwargs)


async def test_a_fetched_schema_is_asked_once_and_an_unknown_id_every_time() -> None:
    registry = FakeRegistry({1})
    cache = _cache(registry)
    for _ in range(3):
        found = await cache.lookup([1, 2, 1])
        assert list(found) == [1] and found[1].problem is None
    assert registry.asked == [1, 2, 2, 2]


async def test_the_cache_cannot_grow_past_its_capacity() -> None:
    registry = FakeRegistry(set(range(100)))
    cache = _cache(registry, capacity=10)
    found = await cache.lookup(range(25))
    assert len(found) == 25  # a batch gets all its schemas, even past the capacity
    assert len(cache) == 10
    await cache.lookup([24])
    assert registry.asked.count(24) == 1  # the most recent ones stayed


async def test_wait_for_holds_until_the_registry_answers_and_says_so_meanwhile() -> None:
    registry = FakeRegistry({7})
    registry.down = True
    now = [100.0]
    observed: list[float | None] = []

    async def sleep(seconds: float) -> None:
        observed.append(cache.unavailable_since)
        now[0] += seconds
        if len(observed) == 4:
            registry.down = False

    cache = _cache(registry, clock=lambda: now[0], sleep=sleep)
    found = await cache.wait_for([7])
    assert list(found) == [7]
    assert observed == [100.0] * 4
    assert cache.unavailable_since is None
    assert registry.asked == [7] * 5


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError):
        _cache(FakeRegistry(set()), capacity=0)
