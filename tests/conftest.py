"""Shared fixtures; the only place in the test suite that starts a Kafka broker.

One real broker serves the whole session (it takes a few seconds to start),
and only if some selected test asks for ``kafka_bootstrap`` or
``topic_names``: unit-test runs never launch Java. Tests stay independent by
getting fresh, uniquely named topics instead of sharing a broker-wide state.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from typing import Any, TypeVar

import pytest

from guard.cli.topics import topic_specs
from guard.config.settings import load_config
from guard.devbroker.broker import LocalKafkaBroker, free_port
from guard.devbroker.secure import ADMIN_USER, SecureBroker
from guard.kafka.acls import Principals, grants
from guard.kafka.acls import apply as apply_acls
from guard.kafka.connection import KafkaConnection, kafka_connection
from guard.kafka.topics import ensure_topics

_BROKER_START_TIMEOUT_SECONDS = 120.0
_BROKER_FIXTURES = frozenset(
    {"kafka_bootstrap", "topic_names", "private_kafka", "private_topic_names", "secure_kafka"}
) | {"schema_registry_url", "private_schema_registry"}  # Java too: Apicurio (issue 11)
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class TopicNames:
    """The guard's eight topics, uniquely named for one test.

    For annotations: ``if TYPE_CHECKING: from conftest import TopicNames``.
    """

    custody: str
    """Incoming custody-status events (3 partitions, so per-key ordering is exercised)."""
    registry: str
    """Protected-person registry changes (compacted)."""
    public: str
    """The public notification feed (compacted)."""
    audit: str
    deadletter: str
    review: str
    """Events held for review (compacted)."""
    publications: str
    """What was published, for retractions (compacted, partitioned like custody)."""
    retractions: str

    @classmethod
    def fresh(cls) -> TopicNames:
        """Names no other test uses (``KIND-RUN``); nothing is created."""
        run = uuid.uuid4().hex[:12]
        return cls(*(f"{field.name}-{run}" for field in fields(cls)))

    def all(self) -> tuple[str, ...]:
        return (self.custody, self.registry, self.public, self.audit, self.deadletter,
                self.review, self.publications, self.retractions)  # fmt: skip

    def environment(self) -> dict[str, str]:
        """The ``GUARD_*_TOPIC`` variables naming these topics."""
        return {
            "GUARD_CUSTODY_TOPIC": self.custody,
            "GUARD_REGISTRY_TOPIC": self.registry,
            "GUARD_PUBLIC_TOPIC": self.public,
            "GUARD_AUDIT_TOPIC": self.audit,
            "GUARD_DEADLETTER_TOPIC": self.deadletter,
            "GUARD_REVIEW_TOPIC": self.review,
            "GUARD_PUBLICATIONS_TOPIC": self.publications,
            "GUARD_RETRACTIONS_TOPIC": self.retractions,
        }


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark broker tests so ``-m "not broker"`` gives a Java-free run."""
    for item in items:
        fixture_names = getattr(item, "fixturenames", ())
        if _BROKER_FIXTURES.intersection(fixture_names):
            item.add_marker(pytest.mark.broker)


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``host:port`` of a real Kafka 3.9 broker on 127.0.0.1, shared by the session."""
    broker = LocalKafkaBroker(port=free_port(), data_dir=tmp_path_factory.mktemp("kafka"))
    broker.start(timeout=_BROKER_START_TIMEOUT_SECONDS)
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


@pytest.fixture
def topic_names(kafka_bootstrap: str) -> TopicNames:
    """Create this test's own set of the guard's topics."""
    return create_topic_names(kafka_bootstrap)


@pytest.fixture
def private_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafkaBroker]:
    """A broker of this test's own, for tests that stop and restart it.

    Stopping and starting it again keeps its port and data, as an outage would.
    """
    broker = LocalKafkaBroker(port=free_port(), data_dir=tmp_path_factory.mktemp("kafka-private"))
    broker.start(timeout=_BROKER_START_TIMEOUT_SECONDS)
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def private_topic_names(private_kafka: LocalKafkaBroker) -> TopicNames:
    """This test's topics on its private broker."""
    return create_topic_names(private_kafka.bootstrap)


