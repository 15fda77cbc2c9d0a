"""Every setting of the guard, declared once: type, environment name, default, doc.

One table drives parsing, validation and the README's configuration table,
so the documentation cannot drift from what the code reads. Settings come
only from ``GUARD_``-prefixed environment variables: a worker in a container
is configured the same way as one on a laptop.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guard.config.errors import ConfigError


def _text(raw: str) -> str:
    if not raw.strip():
        raise ValueError("must not be empty")
    return raw.strip()


def _optional_path(raw: str) -> Path | None:
    return Path(raw) if raw.strip() else None


def _optional_secret(raw: str) -> str | None:
    return raw.strip() or None


def _port(raw: str) -> int:
    port = int(raw)
    if not 0 <= port <= 65535:
        raise ValueError("must be a port number from 0 to 65535 (0 turns the endpoint off)")
    return port


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError("must be a whole number of at least 1")
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise ValueError("must be a number greater than 0")
    return value


def _log_level(raw: str) -> str:
    level = raw.strip().upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
    return level


def _log_format(raw: str) -> str:
    fmt = raw.strip().lower()
    if fmt not in {"text", "json"}:
        raise ValueError("must be text or json")
    return fmt


def _optional_url(raw: str) -> str | None:
    url = raw.strip()
    if not url:
        return None
    scheme, sep, rest = url.partition("://")
    if scheme not in ("http", "https") or not sep or not rest.split("/", 1)[0]:
        raise ValueError("must be an http:// or https:// URL")
    return url.rstrip("/")


def _security_protocol(raw: str) -> str:
    protocol = raw.strip().upper()
    if protocol not in {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"}:
        raise ValueError("must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL")
    return protocol


def _sasl_mechanism(raw: str) -> str:
    mechanism = raw.strip().upper()
    if mechanism not in {"SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"}:
        raise ValueError("must be SCRAM-SHA-256, SCRAM-SHA-512 or PLAIN")
    return mechanism


def _optional_text(raw: str) -> str | None:
    return raw.strip() or None


def _boolean(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"true", "yes", "1", "on"}:
        return True
    if value in {"false", "no", "0", "off"}:
        return False
    raise ValueError("must be true or false")


def _offsets(raw: str) -> frozenset[tuple[int, int]]:
    """Parse ``PARTITION:OFFSET[,PARTITION:OFFSET...]``."""
    accepted: set[tuple[int, int]] = set()
    for item in filter(None, (part.strip() for part in raw.split(","))):
        partition, _, offset = item.partition(":")
        if not offset:
            raise ValueError("must be a comma-separated list of PARTITION:OFFSET")
        accepted.add((int(partition), int(offset)))
    return frozenset(accepted)


@dataclass(frozen=True, slots=True)
class Setting:
    """One configurable value: where it comes from and what it means."""

    field: str
    """Attribute name on :class:`GuardConfig`."""
    env: str
    """Environment variable that sets it."""
    parse: Callable[[str], Any]
    """Turns the raw text into the typed value; raises ValueError with a short reason."""
    default: str
    """Raw default, parsed like any other value; empty means unset."""
    doc: str
    """One line for the README's configuration table."""
    is_secret: bool = False
    """A secret's value is never echoed, not even in an error."""


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "brokers",
        "GUARD_BROKERS",
        _text,
        "127.0.0.1:9092",
        "Kafka bootstrap servers, comma-separated host:port.",
    ),
    Setting(
        "app_id",
        "GUARD_APP_ID",
        _text,
        "disclosure-guard",
        "Faust application id; also the consumer group that owns custody offsets.",
    ),
    Setting(
        "worker_id",
        "GUARD_WORKER_ID",
        _text,
        socket.gethostname(),
        "Name of this worker in logs and Kafka client ids. Fencing does not depend on it: "
        "each custody partition has its own transactional id, APP_ID-TOPIC-PARTITION.",
    ),
    Setting(
        "custody_topic",
        "GUARD_CUSTODY_TOPIC",
        _text,
        "custody.status-changed",
        "Input: custody events from upstream systems (Avro CustodyStatusChanged).",
    ),
    Setting(
        "registry_topic",
        "GUARD_REGISTRY_TOPIC",
        _text,
        "guard.protection-registry",
        "Compacted registry of protected people, keyed by record reference (Avro "
        "ProtectionRecord).",
    ),
    Setting(
        "public_topic",
        "GUARD_PUBLIC_TOPIC",
        _text,
        "public.custody-notices",
        "Output: notices safe to publish (Avro PublicCustodyNotice), keyed by subject_ref.",
    ),
    Setting(
        "audit_topic",
        "GUARD_AUDIT_TOPIC",
        _text,
        "guard.decisions",
        "Output: one GuardDecision per input event, keyed by input position. Restricted.",
    ),
    Setting(
        "deadletter_topic",
        "GUARD_DEADLETTER_TOPIC",
        _text,
        "guard.deadletter",
        "Output: raw bytes of rejected events, reason in headers. Restricted: holds PII.",
    ),
    Setting(
        "review_topic",
        "GUARD_REVIEW_TOPIC",
        _text,
        "guard.review",
        "Output: events held for review (Avro HeldEvent, compacted, keyed by input "
        "position; a tombstone once resolved). Restricted: holds PII.",
    ),
    Setting(
        "publications_topic",
        "GUARD_PUBLICATIONS_TOPIC",
        _text,
        "guard.publications",
        "Output: one Publication per public notice (compacted, keyed by notice id, "
        "partitioned like custody), for withdrawing notices when a protection arrives. "
        "Restricted.",
    ),
    Setting(
        "retractions_topic",
        "GUARD_RETRACTIONS_TOPIC",
        _text,
        "public.custody-retractions",
        "Output: one Retraction per withdrawn notice, keyed by subject_ref, for "
        "subscribers that keep history. Public: holds no identifier.",
    ),
    Setting(
        "blinding_key",
        "GUARD_BLINDING_KEY",
        _optional_secret,
        "",
        "Registry blinding secret (hex or base64, >= 32 bytes). Or use the _FILE form.",
        is_secret=True,
    ),
    Setting(
        "blinding_key_file",
        "GUARD_BLINDING_KEY_FILE",
        _optional_path,
        "",
        "File holding the registry blinding secret.",
    ),
    Setting(
        "blinding_key_id",
        "GUARD_BLINDING_KEY_ID",
        _text,
        "k1",
        "Id of the blinding key; registry records blinded under another id are refused.",
    ),
    Setting(
        "subject_ref_key",
        "GUARD_SUBJECT_REF_KEY",
        _optional_secret,
        "",
        "Secret for the public subject reference; must differ from the blinding key.",
        is_secret=True,
    ),
    Setting(
        "subject_ref_key_file",
        "GUARD_SUBJECT_REF_KEY_FILE",
        _optional_path,
        "",
        "File holding the subject-reference secret.",
    ),
    Setting(
        "policy_file",
        "GUARD_POLICY_FILE",
        _optional_path,
        "",
        "JSON policy (which bases may be REDACTed; HOLD or DROP for weak matches). Unset: "
        "DROP for every basis, HOLD weak matches.",
    ),
    Setting(
        "metrics_port",
        "GUARD_METRICS_PORT",
        _port,
        "9108",
        "Port of /metrics, /healthz and /readyz on 127.0.0.1 unless METRICS_HOST says "
        "otherwise; 0 turns them off.",
    ),
    Setting(
        "metrics_host",
        "GUARD_METRICS_HOST",
        _text,
        "127.0.0.1",
        "Address the metrics endpoint binds to (0.0.0.0 in a container).",
    ),
    Setting("log_level", "GUARD_LOG_LEVEL", _log_level, "INFO", "DEBUG, INFO, WARNING or ERROR."),
    Setting(
        "log_format",
        "GUARD_LOG_FORMAT",
        _log_format,
        "text",
        "text (readable) or json (one object a line).",
    ),
    Setting(
        "batch_max",
        "GUARD_BATCH_MAX",
        _positive_int,
        "1000",
        "Most custody events one fetch hands to the guard (decided, then committed in one "
        "transaction per input partition).",
    ),
    Setting(
        "batch_within",
        "GUARD_BATCH_WITHIN",
        _positive_float,
        "0.05",
        "Longest a fetch waits on the broker for data before handing over what it has "
        "(Faust's own 1.5 s would stall busy partitions behind idle ones).",
    ),
    Setting(
        "session_timeout",
        "GUARD_SESSION_TIMEOUT",
        _positive_float,
        "8",
        "Seconds without a heartbeat after which the group gives a dead worker's partitions "
        "to the others (at least the broker's group.min.session.timeout.ms, 6 s by default).",
    ),
    Setting(
        "data_dir",
        "GUARD_DATA_DIR",
        _text,
        "var/guard",
        "Directory for the Faust worker's local state.",
    ),
    Setting(
        "transaction_timeout_ms",
        "GUARD_TRANSACTION_TIMEOUT_MS",
        _positive_int,
        "20000",
        "Broker aborts a transaction left open this long by a dead worker; a commit "
        "taking longer stops the worker (exit 70) so the batch is decided again.",
    ),
    Setting(
        "registry_stale_after",
        "GUARD_REGISTRY_STALE_AFTER",
        _positive_float,
        "15",
        "Seconds without the registry reader reaching freshly read end offsets after which "
        "/readyz turns 503 (registry_stale). Publishing itself never waits on this: each "
        "batch checks freshness directly.",
    ),
    Setting(
        "registry_accepted_undecodable",
        "GUARD_REGISTRY_ACCEPTED_UNDECODABLE",
        _offsets,
        "",
        "Operator override, PARTITION:OFFSET,...: undecodable registry records the operator "
        "has inspected and replaced, which the reader may pass over. Empty: it never does.",
    ),
    # -- schema registry (issue 11) --------------------------------------------------
    Setting(
        "schema_registry_url",
        "GUARD_SCHEMA_REGISTRY_URL",
        _optional_url,
        "",
        "Confluent-compatible schema registry API (e.g. http://host:8080/apis/ccompat/v7). "
        "Set: every Avro topic but the registry topic is in the Confluent wire format, output "
        "schemas are registered under <topic>-value at start. Unset: schemaless Avro.",
    ),
    Setting(
        "schema_registry_user",
        "GUARD_SCHEMA_REGISTRY_USER",
        _optional_secret,
        "",
        "Basic-auth user for the schema registry.",
    ),
    Setting(
        "schema_registry_password",
        "GUARD_SCHEMA_REGISTRY_PASSWORD",
        _optional_secret,
        "",
        "Basic-auth password for the schema registry. Or use the _FILE form.",
        is_secret=True,
    ),
    Setting(
        "schema_registry_password_file",
        "GUARD_SCHEMA_REGISTRY_PASSWORD_FILE",
        _optional_path,
        "",
        "File holding the schema registry password.",
    ),
    Setting(
        "schema_registry_ca_file",
        "GUARD_SCHEMA_REGISTRY_CA_FILE",
        _optional_path,
        "",
        "PEM file of the CA that signed the schema registry's certificate (https URLs).",
    ),
    Setting(
        "schema_registry_timeout",
        "GUARD_SCHEMA_REGISTRY_TIMEOUT",
        _positive_float,
        "5",
        "Seconds one schema registry request may take; a batch waiting on an unanswering "
        "registry is held (readiness schema_registry_unavailable) and asked again.",
    ),
    # --- Kafka client security (issue 9): every client of the project reads these
    # through guard.kafka.connection, the one place that turns them into client options.
    Setting(
        "security_protocol",
        "GUARD_SECURITY_PROTOCOL",
        _security_protocol,
        "PLAINTEXT",
        "How every Kafka client connects: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL "
        "(SASL_SSL in production: TLS plus a SCRAM login).",
    ),
    Setting(
        "sasl_mechanism",
        "GUARD_SASL_MECHANISM",
        _sasl_mechanism,
        "SCRAM-SHA-512",
        "SASL mechanism for SASL_* protocols: SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN (PLAIN "
        "only over SASL_SSL: it sends the password itself).",
    ),
    Setting(
        "sasl_username",
        "GUARD_SASL_USERNAME",
        _optional_text,
        "",
        "SASL user (the Kafka principal User:NAME that the ACLs name).",
    ),
    Setting(
        "sasl_password",
        "GUARD_SASL_PASSWORD",
        _optional_secret,
        "",
        "SASL password. Prefer the _FILE form.",
        is_secret=True,
    ),
    Setting(
        "sasl_password_file",
        "GUARD_SASL_PASSWORD_FILE",
        _optional_path,
        "",
        "File holding the SASL password; refused if group or others may read it.",
    ),
    Setting(
        "ssl_ca_file",
        "GUARD_SSL_CA_FILE",
        _optional_path,
        "",
        "PEM bundle of the CA certificates that sign the brokers' certificates. Unset: the "
        "system trust store.",
    ),
    Setting(
        "ssl_cert_file",
        "GUARD_SSL_CERT_FILE",
        _optional_path,
        "",
        "Client certificate (PEM) for mutual TLS; needs GUARD_SSL_KEY_FILE.",
    ),
    Setting(
        "ssl_key_file",
        "GUARD_SSL_KEY_FILE",
        _optional_path,
        "",
        "Private key (PEM, unencrypted) of the client certificate; refused if group or "
        "others may read it.",
    ),
    Setting(
        "ssl_check_hostname",
        "GUARD_SSL_CHECK_HOSTNAME",
        _boolean,
        "true",
        "Check that each broker's certificate names the host connected to. Turning it off "
        "lets anyone with a certificate from the same CA pose as a broker.",
    ),
    # --- Blinding-key rotation (issue 9): the key being retired, while records under it remain.
    Setting(
        "previous_blinding_key",
        "GUARD_BLINDING_KEY_PREVIOUS",
        _optional_secret,
        "",
        "During a rotation: the registry blinding secret being retired. Records under it "
        "are accepted and every event is also matched under it while any remain active.",
        is_secret=True,
    ),
    Setting(
        "previous_blinding_key_file",
        "GUARD_BLINDING_KEY_PREVIOUS_FILE",
        _optional_path,
        "",
        "File holding the blinding secret being retired.",
    ),
    Setting(
        "previous_blinding_key_id",
        "GUARD_BLINDING_KEY_PREVIOUS_ID",
        _optional_text,
        "",
        "Id of the blinding key being retired (the GUARD_BLINDING_KEY_ID it had); required "
        "with the previous key, different from the current id.",
    ),
)


