"""``guard dev-broker``: a local broker in the foreground until Ctrl-C.

Developers point the guard at it to try the pipeline end to end without a
shared cluster. Without ``--data-dir`` the broker's data lives in a temporary
directory that is removed on exit, so no test event outlives the session.
"""

from __future__ import annotations

import signal
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from guard.devbroker.broker import LocalKafkaBroker
from guard.devbroker.errors import DevBrokerError
from guard.devbroker.secure import ADMIN_USER, SecureBroker

_LIVENESS_CHECK_SECONDS = 1.0
_INTERRUPTED = 130
"""Shell convention for a process ended by SIGINT."""


def run_dev_broker(port: int, data_dir: Path | None, *, secure: bool = False) -> int:
    """Run a broker until SIGINT/SIGTERM; return the process exit code.

    Returns 0 after a requested stop, 1 if the broker could not start or died
    on its own (the reason goes to stderr), 130 if signalled while starting.
    Must be called from the main thread, which owns signal handling.
    """
    if data_dir is not None:
        return _serve(port, data_dir, secure)
    with tempfile.TemporaryDirectory(prefix="guard-dev-broker-") as scratch:
        return _serve(port, Path(scratch), secure)


def _serve(port: int, data_dir: Path, secure: bool) -> int:
    security = SecureBroker(data_dir / "security") if secure else None
    broker = LocalKafkaBroker(port=port, data_dir=data_dir, secure=security)
    try:
        with _stop_signals() as stop_signals:
            broker.start()
            stop_signals.is_serving = True
            print(f"kafka dev broker ready at {broker.bootstrap} (data in {data_dir})", flush=True)
            if security is not None:
                print(secure_summary(security, broker.bootstrap), flush=True)
            return _wait_for_stop_request(broker, stop_signals.is_stop_requested)
    except DevBrokerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return _INTERRUPTED
    finally:
        broker.stop()


def secure_summary(security: SecureBroker, bootstrap: str) -> str:
    """Where the CA and each user's password file are, and how a client logs in."""
    admin_environment = security.client_environment(bootstrap, ADMIN_USER)
    lines = [
        "SASL_SSL with SCRAM-SHA-512/256; the ACL authorizer denies what no ACL allows.",
        f"CA certificate: {security.ca_file}",
        f"mutual-TLS listener: 127.0.0.1:{security.mtls_port} (client certificates in "
        f"{security.ca_file.parent}, CN = user name)",
        "users (password files, mode 0600):",
        *(f"  {user:<18} {path}" for user, path in security.password_files.items()),
        "guard-admin is a super user: create the topics and ACLs with it, e.g.",
        *(f"  export {k}={v}" for k, v in admin_environment.items()),
        "  guard topics create && guard acls --apply",
    ]
    return "\n".join(lines)


class _StopSignals:
    """SIGINT/SIGTERM abort a start in progress, and request a clean stop once serving.

    While starting (possibly a first-time jar download) the signal raises at
    once so the caller's cleanup runs; once the broker serves, the handler only
    sets a flag, so a signal can never interrupt ``stop()`` halfway.
    """

    def __init__(self) -> None:
        self.is_serving = False
        self.is_stop_requested = threading.Event()

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if not self.is_serving:
            raise KeyboardInterrupt
        self.is_stop_requested.set()


@contextmanager
def _stop_signals() -> Iterator[_StopSignals]:
    stop_signals = _StopSignals()
    previous_int = signal.signal(signal.SIGINT, stop_signals.handle)
    previous_term = signal.signal(signal.SIGTERM, stop_signals.handle)
    try:
        yield stop_signals
    finally:
        signal.signal(signal.SIGINT, previous_int)
        signal.signal(signal.SIGTERM, previous_term)


def _wait_for_stop_request(broker: LocalKafkaBroker, is_stop_requested: threading.Event) -> int:
    """Block until a stop is requested (exit 0) or the broker dies by itself (exit 1)."""
    while not is_stop_requested.wait(_LIVENESS_CHECK_SECONDS):
        if not broker.is_running:
            print(
                f"error: kafka dev broker exited on its own; see {broker.broker_log}",
                file=sys.stderr,
            )
            return 1
    return 0
