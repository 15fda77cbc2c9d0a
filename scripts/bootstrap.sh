#!/usr/bin/env bash
# Make a checkout ready to test: virtualenv, the project in editable mode, and
# the Kafka broker jars. Safe to run again; each step is skipped when done.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
VENV=.venv
STAMP="$VENV/.bootstrap-installed"

require_python_311() {
  local python="$1"
  if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
    echo "bootstrap: $python is $("$python" -V 2>&1); disclosure-guard needs Python >= 3.11" >&2
    echo "bootstrap: set PYTHON=/path/to/python3.11 (or newer) and run again" >&2
    exit 1
  fi
}

if [ ! -x "$VENV/bin/python" ]; then
  if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "bootstrap: '$PYTHON' not found; install Python >= 3.11 or set PYTHON=..." >&2
    exit 1
  fi
  require_python_311 "$PYTHON"
  echo "bootstrap: creating $VENV" >&2
  "$PYTHON" -m venv "$VENV"
fi
require_python_311 "$VENV/bin/python"

# Reinstall only when the dependency list changed: an editable install builds
# in an isolated environment every time, which costs seconds and needs PyPI.
fingerprint="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$fingerprint" ] \
    || ! "$VENV/bin/python" -c 'import guard' >/dev/null 2>&1; then
  echo "bootstrap: installing disclosure-guard[test,bench] into $VENV" >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[test,bench]'
  echo "$fingerprint" >"$STAMP"
fi

# First run on a machine downloads ~46 MB of jars through Maven; later runs reuse the cache.
"$VENV/bin/python" -m guard.devbroker.jars >/dev/null
# Apicurio Registry 3.0.9 (~104 MB through Maven, once) for the schema-registry tests.
"$VENV/bin/python" -m guard.devbroker.schemaregistry >/dev/null
