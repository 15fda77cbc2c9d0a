"""Assembles a worker from configuration and runs it until it is stopped.

Everything that can be checked before Kafka traffic starts is checked here,
so bad configuration stops start-up with one line instead of a traceback
from deep inside a consumer: key material, the policy file, the broker, and
that every topic exists.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import faust
import mode

from guard import __version__
from guard.config.errors import ConfigError
from guard.config.keys import RegistryKeys, registry_keys, subject_ref_blinder
from guard.config.settings import GuardConfig
from guard.decision.engine import DecisionEngine
from guard.kafka.connection import KafkaConnection, kafka_connection
from guard.kafka.preflight import check_login, check_worker_access
from guard.ops.http import OpsServer
from guard.ops.logs import configure_logging
from guard.ops.metrics import GuardMetrics
from guard.policy.model import Policy, load_policy
from guard.registry.index import RegistryIndex
from guard.registry.reader import RegistryReader, reader_for
from guard.retraction.loader import publications_loader
from guard.retraction.service import RetractionCounts, RetractionService
from guard.review.tracker import HeldEventTracker
from guard.schemaregistry.wireformat import WireFormat
from guard.stream.app import attach_worker, build_faust_app, producer_factory
from guard.stream.decider import MessageDecider, OutputTopics
from guard.stream.monitor import HealthMonitor
from guard.stream.output import TransactionalOutput
from guard.stream.worker import CommittedOffsets, GuardWorker, WorkerState
from guard.topic_metadata import partitions_of

log = logging.getLogger(__name__)


async def check_kafka(
    config: GuardConfig, connection: KafkaConnection, timeout: float = 15.0
) -> None:
    """Fail with one line unless the worker can log in, every topic exists, its
    principal may do everything it must (``guard.kafka.preflight``), and the
    publications topic is partitioned like custody."""
    await check_login(connection, timeout)
    await check_worker_access(config, connection)
    custody = len(await partitions_of(connection, config.custody_topic))
    publications = len(await partitions_of(connection, config.publications_topic))
    if publications != custody:
        # A notice's publication goes to its custody partition's number.
        raise ConfigError(
            f"GUARD_PUBLICATIONS_TOPIC ({config.publications_topic}): has {publications} "
            f"partitions and the custody topic {custody}; they must be equal"
        )


class _Lifecycle(mode.Service):
    """Starts the guard's own parts with the Faust worker and stops them with it."""

    def __init__(self, parts: WorkerParts, **kwargs: object) -> None:
        self._parts = parts
        super().__init__(**kwargs)  # type: ignore[arg-type]

    async def on_start(self) -> None:
        if self._parts.ops_server is not None:
            await self._parts.ops_server.start()
        await self._parts.reader.start()
        await self._parts.review_tracker.start()
        self._parts.retractions.start()
        self._parts.worker.mark_started()
        self._parts.monitor.start()

    async def on_stop(self) -> None:
        await self._parts.monitor.stop()
        await self._parts.retractions.stop()
        await self._parts.review_tracker.stop()
        await self._parts.worker.stop()
        await self._parts.reader.stop()
        if self._parts.wire is not None:
            await self._parts.wire.client.close()
        if self._parts.ops_server is not None:
            await self._parts.ops_server.stop()


class _FaustWorker(faust.Worker):
    """Faust's worker, with the guard's PII-safe log set-up instead of Faust's own."""

    guard_log: tuple[str, str] = ("INFO", "text")

    def _setup_logging(self) -> None:
        configure_logging(*self.guard_log)


@dataclass(frozen=True, slots=True)
class WorkerParts:
    """A fully wired worker, not yet started."""

    app: faust.App
    connection: KafkaConnection
    worker: GuardWorker
    reader: RegistryReader
    monitor: HealthMonitor
    ops_server: OpsServer | None
    policy: Policy
    review_tracker: HeldEventTracker
    retractions: RetractionService
    wire: WireFormat | None = None
    """Set when GUARD_SCHEMA_REGISTRY_URL is: register its outputs before the worker runs."""


def build_decider(
    config: GuardConfig,
    keys: RegistryKeys,
    index: RegistryIndex,
    policy: Policy,
    wire: WireFormat | None = None,
) -> MessageDecider:
    engine = DecisionEngine(
        keys.current, subject_ref_blinder(config), index, policy, previous=keys.previous
    )
    return MessageDecider(engine, OutputTopics.of(config), wire)


def build_reader(
    config: GuardConfig,
    connection: KafkaConnection,
    keys: RegistryKeys,
    index: RegistryIndex,
    metrics: GuardMetrics,
) -> RegistryReader:
    def on_registry_applied(seconds: float) -> None:
        metrics.registry_applied_records.inc()
        metrics.registry_update_latency.observe(seconds)

    client_id = f"{config.app_id}-{config.worker_id}-registry"
    return reader_for(
        config,
        connection,
        keys.current.key_id,
        index,
        client_id=client_id,
        on_applied=on_registry_applied,
        previous_key_id=keys.previous_key_id,
    )


