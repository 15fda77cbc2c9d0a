#!/usr/bin/env bash
# Make `promtool` available for tests/deploy/test_prometheus.py, which checks
# and unit-tests deploy/prometheus/. Safe to run again: does nothing when
# promtool is already on PATH.
#
# promtool comes with Debian's `prometheus` package, which also ships a
# Prometheus server whose service listens on every interface (:9090). We want
# the tool, not a server, so:
# * recommends are left out (they would add prometheus-node-exporter, another
#   listening service);
# * on a host with systemd the service is disabled and stopped again;
# * any Prometheus server process that appeared during the install is stopped.
# (In a Docker container, policy-rc.d normally keeps services from starting.)
set -euo pipefail

fail() {
  echo "install-promtool: $*" >&2
  exit 1
}

if command -v promtool >/dev/null 2>&1; then
  exit 0
fi

command -v apt-get >/dev/null 2>&1 \
  || fail "no apt-get here; install promtool (Prometheus 2.x) by hand and put it on PATH"

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 \
    || fail "not root and no sudo; run as root, or install promtool by hand and put it on PATH"
  as_root=(sudo)
fi

# Servers already running are someone else's: only ones the install starts are stopped.
servers_before=" $(pgrep -x prometheus | tr '\n' ' ' || true) "

echo "install-promtool: installing Debian's prometheus package (it ships promtool)" >&2
"${as_root[@]}" apt-get update -qq \
  || fail "apt-get update failed; check access to the Debian package mirrors"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends prometheus >/dev/null \
  || fail "apt-get install prometheus failed; see apt's messages above"

if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  "${as_root[@]}" systemctl disable --now prometheus.service >/dev/null 2>&1 \
    || fail "could not stop and disable prometheus.service; stop it by hand"
fi
for pid in $(pgrep -x prometheus || true); do
  case "$servers_before" in
    *" $pid "*) continue ;;
  esac
  echo "install-promtool: stopping the Prometheus server (pid $pid) the install started" >&2
  "${as_root[@]}" kill "$pid" || fail "could not stop Prometheus server pid $pid; stop it by hand"
done

command -v promtool >/dev/null 2>&1 \
  || fail "the prometheus package is installed but promtool is not on PATH"
echo "install-promtool: $(promtool --version 2>&1 | head -n 1)" >&2
