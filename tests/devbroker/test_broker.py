"""Lifecycle of LocalKafkaBroker: these tests start their own brokers, as starting is the subject.

Everything else in the suite shares the session broker from tests/conftest.py.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from guard.devbroker.broker import LocalKafkaBroker, free_port
from guard.devbroker.errors import BrokerStartError
from guard.devbroker.readiness import is_broker_serving

pytestmark = pytest.mark.broker

_IPV4_LOOPBACK = "0100007F"
_IPV4_MAPPED_LOOPBACK = "0000000000000000FFFF00000100007F"
_TCP_LISTEN = "0A"


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafkaBroker]:
    """One broker for the tests that only look at a running broker."""
    started = LocalKafkaBroker(port=free_port(), data_dir=tmp_path_factory.mktemp("broker"))
    started.start()
    try:
        yield started
    finally:
        started.stop()


def listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as the kernel shows them) with a socket listening on ``port``."""
    addresses: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if fields[3] == _TCP_LISTEN and int(port_hex, 16) == port:
                addresses.add(address)
    return addresses


def processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line contains ``text`` (e.g. a broker's data dir)."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command_line = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue  # the process exited while we looked
        if text.encode() in command_line:
            found.append(int(entry.name))
    return found


def wait_until_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists():
            return True
        time.sleep(0.1)
    return False


def test_started_broker_serves_metadata_on_its_bootstrap_address(
    broker: LocalKafkaBroker,
) -> None:
    host, port = broker.bootstrap.rsplit(":", 1)

    assert host == "127.0.0.1"
    assert broker.is_running
    assert is_broker_serving(host, int(port))


def test_broker_listens_on_loopback_only(broker: LocalKafkaBroker) -> None:
    port = int(broker.bootstrap.rsplit(":", 1)[1])
    controller_port = broker.controller_port
    assert controller_port is not None

    for listening_port in (port, controller_port):
        addresses = listening_addresses(listening_port)
        assert addresses, f"nothing listens on {listening_port}"
        assert addresses <= {_IPV4_LOOPBACK, _IPV4_MAPPED_LOOPBACK}


def test_stop_leaves_no_broker_process_behind(tmp_path: Path) -> None:
    data_dir = tmp_path / "broker"
    broker = LocalKafkaBroker(port=free_port(), data_dir=data_dir)
    broker.start()
    pid = broker.process_id
    assert pid is not None
    assert processes_mentioning(str(data_dir)) == [pid]

    broker.stop()

    assert not broker.is_running
    assert broker.process_id is None
    assert processes_mentioning(str(data_dir)) == []
    broker.stop()  # a second stop is harmless


def test_restart_reuses_formatted_storage_and_with_block_stops(tmp_path: Path) -> None:
    data_dir = tmp_path / "broker"
    meta = data_dir / "kafka-logs" / "meta.properties"
    port = free_port()
    with LocalKafkaBroker(port=port, data_dir=data_dir) as first:
        assert first.is_running
        first_meta = meta.read_text()
    assert processes_mentioning(str(data_dir)) == []

    with LocalKafkaBroker(port=port, data_dir=data_dir) as restarted:
        assert restarted.is_running
        assert meta.read_text() == first_meta  # not reformatted: same cluster id
    assert processes_mentioning(str(data_dir)) == []


def test_start_refuses_a_port_already_in_use(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as occupier:
        occupier.bind(("127.0.0.1", 0))
        occupier.listen()
        taken = occupier.getsockname()[1]
        broker = LocalKafkaBroker(port=taken, data_dir=tmp_path / "broker")

        with pytest.raises(BrokerStartError, match=f"port {taken} .* already in use"):
            broker.start()

    assert broker.process_id is None


def test_broker_that_exits_while_starting_reports_its_output(tmp_path: Path) -> None:
    data_dir = tmp_path / "broker"
    (data_dir / "kafka-logs").mkdir(parents=True)
    (data_dir / "kafka-logs" / "meta.properties").write_text("already formatted\n")
    empty_classpath = tmp_path / "no-jars"
    empty_classpath.mkdir()
    broker = LocalKafkaBroker(port=free_port(), data_dir=data_dir, jars_dir=empty_classpath)

    with pytest.raises(BrokerStartError, match=r"exited with code \d+.*kafka\.Kafka"):
        broker.start(timeout=30)

    assert not broker.is_running


def test_broker_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "broker"
    starter = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from guard.devbroker.broker import LocalKafkaBroker, free_port\n"
        "broker = LocalKafkaBroker(port=free_port(), data_dir=Path(sys.argv[1]))\n"
        "broker.start()\n"
        "print(broker.process_id, flush=True)\n"
        "time.sleep(120)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", starter, str(data_dir)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        broker_pid = int(parent.stdout.readline())
        assert Path(f"/proc/{broker_pid}").exists()

        os.kill(parent.pid, signal.SIGKILL)  # no chance to run stop()
        parent.wait()

        assert wait_until_gone(broker_pid, timeout=30)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        for leftover in processes_mentioning(str(data_dir)):
            os.kill(leftover, signal.SIGKILL)


def test_relative_data_dir_is_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    broker = LocalKafkaBroker(port=free_port(), data_dir=Path("relative"))

    assert broker.data_dir == tmp_path / "relative"
