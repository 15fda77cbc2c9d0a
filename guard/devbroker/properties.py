"""The configuration files a single-node development broker starts from.

Everything binds to 127.0.0.1: the dev broker carries test data shaped like
custody events and must never be reachable from another machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

LOOPBACK_HOST = "127.0.0.1"
NODE_ID = 1

_DEDUPE_BUFFER_BYTES = 16 * 1024 * 1024
"""The log cleaner allocates this up front; the 128 MiB default is a quarter of our heap."""


def server_properties(
    port: int, controller_port: int, log_dir: Path, secure: Mapping[str, str] | None = None
) -> str:
    """A KRaft broker that is also its own controller, with one replica of everything.

    Internal topics get one partition each: a dev broker never has enough
    groups or transactional producers to need fifty, and creating fifty makes
    the first consumer group and the first transaction several seconds slower.
    Topics must be created explicitly (auto-creation off) so a typo in a topic
    name fails loudly instead of silently publishing to a new topic.

    ``secure`` (from :class:`guard.devbroker.secure.SecureBroker`) replaces the
    plaintext listeners with TLS/SASL ones and turns the authorizer on.
    """
    settings = {
        "process.roles": "broker,controller",
        "node.id": str(NODE_ID),
        "listeners": (
            f"PLAINTEXT://{LOOPBACK_HOST}:{port},CONTROLLER://{LOOPBACK_HOST}:{controller_port}"
        ),
        "advertised.listeners": f"PLAINTEXT://{LOOPBACK_HOST}:{port}",
        "inter.broker.listener.name": "PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "controller.quorum.voters": f"{NODE_ID}@{LOOPBACK_HOST}:{controller_port}",
        "log.dirs": str(log_dir),
        "num.partitions": "1",
        "default.replication.factor": "1",
        "auto.create.topics.enable": "false",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.num.partitions": "1",
        "transaction.state.log.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "log.cleaner.dedupe.buffer.size": str(_DEDUPE_BUFFER_BYTES),
        **(secure or {}),
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def log4j_properties(log_file: Path) -> str:
    """Warnings and errors to one file, nothing to the console.

    WARN is enough to explain a failed start (Kafka logs fatal startup errors
    at ERROR) without filling the disk during long test sessions.
    """
    return (
        "log4j.rootLogger=WARN, file\n"
        "log4j.appender.file=org.apache.log4j.FileAppender\n"
        f"log4j.appender.file.File={log_file}\n"
        "log4j.appender.file.Append=true\n"
        "log4j.appender.file.layout=org.apache.log4j.PatternLayout\n"
        "log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n\n"
    )
