"""Configuration: every setting parsed from GUARD_* variables, or one clear line."""

from __future__ import annotations

from dataclasses import fields

import pytest

from guard.config.errors import ConfigError
from guard.config.settings import SETTINGS, GuardConfig, load_config, settings_table


def test_every_setting_is_a_config_field_and_back() -> None:
    assert {f.name for f in fields(GuardConfig)} == {s.field for s in SETTINGS}
    assert all(s.env.startswith("GUARD_") for s in SETTINGS)
    assert len({s.env for s in SETTINGS}) == len(SETTINGS)


def test_defaults_load_without_any_environment() -> None:
    config = load_config({})
    assert config.brokers == "127.0.0.1:9092"
    assert config.batch_max == 1000
    assert config.registry_accepted_undecodable == frozenset()
    assert config.policy_file is None


def test_values_are_parsed_to_their_types() -> None:
    config = load_config({
        "GUARD_BATCH_MAX": "20",
        "GUARD_BATCH_WITHIN": "0.5",
        "GUARD_METRICS_PORT": "0",
        "GUARD_LOG_LEVEL": "debug",
        "GUARD_REGISTRY_ACCEPTED_UNDECODABLE": "0:12, 3:4",
        "GUARD_POLICY_FILE": "/etc/guard/policy.json",
    })
    assert (config.batch_max, config.batch_within, config.metrics_port) == (20, 0.5, 0)
    assert config.log_level == "DEBUG"
    assert config.registry_accepted_undecodable == {(0, 12), (3, 4)}
    assert str(config.policy_file) == "/etc/guard/policy.json"


@pytest.mark.parametrize(
    ("env", "value", "expected"),
    [
        ("GUARD_BATCH_MAX", "0", "GUARD_BATCH_MAX"),
        ("GUARD_BATCH_MAX", "many", "GUARD_BATCH_MAX"),
        ("GUARD_METRICS_PORT", "70000", "port number"),
        ("GUARD_LOG_FORMAT", "xml", "text or json"),
        ("GUARD_BROKERS", "  ", "must not be empty"),
        ("GUARD_REGISTRY_ACCEPTED_UNDECODABLE", "12", "PARTITION:OFFSET"),
    ],
)
def test_bad_values_fail_with_one_line_naming_the_variable(
    env: str, value: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({env: value})
    message = str(caught.value)
    assert env in message
    assert expected in message
    assert "\n" not in message


def test_a_bad_secret_is_never_echoed() -> None:
    # Secrets are parsed leniently here (validated when loaded), but the
    # repr of a config must never show them.
    config = load_config({"GUARD_BLINDING_KEY": "deadbeef" * 8})
    assert "deadbeef" not in repr(config)


def test_topics_must_differ() -> None:
    with pytest.raises(ConfigError, match="must all be different"):
        load_config({"GUARD_PUBLIC_TOPIC": "same", "GUARD_AUDIT_TOPIC": "same"})


def test_settings_table_lists_every_variable() -> None:
    table = settings_table()
    for setting in SETTINGS:
        assert f"`{setting.env}`" in table
