"""How to reach and log in to Kafka, built once from the ``GUARD_*`` settings.

A :class:`KafkaConnection` carries the bootstrap servers and the security
settings (TLS trust, client certificate, SASL login). It never shows its
password: not in ``repr``, not in an error. :func:`kafka_connection` checks the
settings as a whole and refuses combinations that would silently be less
secure than the operator asked for: a username with the PLAINTEXT protocol
(nothing would log in), a CA file with a protocol that does not use TLS, the
PLAIN mechanism without TLS (it sends the password itself), a password or key
file that group or others may read.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faust.auth import SASLCredentials, SSLCredentials
from faust.types.auth import CredentialsT

from guard.config.errors import ConfigError
from guard.config.settings import GuardConfig
from guard.secretfiles import PrivateFileError, check_private_file, read_private_file

TLS_PROTOCOLS = frozenset({"SSL", "SASL_SSL"})
SASL_PROTOCOLS = frozenset({"SASL_PLAINTEXT", "SASL_SSL"})

SECURITY_OPTIONS = frozenset(
    {
        "bootstrap_servers",
        "security_protocol",
        "ssl_context",
        "sasl_mechanism",
        "sasl_plain_username",
        "sasl_plain_password",
    }
)
"""Client options that only a connection may set: a caller passing one would bypass it."""


@dataclass(frozen=True, slots=True)
class KafkaConnection:
    """Bootstrap servers plus everything needed to connect and log in.

    Build it with :func:`kafka_connection` (from configuration) or
    :meth:`plaintext` (a local, unauthenticated broker).
    """

    bootstrap: str
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    check_hostname: bool = True
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)

    @classmethod
    def plaintext(cls, bootstrap: str) -> KafkaConnection:
        """An unauthenticated, unencrypted connection (the quick-start dev broker)."""
        return cls(bootstrap)

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in TLS_PROTOCOLS

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol in SASL_PROTOCOLS

    @property
    def principal(self) -> str | None:
        """The Kafka principal a SASL login becomes (``User:NAME``), when there is one."""
        return f"User:{self.username}" if self.uses_sasl and self.username else None

    def describe(self) -> str:
        """One line for logs: where and how, never the password."""
        parts = [self.bootstrap, self.security_protocol]
        if self.uses_sasl:
            parts.append(f"{self.sasl_mechanism} as {self.username}")
        if self.uses_tls and self.cert_file is not None:
            parts.append("client certificate")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"KafkaConnection({self.describe()})"

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for any aiokafka client (consumer, producer, admin, client)."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": self.security_protocol,
        }
        if self.uses_tls:
            options["ssl_context"] = self.ssl_context
        if self.uses_sasl:
            options["sasl_mechanism"] = self.sasl_mechanism
            options["sasl_plain_username"] = self.username
            options["sasl_plain_password"] = self.password
        return options

    def faust_credentials(self) -> CredentialsT | None:
        """Faust's ``broker_credentials`` for the same login (Faust hands them to aiokafka)."""
        if self.uses_sasl:
            return SASLCredentials(
                username=self.username,
                password=self.password,
                ssl_context=self.ssl_context if self.uses_tls else None,
                mechanism=self.sasl_mechanism,
            )
        if self.uses_tls and self.ssl_context is not None:
            return SSLCredentials(self.ssl_context)
        return None

    def librdkafka_options(self) -> dict[str, str]:
        """The same settings in librdkafka's terms (the Quix Streams benchmark baseline)."""
        options = {"security.protocol": self.security_protocol.lower()}
        if self.uses_sasl and self.sasl_mechanism and self.username and self.password:
            options["sasl.mechanism"] = self.sasl_mechanism
            options["sasl.username"] = self.username
            options["sasl.password"] = self.password
        if self.uses_tls:
            if self.ca_file is not None:
                options["ssl.ca.location"] = str(self.ca_file)
            if self.cert_file is not None and self.key_file is not None:
                options["ssl.certificate.location"] = str(self.cert_file)
                options["ssl.key.location"] = str(self.key_file)
            options["ssl.endpoint.identification.algorithm"] = (
                "https" if self.check_hostname else "none"
            )
        return options


