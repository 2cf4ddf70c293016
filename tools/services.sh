#!/usr/bin/env bash
# Shared by deploy/up.sh and tools/test.sh: install and start the services Kiln uses
# (PostgreSQL, Redis, NATS with JetStream), idempotently, with or without systemd.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# apt_ensure pkg... : installs the Debian packages that are not installed yet.
apt_ensure() {
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local port=$1 what=$2
  for _ in $(seq 1 100); do port_open "$port" && return 0; sleep 0.2; done
  echo "error: $what did not start listening on port $port" >&2
  return 1
}

have_systemd() { [ -d /run/systemd/system ]; }

ensure_postgres() {
  apt_ensure postgresql postgresql-client
  if ! port_open 5432; then
    if have_systemd; then as_root systemctl start postgresql
    else as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start; fi
    wait_port 5432 PostgreSQL
  fi
}

# Tests create and drop databases as the postgres role over TCP from localhost. A test machine
# trusts that; a fresh Debian asks for a password, so trust postgres on 127.0.0.1 only.
ensure_postgres_test_access() {
  if ! psql -h 127.0.0.1 -U postgres -tAc 'SELECT 1' >/dev/null 2>&1; then
    local hba
    hba=$(as_root su postgres -c "psql -tAc 'SHOW hba_file'")
    as_root sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
    as_root su postgres -c "psql -qc 'SELECT pg_reload_conf()'" >/dev/null
  fi
}

ensure_redis() {
  apt_ensure redis-server
  if ! port_open 6379; then
    if have_systemd; then as_root systemctl start redis-server
    else as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/kiln.log; fi
    wait_port 6379 Redis
  fi
}

ensure_nats() {
  apt_ensure nats-server
  if ! port_open 4222; then
    as_root mkdir -p /var/lib/nats-server
    as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
      -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
    wait_port 4222 NATS
  fi
}

ensure_services() {
  ensure_postgres
  ensure_redis
  ensure_nats
}
