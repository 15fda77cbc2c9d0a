"""The ``guard`` fixture: a harness for one worker process on this test's own topics."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from stream_harness import GuardHarness

from guard.config.settings import load_config


@pytest.fixture
def guard(kafka_bootstrap: str, topic_names: Any, tmp_path: Path) -> Iterator[GuardHarness]:
    env = {
        "GUARD_BROKERS": kafka_bootstrap,
        "GUARD_APP_ID": f"guard-{topic_names.custody}",
        "GUARD_WORKER_ID": "test",
        "GUARD_CUSTODY_TOPIC": topic_names.custody,
        "GUARD_REGISTRY_TOPIC": topic_names.registry,
        "GUARD_PUBLIC_TOPIC": topic_names.public,
        "GUARD_AUDIT_TOPIC": topic_names.audit,
        "GUARD_DEADLETTER_TOPIC": topic_names.deadletter,
        "GUARD_BLINDING_KEY": secrets.token_hex(32),
        "GUARD_SUBJECT_REF_KEY": secrets.token_hex(32),
        "GUARD_DATA_DIR": str(tmp_path / "guard-data"),
        "GUARD_METRICS_PORT": "0",
        "GUARD_LOG_LEVEL": "DEBUG",
        "GUARD_BATCH_WITHIN": "0.02",
    }
    harness = GuardHarness(topic_names, load_config(env), env, tmp_path)
    try:
        yield harness
    finally:
        harness.stop_worker()
