"""One line for a Kafka failure that reached the command line, naming the real cause.

aiokafka reports a refused login or an untrusted certificate only as "Unable to
bootstrap" (after logging the cause), and a missing ACL as an error class.
When a command fails that way, the connection is tried once more, directly,
to say which it was (:func:`guard.kafka.preflight.check_login`).
"""

from __future__ import annotations

import asyncio

from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    KafkaError,
    TopicAuthorizationFailedError,
    TransactionalIdAuthorizationFailed,
)

from guard.config.errors import ConfigError
from guard.config.settings import load_config
from guard.kafka.connection import kafka_connection
from guard.kafka.preflight import KafkaAccessError, check_login

DENIALS = (
    TopicAuthorizationFailedError,
    GroupAuthorizationFailedError,
    TransactionalIdAuthorizationFailed,
    ClusterAuthorizationFailedError,
)


def describe_failure(error: KafkaError) -> str:
    """The line to print for ``error``; never a secret (settings are re-read, not echoed)."""
    try:
        connection = kafka_connection(load_config())
    except ConfigError:
        return str(error)
    who = f"GUARD_SASL_USERNAME ({connection.username})" if connection.uses_sasl else "this client"
    if isinstance(error, DENIALS):
        return (
            f"{who}: Kafka denied the operation ({type(error).__name__}); "
            "grant the ACLs `guard acls` lists"
        )
    if isinstance(error, KafkaConnectionError):
        try:
            asyncio.run(check_login(connection, timeout=10.0))
        except KafkaAccessError as cause:
            return str(cause)
        return f"GUARD_BROKERS ({connection.bootstrap}): lost the connection to Kafka"
    return str(error)
