#!/usr/bin/env bash
# Type-check tests/ as pytest imports them: each test directory's files are
# top-level modules (pytest's default "prepend" import mode puts the directory
# on sys.path, so `from stream_harness import ...` works), with tests/ itself on
# the path for the shared builders. One mypy run per directory, because every
# directory has its own top-level `conftest`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

MYPY="${MYPY:-.venv/bin/mypy}"
status=0
for dir in tests $(find tests -mindepth 1 -type d -not -name '__pycache__' -not -path '*/.*' | sort); do
  files=$(find "$dir" -maxdepth 1 -name '*.py' | sort)
  [ -n "$files" ] || continue
  path="$PWD/tests"
  [ "$dir" = tests ] || path="$PWD/$dir:$path"
  # shellcheck disable=SC2086
  MYPYPATH="$path" "$MYPY" --config-file pyproject.toml --no-error-summary $files || status=1
done
exit "$status"
