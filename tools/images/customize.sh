#!/bin/sh
# mmdebstrap customize hook: turns the installed root ($1) into Kiln's ephemeral environment.
# Runs on the build host as root, with the root's /proc, /sys and /dev mounted by mmdebstrap.
# Everything here must give the same bytes for the same inputs (SOURCE_DATE_EPOCH is set).
set -eu
root="$1"
here="$(cd "$(dirname "$0")" && pwd)"

# Kiln's configuration files (cloud-init, initramfs, journald, locale, hostname).
( cd "$here/rootfs" && find . -type d ) | while read -r d; do
  install -d -m 0755 -o root -g root "$root/$d"
done
( cd "$here/rootfs" && find . -type f ) | while read -r f; do
  install -m 0644 -o root -g root "$here/rootfs/$f" "$root/$f"
done

# openssh-server is there for enable_ssh and rescue mode, but not started unless asked
# (user-data's runcmd: `systemctl start ssh`). Host keys are made per instance by cloud-init.
chroot "$root" systemctl disable ssh.service >/dev/null 2>&1 || true
rm -f "$root"/etc/ssh/ssh_host_*
# Services that make no sense in a RAM-only environment that lives minutes.
for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer \
  smartmontools.service smartd.service; do
  chroot "$root" systemctl disable "$unit" >/dev/null 2>&1 || true
done

# nvme-cli's postinst made a random NVMe host NQN and id: each machine makes its own at boot.
rm -f "$root/etc/nvme/hostnqn" "$root/etc/nvme/hostid"
chroot "$root" systemctl enable kiln-nvme-hostnqn.service >/dev/null 2>&1

# machine-id: empty, so that systemd makes a new one at each boot (never one shared by all the
# machines that boot this image).
: > "$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"

# Modules were trimmed by dpkg's path-exclude (modules-exclude.txt): rebuild their index and
# the initramfs from what is left.
for kdir in "$root"/lib/modules/*; do
  kver="$(basename "$kdir")"
  # The image's own depmod (kmod comes with its kernel): the host need not have kmod.
  chroot "$root" depmod "$kver"
done
chroot "$root" update-initramfs -u -k all >/dev/null

# Files whose content depends on when or where the build ran, and caches the image never uses.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
  "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old "$root"/var/cache/ldconfig/aux-cache \
  "$root"/var/log/*.log "$root"/var/log/apt/* "$root"/var/lib/systemd/catalog/database \
  "$root"/var/lib/dhcp/* "$root"/etc/*- "$root"/var/lib/systemd/random-seed \
  "$root"/var/cache/man "$root"/tmp/* "$root"/var/tmp/*
: > "$root/etc/resolv.conf"
