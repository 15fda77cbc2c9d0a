"""ensure_kafka_jars: fetch once, trust the cache only when complete, fail in one clear line.

Most tests put a stand-in ``mvn`` first on PATH that records each call and
writes the two jars the cache check looks for; one test runs real Maven.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from guard.devbroker.errors import KafkaJarsError
from guard.devbroker.jars import KAFKA_VERSION, SLF4J_VERSION, default_cache_dir, ensure_kafka_jars

_REAL_PATH = os.environ.get("PATH", "")
"""Captured before any test narrows PATH; the stand-in tools run with it."""

BROKER_JAR = f"kafka_2.13-{KAFKA_VERSION}.jar"
LOGGING_JAR = f"slf4j-reload4j-{SLF4J_VERSION}.jar"


class FakeTools:
    """A PATH holding only a stand-in ``java`` and a scripted ``mvn``, as each test asks."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.bin_dir = root / "bin"
        self.bin_dir.mkdir()
        self.calls_file = root / "mvn-calls"
        monkeypatch.setenv("PATH", str(self.bin_dir))

    def with_java(self) -> FakeTools:
        """Only java's presence is checked before Maven runs, so any executable will do."""
        stand_in = shutil.which("true", path=_REAL_PATH)
        assert stand_in is not None
        (self.bin_dir / "java").symlink_to(stand_in)
        return self

    def with_mvn(self, body: str) -> FakeTools:
        script = self.bin_dir / "mvn"
        script.write_text(
            "#!/bin/sh\n"
            f'PATH="{_REAL_PATH}"\n'  # for mkdir and touch; the code under test sees only bin_dir
            f'echo called >> "{self.calls_file}"\n'
            'for arg; do case "$arg" in -DoutputDirectory=*) out="${arg#*=}";; esac; done\n'
            f"{body}\n"
        )
        script.chmod(0o755)
        return self

    def with_working_mvn(self) -> FakeTools:
        return self.with_mvn(f'mkdir -p "$out" && touch "$out/{BROKER_JAR}" "$out/{LOGGING_JAR}"')

    @property
    def mvn_call_count(self) -> int:
        if not self.calls_file.exists():
            return 0
        return len(self.calls_file.read_text().splitlines())


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeTools:
    return FakeTools(tmp_path, monkeypatch)


@pytest.mark.broker
def test_real_maven_fetch_is_reused_by_the_second_call(tmp_path: Path) -> None:
    cache = tmp_path / "cache"

    jars_dir = ensure_kafka_jars(cache)

    assert (jars_dir / BROKER_JAR).is_file()
    assert (jars_dir / LOGGING_JAR).is_file()
    marker = cache / ".complete"
    broker_jar = jars_dir / BROKER_JAR
    before = (marker.stat().st_mtime_ns, broker_jar.stat().st_ino, broker_jar.stat().st_mtime_ns)

    assert ensure_kafka_jars(cache) == jars_dir

    after = (marker.stat().st_mtime_ns, broker_jar.stat().st_ino, broker_jar.stat().st_mtime_ns)
    assert after == before


def test_second_call_does_not_run_maven(tmp_path: Path, tools: FakeTools) -> None:
    tools.with_java().with_working_mvn()
    cache = tmp_path / "cache"

    first = ensure_kafka_jars(cache)
    second = ensure_kafka_jars(cache)

    assert first == second == (cache / "jars").resolve()
    assert (cache / ".complete").is_file()
    assert tools.mvn_call_count == 1


def test_complete_cache_needs_neither_maven_nor_java(tmp_path: Path, tools: FakeTools) -> None:
    tools.with_java().with_working_mvn()
    cache = tmp_path / "cache"
    ensure_kafka_jars(cache)
    for tool in ("java", "mvn"):
        (tools.bin_dir / tool).unlink()

    assert ensure_kafka_jars(cache) == (cache / "jars").resolve()


def test_download_without_marker_is_fetched_again(tmp_path: Path, tools: FakeTools) -> None:
    """Jars without the marker are what an interrupted mvn leaves behind."""
    tools.with_java().with_working_mvn()
    cache = tmp_path / "cache"
    (cache / "jars").mkdir(parents=True)
    (cache / "jars" / BROKER_JAR).write_text("truncated")
    (cache / "jars" / LOGGING_JAR).write_text("truncated")

    ensure_kafka_jars(cache)

    assert tools.mvn_call_count == 1
    assert (cache / "jars" / BROKER_JAR).read_text() == ""  # replaced by the fresh fetch


def test_marker_from_another_pom_is_not_trusted(tmp_path: Path, tools: FakeTools) -> None:
    """After a version bump the old jars must not be reused just because a marker exists."""
    tools.with_java().with_working_mvn()
    cache = tmp_path / "cache"
    ensure_kafka_jars(cache)
    (cache / ".complete").write_text("fingerprint-of-an-older-pom\n")

    ensure_kafka_jars(cache)

    assert tools.mvn_call_count == 2


def test_missing_java_is_one_clear_line(tmp_path: Path, tools: FakeTools) -> None:
    tools.with_working_mvn()

    with pytest.raises(KafkaJarsError) as raised:
        ensure_kafka_jars(tmp_path / "cache")

    assert "'java' not found" in str(raised.value)
    assert "\n" not in str(raised.value)
    assert tools.mvn_call_count == 0


def test_missing_maven_is_one_clear_line(tmp_path: Path, tools: FakeTools) -> None:
    tools.with_java()

    with pytest.raises(KafkaJarsError) as raised:
        ensure_kafka_jars(tmp_path / "cache")

    assert "'mvn' not found" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_failing_maven_reports_its_error_and_writes_no_marker(
    tmp_path: Path, tools: FakeTools
) -> None:
    tools.with_java().with_mvn(
        'echo "[INFO] resolving"; echo "[ERROR] Could not resolve kafka_2.13"; '
        'echo "[ERROR] Re-run Maven using the -X switch"; exit 1'
    )
    cache = tmp_path / "cache"

    with pytest.raises(KafkaJarsError) as raised:
        ensure_kafka_jars(cache)

    message = str(raised.value)
    assert "exit 1" in message
    assert "[ERROR] Could not resolve kafka_2.13" in message
    assert "\n" not in message
    assert not (cache / ".complete").exists()


def test_failed_fetch_is_retried_on_the_next_call(tmp_path: Path, tools: FakeTools) -> None:
    tools.with_java().with_mvn("exit 1")
    cache = tmp_path / "cache"
    with pytest.raises(KafkaJarsError):
        ensure_kafka_jars(cache)

    tools.with_working_mvn()
    ensure_kafka_jars(cache)

    assert tools.mvn_call_count == 2
    assert (cache / ".complete").is_file()


def test_maven_success_without_the_broker_jar_is_not_trusted(
    tmp_path: Path, tools: FakeTools
) -> None:
    tools.with_java().with_mvn(f'mkdir -p "$out" && touch "$out/{LOGGING_JAR}"')
    cache = tmp_path / "cache"

    with pytest.raises(KafkaJarsError, match=f"{BROKER_JAR} is missing"):
        ensure_kafka_jars(cache)

    assert not (cache / ".complete").exists()


def test_cache_location_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUARD_KAFKA_CACHE", str(tmp_path / "elsewhere"))
    assert default_cache_dir() == tmp_path / "elsewhere"

    monkeypatch.delenv("GUARD_KAFKA_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    expected = tmp_path / "home" / ".cache" / "disclosure-guard" / f"kafka-{KAFKA_VERSION}"
    assert default_cache_dir() == expected
