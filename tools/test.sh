#!/usr/bin/env bash
# Installs what Kiln's tests need (Debian packages, npm packages), starts PostgreSQL and Redis if
# they are not running (the tests start their own nats-server, with auth on, per test file), then type-checks, lints, checks the migrations, builds
# (nx build: the JavaScript deploy/ runs) and runs every test: unit, medium (real services),
# end-to-end (real clients in network namespaces), and the built apps' own (tools/build).
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/services.sh

# Real peers the tests drive: DHCP clients, the TFTP client, curl, OpenIPMI's simulator, ipmitool
# and freeipmi, virsh with a private libvirtd (tools/lab/libvirtd-up.sh), QEMU with iPXE and with
# OVMF (UEFI PXE), and the PXE lab's fixtures (radvd, socat: tools/lab/ra-up.sh, ns-forward.sh).
# The boot loaders the rack hands out are fetched by tools/rack/install-boot-loaders.sh itself.
# mmdebstrap, squashfs-tools and zstd build the ephemeral image (tools/images), booted in QEMU.
# cloud-init (its MAAS datasource, run with Debian's python3) reads the region's metadata API.
# sfdisk (fdisk) and debugfs (e2fsprogs) read what the installer wrote to a deployed VM's disk.
# ssh and ssh-keygen (openssh-client): the owner logs in to a VM's rescue environment.
# (Benchmark peers, such as Kea, atftpd and nginx, come from tools/bench/install-peers.sh.)
# golang-go and golang-github-juju-gomaasapi-dev: Juju's MAAS client, built offline from Debian's Go
# sources (GOPATH mode), drives the region in apps/region/src/api/gomaasapi.e2e.spec.ts.
apt_ensure curl iproute2 procps openssl python3 make g++ isc-dhcp-client udhcpc dhcpcd5 tftp-hpa \
  openipmi ipmitool freeipmi-tools libvirt-clients libvirt-daemon libvirt-daemon-driver-qemu qemu-system-x86 ipxe-qemu radvd socat \
  ovmf lshw dmidecode pciutils usbutils ethtool mmdebstrap squashfs-tools zstd xz-utils cloud-init \
  e2fsprogs fdisk gzip openssh-client golang-go golang-github-juju-gomaasapi-dev lvm2 bcache-tools mdadm
ensure_postgres
ensure_redis
# Only the binary: every test that talks NATS starts a private server with Kiln's rendered config
# (libs/testing nats-server.harness.ts), so the machine's NATS may be the authenticated one up.sh runs.
apt_ensure nats-server
ensure_postgres_test_access

npm ci --no-audit --no-fund
export NX_DAEMON=false NX_NO_CLOUD=true
npx tsc -p tsconfig.json --noEmit
npx nx run-many -t lint --outputStyle=static
tools/db/check-migrations.sh
# The build production runs (region, rack and CLI under dist/; the rack's native addon with them).
npx nx run-many -t build --outputStyle=static
npx nx run-many -t test --parallel=1 --outputStyle=static
# The built region, rack and CLI started as deploy/ starts them, against the real services.
npx jest -c tools/build/jest.config.js
