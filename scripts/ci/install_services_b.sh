#!/bin/sh
# Installs what the services-b tests need (tests/output/prometheus_rw_test.ts starts a real
# Prometheus with the remote-write receiver). Idempotent: does nothing when already installed.
set -eu
if command -v prometheus >/dev/null 2>&1; then
  echo "prometheus already installed: $(prometheus --version 2>&1 | head -n 1)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
# Only the server binary is needed; the Debian package pulls in no exporters without recommends.
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  -o DPkg::Lock::Timeout=300 prometheus
# The package starts a system service on :9090; the tests run their own instance on a free port.
prometheus --version 2>&1 | head -n 1
