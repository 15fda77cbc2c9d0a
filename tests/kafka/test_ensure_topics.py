"""ensure_topics against the session broker, and TopicSpec's own checks."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from guard.kafka.connection import KafkaConnection
from guard.kafka.errors import TopicSetupError
from guard.kafka.topics import TopicSpec, ensure_topics

UNKNOWN_TOPIC_OR_PARTITION = 3


plaintext = KafkaConnection.plaintext


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


async def describe(bootstrap: str, name: str) -> tuple[int, dict[str, str]]:
    """(partition count, effective topic configs) as the broker reports them."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (topic,) = await admin.describe_topics([name])
        responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])
    finally:
        await admin.close()
    configs: dict[str, str] = {}
    for response in responses:
        resources: list[dict[str, Any]] = response.to_object()["resources"]
        for resource in resources:
            for entry in resource["config_entries"]:
                configs[entry["config_names"]] = entry["config_value"]
    return len(topic["partitions"]), configs


async def test_creates_topics_with_partitions_and_compaction(kafka_bootstrap: str) -> None:
    plain, compacted = unique("plain"), unique("compacted")

    await ensure_topics(
        plaintext(kafka_bootstrap),
        [
            TopicSpec(plain, partitions=3, config={"retention.ms": "3600000"}),
            TopicSpec(compacted, compacted=True),
        ],
    )

    partitions, configs = await describe(kafka_bootstrap, plain)
    assert partitions == 3
    assert configs["retention.ms"] == "3600000"
    assert configs["cleanup.policy"] == "delete"
    partitions, configs = await describe(kafka_bootstrap, compacted)
    assert partitions == 1
    assert configs["cleanup.policy"] == "compact"


async def test_existing_topics_are_left_as_they_are(kafka_bootstrap: str) -> None:
    name = unique("existing")
    await ensure_topics(plaintext(kafka_bootstrap), [TopicSpec(name, partitions=2)])

    await ensure_topics(plaintext(kafka_bootstrap), [TopicSpec(name, partitions=2)])
    await ensure_topics(plaintext(kafka_bootstrap), [TopicSpec(name, partitions=5)])

    partitions, _ = await describe(kafka_bootstrap, name)
    assert partitions == 2


async def test_broker_refusal_names_the_topic_and_the_error(kafka_bootstrap: str) -> None:
    with pytest.raises(TopicSetupError, match=r"'not a valid name!'.*InvalidTopic"):
        await ensure_topics(plaintext(kafka_bootstrap), [TopicSpec("not a valid name!")])


async def test_no_specs_needs_no_broker() -> None:
    await ensure_topics(plaintext("127.0.0.1:1"), [])


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"name": ""}, "name is empty"),
        ({"name": "t", "partitions": 0}, "partitions must be at least 1"),
        (
            {"name": "t", "compacted": True, "config": {"cleanup.policy": "delete"}},
            "either compacted=True or a cleanup.policy",
        ),
    ],
)
def test_invalid_spec_is_refused(arguments: dict[str, Any], problem: str) -> None:
    with pytest.raises(TopicSetupError, match=problem):
        TopicSpec(**arguments)


def test_spec_config_cannot_change_after_creation() -> None:
    source = {"retention.ms": "1000"}
    spec = TopicSpec("t", config=source)

    source["retention.ms"] = "2000"

    assert spec.topic_configs() == {"retention.ms": "1000"}
    with pytest.raises(TypeError):
        spec.config["retention.ms"] = "3000"  # type: ignore[index]


def test_compacted_spec_asks_for_compaction() -> None:
    spec = TopicSpec("t", compacted=True, config={"min.cleanable.dirty.ratio": "0.01"})

    assert spec.topic_configs() == {
        "min.cleanable.dirty.ratio": "0.01",
        "cleanup.policy": "compact",
    }


async def test_broker_does_not_create_topics_on_first_mention(kafka_bootstrap: str) -> None:
    """A misspelt topic must fail, not become a new feed nobody watches."""
    name = unique("never-created")
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        (topic,) = await admin.describe_topics([name])  # a metadata request naming the topic
        existing = await admin.list_topics()
    finally:
        await admin.close()

    assert topic["error_code"] == UNKNOWN_TOPIC_OR_PARTITION
    assert name not in existing
