"""A real broker, a deployment's topics and a real ``guard worker`` process, for the scenarios.

The worker runs as ``python -m guard worker``, exactly as an operator starts it
(and as tests/stream does), so the figures include Faust, aiokafka, the
freshness gate and the output transaction, not just the decision.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from guard.cli.topics import topic_specs
from guard.config.keys import registry_blinder
from guard.config.settings import GuardConfig, load_config
from guard.devbroker.broker import LocalKafkaBroker, free_port
from guard.identity.blind import Blinder
from guard.kafka.clients import new_admin, new_consumer, new_producer
from guard.kafka.connection import KafkaConnection, kafka_connection
from guard.kafka.topics import TopicSpec, ensure_topics
from guard.registry.model import ProtectionRecord
from guard.registry.writer import write_registry
from guard.topic_metadata import partitions_of

BROKER_START_TIMEOUT = 180.0
REGISTRY_CHUNK = 20_000
"""Records per registry transaction when loading a large registry."""

SECURITY_VARIABLES = (
    "GUARD_SECURITY_PROTOCOL", "GUARD_SASL_MECHANISM", "GUARD_SASL_USERNAME",
    "GUARD_SASL_PASSWORD", "GUARD_SASL_PASSWORD_FILE", "GUARD_SSL_CA_FILE",
    "GUARD_SSL_CERT_FILE", "GUARD_SSL_KEY_FILE", "GUARD_SSL_CHECK_HOSTNAME",
)  # fmt: skip
"""The bench honours the same client security settings as the guard, from its environment."""


def security_environment() -> dict[str, str]:
    """The client security settings of this process's environment (empty: plaintext)."""
    return {name: os.environ[name] for name in SECURITY_VARIABLES if name in os.environ}


def bench_connection(bootstrap: str) -> KafkaConnection:
    """The connection every bench client uses: ``bootstrap`` with the environment's security."""
    return kafka_connection(load_config({**security_environment(), "GUARD_BROKERS": bootstrap}))


@contextmanager
def running_broker(data_dir: Path) -> Iterator[LocalKafkaBroker]:
    """One broker for the whole run; every scenario makes its own topics on it."""
    broker = LocalKafkaBroker(free_port(), data_dir)
    broker.start(timeout=BROKER_START_TIMEOUT)
    try:
        yield broker
    finally:
        broker.stop()


@dataclass
class Deployment:
    """The topics of one scenario and the environment of its workers."""

    bootstrap: str
    workdir: Path
    env: dict[str, str]
    config: GuardConfig
    custody_partitions: int = 3

    @property
    def blinder(self) -> Blinder:
        """The registry blinder a worker with this environment uses."""
        return registry_blinder(self.config)

    @property
    def subject_ref_blinder(self) -> Blinder:
        return Blinder(bytes.fromhex(self.env["GUARD_SUBJECT_REF_KEY"]), "subject-ref")


async def deploy(
    bootstrap: str, workdir: Path, name: str, *, custody_partitions: int = 3, **extra_env: str
) -> Deployment:
    """Fresh, uniquely named topics, configured as ``guard topics create`` makes them."""
    run = f"{name}-{uuid.uuid4().hex[:8]}"
    env = {
        "GUARD_BROKERS": bootstrap,
        "GUARD_APP_ID": f"guard-{run}",
        "GUARD_WORKER_ID": "bench",
        "GUARD_CUSTODY_TOPIC": f"custody-{run}",
        "GUARD_REGISTRY_TOPIC": f"registry-{run}",
        **_output_topic_env(run),
        "GUARD_BLINDING_KEY": secrets.token_hex(32),
        "GUARD_SUBJECT_REF_KEY": secrets.token_hex(32),
        "GUARD_DATA_DIR": str(workdir / f"guard-data-{run}"),
        "GUARD_METRICS_PORT": "0",
        "GUARD_LOG_LEVEL": "WARNING",
        **security_environment(),
        **extra_env,
    }
    config = load_config(env)
    await ensure_topics(
        bench_connection(bootstrap), topic_specs(config, custody_partitions=custody_partitions)
    )
    return Deployment(bootstrap, workdir, env, config, custody_partitions)


def _output_topic_env(run: str) -> dict[str, str]:
    """Every topic a worker writes, named for this run alone."""
    return {
        "GUARD_PUBLIC_TOPIC": f"public-{run}",
        "GUARD_AUDIT_TOPIC": f"audit-{run}",
        "GUARD_DEADLETTER_TOPIC": f"deadletter-{run}",
        "GUARD_REVIEW_TOPIC": f"review-{run}",
        "GUARD_PUBLICATIONS_TOPIC": f"publications-{run}",
        "GUARD_RETRACTIONS_TOPIC": f"retractions-{run}",
    }


async def deploy_sharing_inputs(base: Deployment, name: str) -> Deployment:
    """A second deployment on ``base``'s custody and registry topics and keys.

    It has its own consumer group and output topics, so a second run over the
    same events is counted (and checked for exactly-once) on its own.
    """
    run = f"{name}-{uuid.uuid4().hex[:8]}"
    env = {
        **base.env,
        "GUARD_APP_ID": f"guard-{run}",
        **_output_topic_env(run),
        "GUARD_DATA_DIR": str(base.workdir / f"guard-data-{run}"),
    }
    config = load_config(env)
    outputs = set(_output_topic_env(run).values())
    specs = topic_specs(config, custody_partitions=base.custody_partitions)
    await ensure_topics(
        bench_connection(base.bootstrap), [spec for spec in specs if spec.name in outputs]
    )
    return Deployment(base.bootstrap, base.workdir, env, config, base.custody_partitions)


async def create_topic(bootstrap: str, name: str, partitions: int) -> None:
    await ensure_topics(bench_connection(bootstrap), [TopicSpec(name, partitions=partitions)])


