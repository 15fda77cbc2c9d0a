"""The whole flow over SASL_SSL, each party allowed its job and denied the rest.

Runs on the session's secure broker (tests/conftest.py ``secure_kafka``): TLS
with a generated CA, SCRAM logins, KRaft's StandardAuthorizer, and the ACLs
``guard acls --apply`` creates. Every party uses its own SCRAM user.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from aiokafka.errors import TopicAuthorizationFailedError
from secure_parties import USERS, Parties, custody_line, registry_line

from guard.cli.tail import committed_reader
from guard.devbroker.certs import DevCertificateAuthority
from guard.kafka.clients import new_producer
from guard.kafka.connection import KafkaConnection

if TYPE_CHECKING:
    from conftest import SecureKafka

PROTECTED_A = "A-012-345-678"
FREE_A = "A-098-765-432"


@pytest.fixture(scope="module")
def parties(
    secure_kafka: SecureKafka, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Parties]:
    """One deployment whose flow has run: a protected and a free event decided."""
    _, shared = secure_kafka.create_topics()
    deployment = Parties(secure_kafka, shared, tmp_path_factory.mktemp("secure-flow"))
    deployment.run("operator", "registry", "import", "-",
                   stdin=registry_line("rec-1", PROTECTED_A, "Protected") + "\n")  # fmt: skip
    deployment.start_worker()
    try:
        deployment.wait_ready()
        feed = custody_line("ev-protected", PROTECTED_A, "Protected") + "\n"
        feed += custody_line("ev-free", FREE_A, "Free") + "\n"
        deployment.run("upstream", "produce", "-", stdin=feed)
        yield deployment
    finally:
        deployment.stop_worker()


def test_the_flow_runs_over_sasl_ssl_and_publishes_only_the_unprotected(parties: Parties) -> None:
    audit = parties.tail("auditor", "audit", at_least=2)
    assert sorted(r["value"]["decision"] for r in audit) == ["DROP", "PUBLISH"]
    public = parties.tail("subscriber", "public", at_least=1)
    assert len(public) == 1
    assert public[0]["value"]["a_number"] == "098765432"
    assert "Protected" not in json.dumps(public)


def test_no_secret_reaches_the_log_metrics_status_or_repr(parties: Parties) -> None:
    password = parties.secure.security.password(USERS["worker"])
    keys = [Path(p).read_text().strip() for p in parties.keys.values()]
    parties.tail("auditor", "audit", at_least=2)
    _, metrics = parties.http("/metrics")
    _, readyz = parties.http("/readyz")
    status = parties.attempt(
        "worker", "status", "--url", f"http://127.0.0.1:{parties.metrics_port}"
    ).stdout
    connection = parties.secure.connection(USERS["worker"])
    texts = {
        "log": parties.log_text(),
        "metrics": metrics,
        "readyz": readyz,
        "status": status,
        "repr": repr(connection) + repr(connection.faust_credentials()),
    }
    assert "SASL_SSL" in texts["log"]  # the start-up line says how it connected
    for where, text in texts.items():
        for secret in (password, *keys):
            assert secret not in text, f"a secret in the {where}"


# -- what each party may do, and may not ------------------------------------------------


def _connection(parties: Parties, party: str) -> KafkaConnection:
    connection: KafkaConnection = parties.secure.connection(USERS[party])
    return connection


async def _read(connection: KafkaConnection, topic: str) -> int:
    """Records fetched from ``topic`` from its beginning, the way guard's readers read.

    ``committed_reader`` takes the partitions from metadata, so a principal
    without DESCRIBE fails there, one with DESCRIBE but no READ at the fetch:
    both raise TopicAuthorizationFailedError.
    """
    async with committed_reader(connection, topic) as (consumer, tps):
        fetched = await consumer.getmany(*tps, timeout_ms=3000)
        return sum(len(records) for records in fetched.values())


async def _write(connection: KafkaConnection, topic: str) -> None:
    producer = new_producer(connection, acks="all", request_timeout_ms=10_000)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"must never land", key=b"probe")
    finally:
        await producer.stop()


def _topic(parties: Parties, kind: str) -> str:
    return parties.shared[f"GUARD_{kind.upper()}_TOPIC"]


@pytest.mark.parametrize("kind", ["custody", "registry", "audit", "deadletter", "review"])
async def test_the_subscriber_is_denied_every_restricted_topic(parties: Parties, kind: str) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        await _read(_connection(parties, "subscriber"), _topic(parties, kind))


async def test_the_subscriber_may_read_public_but_not_write_it(parties: Parties) -> None:
    subscriber = _connection(parties, "subscriber")
    assert await _read(subscriber, _topic(parties, "public")) >= 0
    with pytest.raises(TopicAuthorizationFailedError):
        await _write(subscriber, _topic(parties, "public"))


async def test_upstream_may_write_custody_but_not_read_public_or_custody(parties: Parties) -> None:
    upstream = _connection(parties, "upstream")
    for kind in ("public", "custody"):
        with pytest.raises(TopicAuthorizationFailedError):
            await _read(upstream, _topic(parties, kind))


@pytest.mark.parametrize(
    ("party", "kind"),
    [("auditor", "public"), ("auditor", "registry"), ("operator", "custody"),
     ("operator", "public"), ("worker", "deadletter")],
)  # fmt: skip
async def test_no_party_reads_beyond_its_job(parties: Parties, party: str, kind: str) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        await _read(_connection(parties, party), _topic(parties, kind))


@pytest.mark.parametrize(
    ("party", "kind"),
    [("upstream", "registry"), ("operator", "custody"), ("auditor", "audit"),
     ("reviewer", "deadletter"), ("worker", "custody"), ("worker", "registry")],
)  # fmt: skip
async def test_no_party_writes_beyond_its_job(parties: Parties, party: str, kind: str) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        await _write(_connection(parties, party), _topic(parties, kind))


def test_the_reviewer_reads_the_review_queue(parties: Parties) -> None:
    result = parties.attempt("reviewer", "review", "list")
    assert result.returncode == 0, result.stderr


def test_a_denied_command_is_one_line_naming_the_user(parties: Parties) -> None:
    result = parties.attempt("subscriber", "tail", "custody", "--idle-exit", "2")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("guard: error: ")
    assert "public-subscriber" in result.stderr
    assert "Traceback" not in result.stderr


def test_acls_check_finds_the_applied_table_exactly(parties: Parties) -> None:
    result = parties.attempt("worker", "acls", "--check", **_admin(parties))
    assert result.returncode == 0, result.stdout + result.stderr


def _admin(parties: Parties) -> dict[str, str]:
    env = parties.secure.environment("guard-admin")
    return {k: v for k, v in env.items() if k.startswith(("GUARD_SASL", "GUARD_SSL"))}


# -- a worker that cannot start says why, in one line ------------------------------------


def _refused(parties: Parties, **env: str) -> str:
    result = parties.attempt("worker", "worker", **env)
    assert result.returncode == 2, result.stderr
    line = result.stderr
    assert line.count("\n") == 1 and line.startswith("guard: error: "), line
    assert "Traceback" not in line
    assert parties.secure.security.password(USERS["worker"]) not in line
    return line


def test_a_wrong_password_stops_the_worker_with_one_line(parties: Parties, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.password"
    wrong.write_text("not-the-password")
    wrong.chmod(0o600)
    line = _refused(parties, GUARD_SASL_PASSWORD_FILE=str(wrong))
    assert "refused the SCRAM-SHA-512 login" in line and "guard-worker" in line


def test_an_untrusted_broker_certificate_stops_the_worker(parties: Parties, tmp_path: Path) -> None:
    other_ca = DevCertificateAuthority(tmp_path / "other-ca")
    line = _refused(parties, GUARD_SSL_CA_FILE=str(other_ca.cert_path))
    assert "not trusted by GUARD_SSL_CA_FILE" in line


def test_a_missing_permission_stops_the_worker(parties: Parties) -> None:
    auditor = parties.secure.environment(USERS["auditor"])
    line = _refused(parties, GUARD_SASL_USERNAME="auditor",
                    GUARD_SASL_PASSWORD_FILE=auditor["GUARD_SASL_PASSWORD_FILE"])  # fmt: skip
    assert "auditor" in line and "not allowed to" in line


def test_a_group_readable_password_file_is_refused(parties: Parties, tmp_path: Path) -> None:
    shared = tmp_path / "shared.password"
    shared.write_text(parties.secure.security.password(USERS["worker"]))
    shared.chmod(0o640)
    line = _refused(parties, GUARD_SASL_PASSWORD_FILE=str(shared))
    assert "accessible by group or others" in line and f"chmod 600 {shared}" in line


async def test_mutual_tls_logs_in_as_the_certificate_with_the_same_acls(parties: Parties) -> None:
    from guard.config.settings import load_config
    from guard.kafka.connection import kafka_connection

    worker_by_cert = kafka_connection(
        load_config(parties.secure.security.mtls_environment(USERS["worker"]))
    )
    assert await _read(worker_by_cert, _topic(parties, "custody")) >= 0
    with pytest.raises(TopicAuthorizationFailedError):
        await _read(worker_by_cert, _topic(parties, "deadletter"))


async def test_asking_with_the_wrong_protocol_is_explained(parties: Parties) -> None:
    result = parties.attempt("worker", "worker", GUARD_SECURITY_PROTOCOL="SSL",
                             GUARD_SASL_USERNAME="", GUARD_SASL_PASSWORD_FILE="")  # fmt: skip
    assert result.returncode == 2
    assert "GUARD_SECURITY_PROTOCOL (SSL)" in result.stderr
    assert "closed the connection" in result.stderr


def test_a_producer_without_any_grant_fails_with_one_line(parties: Parties) -> None:
    result = parties.attempt("subscriber", "produce", "-", stdin=custody_line("x", FREE_A, "F"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "public-subscriber" in result.stderr and "denied" in result.stderr