def create_topic_names(bootstrap: str) -> TopicNames:
    """Fresh, uniquely named topics for one test on the broker at ``bootstrap``, made
    exactly as ``guard topics create`` makes them (partitions and configs)."""
    names = TopicNames.fresh()
    config = load_config({"GUARD_BROKERS": bootstrap, **names.environment()})
    run_in_own_loop(ensure_topics(KafkaConnection.plaintext(bootstrap), topic_specs(config)))
    return names


# --- the secure broker (issue 9) ----------------------------------------------


@dataclass(frozen=True, slots=True)
class SecureKafka:
    """The session's secure broker: SASL_SSL with SCRAM users, mTLS, ACL authorizer.

    For annotations: ``if TYPE_CHECKING: from conftest import SecureKafka``.
    """

    bootstrap: str
    security: SecureBroker

    def environment(self, user: str) -> dict[str, str]:
        """``GUARD_*`` settings logging ``user`` in over SASL_SSL."""
        return self.security.client_environment(self.bootstrap, user)

    def connection(self, user: str) -> KafkaConnection:
        return kafka_connection(load_config(self.environment(user)))

    def create_topics(self, app_id: str | None = None) -> tuple[TopicNames, dict[str, str]]:
        """Fresh topics made by the admin, and the ACLs of every party applied for them.

        Returns the topics and the ``GUARD_*`` variables (topics, app id) that
        every party's configuration shares.
        """
        names = TopicNames.fresh()
        run = names.custody.removeprefix("custody-")
        shared = {**names.environment(), "GUARD_APP_ID": app_id or f"guard-{run}"}
        admin = {**self.environment(ADMIN_USER), **shared}
        config = load_config(admin)
        run_in_own_loop(ensure_topics(kafka_connection(config), topic_specs(config)))
        run_in_own_loop(apply_acls(kafka_connection(config), grants(config, Principals())))
        return names, shared


@pytest.fixture(scope="session")
def secure_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureKafka]:
    """A secure Kafka 3.9 broker on 127.0.0.1, started only for tests that ask for it."""
    data_dir = tmp_path_factory.mktemp("kafka-secure")
    security = SecureBroker(data_dir / "security")
    broker = LocalKafkaBroker(port=free_port(), data_dir=data_dir / "kafka", secure=security)
    broker.start(timeout=_BROKER_START_TIMEOUT_SECONDS)
    try:
        yield SecureKafka(broker.bootstrap, security)
    finally:
        broker.stop()


def run_in_own_loop(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """Run a coroutine to completion on a private loop in a worker thread.

    Sync fixtures may be set up while pytest-asyncio owns the thread's event
    loop; ``asyncio.run`` there would replace (and then clear) that loop.
    """
    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(asyncio.run, coroutine).result()


# -- schema registry (issue 11) --------------------------------------------------------

_REGISTRY_START_TIMEOUT_SECONDS = 120.0


@pytest.fixture(scope="session")
def schema_registry_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a real Apicurio Registry 3.0.9 (Confluent API) on 127.0.0.1, shared by
    the session and started only when a selected test asks for it. Tests use subjects of
    their own topics, so they do not see each other's schemas."""
    from guard.devbroker.schemaregistry import LocalSchemaRegistry

    registry = LocalSchemaRegistry(free_port(), tmp_path_factory.mktemp("apicurio"))
    registry.start(timeout=_REGISTRY_START_TIMEOUT_SECONDS)
    try:
        yield registry.url
    finally:
        registry.stop()


@pytest.fixture
def private_schema_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A registry of this test's own, for tests that stop and restart it (its schemas are
    kept on disk, so a restart keeps them, as a real registry's storage would)."""
    from guard.devbroker.schemaregistry import LocalSchemaRegistry

    registry = LocalSchemaRegistry(free_port(), tmp_path_factory.mktemp("apicurio-private"))
    registry.start(timeout=_REGISTRY_START_TIMEOUT_SECONDS)
    try:
        yield registry
    finally:
        registry.stop()
