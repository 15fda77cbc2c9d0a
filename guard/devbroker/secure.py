"""What makes a dev broker secure: TLS everywhere, SCRAM logins, Kafka's own authorizer.

The broker keeps one KRaft node, and gets four listeners on 127.0.0.1:

* ``CLIENT`` (SASL_SSL, SCRAM-SHA-512 and -256): where every principal logs in;
* ``MTLS`` (SSL, client certificate required): the same principals by
  certificate, the common name becoming the user name
  (``ssl.principal.mapping.rules``), so the same ACLs apply;
* ``INTERNAL`` (SSL, client certificate required): inter-broker traffic (the
  transaction coordinator writes its markers through it, even with one node);
* ``CONTROLLER`` (SSL, client certificate required): KRaft. SCRAM cannot
  authenticate a controller listener (its credentials live in the metadata
  the controller serves), so the broker proves itself with its certificate.

The broker's own principal and ``guard-admin`` are the only super users; every
other principal can do only what ``guard acls --apply`` grants it
(``allow.everyone.if.no.acl.found=false``). The authorizer is KRaft's
``StandardAuthorizer``.

SCRAM users are created when the storage is formatted (``--add-scram``), from
salted passwords computed here, so no password appears on a command line.
Each password is written to ``users/NAME.password`` (mode 0600).
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from guard.devbroker.certs import CertificateFiles, DevCertificateAuthority
from guard.devbroker.properties import LOOPBACK_HOST

BROKER_PRINCIPAL = "guard-dev-broker"
ADMIN_USER = "guard-admin"
PRINCIPALS = (
    "guard-worker",
    "registry-operator",
    "custody-upstream",
    "public-subscriber",
    "auditor",
    "reviewer",
    "guard-canary",
)
"""The SCRAM users besides the admin: one per party of the deployment (README, ACLs)."""

SCRAM_ITERATIONS = 8192
_MECHANISMS = {"SCRAM-SHA-512": "sha512", "SCRAM-SHA-256": "sha256"}


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK_HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class SecureBroker:
    """The security material and extra listeners of one secure dev broker.

    Made once per directory: certificates and passwords found there are reused,
    so a broker restarted on the same data keeps its users and CA.
    """

    directory: Path
    mtls_port: int = field(default_factory=_free_port)
    internal_port: int = field(default_factory=_free_port)

    def __post_init__(self) -> None:
        self.directory = self.directory.expanduser().resolve()
        self._ca = DevCertificateAuthority(self.directory / "tls")
        self.broker_cert = self._issue(BROKER_PRINCIPAL, is_server=True)
        self.client_certs = {name: self._issue(name) for name in (ADMIN_USER, *PRINCIPALS)}
        users = self.directory / "users"
        users.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.password_files = {
            name: users / f"{name}.password" for name in (ADMIN_USER, *PRINCIPALS)
        }
        for path in self.password_files.values():
            if not path.exists():
                _write_private(path, secrets.token_urlsafe(24).encode("ascii"))

    @property
    def ca_file(self) -> Path:
        return self._ca.cert_path

    def password(self, user: str) -> str:
        return self.password_files[user].read_text(encoding="ascii").strip()

    def _issue(self, name: str, *, is_server: bool = False) -> CertificateFiles:
        existing = CertificateFiles(
            cert=self._ca.directory / f"{name}.pem",
            key=self._ca.directory / f"{name}-key.pem",
            keystore=self._ca.directory / f"{name}-keystore.pem",
        )
        if all(path.exists() for path in (existing.cert, existing.key, existing.keystore)):
            return existing
        hosts = (LOOPBACK_HOST, "localhost") if is_server else ()
        return self._ca.issue(name, hosts=hosts, is_server=is_server)

    def server_settings(self, port: int, controller_port: int) -> dict[str, str]:
        """The listeners, TLS, SASL and authorizer settings of ``server.properties``."""
        host = LOOPBACK_HOST
        scram_login = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        return {
            "listeners": (
                f"CLIENT://{host}:{port},MTLS://{host}:{self.mtls_port},"
                f"INTERNAL://{host}:{self.internal_port},CONTROLLER://{host}:{controller_port}"
            ),
            "advertised.listeners": (
                f"CLIENT://{host}:{port},MTLS://{host}:{self.mtls_port},"
                f"INTERNAL://{host}:{self.internal_port}"
            ),
            "inter.broker.listener.name": "INTERNAL",
            "listener.security.protocol.map": (
                "CLIENT:SASL_SSL,MTLS:SSL,INTERNAL:SSL,CONTROLLER:SSL"
            ),
            "sasl.enabled.mechanisms": ",".join(_MECHANISMS),
            "listener.name.client.sasl.enabled.mechanisms": ",".join(_MECHANISMS),
            "listener.name.client.scram-sha-512.sasl.jaas.config": scram_login,
            "listener.name.client.scram-sha-256.sasl.jaas.config": scram_login,
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(self.broker_cert.keystore),
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(self.ca_file),
            "ssl.enabled.protocols": "TLSv1.3,TLSv1.2",
            "listener.name.mtls.ssl.client.auth": "required",
            "listener.name.internal.ssl.client.auth": "required",
            "listener.name.controller.ssl.client.auth": "required",
            "ssl.principal.mapping.rules": "RULE:^CN=([^,]+)$/$1/,DEFAULT",
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "allow.everyone.if.no.acl.found": "false",
            "super.users": f"User:{BROKER_PRINCIPAL};User:{ADMIN_USER}",
        }

    def scram_arguments(self) -> list[str]:
        """``StorageTool format`` arguments creating every user under both SCRAM mechanisms."""
        arguments: list[str] = []
        for user in self.password_files:
            password = self.password(user).encode("utf-8")
            for mechanism, digest in _MECHANISMS.items():
                salt = os.urandom(16)
                salted = hashlib.pbkdf2_hmac(digest, password, salt, SCRAM_ITERATIONS)
                arguments += [
                    "--add-scram",
                    f"{mechanism}=[name={user},iterations={SCRAM_ITERATIONS},"
                    f'salt="{base64.b64encode(salt).decode()}",'
                    f'saltedpassword="{base64.b64encode(salted).decode()}"]',
                ]
        return arguments

    def probe_context(self) -> ssl.SSLContext:
        """TLS for the readiness probe on the INTERNAL listener, as the broker itself."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        context.load_cert_chain(str(self.broker_cert.cert), str(self.broker_cert.key))
        return context

    def client_environment(self, bootstrap: str, user: str) -> dict[str, str]:
        """``GUARD_*`` settings that log ``user`` in over SASL_SSL."""
        return {
            "GUARD_BROKERS": bootstrap,
            "GUARD_SECURITY_PROTOCOL": "SASL_SSL",
            "GUARD_SASL_MECHANISM": "SCRAM-SHA-512",
            "GUARD_SASL_USERNAME": user,
            "GUARD_SASL_PASSWORD_FILE": str(self.password_files[user]),
            "GUARD_SSL_CA_FILE": str(self.ca_file),
        }

    def mtls_environment(self, user: str) -> dict[str, str]:
        """``GUARD_*`` settings that connect as ``user`` by client certificate (SSL)."""
        files = self.client_certs[user]
        return {
            "GUARD_BROKERS": f"{LOOPBACK_HOST}:{self.mtls_port}",
            "GUARD_SECURITY_PROTOCOL": "SSL",
            "GUARD_SSL_CA_FILE": str(self.ca_file),
            "GUARD_SSL_CERT_FILE": str(files.cert),
            "GUARD_SSL_KEY_FILE": str(files.key),
        }


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