@dataclass
class WorkerProcess:
    """One ``guard worker`` child process; its log goes to a file in the work dir."""

    deployment: Deployment
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    """Monotonic time just before the process was launched."""
    log_path: Path | None = None

    def start(self) -> None:
        self.log_path = self.deployment.workdir / f"worker-{uuid.uuid4().hex[:6]}.log"
        with self.log_path.open("wb") as log:
            self.started_at = time.monotonic()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "guard", "worker"],
                env={**os.environ, **self.deployment.env, **self.extra_env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("worker not started")
        return self.process.pid

    def require_running(self) -> None:
        if self.process is None or self.process.poll() is not None:
            tail = self.log_tail()
            raise RuntimeError(f"guard worker is not running; log tail:\n{tail}")

    def log_tail(self, lines: int = 20) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def memory_kib(self) -> dict[str, int]:
        """VmHWM (peak resident set) and VmRSS of the worker, in KiB, from /proc."""
        found: dict[str, int] = {}
        with open(f"/proc/{self.pid}/status", encoding="ascii") as status:
            for line in status:
                name, _, value = line.partition(":")
                if name in ("VmHWM", "VmRSS"):
                    found[name] = int(value.split()[0])
        return found

    def stop(self, *, is_graceful: bool = True) -> int | None:
        """SIGTERM and wait (graceful), or SIGKILL when the scenario's state no longer matters.

        Faust's orderly shutdown takes several seconds; a scenario whose topics
        are thrown away afterwards need not wait for it.
        """
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM if is_graceful else signal.SIGKILL)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
        self.process = None
        return process.returncode

    def http_status(self, path: str) -> int:
        port = self.extra_env.get("GUARD_METRICS_PORT") or self.deployment.env["GUARD_METRICS_PORT"]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
                status: int = response.status
                return status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            return 0

    def http_text(self, path: str) -> str:
        port = self.extra_env.get("GUARD_METRICS_PORT") or self.deployment.env["GUARD_METRICS_PORT"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            text: str = response.read().decode()
            return text

    async def wait_ready(self, timeout: float, poll: float = 0.1) -> float:
        """Seconds from launch until ``/readyz`` answers 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.require_running()
            if await asyncio.to_thread(self.http_status, "/readyz") == 200:
                return time.monotonic() - self.started_at
            await asyncio.sleep(poll)
        raise TimeoutError(f"worker not ready after {timeout:.0f}s; log:\n{self.log_tail()}")


def with_metrics_port(deployment: Deployment) -> WorkerProcess:
    return WorkerProcess(deployment, {"GUARD_METRICS_PORT": str(free_port())})


async def produce_all(
    bootstrap: str, topic: str, payloads: Sequence[bytes], *, key_prefix: bytes = b"k"
) -> float:
    """Send every payload (acks=all), as fast as the client goes; returns the seconds taken."""
    producer = new_producer(
        bench_connection(bootstrap), acks="all", linger_ms=20, max_batch_size=256 * 1024
    )
    await producer.start()
    started = time.monotonic()
    try:
        pending = []
        for n, payload in enumerate(payloads):
            pending.append(await producer.send(topic, payload, key=key_prefix + str(n).encode()))
            if len(pending) >= 10_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.monotonic() - started


async def write_registry_in_chunks(
    config: GuardConfig, records: Sequence[ProtectionRecord]
) -> float:
    """``guard registry import``'s writer, one transaction per chunk; returns seconds."""
    started = time.monotonic()
    for first in range(0, len(records), REGISTRY_CHUNK):
        await write_registry(config, list(records[first : first + REGISTRY_CHUNK]))
    return time.monotonic() - started


class OffsetWatch:
    """Reads committed group offsets and end offsets, cheaply, while a worker runs.

    Counting output records with a consumer would take CPU from the worker on
    a 2-core machine; a committed custody offset says the same thing, because
    the worker commits it in the very transaction that writes the batch's
    decisions.
    """

    def __init__(self, bootstrap: str) -> None:
        self._bootstrap = bootstrap
        self._admin: AIOKafkaAdminClient | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def __aenter__(self) -> OffsetWatch:
        self._admin = new_admin(bench_connection(self._bootstrap))
        await self._admin.start()
        self._consumer = new_consumer(bench_connection(self._bootstrap), group_id=None)
        await self._consumer.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._admin is not None:
            await self._admin.close()
        if self._consumer is not None:
            await self._consumer.stop()

    async def committed(self, group: str, topic: str) -> int:
        """The sum of ``group``'s committed offsets on ``topic``."""
        return sum((await self.committed_by_partition(group, topic)).values())

    async def committed_by_partition(self, group: str, topic: str) -> dict[int, int]:
        if self._admin is None:
            raise RuntimeError("not entered")
        try:
            offsets = await self._admin.list_consumer_group_offsets(group)
        except KafkaError:
            return {}  # the group does not exist yet: nothing committed
        return {
            tp.partition: meta.offset
            for tp, meta in offsets.items()
            if tp.topic == topic and meta.offset > 0
        }

    async def stable_members(self, group: str) -> int:
        """How many members ``group`` has while it is Stable (0 while it rebalances)."""
        if self._admin is None:
            raise RuntimeError("not entered")
        try:
            (response,) = await self._admin.describe_consumer_groups([group])
        except KafkaError:
            return 0  # no coordinator for the group yet
        (described,) = response.to_object()["groups"]
        return len(described["members"]) if described["state"] == "Stable" else 0

    async def end_total(self, topic: str) -> int:
        if self._consumer is None:
            raise RuntimeError("not entered")
        partitions = await partitions_of(bench_connection(self._bootstrap), topic)
        ends = await self._consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
        return sum(ends.values())