def assemble(config: GuardConfig) -> WorkerParts:
    """Build every part of a worker; raises ConfigError for anything misconfigured."""
    connection = kafka_connection(config)
    keys = registry_keys(config)
    policy = load_policy(config.policy_file)
    metrics = GuardMetrics()
    metrics.build_info.info({"version": __version__, "policy_version": policy.version})
    index = RegistryIndex()
    reader = build_reader(config, connection, keys, index, metrics)
    wire = WireFormat.from_config(config, hold=True)
    decider = build_decider(config, keys, index, policy, wire)
    app = build_faust_app(config, connection)
    state = WorkerState()
    monitor = HealthMonitor(
        state=state,
        reader=reader,
        metrics=metrics,
        consumer=lambda: app.consumer,
        custody_topic=config.custody_topic,
        stale_after=config.registry_stale_after,
        schema_cache=wire.cache if wire is not None else None,
    )
    worker = GuardWorker(
        custody_topic=config.custody_topic,
        reader=reader,
        output=TransactionalOutput(
            app_id=config.app_id,
            group_id=config.app_id,
            transaction_timeout_ms=config.transaction_timeout_ms,
            new_producer=producer_factory(config, connection),
        ),
        decider=decider,
        metrics=metrics,
        consumer=lambda: cast(CommittedOffsets, app.consumer),
        is_ready=monitor.is_ready,
        state=state,
        writer_schemas=wire.writers_for if wire is not None else None,
    )
    ops_server = None
    if config.metrics_port:
        ops_server = OpsServer(
            host=config.metrics_host,
            port=config.metrics_port,
            metrics=metrics,
            readiness=monitor.readiness,
            before_scrape=monitor.refresh,
        )
    retractions = build_retractions(config, connection, worker, reader, decider, metrics)
    worker.observe(retractions)
    attach_worker(app, config, worker)
    return WorkerParts(
        app,
        connection,
        worker,
        reader,
        monitor,
        ops_server,
        policy,
        build_review_tracker(config, connection, metrics, wire),
        retractions,
        wire,
    )


def build_retractions(
    config: GuardConfig,
    connection: KafkaConnection,
    worker: GuardWorker,
    reader: RegistryReader,
    decider: MessageDecider,
    metrics: GuardMetrics,
) -> RetractionService:
    """Withdraws this worker's published notices when their subject becomes protected."""
    withdrawn = 0

    def publish(counts: RetractionCounts) -> None:
        nonlocal withdrawn
        metrics.retractions.inc(counts.withdrawn - withdrawn)
        withdrawn = counts.withdrawn
        metrics.publications_indexed.set(counts.indexed)
        metrics.retractions_pending.set(counts.pending)

    return RetractionService(
        registry=reader.index,
        reader=reader,
        decider=decider,
        policy=decider.engine.policy,
        topics=OutputTopics.of(config),
        load=publications_loader(config, connection),
        commit_side=worker.commit_side,
        on_change=publish,
    )


def build_review_tracker(
    config: GuardConfig,
    connection: KafkaConnection,
    metrics: GuardMetrics,
    wire: WireFormat | None = None,
) -> HeldEventTracker:
    """Follows the review topic so the review queue shows in the metrics."""

    def publish(held: int, oldest_held_at: float) -> None:
        metrics.review_held_events.set(held)
        metrics.review_oldest_held.set(oldest_held_at)

    return HeldEventTracker(
        connection=connection, topic=config.review_topic, publish=publish, wire=wire
    )


def run_worker(config: GuardConfig) -> int:
    """Run until SIGINT/SIGTERM. Returns the process exit code."""
    configure_logging(config.log_level, config.log_format)
    parts = assemble(config)
    Path(config.data_dir).mkdir(parents=True, exist_ok=True)
    asyncio.run(check_kafka(config, parts.connection))
    if parts.wire is not None:
        # Refuses to start (one line) if an output schema would break its subscribers.
        asyncio.run(parts.wire.register_outputs())
    log.info(
        "guard worker %s starting: kafka=%s custody=%s registry=%s public=%s audit=%s "
        "deadletter=%s review=%s policy=%s metrics=%s",
        __version__,
        parts.connection.describe(),
        config.custody_topic,
        config.registry_topic,
        config.public_topic,
        config.audit_topic,
        config.deadletter_topic,
        config.review_topic,
        parts.policy.version,
        f"http://{config.metrics_host}:{config.metrics_port}" if config.metrics_port else "off",
    )
    faust_worker = _FaustWorker(
        parts.app, _Lifecycle(parts), loglevel=config.log_level.lower(), quiet=True
    )
    faust_worker.guard_log = (config.log_level, config.log_format)
    faust_worker.execute_from_commandline()
    return 0
