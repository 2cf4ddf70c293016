#!/usr/bin/env bash
# libvirtd-up.sh DIR: starts a private libvirtd (QEMU driver) for the virsh power type's tests,
# without systemd or dbus, keeping all its state under DIR (an empty directory the caller made
# and removes; libvirtd-down.sh DIR stops what this starts).
#
# libvirtd runs in its own mount namespace (unshare -m), where:
#   /run          is a fresh tmpfs,
#   /var          is an overlay whose upper layer is DIR/var-upper (the host's /var is untouched),
#   /etc/libvirt  is DIR/etc (libvirtd.conf and qemu.conf written here),
#   /etc/passwd and /etc/group are copies with the libvirt-qemu user added (the QEMU driver looks
#                 up its compiled-in user before reading qemu.conf; only libvirt-daemon-system,
#                 which pulls in systemd, would create it).
# QEMU runs as root, without cgroups, namespaces, a security driver or virtlogd.
#
# It listens on two sockets:
#   DIR/run/libvirt-sock     unix, mode 0700, for the test's own virsh cross-checks
#                            (qemu:///system?socket=DIR/run/libvirt-sock);
#   127.0.0.1:PORT           TCP without authentication (qemu+tcp://127.0.0.1:PORT/system), for
#                            the virsh power driver, which refuses URIs with parameters as MAAS
#                            does. Any local user can reach it while it runs: lab machines only.
#
# On success it prints, and writes to DIR/libvirtd.env:
#   LIBVIRTD_PID=...  LIBVIRTD_SOCK=...  LIBVIRTD_UNIX_URI=...  LIBVIRTD_TCP_URI=...
set -euo pipefail

die() { echo "libvirtd-up: $*" >&2; exit 1; }

# --- inside the mount namespace (the script runs itself through unshare) ---
if [[ ${1:-} == --inside ]]; then
  D=$2
  mount --make-rprivate /
  mount -t tmpfs -o mode=0755 kiln-libvirt-run /run
  mount -t overlay kiln-libvirt-var -o "lowerdir=/var,upperdir=$D/var-upper,workdir=$D/var-work" /var
  mount --bind "$D/etc" /etc/libvirt
  mount --bind "$D/passwd" /etc/passwd
  mount --bind "$D/group" /etc/group
  exec libvirtd --listen -f /etc/libvirt/libvirtd.conf
fi

D=${1:?usage: libvirtd-up.sh DIR}
[[ -d $D ]] || die "$D is not a directory"
D=$(cd "$D" && pwd -P)
# The namespace hides /run and overlays /var: DIR must be outside both to be the same on both sides.
case $D/ in /run/* | /var/* | /etc/*) die "DIR must not be under /run, /var or /etc (it is $D)" ;; esac
[[ -z $(ls -A "$D") ]] || die "$D is not empty"
[[ $(id -u) -eq 0 ]] || die "needs root (mount namespace, overlayfs)"
command -v libvirtd >/dev/null || die "libvirtd is not installed (Debian: libvirt-daemon libvirt-daemon-driver-qemu)"

mkdir -p "$D/etc/qemu" "$D/var-upper" "$D/var-work" "$D/run"
chmod 0700 "$D/run"

# The QEMU driver's compiled-in user and group, added to copies of the host's files.
cp /etc/passwd "$D/passwd"
cp /etc/group "$D/group"
free_id() { # a number no entry of FILE uses as its id
  local id=64055
  while cut -d: -f3 "$1" | grep -qx "$id"; do id=$((id + 1)); done
  echo "$id"
}
if ! grep -q '^libvirt-qemu:' "$D/group"; then echo "libvirt-qemu:x:$(free_id "$D/group"):" >>"$D/group"; fi
if ! grep -q '^kvm:' "$D/group"; then echo "kvm:x:$(free_id "$D/group"):" >>"$D/group"; fi
if ! grep -q '^libvirt-qemu:' "$D/passwd"; then
  gid=$(grep '^libvirt-qemu:' "$D/group" | cut -d: -f3)
  echo "libvirt-qemu:x:$(free_id "$D/passwd"):$gid:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin" >>"$D/passwd"
fi

cat >"$D/etc/qemu.conf" <<'EOF'
user = "root"
group = "root"
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
dynamic_ownership = 0
remember_owner = 0
EOF

# A TCP port nobody listens on; libvirtd exits if it is taken meanwhile, and we try another.
in_use() { ss -Htln "sport = :$1" | grep -q .; }

for attempt in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 30000))
  if in_use "$port"; then continue; fi
  cat >"$D/etc/libvirtd.conf" <<EOF
unix_sock_dir = "$D/run"
unix_sock_rw_perms = "0700"
unix_sock_ro_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
listen_tls = 0
listen_tcp = 1
listen_addr = "127.0.0.1"
tcp_port = "$port"
auth_tcp = "none"
log_outputs = "3:file:$D/libvirtd.log"
EOF
  setsid unshare -m --propagation private -- "$0" --inside "$D" </dev/null >>"$D/libvirtd.out" 2>&1 &
  pid=$!
  echo "$pid" >"$D/libvirtd.pid"

  sock="$D/run/libvirt-sock"
  unix_uri="qemu:///system?socket=$sock"
  tcp_uri="qemu+tcp://127.0.0.1:$port/system"
  for _ in $(seq 1 100); do
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    if [[ -S $sock ]] && virsh -q -c "$tcp_uri" uri >/dev/null 2>&1; then
      printf 'LIBVIRTD_PID=%s\nLIBVIRTD_SOCK=%s\nLIBVIRTD_UNIX_URI=%s\nLIBVIRTD_TCP_URI=%s\n' "$pid" "$sock" "$unix_uri" "$tcp_uri" | tee "$D/libvirtd.env"
      exit 0
    fi
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid" 2>/dev/null || true
    echo "libvirtd-up: libvirtd (pid $pid) did not answer within 10 s" >&2
    tail -n 20 "$D/libvirtd.out" "$D/libvirtd.log" >&2 2>/dev/null || true
    exit 1
  fi
  # It died: a port taken in the meantime is worth another try, anything else is not.
  if grep -q 'Address already in use' "$D/libvirtd.out" "$D/libvirtd.log" 2>/dev/null; then
    echo "libvirtd-up: port $port was taken, trying another (attempt $attempt)" >&2
    : >"$D/libvirtd.out"
    : >"$D/libvirtd.log"
    continue
  fi
  echo "libvirtd-up: libvirtd exited:" >&2
  tail -n 20 "$D/libvirtd.out" "$D/libvirtd.log" >&2 2>/dev/null || true
  exit 1
done
die "no free TCP port found"
