"""The eight topics of a deployment and how each must be configured.

Kept in one place so that ``guard topics create``, the demo, the tests
(``tests/conftest.py`` creates every test's topics with :func:`topic_specs`)
and docker-compose agree: the registry is compacted (it is the registry's
changelog: the latest record per person wins forever), the public topic is
compacted by subject reference, the review topic by input position (a
resolved event's tombstone removes its copy), the publications topic by
notice id (a withdrawn notice's tombstone removes it), the others keep
history.
"""

from __future__ import annotations

from guard.config.settings import GuardConfig
from guard.kafka.topics import TopicSpec

COMPACTED = {"min.compaction.lag.ms": "60000"}


def topic_specs(config: GuardConfig, *, custody_partitions: int = 3) -> list[TopicSpec]:
    return [
        TopicSpec(config.custody_topic, partitions=custody_partitions),
        TopicSpec(config.registry_topic, partitions=1, compacted=True, config=COMPACTED),
        TopicSpec(config.public_topic, partitions=3, compacted=True, config=COMPACTED),
        TopicSpec(config.audit_topic, partitions=3),
        TopicSpec(config.deadletter_topic, partitions=1),
        TopicSpec(config.review_topic, partitions=1, compacted=True, config=COMPACTED),
        # Partitioned like custody: a notice's publication lives on its event's partition,
        # whose owner is the worker that may withdraw it.
        TopicSpec(
            config.publications_topic,
            partitions=custody_partitions,
            compacted=True,
            config=COMPACTED,
        ),
        TopicSpec(config.retractions_topic, partitions=3),
    ]
