#!/usr/bin/env bash
# ra-up.sh PREFIX DIR: radvd on rack0 in PREFIX-rack, a lab fixture (Kiln's rack sends no router
# advertisements). iPXE configures DHCPv4 and IPv6 together and, when no router answers its
# solicitations, waits ~13 s more before it boots (lab.md section 4, pitfall 1). The RA this
# sends ends that wait and changes nothing else: no default route (AdvDefaultLifetime 0), no
# DHCPv6 (M and O off), and an on-link prefix that is not for autoconfiguration.
# Config, pid file and log go under DIR. Returns once radvd runs; lab-down.sh ends it.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lab-env.sh"
P=${1:?usage: ra-up.sh PREFIX DIR}; DIR=${2:?DIR}
command -v radvd >/dev/null || lab_die "radvd is not installed (tools/test.sh installs it)"
mkdir -p "$DIR"
cat > "$DIR/radvd.conf" <<CONF
interface rack0 {
  AdvSendAdvert on;
  MinRtrAdvInterval 3;
  MaxRtrAdvInterval 10;
  AdvDefaultLifetime 0;
  AdvManagedFlag off;
  AdvOtherConfigFlag off;
  prefix fd77::/64 {
    AdvOnLink on;
    AdvAutonomous off;
  };
};
CONF
# radvd refuses to start unless the namespace forwards IPv6 (it is a router); nothing is routed:
# the namespace has no other IPv6 interface.
ip netns exec "$P-rack" sysctl -qw net.ipv6.conf.all.forwarding=1
ip netns exec "$P-rack" radvd -C "$DIR/radvd.conf" -p "$DIR/radvd.pid" -m logfile -l "$DIR/radvd.log" -u root
for _ in $(seq 1 200); do
  [[ -s "$DIR/radvd.pid" ]] && kill -0 "$(cat "$DIR/radvd.pid")" 2>/dev/null && exit 0
  sleep 0.02
done
lab_die "radvd did not start (see $DIR/radvd.log)"
