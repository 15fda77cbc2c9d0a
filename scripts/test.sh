#!/usr/bin/env bash
# The whole check: tests, lint, types. Arguments go to pytest (e.g. a path or -k).
# Every check runs even if an earlier one fails, and any failure fails the script.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/bootstrap.sh
# promtool checks the alert rules (tests/deploy); Debian's prometheus package has it.
bash scripts/install-promtool.sh

failed=()

# Exit 5 means pytest collected no tests: a typo in a path or marker would
# otherwise look like success, so it is a failure like any other non-zero code.
pytest_status=0
.venv/bin/pytest -q "$@" || pytest_status=$?
if [ "$pytest_status" -eq 5 ]; then
  echo "test.sh: pytest collected no tests" >&2
fi
[ "$pytest_status" -eq 0 ] || failed+=("pytest (exit $pytest_status)")

.venv/bin/ruff check guard tests bench || failed+=("ruff")
.venv/bin/mypy guard bench || failed+=("mypy")
bash scripts/typecheck-tests.sh || failed+=("mypy tests")

if [ "${#failed[@]}" -gt 0 ]; then
  echo "test.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "test.sh: all checks passed" >&2
