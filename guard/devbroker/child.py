"""A JVM service run as a child process group: the part the broker and the schema registry share.

The process lives in its own process group so that stopping it takes every
JVM thread and child with it, and on Linux it is also told to die with its
parent so a crashed test run does not leave it holding ports.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import IO, Self

from guard.devbroker.errors import BrokerStartError

_PR_SET_PDEATHSIG = 1


class ChildService:
    """Stop, context management and the wait for readiness of one launched service.

    Subclasses launch the process (setting ``_process`` and ``_console``) and say
    what they are (:meth:`_describe`), when they serve (:meth:`_is_serving`) and what
    their log ends with (:meth:`_log_tail`).
    """

    stop_grace_seconds = 30.0
    probe_interval_seconds = 0.1

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._console: IO[bytes] | None = None

    @property
    def process_id(self) -> int | None:
        return None if self._process is None else self._process.pid

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it if it lingers. Safe to call more than
        once and on a service that never started."""
        if self._process is not None:
            stop_process_group(self._process, self.stop_grace_seconds)
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

    def start(self, timeout: float = 60.0) -> None:
        """Launch and return once serving, or raise with the log tail."""
        raise NotImplementedError

    def _describe(self) -> str:
        raise NotImplementedError

    def _is_serving(self) -> bool:
        raise NotImplementedError

    def _log_tail(self) -> str:
        raise NotImplementedError

    def _wait_until_serving(self, deadline: float, timeout: float) -> None:
        process = self._process
        if process is None:
            raise BrokerStartError(f"{self._describe()} was not launched")
        while True:
            exit_code = process.poll()
            if exit_code is not None:
                raise BrokerStartError(
                    f"{self._describe()} exited with code {exit_code} while starting; "
                    f"log tail: {self._log_tail()}"
                )
            if self._is_serving():
                return
            if time.monotonic() >= deadline:
                raise BrokerStartError(
                    f"{self._describe()} not ready after {timeout:.0f}s; "
                    f"log tail: {self._log_tail()}"
                )
            time.sleep(self.probe_interval_seconds)


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
    """Build the pre-exec hook that asks Linux to SIGTERM the child when its parent goes.

    Runs between fork and exec, so it does nothing but one system call; the
    library handle is looked up here, before any fork.
    """
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def set_parent_death_signal() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM))

    return set_parent_death_signal


die_with_parent = _make_die_with_parent()
