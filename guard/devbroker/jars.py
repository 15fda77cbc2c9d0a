"""Fetch the Apache Kafka broker jars from Maven Central, once per machine.

The broker runs from the jars Maven Central publishes for
``org.apache.kafka:kafka_2.13`` rather than from a Docker image or the
apache.org tarball: CI machines here have Java and Maven but neither Docker nor
access to apache.org. A throwaway pom naming the broker (plus a logging
binding, without which the broker runs silently) lets Maven resolve the whole
runtime classpath into one directory.

The cache is only trusted when a marker written *after* Maven succeeded
matches the current pom, so an interrupted download or a version bump is
fetched again instead of starting a broker from a half-filled directory.

Run ``python -m guard.devbroker.jars`` to fetch ahead of time; it prints the
jar directory.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from guard.devbroker.errors import KafkaJarsError

KAFKA_VERSION = "3.9.1"
"""Last 3.x line: KRaft with a static quorum, logs through reload4j, Java 11+."""

SLF4J_VERSION = "1.7.36"
"""Must equal the slf4j-api version kafka_2.13 3.9.1 depends on."""

CACHE_ENV_VAR = "GUARD_KAFKA_CACHE"

_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
"""Pinned so a fresh machine resolves the same plugin as a developer's."""

_MVN_TIMEOUT_SECONDS = 900.0
_MARKER_NAME = ".complete"
_JARS_DIR_NAME = "jars"
_BROKER_JAR = f"kafka_2.13-{KAFKA_VERSION}.jar"
_LOGGING_JAR = f"slf4j-reload4j-{SLF4J_VERSION}.jar"

_POM = f"""\
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.disclosure-guard</groupId>
  <artifactId>kafka-dev-broker</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>{KAFKA_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-reload4j</artifactId>
      <version>{SLF4J_VERSION}</version>
    </dependency>
  </dependencies>
</project>
"""


def default_cache_dir() -> Path:
    """Where jars live unless the caller says otherwise; versioned so pins never mix."""
    configured = os.environ.get(CACHE_ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "disclosure-guard" / f"kafka-{KAFKA_VERSION}"


def ensure_kafka_jars(cache_dir: Path | None = None) -> Path:
    """Return a directory holding the broker's runtime classpath, fetching it if needed.

    Safe to call from several processes at once: a file lock serialises the
    fetch and the loser of the race finds the marker and returns.
    """
    cache = (cache_dir or default_cache_dir()).expanduser().resolve()
    jars_dir = cache / _JARS_DIR_NAME
    if _is_cache_complete(cache):
        return jars_dir
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _is_cache_complete(cache):
            return jars_dir
        _fetch(cache, jars_dir)
    return jars_dir


def _pom_fingerprint() -> str:
    return hashlib.sha256(_POM.encode("utf-8")).hexdigest()


def _is_cache_complete(cache: Path) -> bool:
    marker = cache / _MARKER_NAME
    jars_dir = cache / _JARS_DIR_NAME
    try:
        recorded = marker.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return False
    return (
        recorded == _pom_fingerprint()
        and (jars_dir / _BROKER_JAR).is_file()
        and (jars_dir / _LOGGING_JAR).is_file()
    )


def _fetch(cache: Path, jars_dir: Path) -> None:
    _require_tool("java", "the Kafka broker needs a Java 11+ runtime")
    mvn = _require_tool("mvn", "Maven fetches the Kafka jars from Maven Central")
    (cache / _MARKER_NAME).unlink(missing_ok=True)
    shutil.rmtree(jars_dir, ignore_errors=True)
    pom = cache / "pom.xml"
    pom.write_text(_POM, encoding="utf-8")
    command = [
        mvn,
        "-q",
        "-B",
        "-Dstyle.color=never",
        "-f",
        str(pom),
        f"{_DEPENDENCY_PLUGIN}:copy-dependencies",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={jars_dir}",
    ]
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=_MVN_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise KafkaJarsError(
            f"mvn did not finish fetching the Kafka {KAFKA_VERSION} jars "
            f"within {_MVN_TIMEOUT_SECONDS:.0f}s"
        ) from error
    if result.returncode != 0:
        reason = _maven_failure_reason(result.stdout + "\n" + result.stderr)
        raise KafkaJarsError(
            f"mvn failed (exit {result.returncode}) fetching the Kafka {KAFKA_VERSION} jars: "
            f"{reason}"
        )
    for expected in (_BROKER_JAR, _LOGGING_JAR):
        if not (jars_dir / expected).is_file():
            raise KafkaJarsError(f"mvn succeeded but {expected} is missing from {jars_dir}")
    marker_tmp = cache / f"{_MARKER_NAME}.tmp"
    marker_tmp.write_text(_pom_fingerprint() + "\n", encoding="utf-8")
    os.replace(marker_tmp, cache / _MARKER_NAME)


def _require_tool(name: str, why: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise KafkaJarsError(f"'{name}' not found on PATH; {why}")
    return found


def _maven_failure_reason(output: str) -> str:
    """Maven's useful line is its first ``[ERROR]``; the rest is advice about -e and -X."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("[ERROR]")]
    if errors:
        return errors[0]
    return lines[-1] if lines else "no output"


def main() -> int:
    """Fetch the jars ahead of the first broker start (used by scripts/bootstrap.sh)."""
    try:
        jars_dir = ensure_kafka_jars()
    except KafkaJarsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(jars_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