@dataclass(frozen=True, slots=True)
class GuardConfig:
    """The parsed configuration. Build it with :func:`load_config`."""

    brokers: str
    app_id: str
    worker_id: str
    custody_topic: str
    registry_topic: str
    public_topic: str
    audit_topic: str
    deadletter_topic: str
    review_topic: str
    publications_topic: str
    retractions_topic: str
    blinding_key: str | None
    blinding_key_file: Path | None
    blinding_key_id: str
    subject_ref_key: str | None
    subject_ref_key_file: Path | None
    policy_file: Path | None
    metrics_port: int
    metrics_host: str
    log_level: str
    log_format: str
    batch_max: int
    batch_within: float
    session_timeout: float
    data_dir: str
    transaction_timeout_ms: int
    registry_stale_after: float
    registry_accepted_undecodable: frozenset[tuple[int, int]]
    # schema registry (issue 11)
    schema_registry_url: str | None
    schema_registry_user: str | None
    schema_registry_password: str | None
    schema_registry_password_file: Path | None
    schema_registry_ca_file: Path | None
    schema_registry_timeout: float
    # Kafka client security (issue 9)
    security_protocol: str
    sasl_mechanism: str
    sasl_username: str | None
    sasl_password: str | None
    sasl_password_file: Path | None
    ssl_ca_file: Path | None
    ssl_cert_file: Path | None
    ssl_key_file: Path | None
    ssl_check_hostname: bool
    # Blinding-key rotation (issue 9)
    previous_blinding_key: str | None
    previous_blinding_key_file: Path | None
    previous_blinding_key_id: str | None

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{s.field}={'<secret>' if s.is_secret else getattr(self, s.field)!r}" for s in SETTINGS
        )
        return f"GuardConfig({shown})"

    @property
    def output_topics(self) -> tuple[str, ...]:
        return (
            self.public_topic,
            self.audit_topic,
            self.deadletter_topic,
            self.review_topic,
            self.publications_topic,
            self.retractions_topic,
        )


def load_config(environ: Mapping[str, str] | None = None) -> GuardConfig:
    """Read every setting from the environment, or fail with one clear line."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = env.get(setting.env, setting.default)
        try:
            values[setting.field] = setting.parse(raw)
        except ValueError as exc:
            shown = "" if setting.is_secret else f" (got {raw!r})"
            reason = str(exc) if str(exc) and not setting.is_secret else "is malformed"
            raise ConfigError(f"{setting.env}{shown}: {reason}") from None
    config = GuardConfig(**values)
    topics = [config.custody_topic, config.registry_topic, *config.output_topics]
    if len(set(topics)) != len(topics):
        raise ConfigError("GUARD_*_TOPIC: the eight topics must all be different")
    return config


def settings_table() -> str:
    """Markdown table of every setting, for the README."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for setting in SETTINGS:
        default = "(hostname)" if setting.field == "worker_id" else setting.default or "(unset)"
        rows.append(f"| `{setting.env}` | `{default}` | {setting.doc} |")
    return "\n".join(rows)
