#!/usr/bin/env bash
# Installs what Kiln's tests need (Debian packages, npm packages), starts PostgreSQL, Redis and
# NATS if they are not running, then type-checks, lints, checks the migrations and runs every
# test: unit, medium (real services) and end-to-end (real clients in network namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/services.sh

# Real peers the tests drive: DHCP clients, TFTP clients/servers, nginx, Kea/perfdhcp, IPMI, QEMU.
apt_ensure curl iproute2 procps openssl isc-dhcp-client udhcpc dhcpcd5 tftp-hpa tftpd-hpa atftpd \
  nginx-light kea-dhcp4-server kea-admin openipmi ipmitool freeipmi-tools qemu-system-x86 ipxe-qemu
ensure_services
ensure_postgres_test_access

npm ci --no-audit --no-fund
export NX_DAEMON=false NX_NO_CLOUD=true
npx tsc -p tsconfig.json --noEmit
npx nx run-many -t lint --outputStyle=static
tools/db/check-migrations.sh
npx nx run-many -t test --parallel=1 --outputStyle=static
