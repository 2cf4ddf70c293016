#!/usr/bin/env bash
# dhcp-lab-host.sh PREFIX NAME SEGMENT MAC [DEV]: adds interface DEV (default eth0) with MAC to
# host namespace PREFIX-NAME (created if needed), plugged into segment A, B or C of the lab.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lab-env.sh"
P=${1:?PREFIX}; NAME=${2:?NAME}; SEG=${3:?SEGMENT A|B|C}; MAC=${4:?MAC}; DEV=${5:-eth0}
[[ "$SEG" =~ ^[ABC]$ ]] || lab_die "segment must be A, B or C"
ns="$P-$NAME"
ip netns list | awk '{print $1}' | grep -qx "$ns" || lab_ns_add "$ns"
port="h${SEG}${NAME}${DEV: -1}"
lab_port "$P-sw" "br$SEG" "${port:0:15}" "$ns" "$DEV" "$MAC"
