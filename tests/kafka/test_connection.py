"""Turning the security settings into one connection, and refusing what would be less secure."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from guard.config.errors import ConfigError
from guard.config.settings import load_config
from guard.devbroker.certs import DevCertificateAuthority
from guard.kafka.connection import kafka_connection

PASSWORD = "s3cret-pa55word-never-shown"


def connection_for(**env: str):  # type: ignore[no-untyped-def]
    return kafka_connection(load_config({"GUARD_BROKERS": "127.0.0.1:9093", **env}))


@pytest.fixture
def ca(tmp_path: Path) -> DevCertificateAuthority:
    return DevCertificateAuthority(tmp_path / "ca")


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "kafka.password"
    path.write_text(PASSWORD + "\n")
    path.chmod(0o600)
    return path


def test_plaintext_by_default_and_nothing_but_the_bootstrap() -> None:
    connection = connection_for()
    assert connection.client_options() == {
        "bootstrap_servers": "127.0.0.1:9093",
        "security_protocol": "PLAINTEXT",
    }
    assert connection.faust_credentials() is None


def test_sasl_ssl_reads_the_password_file_and_hides_it(
    ca: DevCertificateAuthority, password_file: Path
) -> None:
    connection = connection_for(
        GUARD_SECURITY_PROTOCOL="SASL_SSL", GUARD_SASL_USERNAME="guard-worker",
        GUARD_SASL_PASSWORD_FILE=str(password_file), GUARD_SSL_CA_FILE=str(ca.cert_path),
    )  # fmt: skip
    options = connection.client_options()
    assert options["sasl_plain_password"] == PASSWORD  # the trailing newline is not part of it
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.check_hostname and context.verify_mode is ssl.CERT_REQUIRED
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    credentials = connection.faust_credentials()
    for shown in (repr(connection), str(connection), repr(credentials), connection.describe()):
        assert PASSWORD not in shown
    assert "guard-worker" in repr(connection)


def test_the_password_value_is_a_secret_setting(tmp_path: Path) -> None:
    config = load_config({"GUARD_SASL_PASSWORD": PASSWORD})
    assert PASSWORD not in repr(config)


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"GUARD_SASL_USERNAME": "u"}, "GUARD_SASL_USERNAME is set but"),
        ({"GUARD_SSL_CA_FILE": "/ca.pem"}, "GUARD_SSL_CA_FILE is set but"),
        ({"GUARD_SECURITY_PROTOCOL": "SASL_SSL", "GUARD_SASL_PASSWORD": "p"},
         "GUARD_SASL_USERNAME"),
        ({"GUARD_SECURITY_PROTOCOL": "SASL_SSL", "GUARD_SASL_USERNAME": "u"},
         "GUARD_SASL_PASSWORD_FILE: required"),
        ({"GUARD_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "GUARD_SASL_MECHANISM": "PLAIN",
          "GUARD_SASL_USERNAME": "u", "GUARD_SASL_PASSWORD": "p"}, "refused without TLS"),
        ({"GUARD_SECURITY_PROTOCOL": "SSL", "GUARD_SSL_CERT_FILE": "/c.pem"}, "give both"),
        ({"GUARD_SECURITY_PROTOCOL": "SSL", "GUARD_SSL_CA_FILE": "/nowhere.pem"},
         "GUARD_SSL_CA_FILE (/nowhere.pem)"),
        ({"GUARD_SECURITY_PROTOCOL": "TLS"}, "GUARD_SECURITY_PROTOCOL"),
        ({"GUARD_SSL_CHECK_HOSTNAME": "maybe"}, "true or false"),
    ],
)  # fmt: skip
def test_settings_that_would_be_ignored_or_weaker_are_refused(
    env: dict[str, str], names: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        connection_for(**env)
    assert names in str(refused.value)
    assert str(refused.value) != "p"


def test_a_shared_password_file_is_refused_with_the_fix(password_file: Path) -> None:
    password_file.chmod(0o644)
    with pytest.raises(ConfigError) as refused:
        connection_for(GUARD_SECURITY_PROTOCOL="SASL_SSL", GUARD_SASL_USERNAME="u",
                       GUARD_SASL_PASSWORD_FILE=str(password_file))  # fmt: skip
    assert f"chmod 600 {password_file}" in str(refused.value)
    assert PASSWORD not in str(refused.value)


def test_mutual_tls_loads_the_client_certificate_and_refuses_a_shared_key(
    ca: DevCertificateAuthority,
) -> None:
    files = ca.issue("guard-worker")
    env = {
        "GUARD_SECURITY_PROTOCOL": "SSL",
        "GUARD_SSL_CA_FILE": str(ca.cert_path),
        "GUARD_SSL_CERT_FILE": str(files.cert),
        "GUARD_SSL_KEY_FILE": str(files.key),
    }
    assert connection_for(**env).faust_credentials() is not None
    files.key.chmod(0o640)
    with pytest.raises(ConfigError, match=r"GUARD_SSL_KEY_FILE: .* accessible by group or others"):
        connection_for(**env)


def test_hostname_checking_can_be_turned_off_only_explicitly(ca: DevCertificateAuthority) -> None:
    env = {"GUARD_SECURITY_PROTOCOL": "SSL", "GUARD_SSL_CA_FILE": str(ca.cert_path)}
    assert connection_for(**env).ssl_context.check_hostname
    relaxed = connection_for(**env, GUARD_SSL_CHECK_HOSTNAME="false")
    assert relaxed.ssl_context is not None and not relaxed.ssl_context.check_hostname
    assert relaxed.librdkafka_options()["ssl.endpoint.identification.algorithm"] == "none"


def test_the_dev_ca_writes_private_keys_for_the_owner_only(ca: DevCertificateAuthority) -> None:
    files = ca.issue("someone")
    for key in (files.key, files.keystore, ca.directory / "ca-key.pem"):
        assert key.stat().st_mode & 0o077 == 0
