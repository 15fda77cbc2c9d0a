"""The schema registry settings: parsed, checked, and the password never echoed."""

from __future__ import annotations

from pathlib import Path

import pytest

from guard.config.errors import ConfigError
from guard.config.settings import load_config
from guard.schemaregistry.wireformat import WireFormat, registry_access

URL = "https://registry.example:8081/apis/ccompat/v7"


def test_unset_means_schemaless() -> None:
    config = load_config({})
    assert config.schema_registry_url is None
    assert registry_access(config) is None and WireFormat.from_config(config) is None


def test_the_url_must_be_http_or_https() -> None:
    for bad in ("registry:8081", "ftp://x/y", "http://"):
        with pytest.raises(ConfigError, match="GUARD_SCHEMA_REGISTRY_URL"):
            load_config({"GUARD_SCHEMA_REGISTRY_URL": bad})


def test_credentials_from_a_value_or_a_file_never_both(tmp_path: Path) -> None:
    secret_file = tmp_path / "password"
    secret_file.write_text("s3cret-from-file\n")
    base = {"GUARD_SCHEMA_REGISTRY_URL": URL, "GUARD_SCHEMA_REGISTRY_USER": "guard"}
    access = registry_access(
        load_config({**base, "GUARD_SCHEMA_REGISTRY_PASSWORD_FILE": str(secret_file)})
    )
    assert access is not None and access.password == "s3cret-from-file"
    assert "s3cret" not in repr(access)
    both = {**base, "GUARD_SCHEMA_REGISTRY_PASSWORD": "s3cret-value",
            "GUARD_SCHEMA_REGISTRY_PASSWORD_FILE": str(secret_file)}  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        registry_access(load_config(both))
    assert "s3cret" not in str(caught.value)
    with pytest.raises(ConfigError, match="GUARD_SCHEMA_REGISTRY_USER"):
        registry_access(
            load_config({"GUARD_SCHEMA_REGISTRY_URL": URL, "GUARD_SCHEMA_REGISTRY_PASSWORD": "x"})
        )


def test_a_missing_ca_file_is_refused(tmp_path: Path) -> None:
    config = load_config(
        {"GUARD_SCHEMA_REGISTRY_URL": URL, "GUARD_SCHEMA_REGISTRY_CA_FILE": str(tmp_path / "ca")}
    )
    with pytest.raises(ConfigError, match="GUARD_SCHEMA_REGISTRY_CA_FILE"):
        registry_access(config)
