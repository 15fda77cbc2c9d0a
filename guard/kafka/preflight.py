"""Before a worker starts: can it log in, and may it do everything it has to?

Without this, a wrong password or an untrusted certificate surfaces as
aiokafka's "Unable to bootstrap" after it has logged the real cause at ERROR,
and a missing ACL surfaces as an authorization exception deep inside the
consumer group or the first transaction, long after start-up. Here each is
asked once, directly, and turned into one line that names the cause and the
setting to fix (exit 2), never a traceback and never a secret:

* :func:`check_login` opens one connection to a bootstrap server with the
  connection's TLS and SASL settings and sends one Metadata request;
* :func:`check_worker_access` asks the broker which operations this principal
  has on each topic (Metadata v8, KIP-430), on the consumer group
  (DescribeGroups v3) and on the transactional ids (it starts a transactional
  producer under a probe id inside the worker's prefix), against the worker's
  part of the ACL table (:func:`guard.kafka.acls.grants`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Iterator

from aiokafka.conn import create_conn
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    KafkaError,
    SaslAuthenticationFailed,
    TransactionalIdAuthorizationFailed,
    UnsupportedSaslMechanismError,
)
from aiokafka.protocol.metadata import MetadataRequest

from guard.config.errors import ConfigError
from guard.config.settings import GuardConfig
from guard.kafka.acls import Grant, Operation, Principals, ResourceType, grants
from guard.kafka.clients import new_admin, new_client, new_producer
from guard.kafka.connection import KafkaConnection
from guard.kafka.protocol import AuthorizedOperationsRequest, topic_operations

_UNKNOWN_TOPIC = 3
_TOPIC_AUTHORIZATION_FAILED = 29
_OPERATIONS_UNKNOWN = -(2**31)
"""What a broker answers for authorized operations it was not asked for or cannot tell."""
_HOSTNAME_MISMATCH = 62
"""OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH."""
PREFLIGHT_SUFFIX = "preflight"
_COORDINATOR_ATTEMPTS = 30


class KafkaAccessError(ConfigError):
    """Kafka cannot be reached, refuses the login, or denies an operation the command needs."""


@contextlib.contextmanager
def quiet_client_logs() -> Iterator[None]:
    """aiokafka logs each failed attempt at ERROR; the caller's one line says it instead."""
    client_log = logging.getLogger("aiokafka")
    level = client_log.level
    client_log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        client_log.setLevel(level)


def _hosts(bootstrap: str) -> list[tuple[str, int]]:
    found = []
    for item in filter(None, (part.strip() for part in bootstrap.split(","))):
        host, _, port = item.rpartition(":")
        found.append((host.strip("[]") or item, int(port) if port.isdigit() else 9092))
    return found


async def check_login(connection: KafkaConnection, timeout: float = 15.0) -> None:
    """Connect and log in to the first bootstrap server that answers, or explain why none did.

    Raises:
        KafkaAccessError: one line naming the cause (refused, TLS trust, host
            name, login, mechanism, protocol mismatch) of the first failure.
    """
    options = connection.client_options()
    del options["bootstrap_servers"]
    problems = []
    with quiet_client_logs():
        for host, port in _hosts(connection.bootstrap):
            try:
                conn = await asyncio.wait_for(
                    create_conn(host, port, request_timeout_ms=int(timeout * 1000), **options),
                    timeout,
                )
                try:
                    await asyncio.wait_for(conn.send(MetadataRequest([])), timeout)
                finally:
                    conn.close()
                return
            except (OSError, KafkaError, TimeoutError) as error:
                problems.append(explain(error, connection, host, port))
    raise KafkaAccessError(problems[0] if problems else "GUARD_BROKERS: no bootstrap server")


def explain(error: BaseException, connection: KafkaConnection, host: str, port: int) -> str:
    """One line for a failed connection attempt, naming the setting to look at."""
    where = f"{host}:{port}"
    if isinstance(error, SaslAuthenticationFailed):
        return (
            f"GUARD_SASL_USERNAME ({connection.username}): Kafka at {where} refused the "
            f"{connection.sasl_mechanism} login: wrong user name or password "
            "(GUARD_SASL_PASSWORD_FILE)"
        )
    if isinstance(error, UnsupportedSaslMechanismError):
        return (
            f"GUARD_SASL_MECHANISM ({connection.sasl_mechanism}): not enabled on the "
            f"listener at {where}"
        )
    if isinstance(error, ssl.SSLCertVerificationError):
        if error.verify_code == _HOSTNAME_MISMATCH:
            return (
                f"GUARD_BROKERS ({where}): the broker's certificate does not name this host "
                "(GUARD_SSL_CHECK_HOSTNAME)"
            )
        trust = f"GUARD_SSL_CA_FILE ({connection.ca_file})" if connection.ca_file else (
            "the system trust store (GUARD_SSL_CA_FILE is unset)"
        )
        return (
            f"GUARD_SSL_CA_FILE: the certificate of the broker at {where} is not trusted by "
            f"{trust} ({error.verify_message})"
        )
    if isinstance(error, ssl.SSLError):
        return (
            f"GUARD_SECURITY_PROTOCOL ({connection.security_protocol}): TLS with {where} "
            f"failed ({error.reason or type(error).__name__}); a listener that requires a "
            "client certificate needs GUARD_SSL_CERT_FILE and GUARD_SSL_KEY_FILE"
        )
    if isinstance(error, KafkaConnectionError) and "closed" in str(error):
        return (
            f"GUARD_SECURITY_PROTOCOL ({connection.security_protocol}): the broker at {where} "
            "closed the connection; does the listener expect another protocol?"
        )
    return f"GUARD_BROKERS ({connection.bootstrap}): cannot reach Kafka ({type(error).__name__})"


