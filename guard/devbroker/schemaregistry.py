"""A real Confluent-compatible schema registry (Apicurio Registry 3.0.9), run as a child process.

Confluent's own registry is not on Maven Central and Karapace is not on PyPI;
Apicurio Registry is, as a ready-to-run tarball
(``io.apicurio:apicurio-registry-app:3.0.9:tar.gz:all``), and serves the
Confluent API at ``/apis/ccompat/v7``. Its parent POM is not on Central, so
it is fetched with ``maven-dependency-plugin:2.8:get`` and
``-Dtransitive=false`` (newer plugin versions read the POM and fail), then
unpacked once into a versioned cache, trusted only when a marker written
after a complete unpack is there, like the Kafka jars
(:mod:`guard.devbroker.jars`). 3.0.9 is the last line that runs on Java 17.

Storage is H2 in a file under ``data_dir``, so a stopped and restarted
registry still knows its schemas (the outage tests need that; the default
in-memory store would forget them). It binds 127.0.0.1 only. Apicurio's
default compatibility level is NONE and its ids have gaps: nothing here
relies on either.

``python -m guard.devbroker.schemaregistry`` fetches ahead of time and prints
the directory.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from guard.devbroker.broker import _find_java, _require_port_free
from guard.devbroker.child import ChildService, die_with_parent
from guard.devbroker.errors import BrokerStartError, KafkaJarsError
from guard.devbroker.properties import LOOPBACK_HOST

APICURIO_VERSION = "3.0.9"
ARTIFACT = f"io.apicurio:apicurio-registry-app:{APICURIO_VERSION}:tar.gz:all"
CACHE_ENV_VAR = "GUARD_APICURIO_CACHE"
CCOMPAT_PATH = "/apis/ccompat/v7"

_GET_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:2.8:get"
_RUNNER_JAR = f"apicurio-registry-app-{APICURIO_VERSION}-runner.jar"
_MARKER_NAME = ".complete"
_MVN_TIMEOUT_SECONDS = 900.0
_JVM_OPTIONS = ("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
"""Measured here: RSS 220-290 MB, first answer about 3 s after launch."""
_LOG_TAIL_LINES = 15


def default_cache_dir() -> Path:
    configured = os.environ.get(CACHE_ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "disclosure-guard" / f"apicurio-{APICURIO_VERSION}"


def ensure_apicurio(cache_dir: Path | None = None) -> Path:
    """The unpacked Apicurio directory (holding the runner jar), fetched on first use.

    Safe to call from several processes at once (a file lock serialises the fetch).
    """
    cache = (cache_dir or default_cache_dir()).expanduser().resolve()
    app_dir = cache / "app"
    if _is_complete(cache):
        return app_dir
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _is_complete(cache):
            _fetch(cache, app_dir)
    return app_dir


def _is_complete(cache: Path) -> bool:
    marker = cache / _MARKER_NAME
    try:
        recorded = marker.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return False
    return recorded == ARTIFACT and (cache / "app" / _RUNNER_JAR).is_file()


def _fetch(cache: Path, app_dir: Path) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise KafkaJarsError("'mvn' not found on PATH; Maven fetches Apicurio Registry")
    (cache / _MARKER_NAME).unlink(missing_ok=True)
    shutil.rmtree(app_dir, ignore_errors=True)
    tarball = cache / "apicurio.tar.gz"
    command = [
        mvn, "-q", "-B", "-Dstyle.color=never", _GET_PLUGIN,
        f"-Dartifact={ARTIFACT}", "-Dtransitive=false", f"-Ddest={tarball}",
    ]  # fmt: skip
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=_MVN_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise KafkaJarsError(f"mvn did not fetch {ARTIFACT} in time") from error
    if result.returncode != 0 or not tarball.is_file():
        lines = [ln for ln in (result.stdout + result.stderr).splitlines() if "[ERROR]" in ln]
        raise KafkaJarsError(
            f"mvn failed (exit {result.returncode}) fetching {ARTIFACT}: "
            f"{lines[0] if lines else 'no output'}"
        )
    staging = cache / "app.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    with tarfile.open(tarball) as archive:
        archive.extractall(staging, filter="data")
    if not (staging / _RUNNER_JAR).is_file():
        raise KafkaJarsError(f"{ARTIFACT} holds no {_RUNNER_JAR}")
    os.replace(staging, app_dir)
    tarball.unlink()
    (cache / _MARKER_NAME).write_text(ARTIFACT + "\n", encoding="utf-8")


class LocalSchemaRegistry(ChildService):
    """Apicurio Registry on 127.0.0.1:``port``; schemas kept in ``data_dir`` across restarts."""

    stop_grace_seconds = 20.0  # Apicurio stops in about 0.1 s on SIGTERM
    probe_interval_seconds = 0.2

    def __init__(self, port: int, data_dir: Path, app_dir: Path | None = None) -> None:
        self._port = port
        self._data_dir = data_dir.expanduser().resolve()
        self._app_dir = app_dir
        super().__init__()

    @property
    def url(self) -> str:
        """The Confluent-compatible API's base URL (what GUARD_SCHEMA_REGISTRY_URL takes)."""
        return f"http://{LOOPBACK_HOST}:{self._port}{CCOMPAT_PATH}"

    def start(self, timeout: float = 90.0) -> None:
        """Start it and return once the API answers, or raise with its log tail."""
        if self._process is not None:
            raise BrokerStartError(f"schema registry on port {self._port} was already started")
        deadline = time.monotonic() + timeout
        app_dir = self._app_dir or ensure_apicurio()
        _require_port_free(self._port)
        self._data_dir.mkdir(parents=True, exist_ok=True)
        self._console = (self._data_dir / "console.log").open("ab")
        command = [
            _find_java(), *_JVM_OPTIONS,
            f"-Dquarkus.http.host={LOOPBACK_HOST}", f"-Dquarkus.http.port={self._port}",
            f"-Dapicurio.datasource.url=jdbc:h2:file:{self._data_dir / 'registry'}",
            "-Dquarkus.log.level=WARN",
            "-jar", str(app_dir / _RUNNER_JAR),
        ]  # fmt: skip
        self._process = subprocess.Popen(
            command,
            cwd=self._data_dir,
            stdin=subprocess.DEVNULL,
            stdout=self._console,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        try:
            self._wait_until_serving(deadline, timeout)
        except BaseException:
            self.stop()
            raise

    def _describe(self) -> str:
        return f"schema registry on port {self._port}"

    def _is_serving(self) -> bool:
        return _answers(self.url + "/subjects")

    def _log_tail(self) -> str:
        path = self._data_dir / "console.log"
        if not path.exists():
            return "(no log)"
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        return " | ".join(lines[-_LOG_TAIL_LINES:])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def main() -> int:
    """Fetch Apicurio ahead of the first test (used by scripts/bootstrap.sh)."""
    try:
        print(ensure_apicurio())
    except KafkaJarsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
