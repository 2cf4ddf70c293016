#!/usr/bin/env bash
# vm-lab-up.sh PREFIX: the PXE boot lab of lab.md section 2, for QEMU VMs and a rack.
#
#   ns PREFIX-rack (the rack)                  ns PREFIX-machines (the switch and the VMs)
#     rack0 10.77.0.1/24  ====== veth ======  uplink0 --+
#       (DHCP 67, TFTP 69, HTTP 5248, radvd)            +-- br0 (stp off, fd 0) -- tap0, tap1 ... (vm-start.sh)
#
# Neither namespace has a default route or a link to the root namespace. IPv6 stays off except on
# rack0, where ra-up.sh's radvd answers iPXE's router solicitations (lab.md section 4, pitfall 1).
# lab-down.sh PREFIX removes everything, QEMU and radvd included.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lab-env.sh"
P=${1:?usage: vm-lab-up.sh PREFIX}

lab_ns_add "$P-rack"
lab_ns_add "$P-machines"
lab_bridge "$P-machines" br0
# rack0 gets its IPv6 link-local address at once (no DAD), so radvd can answer the first RS.
ip -n "$P-machines" link add uplink0 type veth peer name rack0 netns "$P-rack"
ip netns exec "$P-rack" sysctl -qw net.ipv6.conf.rack0.accept_dad=0
ip netns exec "$P-rack" sysctl -qw net.ipv6.conf.rack0.disable_ipv6=0
ip -n "$P-rack" addr add 10.77.0.1/24 dev rack0
ip -n "$P-machines" link set uplink0 master br0 up
ip -n "$P-rack" link set rack0 up
lab_wait_up "$P-machines" uplink0
lab_wait_up "$P-rack" rack0
