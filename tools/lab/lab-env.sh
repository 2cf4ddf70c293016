# Shared helpers for the lab scripts (source this file). Everything a lab makes lives in network
# namespaces whose names start with its prefix, so several labs can run side by side and
# lab-down.sh removes exactly what one lab made. No traffic leaves those namespaces: none of them
# has a link to the root namespace or a default route.
set -euo pipefail

lab_die() { echo "lab: $*" >&2; exit 1; }

# lab_ns_add NS: a namespace with loopback up and IPv6 off (no RS/DAD chatter).
lab_ns_add() {
  local ns=$1
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null || true
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
}

# lab_wait_up NS DEV: frames sent before both ends of a new veth pass the kernel's link watch
# are dropped (lab.md section 2), so wait until the device reports state UP (max 5 s).
lab_wait_up() {
  local ns=$1 dev=$2 i
  for i in $(seq 1 500); do
    if ip -n "$ns" link show "$dev" 2>/dev/null | grep -q 'state UP'; then return 0; fi
    sleep 0.01
  done
  lab_die "$ns/$dev did not come up"
}

# lab_bridge NS BR: a bridge with STP off and no forward delay.
lab_bridge() {
  ip -n "$1" link add "$2" type bridge stp_state 0 forward_delay 0
  ip -n "$1" link set "$2" up
}

# lab_port SWNS BR PORT NS DEV [MAC]: a veth from bridge BR (in SWNS) to DEV in NS.
lab_port() {
  local swns=$1 br=$2 port=$3 ns=$4 dev=$5 mac=${6:-}
  ip -n "$swns" link add "$port" type veth peer name "$dev" netns "$ns"
  if [[ -n "$mac" ]]; then ip -n "$ns" link set "$dev" address "$mac"; fi
  ip -n "$swns" link set "$port" master "$br" up
  ip -n "$ns" link set "$dev" up
  lab_wait_up "$swns" "$port"
  lab_wait_up "$ns" "$dev"
}

# lab_down PREFIX: kills every process in the lab's namespaces, then deletes them.
lab_down() {
  local prefix=$1 ns pid
  for ns in $(ip netns list | awk '{print $1}' | grep -E "^${prefix}-" || true); do
    for pid in $(ip netns pids "$ns" 2>/dev/null || true); do kill -9 "$pid" 2>/dev/null || true; done
  done
  for ns in $(ip netns list | awk '{print $1}' | grep -E "^${prefix}-" || true); do
    ip netns del "$ns" 2>/dev/null || true
  done
}
