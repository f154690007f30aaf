#!/usr/bin/env bash
# Installs what the tests start on loopback (PostgreSQL, MariaDB and Redis servers, openssl),
# shellcheck, which checks the instances' user data, Graphviz, which renders the architecture
# diagrams (tools/diagram.py), and Chromium, which renders the PCI report headless in its test
# (both with the DejaVu fonts, so text renders alike on every machine).
# A no-op when present. The tests start and stop the servers themselves (ephemeral ports and
# data directories), so nothing is left running.
set -euo pipefail
need=()
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || need+=(postgresql)
command -v psql >/dev/null || need+=(postgresql-client)
command -v mariadbd >/dev/null || need+=(mariadb-server)
command -v redis-server >/dev/null || need+=(redis-server)
command -v openssl >/dev/null || need+=(openssl)
command -v runuser >/dev/null || need+=(util-linux)
command -v shellcheck >/dev/null || need+=(shellcheck)
command -v dot >/dev/null || need+=(graphviz)
command -v chromium >/dev/null || need+=(chromium)
[[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]] || need+=(fonts-dejavu-core)
((${#need[@]})) || exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "missing test servers: ${need[*]}; install them (e.g. sudo apt-get install ${need[*]}) and re-run" >&2
  exit 1
fi
echo "installing test servers: ${need[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Package scripts may start the system services; the tests use their own instances.
service mariadb stop >/dev/null 2>&1 || true
service postgresql stop >/dev/null 2>&1 || true
service redis-server stop >/dev/null 2>&1 || true
