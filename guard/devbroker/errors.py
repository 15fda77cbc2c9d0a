"""Failures of the local development Kafka broker.

Kept apart from the service's own errors: a dev-broker failure means the
machine is missing a tool or a port, never that an event was mishandled, and
callers (tests, the ``guard dev-broker`` command) report it and stop.
"""

from __future__ import annotations


class DevBrokerError(Exception):
    """The local broker or its jars could not be made ready.

    Messages are one line and name the tool, port or topic involved; the
    broker never sees protected identifiers, so there is nothing to redact.
    """


class KafkaJarsError(DevBrokerError):
    """Maven or Java is missing, or Maven could not fetch the Kafka jars."""


class BrokerStartError(DevBrokerError):
    """The broker process could not be started or never became ready."""