def _who(connection: KafkaConnection) -> str:
    if connection.uses_sasl:
        return f"GUARD_SASL_USERNAME ({connection.username})"
    if connection.cert_file is not None:
        return f"the client certificate (GUARD_SSL_CERT_FILE {connection.cert_file})"
    return "this client"


async def check_worker_access(config: GuardConfig, connection: KafkaConnection) -> None:
    """Every topic exists and the worker's principal holds every grant it needs.

    Raises:
        KafkaAccessError: naming the first missing topic or denied operation.
    """
    worker = Principals().worker
    needed = [grant for grant in grants(config, Principals()) if grant.principal == worker]
    with quiet_client_logs():
        await _check_topics(config, connection, needed)
        await _check_group(config, connection)
        await _check_transactional_ids(config, connection, needed)


_TOPIC_VARIABLES = {
    "custody_topic": "GUARD_CUSTODY_TOPIC",
    "registry_topic": "GUARD_REGISTRY_TOPIC",
    "public_topic": "GUARD_PUBLIC_TOPIC",
    "audit_topic": "GUARD_AUDIT_TOPIC",
    "deadletter_topic": "GUARD_DEADLETTER_TOPIC",
    "review_topic": "GUARD_REVIEW_TOPIC",
    "publications_topic": "GUARD_PUBLICATIONS_TOPIC",
    "retractions_topic": "GUARD_RETRACTIONS_TOPIC",
}


async def _check_topics(
    config: GuardConfig, connection: KafkaConnection, needed: list[Grant]
) -> None:
    topics = {getattr(config, field): env for field, env in _TOPIC_VARIABLES.items()}
    client = new_client(connection)
    await client.bootstrap()
    try:
        request = AuthorizedOperationsRequest(list(topics))
        response = await client.send(client.get_random_node(), request)
    finally:
        await client.close()
    answered = topic_operations(response)
    for topic, env in topics.items():
        error_code, _ = answered.get(topic, (_UNKNOWN_TOPIC, 0))
        if error_code == _TOPIC_AUTHORIZATION_FAILED:
            raise KafkaAccessError(
                f"{_who(connection)}: not allowed to DESCRIBE topic {topic} ({env}); "
                "grant the ACLs `guard acls` lists"
            )
        if error_code:
            raise KafkaAccessError(
                f"{env} ({topic}): topic does not exist on {connection.bootstrap}"
            )
    for grant in needed:
        if grant.resource is not ResourceType.TOPIC:
            continue
        _, operations = answered[grant.name]
        if operations != _OPERATIONS_UNKNOWN and not operations & (1 << grant.operation):
            raise KafkaAccessError(
                f"{_who(connection)}: not allowed to {grant.operation.name} topic {grant.name}; "
                "grant the ACLs `guard acls` lists"
            )


async def _check_group(config: GuardConfig, connection: KafkaConnection) -> None:
    admin = new_admin(connection)
    await admin.start()
    response = None
    try:
        for attempt in range(_COORDINATOR_ATTEMPTS):
            try:
                (response,) = await admin.describe_consumer_groups(
                    [config.app_id], include_authorized_operations=True
                )
                break
            except GroupAuthorizationFailedError:
                break
            except KafkaError as error:
                # A fresh cluster creates its offsets topic on the first
                # coordinator question and answers "not available" meanwhile.
                if not error.retriable or attempt + 1 == _COORDINATOR_ATTEMPTS:
                    raise
                await asyncio.sleep(0.5)
    finally:
        await admin.close()
    operations = _OPERATIONS_UNKNOWN
    if response is not None:
        (group,) = response.to_object()["groups"]
        operations = int(group.get("authorized_operations", _OPERATIONS_UNKNOWN))
    if response is None or (
        operations != _OPERATIONS_UNKNOWN and not operations & (1 << Operation.READ)
    ):
        raise KafkaAccessError(
            f"{_who(connection)}: not allowed to READ consumer group {config.app_id} "
            "(GUARD_APP_ID); grant the ACLs `guard acls` lists"
        )


async def _check_transactional_ids(
    config: GuardConfig, connection: KafkaConnection, needed: list[Grant]
) -> None:
    """Start a transactional producer under a probe id inside the worker's prefix.

    The probe id is fixed and is no custody partition's, so the probe fences
    nobody's transactions (two workers starting together only fence each
    other's probe, which does nothing).
    """
    (prefix,) = [g.name for g in needed if g.resource is ResourceType.TRANSACTIONAL_ID]
    producer = new_producer(connection, transactional_id=prefix + PREFLIGHT_SUFFIX)
    try:
        await producer.start()
    except TransactionalIdAuthorizationFailed:
        raise KafkaAccessError(
            f"{_who(connection)}: not allowed to WRITE transactional ids {prefix}*; "
            "grant the ACLs `guard acls` lists"
        ) from None
    finally:
        await producer.stop()
