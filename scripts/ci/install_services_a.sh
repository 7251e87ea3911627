#!/bin/sh
# Installs the real servers the service-output tests start (tests/output/_servers.ts):
# PostgreSQL (server + psql), InfluxDB 1.x and netcat. Idempotent: does nothing when all are
# present, runs `apt-get update` only when a package is missing. Debian bookworm names.
set -eu
need=""
command -v influxd >/dev/null 2>&1 || need="$need influxdb"
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need="$need postgresql"
command -v nc >/dev/null 2>&1 || need="$need netcat-openbsd"
if [ -z "$need" ]; then
  echo "services-a: postgresql, influxdb and netcat already installed"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
# shellcheck disable=SC2086
$SUDO apt-get install -y --no-install-recommends $need
# The packages may start system-wide daemons; the tests start their own on free ports.
echo "services-a: installed$need"
