"""Every Kafka client of the project is made from a KafkaConnection, in one module.

A client built any other way would connect with its own idea of the broker
and of security (plaintext, no login), so a single forgotten call site would
undo TLS and SASL for whatever it reads or writes. This test reads the source
of ``guard/`` and ``bench/`` and fails on any construction of a Kafka client
outside ``guard/kafka/clients.py``, and on a Faust app or Quix Streams app
built without the connection's credentials.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from guard.kafka.clients import new_consumer
from guard.kafka.connection import KafkaConnection

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("guard", "bench")
FACTORY = ROOT / "guard" / "kafka" / "clients.py"
CLIENT_CLASSES = frozenset(
    {"AIOKafkaConsumer", "AIOKafkaProducer", "AIOKafkaAdminClient", "AIOKafkaClient",
     "KafkaConsumer", "KafkaProducer", "Consumer", "Producer", "AdminClient"}
)  # fmt: skip
"""aiokafka's clients, and the names kafka-python and confluent-kafka use."""


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _calls(path: Path) -> list[tuple[ast.Call, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        (node, name)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and (name := _called_name(node)) is not None
    ]


def _sources() -> list[Path]:
    return sorted(p for top in SCANNED for p in (ROOT / top).rglob("*.py"))


def test_no_module_but_the_factory_constructs_a_kafka_client() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{call.lineno} {name}(...)"
        for path in _sources()
        if path != FACTORY
        for call, name in _calls(path)
        if name in CLIENT_CLASSES
    ]
    assert offenders == [], "build these through guard.kafka.clients: " + ", ".join(offenders)


def test_the_faust_app_and_the_quix_app_get_the_connections_credentials() -> None:
    found = []
    for path in _sources():
        for call, name in _calls(path):
            if name == "App" and path.name == "app.py":
                keywords = {k.arg for k in call.keywords}
                assert "broker_credentials" in keywords, f"{path}:{call.lineno}"
                found.append("faust")
            if name == "Application":
                keywords = {k.arg for k in call.keywords}
                assert "broker_address" in keywords, f"{path}:{call.lineno}"
                address = next(k.value for k in call.keywords if k.arg == "broker_address")
                source = ast.unparse(address)
                assert "librdkafka_options" in source, f"{path}:{call.lineno}"
                found.append("quix")
    assert sorted(found) == ["faust", "quix"]


def test_the_scan_would_see_a_bypass(tmp_path: Path) -> None:
    """The check above is only worth something if it catches the forms a bypass takes."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import aiokafka\nfrom aiokafka import AIOKafkaProducer\n"
        "a = AIOKafkaProducer(bootstrap_servers='x')\nb = aiokafka.AIOKafkaConsumer()\n"
    )
    assert sorted(name for _, name in _calls(sample) if name in CLIENT_CLASSES) == [
        "AIOKafkaConsumer",
        "AIOKafkaProducer",
    ]


@pytest.mark.parametrize(
    "option", ["bootstrap_servers", "security_protocol", "ssl_context", "sasl_plain_password"]
)
def test_a_caller_cannot_override_what_the_connection_sets(option: str) -> None:
    with pytest.raises(TypeError, match=option):
        new_consumer(KafkaConnection.plaintext("127.0.0.1:9"), **{option: "x"})
