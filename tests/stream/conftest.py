"""The ``guard`` fixture: a harness for one worker process on this test's own topics."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from stream_harness import GuardHarness

from guard.config.settings import load_config
from guard.devbroker.broker import LocalKafkaBroker, free_port


@pytest.fixture
def guard(kafka_bootstrap: str, topic_names: Any, tmp_path: Path) -> Iterator[GuardHarness]:
    """A worker harness on the session broker and this test's own topics."""
    harness = make_harness(kafka_bootstrap, topic_names, tmp_path)
    try:
        yield harness
    finally:
        harness.stop_worker()


@pytest.fixture
def guard_on_private_broker(
    private_kafka: LocalKafkaBroker, private_topic_names: Any, tmp_path: Path
) -> Iterator[tuple[GuardHarness, LocalKafkaBroker]]:
    """A worker harness on a broker the test may stop and restart."""
    harness = make_harness(private_kafka.bootstrap, private_topic_names, tmp_path)
    try:
        yield harness, private_kafka
    finally:
        harness.stop_worker()


def make_harness(bootstrap: str, topic_names: Any, tmp_path: Path) -> GuardHarness:
    env = {
        "GUARD_BROKERS": bootstrap,
        "GUARD_APP_ID": f"guard-{topic_names.custody}",
        "GUARD_WORKER_ID": "test",
        **topic_names.environment(),
        "GUARD_BLINDING_KEY": secrets.token_hex(32),
        "GUARD_SUBJECT_REF_KEY": secrets.token_hex(32),
        "GUARD_DATA_DIR": str(tmp_path / "guard-data"),
        "GUARD_METRICS_PORT": str(free_port()),
        "GUARD_LOG_LEVEL": "DEBUG",
    }
    return GuardHarness(topic_names, load_config(env), env, tmp_path)
