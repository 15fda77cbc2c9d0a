"""run_dev_broker, the body of ``guard dev-broker``, driven as a real process with real signals."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from guard.devbroker.broker import free_port

pytestmark = pytest.mark.broker

_RUNNER = (
    "import sys\n"
    "from pathlib import Path\n"
    "from guard.devbroker.foreground import run_dev_broker\n"
    "data_dir = Path(sys.argv[2]) if len(sys.argv) > 2 else None\n"
    "sys.exit(run_dev_broker(int(sys.argv[1]), data_dir))\n"
)


def launch(port: int, data_dir: Path | None) -> subprocess.Popen[str]:
    arguments = [sys.executable, "-c", _RUNNER, str(port)]
    if data_dir is not None:
        arguments.append(str(data_dir))
    return subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def broker_processes_under(directory: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command_line = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"kafka.Kafka" in command_line and directory.encode() in command_line:
                found.append(int(entry.name))
    return found


def test_runs_until_sigterm_then_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    data_dir = tmp_path / "dev"
    runner = launch(port, data_dir)
    try:
        assert runner.stdout is not None
        ready_line = runner.stdout.readline()
        assert f"127.0.0.1:{port}" in ready_line
        assert len(broker_processes_under(str(data_dir))) == 1

        runner.send_signal(signal.SIGTERM)
        exit_code = runner.wait(timeout=60)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()

    assert exit_code == 0
    assert broker_processes_under(str(data_dir)) == []
    assert (data_dir / "kafka-logs" / "meta.properties").is_file()  # a given data dir is kept


def test_sigint_stops_and_removes_the_scratch_data_dir() -> None:
    runner = launch(free_port(), None)
    try:
        assert runner.stdout is not None
        ready_line = runner.stdout.readline()
        scratch = ready_line.split("(data in ", 1)[1].rstrip(")\n")
        assert Path(scratch).is_dir()

        runner.send_signal(signal.SIGINT)
        exit_code = runner.wait(timeout=60)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()

    assert exit_code == 0
    assert not Path(scratch).exists()
    assert broker_processes_under(scratch) == []


def test_port_in_use_is_reported_and_exits_one(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as occupier:
        occupier.bind(("127.0.0.1", 0))
        occupier.listen()
        runner = launch(occupier.getsockname()[1], tmp_path / "dev")
        _, stderr = runner.communicate(timeout=60)

    assert runner.returncode == 1
    assert "already in use" in stderr
    assert stderr.count("\n") == 1


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_signal_while_starting_aborts_and_leaves_nothing_running(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    data_dir = tmp_path / "dev"
    runner = launch(free_port(), data_dir)
    try:
        deadline = time.monotonic() + 30
        while not (data_dir / "kafka-logs").exists():  # start() is under way
            assert time.monotonic() < deadline, "the runner never began starting the broker"
            time.sleep(0.01)

        runner.send_signal(stop_signal)
        stdout, _ = runner.communicate(timeout=60)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()

    assert runner.returncode == 130
    assert "ready" not in stdout
    assert broker_processes_under(str(data_dir)) == []
