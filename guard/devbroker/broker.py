"""A real single-node Apache Kafka broker, run as a child process for tests and development.

The guard's promises (transactions, read-committed consumers, compaction of
the registry topic) are properties of the real broker, so tests run against
one rather than a fake. How the process is stopped and waited for is
:class:`guard.devbroker.child.ChildService`'s.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from guard.devbroker.child import ChildService, die_with_parent
from guard.devbroker.errors import BrokerStartError
from guard.devbroker.jars import ensure_kafka_jars
from guard.devbroker.properties import LOOPBACK_HOST, log4j_properties, server_properties
from guard.devbroker.readiness import is_broker_serving
from guard.devbroker.secure import SecureBroker

_HEAP = "-Xmx512m"
_STORAGE_TOOL_TIMEOUT_SECONDS = 60.0
_LOG_TAIL_LINES = 20


def free_port() -> int:
    """A loopback port nobody listens on right now (another process may still take it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK_HOST, 0))
        port: int = probe.getsockname()[1]
        return port


class LocalKafkaBroker(ChildService):
    """One KRaft broker-and-controller on 127.0.0.1, with its data under ``data_dir``.

    ``data_dir`` may be reused across starts: storage is formatted only the
    first time, so topics and committed offsets survive a restart.
    """

    def __init__(
        self,
        port: int,
        data_dir: Path,
        controller_port: int | None = None,
        jars_dir: Path | None = None,
        *,
        dies_with_parent: bool = True,
        secure: SecureBroker | None = None,
    ) -> None:
        """``dies_with_parent`` ties the broker to the *thread* that starts it (Linux only).

        ``secure``: TLS and SCRAM listeners and the authorizer instead of plaintext.
        """
        self.secure = secure
        self._port = port
        self._controller_port = controller_port
        # Absolute, because the path ends up in a file: URI and in Kafka's own config.
        self._data_dir = data_dir.expanduser().resolve()
        self._jars_dir = jars_dir
        self._dies_with_parent = dies_with_parent
        self._active_controller_port: int | None = None
        super().__init__()

    @property
    def bootstrap(self) -> str:
        return f"{LOOPBACK_HOST}:{self._port}"

    @property
    def data_dir(self) -> Path:
        return self._data_dir

    @property
    def broker_log(self) -> Path:
        """Kafka's own WARN+ log; the first place to look when the broker misbehaves."""
        return self._data_dir / "broker.log"

    @property
    def controller_port(self) -> int | None:
        """The controller listener's port once started (picked freely unless given)."""
        return self._active_controller_port

    @property
    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 60) -> None:
        """Start the broker and return once it serves metadata, or raise with its log tail."""
        if self._process is not None:
            raise BrokerStartError(f"broker on port {self._port} was already started")
        deadline = time.monotonic() + timeout
        java = _find_java()
        _require_port_free(self._port)
        jars_dir = self._jars_dir or ensure_kafka_jars()
        controller_port = self._controller_port or free_port()
        _require_port_free(controller_port)
        self._active_controller_port = controller_port
        # A restart on the same data must find the controller where it was.
        self._controller_port = controller_port
        classpath = str(jars_dir / "*")
        log_dir = self._data_dir / "kafka-logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        config = self._data_dir / "server.properties"
        secure = (
            self.secure.server_settings(self._port, controller_port) if self.secure else None
        )
        config.write_text(server_properties(self._port, controller_port, log_dir, secure))
        log4j = self._data_dir / "log4j.properties"
        log4j.write_text(log4j_properties(self.broker_log))
        java_prefix = [java, _HEAP, f"-Dlog4j.configuration={log4j.as_uri()}", "-cp", classpath]
        if not (log_dir / "meta.properties").exists():
            self._format_storage(java_prefix, config)
        self._console = (self._data_dir / "console.log").open("ab")
        try:
            self._process = subprocess.Popen(
                [*java_prefix, "kafka.Kafka", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=self._console,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent if self._dies_with_parent else None,
            )
        except OSError as error:
            self.stop()
            raise BrokerStartError(f"could not launch {java}: {error.strerror}") from error
        try:
            self._wait_until_serving(deadline, timeout)
        except BaseException:
            self.stop()
            raise

    def _format_storage(self, java_prefix: list[str], config: Path) -> None:
        """Give a fresh data dir a cluster id; KRaft refuses to start on unformatted storage."""
        tool = [*java_prefix, "kafka.tools.StorageTool"]
        cluster_id = _run_storage_tool(tool, ["random-uuid"]).split()[-1]
        users = self.secure.scram_arguments() if self.secure else []
        _run_storage_tool(tool, ["format", "-t", cluster_id, "-c", str(config), *users])

    def _describe(self) -> str:
        return f"broker on port {self._port}"

    def _is_serving(self) -> bool:
        if self.secure is None:
            return is_broker_serving(LOOPBACK_HOST, self._port)
        # Every listener opens together; the certificate-authenticated one can be probed.
        return is_broker_serving(
            LOOPBACK_HOST, self.secure.internal_port, tls=self.secure.probe_context()
        )

    def _log_tail(self) -> str:
        lines: list[str] = []
        for path in (self.broker_log, self._data_dir / "console.log"):
            if path.exists():
                text = path.read_text(encoding="utf-8", errors="replace")
                lines.extend(text.splitlines()[-_LOG_TAIL_LINES:])
        return " | ".join(lines[-_LOG_TAIL_LINES:]) or "(broker wrote no log)"


def _find_java() -> str:
    """Prefer ``$JAVA_HOME`` like Kafka's own scripts, else whatever ``java`` is on PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if candidate.is_file():
            return str(candidate)
    found = shutil.which("java")
    if found is None:
        raise BrokerStartError("'java' not found on PATH or in $JAVA_HOME; Kafka needs Java 11+")
    return found


def _require_port_free(port: int) -> None:
    """Fail with a plain message instead of a JVM bind stack trace after a slow start."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # The JVM binds with SO_REUSEADDR, so connections of a broker just
        # stopped (TIME_WAIT) do not keep it from starting again: nor here.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOOPBACK_HOST, port))
        except OSError as error:
            raise BrokerStartError(f"port {port} on {LOOPBACK_HOST} is already in use") from error


def _run_storage_tool(tool: list[str], arguments: list[str]) -> str:
    action = arguments[0]
    try:
        result = subprocess.run(
            [*tool, *arguments],
            capture_output=True,
            text=True,
            timeout=_STORAGE_TOOL_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise BrokerStartError(f"kafka StorageTool {action} timed out") from error
    if result.returncode != 0:
        last_line = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise BrokerStartError(
            f"kafka StorageTool {action} failed (exit {result.returncode}): {last_line}"
        )
    return result.stdout
