"""The Faust app around the guard: group membership and assignment, no per-message path.

Group settings, and why:

* **Dynamic membership, short session.** A killed worker's partitions move
  once the group coordinator misses its heartbeats for
  ``GUARD_SESSION_TIMEOUT`` (8 s by default; Faust's default is 60 s), so the
  survivors take over within about that plus one rebalance. A stopped worker
  sends LeaveGroup and its partitions move at once.
* **No static membership** (``group.instance.id``, KIP-345), although Faust
  0.15 passes ``consumer_group_instance_id`` through and aiokafka 0.14 sends
  it. aiokafka sends no LeaveGroup for a static member, so a worker stopped
  with SIGTERM would keep its partitions idle for a whole session timeout
  instead of handing them over at once, and a crashed one would wait just as
  long. Static membership pays off only for restarts that come back within
  the session timeout; fencing does not need it (see
  :mod:`guard.stream.output`).
* **No leader topic** (``topic_disable_leader``): the guard uses no leader
  features, and the empty ``<app>-__assignor-__leader`` partition was one of
  the idle partitions that stalled fetches.
* **Faust declares no topic** (``topic_allow_declare=False``), so its
  replication factor does not matter: ``guard topics create`` makes the
  topics with the cluster's settings.
"""

from __future__ import annotations

from typing import Any

import faust

from guard.config.settings import GuardConfig
from guard.kafka.clients import new_producer
from guard.kafka.connection import KafkaConnection
from guard.stream.output import ProducerFactory, TransactionalProducer
from guard.stream.transport import TRANSPORT_SCHEME, ConsumerHooks, install, register
from guard.stream.worker import GuardWorker

OUTPUT_BATCH_BYTES = 512 * 1024
"""Largest producer batch (the broker's default message.max.bytes is 1 MiB)."""
RETRY_BACKOFF_MS = 5
"""A partition's next transaction starts while the broker still writes the last one's
markers; it answers CONCURRENT_TRANSACTIONS until then, and aiokafka waits this long
before asking again (its default, 100 ms, would be added to nearly every batch)."""


def build_faust_app(config: GuardConfig, connection: KafkaConnection) -> faust.App:
    """A Faust app that consumes custody events through the guard's transport, never committing.

    Faust hands ``broker_credentials`` to every aiokafka client it makes (the
    group consumer and its producer), so they log in as the rest of the worker.
    """
    register()
    brokers = [f"{TRANSPORT_SCHEME}://{b.strip()}" for b in connection.bootstrap.split(",")]
    session = config.session_timeout
    return faust.App(
        config.app_id,
        broker=brokers,
        broker_credentials=connection.faust_credentials(),
        broker_client_id=f"{config.app_id}-{config.worker_id}",
        datadir=config.data_dir,
        autodiscover=False,
        web_enabled=False,
        store="memory://",
        key_serializer="raw",
        value_serializer="raw",
        consumer_auto_offset_reset="earliest",
        stream_wait_empty=False,
        topic_disable_leader=True,
        topic_allow_declare=False,
        producer_acks=-1,
        broker_max_poll_records=config.batch_max,
        broker_session_timeout=session,
        broker_heartbeat_interval=max(0.5, session / 8),
        broker_rebalance_timeout=config.transaction_timeout_ms / 1000 + session,
    )


def attach_worker(app: faust.App, config: GuardConfig, worker: GuardWorker) -> None:
    """Subscribe to the custody topic (acks off) and route fetches and rebalances to ``worker``."""
    custody = app.topic(
        config.custody_topic,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        acks=False,
    )
    app.topics.add(custody)
    install(
        app,
        ConsumerHooks(
            handle_batch=worker.process_batch,
            fetch_max_wait_ms=max(1, round(config.batch_within * 1000)),
        ),
    )

    # Faust's signals call receivers as (sender, partitions, signal=...).
    async def revoked(_sender: Any, *args: Any, signal: Any, **_: Any) -> None:
        await worker.on_partitions_revoked(args[0])

    async def assigned(_sender: Any, *args: Any, signal: Any, **_: Any) -> None:
        await worker.on_partitions_assigned(args[0], app.consumer_generation_id)

    app.on_partitions_revoked.connect(revoked)  # type: ignore[arg-type]  # mode types it narrowly
    app.on_partitions_assigned.connect(assigned)  # type: ignore[arg-type]


def producer_factory(config: GuardConfig, connection: KafkaConnection) -> ProducerFactory:
    """Transactional aiokafka producers for one input partition each (idempotent, acks=all)."""

    def partition_producer(transactional_id: str) -> TransactionalProducer:
        producer: TransactionalProducer = new_producer(
            connection,
            client_id=f"{config.worker_id}-{transactional_id}",
            transactional_id=transactional_id,
            transaction_timeout_ms=config.transaction_timeout_ms,
            enable_idempotence=True,
            acks="all",
            linger_ms=0,
            max_batch_size=OUTPUT_BATCH_BYTES,
            retry_backoff_ms=RETRY_BACKOFF_MS,
        )
        return producer

    return partition_producer
