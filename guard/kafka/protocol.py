"""Two Kafka requests aiokafka 0.14 has no client method for, on its own wire classes.

* **Metadata v8** with ``include_topic_authorized_operations`` (KIP-430): the
  broker says, per topic, which operations *this* principal may perform. The
  worker checks its permissions with it before it starts, so a missing ACL
  stops start-up with one line naming the topic and the operation instead of
  surfacing later as an exception deep inside a consumer. aiokafka's own
  Metadata classes stop at v5, which predates the field.
* **CreateAcls / DescribeAcls**: aiokafka ships the wire classes
  (``aiokafka.protocol.admin``) but its admin client has no method for them;
  they are sent here through a plain :class:`aiokafka.client.AIOKafkaClient`
  made by :func:`guard.kafka.clients.new_client`.

The v8 schema below is Kafka's ``MetadataRequest.json`` / ``MetadataResponse.json``
at version 8 (the last non-flexible version); ``tests/kafka`` checks it
against a real broker.
"""

from __future__ import annotations

from typing import Any

from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import Array, Boolean, Int16, Int32, Schema, String


class MetadataResponse_v8(Response):  # type: ignore[misc]  # aiokafka is untyped
    API_KEY = 3
    API_VERSION = 8
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "brokers",
            Array(
                ("node_id", Int32),
                ("host", String("utf-8")),
                ("port", Int32),
                ("rack", String("utf-8")),
            ),
        ),
        ("cluster_id", String("utf-8")),
        ("controller_id", Int32),
        (
            "topics",
            Array(
                ("error_code", Int16),
                ("topic", String("utf-8")),
                ("is_internal", Boolean),
                (
                    "partitions",
                    Array(
                        ("error_code", Int16),
                        ("partition", Int32),
                        ("leader", Int32),
                        ("leader_epoch", Int32),
                        ("replicas", Array(Int32)),
                        ("isr", Array(Int32)),
                        ("offline_replicas", Array(Int32)),
                    ),
                ),
                ("topic_authorized_operations", Int32),
            ),
        ),
        ("cluster_authorized_operations", Int32),
    )


class MetadataRequest_v8(RequestStruct):  # type: ignore[misc]
    API_KEY = 3
    API_VERSION = 8
    RESPONSE_TYPE = MetadataResponse_v8
    SCHEMA = Schema(
        ("topics", Array(String("utf-8"))),
        ("allow_auto_topic_creation", Boolean),
        ("include_cluster_authorized_operations", Boolean),
        ("include_topic_authorized_operations", Boolean),
    )


class AuthorizedOperationsRequest(Request[MetadataRequest_v8]):  # type: ignore[misc]
    """Metadata for ``topics`` with each topic's authorized operations (a bit per operation)."""

    API_KEY = 3

    def __init__(self, topics: list[str]) -> None:
        self._topics = topics

    def build(self, request_struct_class: type[MetadataRequest_v8]) -> MetadataRequest_v8:
        return request_struct_class(self._topics, False, False, True)


def topic_operations(response: Response) -> dict[str, tuple[int, int]]:
    """Topic → (error code, authorized-operations bit field) from a v8 response."""
    decoded: dict[str, Any] = response.to_object()
    return {
        str(topic["topic"]): (int(topic["error_code"]), int(topic["topic_authorized_operations"]))
        for topic in decoded["topics"]
    }
