"""The ACL table in the README is what ``guard acls`` prints for the default settings,
and the table gives each party what its job needs and nothing of the restricted topics."""

from __future__ import annotations

from pathlib import Path

import pytest

from guard.cli.main import main
from guard.config.settings import load_config
from guard.kafka.acls import (
    Grant,
    Operation,
    PatternType,
    Principals,
    ResourceType,
    excess,
    grants,
    render,
)

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_shows_the_table_guard_acls_prints() -> None:
    text = README.read_text()
    start = text.index("<!-- acl-table:start -->")
    end = text.index("<!-- acl-table:end -->")
    shown = text[start:end].split("```")[1].strip()
    assert shown == render(grants(load_config({}), Principals()))


def test_restricted_topics_are_read_only_by_the_parties_that_need_them() -> None:
    config = load_config({})
    readers: dict[str, set[str]] = {}
    for grant in grants(config, Principals()):
        if grant.resource is ResourceType.TOPIC and grant.operation is Operation.READ:
            readers.setdefault(grant.name, set()).add(grant.principal)
    # The canary checks the path end to end: what the workers decided and published.
    assert readers[config.public_topic] == {"User:public-subscriber", "User:guard-canary"}
    assert readers[config.audit_topic] == {"User:auditor", "User:guard-canary"}
    assert readers[config.retractions_topic] == {"User:public-subscriber"}
    # Publications tie a public subject_ref to registry digests: the worker's alone.
    assert readers[config.publications_topic] == {"User:guard-worker"}
    assert config.deadletter_topic not in readers, "dead letters hold raw PII: no one"
    assert readers[config.custody_topic] == {"User:guard-worker", "User:reviewer"}
    assert readers[config.review_topic] == {"User:guard-worker", "User:reviewer"}
    assert readers[config.registry_topic] == {
        "User:guard-worker", "User:registry-operator", "User:reviewer"
    }


def test_excess_counts_only_grants_that_reach_this_deployment() -> None:
    config = load_config({})
    wanted = grants(config, Principals())
    worker = "User:guard-worker"
    extra = [
        Grant(worker, ResourceType.TOPIC, config.deadletter_topic, PatternType.LITERAL,
              Operation.READ),
        Grant(worker, ResourceType.TOPIC, "guard.", PatternType.PREFIXED, Operation.READ),
        Grant(worker, ResourceType.TOPIC, "*", PatternType.LITERAL, Operation.WRITE),
        Grant(worker, ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL,
              Operation.ALTER),
    ]  # fmt: skip
    elsewhere = Grant(worker, ResourceType.TOPIC, "other-deployment.custody",
                      PatternType.LITERAL, Operation.READ)  # fmt: skip
    assert excess([*wanted, *extra, elsewhere], wanted) == sorted(extra)


def test_acls_on_a_broker_without_an_authorizer_is_one_line(
    kafka_bootstrap: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The quick-start broker has no authorizer: the broker's refusal is one line, exit 2."""
    monkeypatch.setenv("GUARD_BROKERS", kafka_bootstrap)
    assert main(["acls", "--check"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("guard: error: "), lines
    assert "Traceback" not in lines[0]
