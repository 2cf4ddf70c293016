#!/usr/bin/env bash
# dhcp-lab-peer.sh PREFIX: a second rack on segment A of the DHCP lab (dhcp-lab-up.sh), for a
# VLAN served by a primary and a secondary rack:
#
#   ns PREFIX-srv2 (the secondary rack)
#     s0 10.77.1.2/24  ------------------------ brA (in PREFIX-sw)
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lab-env.sh"
P=${1:?usage: dhcp-lab-peer.sh PREFIX}

lab_ns_add "$P-srv2"
lab_port "$P-sw" brA srv20 "$P-srv2" s0
ip -n "$P-srv2" addr add 10.77.1.2/24 dev s0
