#!/usr/bin/env bash
# vm-start.sh PREFIX NAME IDX MAC DIR: PXE-boots a QEMU VM in PREFIX-machines on tapIDX (created
# here, on br0 of vm-lab-up.sh), with the NIC's MAC, as lab.md section 4 does:
#   - TCG only: /dev/kvm here is kvm_pvm, on which SeaBIOS and iPXE's real-mode code die;
#   - QEMU's default ROM for virtio-net is Debian's ipxe-qemu build of iPXE;
#   - SeaBIOS's sercon-port (0x3f8) mirrors the BIOS and iPXE screen to the serial port, which
#     QEMU writes to DIR/serial.log, so the whole iPXE dialogue can be read there;
#   - boot from the network only, and exit instead of rebooting.
# QEMU daemonizes; its pid is in DIR/qemu.pid and on stdout, its own messages in DIR/qemu.out (a
# warning that fw_cfg names should start with "opt/" is expected). lab-down.sh PREFIX ends it.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lab-env.sh"
P=${1:?usage: vm-start.sh PREFIX NAME IDX MAC DIR}; NAME=${2:?NAME}; IDX=${3:?IDX}; MAC=${4:?MAC}; DIR=${5:?DIR}
[[ "$IDX" =~ ^[0-9]+$ ]] || lab_die "IDX must be a number"
command -v qemu-system-x86_64 >/dev/null || lab_die "qemu-system-x86_64 is not installed (tools/test.sh installs qemu-system-x86 and ipxe-qemu)"
mkdir -p "$DIR"
ns="$P-machines"
tap="tap$IDX"
ip -n "$ns" tuntap add "$tap" mode tap
ip -n "$ns" link set "$tap" master br0 up
printf '\xf8\x03' > "$DIR/sercon-port"
: > "$DIR/serial.log"
ip netns exec "$ns" qemu-system-x86_64 -name "$NAME" \
  -accel tcg,tb-size=64 -cpu max -m 256 -smp 1 \
  -nodefaults -no-user-config -display none -vga none \
  -serial "file:$DIR/serial.log" \
  -fw_cfg "name=etc/sercon-port,file=$DIR/sercon-port" \
  -boot order=n -no-reboot \
  -netdev "tap,id=n0,ifname=$tap,script=no,downscript=no" \
  -device "virtio-net-pci,netdev=n0,mac=$MAC" \
  -pidfile "$DIR/qemu.pid" -daemonize </dev/null >"$DIR/qemu.out" 2>&1 \
  || lab_die "qemu did not start: $(cat "$DIR/qemu.out")"
cat "$DIR/qemu.pid"