def kafka_connection(config: GuardConfig) -> KafkaConnection:
    """The connection the settings describe, or a :class:`ConfigError` naming what is wrong."""
    protocol = config.security_protocol
    _refuse_unused(config, protocol)
    username = password = mechanism = None
    if protocol in SASL_PROTOCOLS:
        mechanism = config.sasl_mechanism
        if mechanism == "PLAIN" and protocol == "SASL_PLAINTEXT":
            raise ConfigError(
                "GUARD_SASL_MECHANISM (PLAIN): PLAIN sends the password itself, so it is "
                "refused without TLS; use SASL_SSL or a SCRAM mechanism"
            )
        if config.sasl_username is None:
            raise ConfigError(f"GUARD_SASL_USERNAME: required with {protocol}")
        username = config.sasl_username
        password = _password(config)
    context = None
    if protocol in TLS_PROTOCOLS:
        context = tls_context(
            config.ssl_ca_file,
            config.ssl_cert_file,
            config.ssl_key_file,
            check_hostname=config.ssl_check_hostname,
        )
    return KafkaConnection(
        bootstrap=config.brokers,
        security_protocol=protocol,
        sasl_mechanism=mechanism,
        username=username,
        password=password,
        ca_file=config.ssl_ca_file,
        cert_file=config.ssl_cert_file,
        key_file=config.ssl_key_file,
        check_hostname=config.ssl_check_hostname,
        ssl_context=context,
    )


def _refuse_unused(config: GuardConfig, protocol: str) -> None:
    """A setting the protocol would ignore means the operator expected more security."""
    unused: dict[str, tuple[frozenset[str], dict[str, object]]] = {
        "does not log in": (
            SASL_PROTOCOLS,
            {
                "GUARD_SASL_USERNAME": config.sasl_username,
                "GUARD_SASL_PASSWORD": config.sasl_password,
                "GUARD_SASL_PASSWORD_FILE": config.sasl_password_file,
            },
        ),
        "does not use TLS": (
            TLS_PROTOCOLS,
            {
                "GUARD_SSL_CA_FILE": config.ssl_ca_file,
                "GUARD_SSL_CERT_FILE": config.ssl_cert_file,
                "GUARD_SSL_KEY_FILE": config.ssl_key_file,
            },
        ),
    }
    for lack, (protocols, settings) in unused.items():
        if protocol in protocols:
            continue
        for env, value in settings.items():
            if value is not None:
                raise ConfigError(
                    f"{env} is set but GUARD_SECURITY_PROTOCOL ({protocol}) {lack}; "
                    "set GUARD_SECURITY_PROTOCOL=SASL_SSL or unset it"
                )


def _password(config: GuardConfig) -> str:
    if config.sasl_password is not None and config.sasl_password_file is not None:
        raise ConfigError("GUARD_SASL_PASSWORD: given both as a value and as a file; give one")
    if config.sasl_password is not None:
        return config.sasl_password
    if config.sasl_password_file is None:
        raise ConfigError("GUARD_SASL_PASSWORD_FILE: required with a SASL protocol")
    try:
        raw = read_private_file(config.sasl_password_file)
    except PrivateFileError as problem:
        raise ConfigError(f"GUARD_SASL_PASSWORD_FILE: {problem}") from None
    try:
        password = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise ConfigError("GUARD_SASL_PASSWORD_FILE: not UTF-8 text") from None
    if not password:
        raise ConfigError("GUARD_SASL_PASSWORD_FILE: the file is empty")
    return password


def tls_context(
    ca_file: Path | None,
    cert_file: Path | None,
    key_file: Path | None,
    *,
    check_hostname: bool = True,
) -> ssl.SSLContext:
    """A client TLS context: TLS 1.2 or later, the broker's certificate always verified.

    Raises:
        ConfigError: a file is missing or not PEM, only one of certificate and
            key is given, or the key file may be read by group or others.
    """
    if (cert_file is None) != (key_file is None):
        raise ConfigError(
            "GUARD_SSL_CERT_FILE and GUARD_SSL_KEY_FILE: give both for mutual TLS, or neither"
        )
    try:
        context = ssl.create_default_context(
            cafile=str(ca_file) if ca_file is not None else None
        )
    except (OSError, ssl.SSLError) as error:
        raise ConfigError(
            f"GUARD_SSL_CA_FILE ({ca_file}): cannot be read as PEM certificates "
            f"({type(error).__name__})"
        ) from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = check_hostname
    context.verify_mode = ssl.CERT_REQUIRED
    if cert_file is not None and key_file is not None:
        try:
            check_private_file(key_file)
        except PrivateFileError as problem:
            raise ConfigError(f"GUARD_SSL_KEY_FILE: {problem}") from None
        try:
            # A callback, so an encrypted key fails here instead of OpenSSL
            # prompting on a terminal the worker does not have.
            context.load_cert_chain(str(cert_file), str(key_file), password=_no_password)
        except (OSError, ssl.SSLError) as error:
            raise ConfigError(
                f"GUARD_SSL_CERT_FILE ({cert_file}) / GUARD_SSL_KEY_FILE ({key_file}): cannot "
                f"be loaded as a PEM certificate and its unencrypted key ({type(error).__name__})"
            ) from None
    return context


def _no_password() -> bytes:
    return b""
