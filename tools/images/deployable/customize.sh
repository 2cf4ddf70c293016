#!/bin/sh
# mmdebstrap customize hook: turns the installed root ($1) into Kiln's deployable Debian image.
# Runs on the build host as root, with the root's /proc, /sys and /dev mounted by mmdebstrap.
# Everything here must give the same bytes for the same inputs (SOURCE_DATE_EPOCH is set).
set -eu
root="$1"

# Per-machine identity is made on the machine: machine-id at first boot, SSH host keys by
# cloud-init. The installer writes fstab, hostname, the network and the datasource.
: > "$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id" "$root"/etc/ssh/ssh_host_*
printf 'localhost\n' > "$root/etc/hostname"
printf '# written by Kiln'"'"'s installer at deployment\n' > "$root/etc/fstab"

# cloud-init asks only the MAAS datasource (the installer adds its URL and the node's keys).
mkdir -p "$root/etc/cloud/cloud.cfg.d"
printf 'datasource_list: [ MAAS ]\n' > "$root/etc/cloud/cloud.cfg.d/90_dpkg.cfg"

# ifupdown sources what cloud-init renders.
mkdir -p "$root/etc/network/interfaces.d"
printf 'source /etc/network/interfaces.d/*\n\nauto lo\niface lo inet loopback\n' > "$root/etc/network/interfaces"

# Services that make no sense on first boot of a fresh install.
for unit in apt-daily.timer apt-daily-upgrade.timer; do
  chroot "$root" systemctl disable "$unit" >/dev/null 2>&1 || true
done

# Trimmed module trees (modules-exclude.txt): rebuild their index and the initramfs.
for kdir in "$root"/lib/modules/*; do
  chroot "$root" depmod "$(basename "$kdir")"
done
chroot "$root" update-initramfs -u -k all >/dev/null

rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
  "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old "$root"/var/cache/ldconfig/aux-cache \
  "$root"/var/log/*.log "$root"/var/log/apt/* "$root"/var/lib/systemd/catalog/database \
  "$root"/var/lib/dhcp/* "$root"/etc/*- "$root"/var/lib/systemd/random-seed \
  "$root"/var/cache/man "$root"/tmp/* "$root"/var/tmp/*
: > "$root/etc/resolv.conf"
