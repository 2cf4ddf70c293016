#!/usr/bin/env bash
# Installs the reference peers the benchmarks run side by side with Kiln (from Debian's packages).
# tftpd-hpa conflicts with atftpd, so the TFTP benchmark unpacks its own copy of tftpd-hpa.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tools/services.sh
apt_ensure kea-dhcp4-server kea-admin atftpd atftp nginx-light wrk tftp-hpa curl openipmi freeipmi-tools ipmitool
