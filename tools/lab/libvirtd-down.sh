#!/usr/bin/env bash
# libvirtd-down.sh DIR: stops what libvirtd-up.sh DIR started: destroys the domains still running,
# stops libvirtd, then kills any QEMU or libvirtd left in its mount namespace (QEMU outlives
# libvirtd by design). The namespace (tmpfs /run, overlay /var, the bind mounts) goes away with
# its last process. DIR itself is the caller's to remove. Safe to run twice, or after a failed
# start.
set -uo pipefail

D=${1:?usage: libvirtd-down.sh DIR}
[[ -f $D/libvirtd.pid ]] || exit 0
D=$(cd "$D" && pwd -P)
pid=$(cat "$D/libvirtd.pid")
[[ $pid =~ ^[0-9]+$ ]] || { echo "libvirtd-down: bad pid file $D/libvirtd.pid" >&2; exit 1; }

# libvirtd and QEMU processes that see this lab's /var overlay, i.e. live in its namespace. (Not
# the namespace's inode number: once the namespace is gone the kernel may give it to another.)
ours() { grep -qF "upperdir=$D/var-upper," "/proc/$1/mountinfo" 2>/dev/null; }
left() {
  local p comm
  for p in /proc/[0-9]*; do
    read -r comm 2>/dev/null <"$p/comm" || continue
    [[ $comm == libvirtd || $comm == qemu-system-* ]] || continue
    ours "${p#/proc/}" && echo "${p#/proc/}"
  done
}

if ours "$pid"; then
  uri="qemu:///system?socket=$D/run/libvirt-sock"
  for dom in $(timeout 10 virsh -q -c "$uri" list --name 2>/dev/null); do
    timeout 20 virsh -q -c "$uri" destroy -- "$dom" >/dev/null 2>&1 || true
  done
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 50); do ours "$pid" || break; sleep 0.1; done
fi
for p in $(left); do kill -KILL "$p" 2>/dev/null; done
for _ in $(seq 1 50); do [[ -z $(left) ]] && break; sleep 0.1; done
[[ -z $(left) ]] || { echo "libvirtd-down: processes still running: $(left)" >&2; exit 1; }
rm -f "$D/libvirtd.pid"
exit 0
