#!/usr/bin/env bash
# The main job on a fresh machine: a local Kafka broker, the guard worker, a
# sample registry and custody feed, then what was published, dropped and rejected.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/bootstrap.sh
exec .venv/bin/guard demo "$@"
