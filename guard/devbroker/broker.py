"""A real single-node Apache Kafka broker, run as a child process for tests and development.

The guard's promises (transactions, read-committed consumers, compaction of
the registry topic) are properties of the real broker, so tests run against
one rather than a fake. The process lives in its own process group so that
stopping it takes every JVM thread and child with it, and on Linux it is also
told to die with its parent so a crashed test run does not leave a broker
holding ports.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from guard.devbroker.errors import BrokerStartError
from guard.devbroker.jars import ensure_kafka_jars
from guard.devbroker.properties import LOOPBACK_HOST, log4j_properties, server_properties
from guard.devbroker.readiness import is_broker_serving
from guard.devbroker.secure import SecureBroker

_HEAP = "-Xmx512m"
_STOP_GRACE_SECONDS = 30.0
_PROBE_INTERVAL_SECONDS = 0.1
_STORAGE_TOOL_TIMEOUT_SECONDS = 60.0
_LOG_TAIL_LINES = 20
_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """A loopback port nobody listens on right now (another process may still take it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK_HOST, 0))
        port: int = probe.getsockname()[1]
        return port


class LocalKafkaBroker:
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
        self._process: subprocess.Popen[bytes] | None = None
        self._console: IO[bytes] | None = None

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
    def process_id(self) -> int | None:
        return None if self._process is None else self._process.pid

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
                preexec_fn=_die_with_parent if self._dies_with_parent else None,
            )
        except OSError as error:
            self.stop()
            raise BrokerStartError(f"could not launch {java}: {error.strerror}") from error
        try:
            self._wait_until_serving(deadline, timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Ask the broker to shut down cleanly, then kill its whole process group if it lingers.

        Safe to call more than once and on a broker that never started.
        """
        if self._process is not None:
            stop_process_group(self._process, _STOP_GRACE_SECONDS)
        self._process = None
        if self._console is not None:
            self._console.close()
            self._console = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _format_storage(self, java_prefix: list[str], config: Path) -> None:
        """Give a fresh data dir a cluster id; KRaft refuses to start on unformatted storage."""
        tool = [*java_prefix, "kafka.tools.StorageTool"]
        cluster_id = _run_storage_tool(tool, ["random-uuid"]).split()[-1]
        users = self.secure.scram_arguments() if self.secure else []
        _run_storage_tool(tool, ["format", "-t", cluster_id, "-c", str(config), *users])

    def _wait_until_serving(self, deadline: float, timeout: float) -> None:
        process = self._process
        if process is None:
            raise BrokerStartError("broker process was not launched")
        while True:
            exit_code = process.poll()
            if exit_code is not None:
                raise BrokerStartError(
                    f"broker on port {self._port} exited with code {exit_code} while starting; "
                    f"log tail: {self._log_tail()}"
                )
            if self._is_serving():
                return
            if time.monotonic() >= deadline:
                raise BrokerStartError(
                    f"broker on port {self._port} not ready after {timeout:.0f}s; "
                    f"log tail: {self._log_tail()}"
                )
            time.sleep(_PROBE_INTERVAL_SECONDS)

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


def stop_process_group(process: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM a child's process group, SIGKILL it after ``grace`` seconds; reap the child."""
    # Signal only a process not yet reaped: once reaped, its pid (and group id) may be reused.
    if process.poll() is None:
        _signal_group(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            _signal_group(process.pid, signal.SIGKILL)
            process.wait()


def _signal_group(process_group: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process_group, signum)


def _make_die_with_parent() -> Callable[[], None] | None:
    """Build the pre-exec hook that asks Linux to SIGTERM the broker when its parent goes.

    Runs between fork and exec, so it does nothing but one system call; the
    library handle is looked up here, before any fork.
    """
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def set_parent_death_signal() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM))

    return set_parent_death_signal


_die_with_parent = _make_die_with_parent()
