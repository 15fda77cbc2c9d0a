"""The three Kafka clients the registry reader uses, made in one replaceable place.

Tests hand the reader in-memory clients with the same methods
(``tests/registry/registry_doubles.py``); a worker gets these.
"""

from __future__ import annotations

from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from guard.kafka.clients import new_admin, new_consumer
from guard.kafka.connection import KafkaConnection


class RegistryClients(Protocol):
    def follower(self) -> Any:
        """An unstarted group-less ``read_committed`` consumer for the follow loop."""

    def probe(self) -> Any:
        """An unstarted group-less ``read_uncommitted`` consumer for end offsets."""

    def admin(self) -> Any:
        """An unstarted admin client, for the topic's partitions."""


class KafkaRegistryClients:
    """aiokafka clients for the cluster ``connection`` reaches."""

    def __init__(self, connection: KafkaConnection, client_id: str) -> None:
        self._connection = connection
        self._client_id = client_id

    def follower(self) -> AIOKafkaConsumer:
        return new_consumer(
            self._connection,
            client_id=self._client_id,
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed",
            auto_offset_reset="earliest",
        )

    def probe(self) -> AIOKafkaConsumer:
        # read_uncommitted on purpose: see RegistryReader.end_offsets.
        return new_consumer(
            self._connection,
            client_id=f"{self._client_id}-probe",
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_uncommitted",
        )

    def admin(self) -> AIOKafkaAdminClient:
        return new_admin(self._connection, client_id=f"{self._client_id}-admin")
