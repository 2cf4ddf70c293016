#!/usr/bin/env bash
# vm-start.sh PREFIX NAME IDX MAC DIR [FIRMWARE]: PXE-boots a QEMU VM in PREFIX-machines on tapIDX
# (created here, on br0 of vm-lab-up.sh), with the NIC's MAC, as lab.md section 4 does:
#   - TCG only: /dev/kvm here is kvm_pvm, on which SeaBIOS and iPXE's real-mode code die;
#   - boot from the network only, and exit instead of rebooting.
# FIRMWARE picks what network-boots the VM:
#   bios-ipxe (default)  SeaBIOS and QEMU's default ROM for virtio-net, Debian's ipxe-qemu build of
#                        iPXE; SeaBIOS's sercon-port (0x3f8) mirrors the BIOS and iPXE screen to the
#                        serial port, which QEMU writes to DIR/serial.log.
#   uefi-pxe             OVMF (Debian's ovmf, 4 MB build without Secure Boot, its variable store
#                        copied to DIR) with the NIC's option ROM disabled (romfile=), so the firmware's
#                        own virtio-net driver and PXE (not iPXE) boot, as most servers' UEFI does.
#                        OVMF's console includes the serial port: DIR/serial.log has its boot
#                        manager, shim's and GRUB's output.
#   uefi-pxe-secure-boot the same with Secure Boot enforced: OVMF's Secure Boot build (q35 with SMM,
#                        which it needs) and a variable store with Microsoft's keys enrolled and
#                        Secure Boot on, as on servers as shipped.
# KILN_VM_MEMORY_MB (default 256), KILN_VM_CPUS (default 1) and KILN_VM_TB_MB (TCG's translation
# buffer, default 64) size the VM: booting Kiln's ephemeral image needs about 1.5 GB (its root is
# copied into RAM). KILN_VM_DISKS (comma-separated paths of raw disk images, made beforehand, e.g.
# with truncate; path@SERIAL for a disk with a serial number) gives the VM those disks as
# virtio-blk drives; KILN_VM_MAC2 gives it a second
# virtio-net NIC with that MAC on tapIDXb (also on br0, without a boot ROM: only the first NIC
# network-boots).
# KILN_VM_DISK names a raw disk image to attach as a virtio disk (serial KILN_VM_DISK_SERIAL): the
# VM then tries the network first and the disk after it (an iPXE script that exits boots the disk).
# QEMU daemonizes; its pid is in DIR/qemu.pid and on stdout, its own messages in DIR/qemu.out (a
# warning that fw_cfg names should start with "opt/" is expected with bios-ipxe). lab-down.sh
# PREFIX ends it.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lab-env.sh"
P=${1:?usage: vm-start.sh PREFIX NAME IDX MAC DIR [FIRMWARE]}; NAME=${2:?NAME}; IDX=${3:?IDX}; MAC=${4:?MAC}; DIR=${5:?DIR}
FIRMWARE=${6:-bios-ipxe}
[[ "$IDX" =~ ^[0-9]+$ ]] || lab_die "IDX must be a number"
command -v qemu-system-x86_64 >/dev/null || lab_die "qemu-system-x86_64 is not installed (tools/test.sh installs qemu-system-x86 and ipxe-qemu)"
mkdir -p "$DIR"
case "$FIRMWARE" in
  bios-ipxe)
    printf '\xf8\x03' > "$DIR/sercon-port"
    fw=(-fw_cfg "name=etc/sercon-port,file=$DIR/sercon-port")
    nic="virtio-net-pci,netdev=n0,mac=$MAC"
    ;;
  uefi-pxe|uefi-pxe-secure-boot)
    ovmf=/usr/share/OVMF
    if [[ $FIRMWARE == uefi-pxe ]]; then code=OVMF_CODE_4M.fd vars=OVMF_VARS_4M.fd; else code=OVMF_CODE_4M.secboot.fd vars=OVMF_VARS_4M.ms.fd; fi
    [[ -f $ovmf/$code && -f $ovmf/$vars ]] || lab_die "OVMF is not installed (tools/test.sh installs ovmf)"
    cp "$ovmf/$vars" "$DIR/ovmf-vars.fd"
    fw=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$ovmf/$code"
        -drive "if=pflash,format=raw,unit=1,file=$DIR/ovmf-vars.fd")
    if [[ $FIRMWARE == uefi-pxe-secure-boot ]]; then
      fw+=(-machine q35,smm=on -global driver=cfi.pflash01,property=secure,value=on)
    fi
    nic="virtio-net-pci,netdev=n0,mac=$MAC,romfile="
    ;;
  *) lab_die "FIRMWARE must be bios-ipxe, uefi-pxe or uefi-pxe-secure-boot, got $FIRMWARE" ;;
esac
disk=()
boot_order=n
if [[ -n ${KILN_VM_DISK:-} ]]; then
  disk=(-drive "file=$KILN_VM_DISK,if=none,id=d0,format=raw,cache=unsafe" -device "virtio-blk-pci,drive=d0,serial=${KILN_VM_DISK_SERIAL:-KILNDISK}")
  boot_order=nc
fi
ns="$P-machines"
tap="tap$IDX"
ip -n "$ns" tuntap add "$tap" mode tap
ip -n "$ns" link set "$tap" master br0 up
: > "$DIR/serial.log"
extra=()
if [[ -n "${KILN_VM_DISKS:-}" ]]; then
  IFS=, read -r -a disks <<< "$KILN_VM_DISKS"
  n=1
  for d in "${disks[@]}"; do
    # path@SERIAL gives the disk a serial number (the installer finds disks by serial).
    path="${d%%@*}"
    [[ -f "$path" ]] || lab_die "disk image $path does not exist"
    if [[ $d == *@* ]]; then
      extra+=(-drive "file=$path,if=none,id=x$n,format=raw,cache=unsafe" -device "virtio-blk-pci,drive=x$n,serial=${d#*@}")
    else
      extra+=(-drive "file=$path,format=raw,if=virtio,cache=unsafe")
    fi
    n=$((n + 1))
  done
fi
if [[ -n "${KILN_VM_MAC2:-}" ]]; then
  ip -n "$ns" tuntap add "${tap}b" mode tap
  ip -n "$ns" link set "${tap}b" master br0 up
  extra+=(-netdev "tap,id=n1,ifname=${tap}b,script=no,downscript=no" -device "virtio-net-pci,netdev=n1,mac=$KILN_VM_MAC2,romfile=")
fi
ip netns exec "$ns" qemu-system-x86_64 -name "$NAME" \
  -accel "tcg,tb-size=${KILN_VM_TB_MB:-64}" -cpu max -m "${KILN_VM_MEMORY_MB:-256}" -smp "${KILN_VM_CPUS:-1}" \
  -nodefaults -no-user-config -display none -vga none \
  -serial "file:$DIR/serial.log" \
  "${fw[@]}" \
  "${disk[@]}" \
  -boot "order=$boot_order" -no-reboot \
  -netdev "tap,id=n0,ifname=$tap,script=no,downscript=no" \
  -device "$nic" \
  "${extra[@]}" \
  -pidfile "$DIR/qemu.pid" -daemonize </dev/null >"$DIR/qemu.out" 2>&1 \
  || lab_die "qemu did not start: $(cat "$DIR/qemu.out")"
cat "$DIR/qemu.pid"
