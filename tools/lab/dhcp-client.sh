#!/usr/bin/env bash
# dhcp-client.sh KIND NS DEV OUTDIR [client args...]: runs one real DHCP client in NS on DEV until
# it is bound (or gives up), the way lab.md section 3 does. A hook script records what the client
# learnt as KEY=VALUE lines in OUTDIR/KIND-DEV.env (one block per event, ending with "--"),
# and touches nothing else (no resolv.conf, no routes).
#   dhclient: -4 -1 -v, lease file OUTDIR/dhclient-DEV.leases (kept, so a second run does
#             INIT-REBOOT), pid file OUTDIR/dhclient-DEV.pid (it daemonizes once bound)
#   udhcpc:   -f -q -n -t 5 -T 1 (quits once bound)
#   dhcpcd:   -4 -1 -L -A -B -t 20, in its own mount namespace with tmpfs state dirs
# Exit status is the client's.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lab-env.sh"
KIND=${1:?KIND}; NS=${2:?NS}; DEV=${3:?DEV}; OUT=${4:?OUTDIR}; shift 4
mkdir -p "$OUT"
env_file="$OUT/$KIND-$DEV.env"
hook="$OUT/$KIND-$DEV.hook"
cat > "$hook" <<HOOK
#!/bin/sh
# The clients clear their environment before calling the hook, so the output path is baked in.
{ echo "event=\${reason:-\$1}"; env | grep -E '^(new_|ip=|subnet=|router=|siaddr=|boot_file=|serverid=|lease=|opt[0-9]+=|interface=|sname=)' | sort; echo "--"; } >> "$env_file"
HOOK
chmod +x "$hook"

case "$KIND" in
  dhclient)
    exec ip netns exec "$NS" dhclient -4 -1 -v -sf "$hook" -lf "$OUT/dhclient-$DEV.leases" -pf "$OUT/dhclient-$DEV.pid" "$@" "$DEV"
    ;;
  udhcpc)
    exec ip netns exec "$NS" udhcpc -i "$DEV" -f -q -n -t 5 -T 1 -s "$hook" "$@"
    ;;
  dhcpcd)
    conf="$OUT/dhcpcd-$DEV.conf"
    printf 'option subnet_mask, routers, domain_name_servers\nnoipv6rs\n' > "$conf"
    exec ip netns exec "$NS" unshare -m sh -c '
      conf=$1; hook=$2; shift 2
      mkdir -p /var/lib/dhcpcd /run/dhcpcd
      mount -t tmpfs none /var/lib/dhcpcd && mount -t tmpfs none /run/dhcpcd
      exec dhcpcd -f "$conf" -c "$hook" -4 -1 -L -A -B -t 20 "$@"' sh "$conf" "$hook" "$@" "$DEV"
    ;;
  *) lab_die "unknown client $KIND (dhclient, udhcpc, dhcpcd)" ;;
esac
