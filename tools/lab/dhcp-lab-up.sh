#!/usr/bin/env bash
# dhcp-lab-up.sh PREFIX: the DHCP lab topology.
#
#   ns PREFIX-srv (the rack)                 ns PREFIX-sw (the switch)          clients
#     s0 10.77.1.1/24  ------------------------ brA -------- PREFIX-<host> eth0 (segment A)
#     s1 10.77.2.1/24  ------------------------ brB -------- PREFIX-<host> eth0 (segment B)
#     s2 10.77.9.1/24  ------------------------ brT ---+
#        route 10.77.3.0/24 via 10.77.9.2              |
#                                                      |
#   ns PREFIX-rly (a relay agent's box)                 |
#     r1 10.77.9.2/24  --------------------------------+
#     r0 10.77.3.1/24  ------------------------ brC -------- PREFIX-<host> eth0 (segment C)
#
# The rack serves A and B directly (two interfaces at once) and C through the relay. Hosts are
# added with dhcp-lab-host.sh; lab-down.sh PREFIX removes everything.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lab-env.sh"
P=${1:?usage: dhcp-lab-up.sh PREFIX}

lab_ns_add "$P-sw"
lab_ns_add "$P-srv"
lab_ns_add "$P-rly"
for br in brA brB brC brT; do lab_bridge "$P-sw" "$br"; done

lab_port "$P-sw" brA srv0 "$P-srv" s0
lab_port "$P-sw" brB srv1 "$P-srv" s1
lab_port "$P-sw" brT srv2 "$P-srv" s2
ip -n "$P-srv" addr add 10.77.1.1/24 dev s0
ip -n "$P-srv" addr add 10.77.2.1/24 dev s1
ip -n "$P-srv" addr add 10.77.9.1/24 dev s2
ip -n "$P-srv" route add 10.77.3.0/24 via 10.77.9.2

lab_port "$P-sw" brT rly1 "$P-rly" r1
lab_port "$P-sw" brC rly0 "$P-rly" r0
ip -n "$P-rly" addr add 10.77.9.2/24 dev r1
ip -n "$P-rly" addr add 10.77.3.1/24 dev r0
