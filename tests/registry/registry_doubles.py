"""An in-memory registry topic and the three clients the reader uses, for unit tests.

The topic is a list of records per partition; ``getmany`` returns what lies
between the follower's position and the end, in offset order, like a
``read_committed`` consumer of a topic without open transactions.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from aiokafka import TopicPartition


@dataclass(frozen=True)
class StoredRecord:
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: int = 0


@dataclass
class InMemoryRegistryTopic:
    name: str = "registry"
    partitions: dict[int, list[StoredRecord]] = field(default_factory=lambda: {0: []})
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def append(self, key: bytes | None, value: bytes | None, partition: int = 0) -> int:
        log = self.partitions[partition]
        log.append(StoredRecord(len(log), key, value))
        self.arrived.set()
        return len(log) - 1

    def end(self, partition: int) -> int:
        return len(self.partitions[partition])


class Follower:
    def __init__(self, topic: InMemoryRegistryTopic) -> None:
        self.topic = topic
        self.positions: dict[TopicPartition, int] = {}

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def assign(self, tps: list[TopicPartition]) -> None:
        self.positions = dict.fromkeys(tps, 0)

    async def seek_to_beginning(self, *tps: TopicPartition) -> None:
        for tp in tps:
            self.positions[tp] = 0

    async def position(self, tp: TopicPartition) -> int:
        return self.positions[tp]

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Any]]:
        found: dict[TopicPartition, list[Any]] = {}
        for tp, position in self.positions.items():
            records = self.topic.partitions[tp.partition][position : position + max_records]
            if records:
                found[tp] = records
                self.positions[tp] = position + len(records)
        if not found:
            self.topic.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.topic.arrived.wait(), timeout_ms / 1000)
        return found


class Probe:
    def __init__(self, topic: InMemoryRegistryTopic) -> None:
        self.topic = topic

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def end_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: self.topic.end(tp.partition) for tp in tps}


class Admin:
    def __init__(self, topic: InMemoryRegistryTopic) -> None:
        self.topic = topic

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def describe_topics(self, topics: list[str]) -> list[dict[str, Any]]:
        return [
            {
                "topic": self.topic.name,
                "error_code": 0,
                "partitions": [{"partition": p} for p in sorted(self.topic.partitions)],
            }
        ]


@dataclass
class InMemoryRegistryClients:
    topic: InMemoryRegistryTopic

    def follower(self) -> Follower:
        return Follower(self.topic)

    def probe(self) -> Probe:
        return Probe(self.topic)

    def admin(self) -> Admin:
        return Admin(self.topic)
