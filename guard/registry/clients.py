"""The three Kafka clients the registry reader uses, made in one replaceable place.

Tests hand the reader in-memory clients with the same methods
(``tests/registry/registry_doubles.py``); a worker gets these.
"""

from __future__ import annotations

from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient


class RegistryClients(Protocol):
    def follower(self) -> Any:
        """An unstarted group-less ``read_committed`` consumer for the follow loop."""

    def probe(self) -> Any:
        """An unstarted group-less ``read_uncommitted`` consumer for end offsets."""

    def admin(self) -> Any:
        """An unstarted admin client, for the topic's partitions."""


class KafkaRegistryClients:
    """aiokafka clients for the broker at ``bootstrap``."""

    def __init__(self, bootstrap: str, client_id: str) -> None:
        self._bootstrap = bootstrap
        self._client_id = client_id

    def follower(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            client_id=self._client_id,
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed",
            auto_offset_reset="earliest",
        )

    def probe(self) -> AIOKafkaConsumer:
        # read_uncommitted on purpose: see RegistryReader.end_offsets.
        return AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            client_id=f"{self._client_id}-probe",
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_uncommitted",
        )

    def admin(self) -> AIOKafkaAdminClient:
        return AIOKafkaAdminClient(
            bootstrap_servers=self._bootstrap, client_id=f"{self._client_id}-admin"
        )
