#!/usr/bin/env bash
# install-boot-loaders.sh BOOT_ROOT: puts the boot loaders a Kiln rack hands out into its boot root
# (KILN_RACK_BOOT_ROOT, default <KILN_RACK_STATE_DIR>/boot), from Debian's packages. The packages
# are downloaded and unpacked into a cache (KILN_BOOT_LOADER_CACHE, default
# /var/cache/kiln/boot-loaders), never installed: installing shim-signed or grub-efi-amd64-signed
# on a UEFI host can rewrite that host's own boot loader. Safe to run again: a package is fetched
# once per version, and a file is only rewritten when the packaged one differs, then atomically
# (a rename), so a transfer in progress keeps the file it opened.
#
# What the rack's DHCP names, and what the loaders ask the rack for next:
#   lpxelinux.0      BIOS PXE ROMs (client arch 0). PXELINUX then loads ldlinux.c32 from the same
#                    directory, then pxelinux.cfg/01-<mac> (rendered by the rack); the other .c32
#                    modules are the ones MAAS ships next to it (chain loading, CPU checks).
#   bootx64.efi      UEFI x86-64 PXE (client arch 7 and 9): Debian's shim, signed by Microsoft, so
#                    it also boots with Secure Boot on. Shim loads grubx64.efi from the same
#                    directory over TFTP (mmx64.efi, MokManager, only when MOK changes are pending).
#   grubx64.efi      Debian's signed network GRUB (grubnetx64.efi.signed). Its prefix is "/grub"
#                    on the boot server and its built-in config sources $prefix/x86_64-efi/grub.cfg
#                    if it exists, else $prefix/grub.cfg: the rack renders grub/grub.cfg itself
#                    (boot-files.renderer.ts), which chains to grub/grub.cfg-<mac>.
#   grub/x86_64-efi/http.mod
#                    Debian's network GRUB has TFTP built in but not HTTP; it loads missing modules
#                    from $prefix/x86_64-efi/ over TFTP. With this one (from grub-efi-amd64-bin, only
#                    when it is the same GRUB build as the signed image) the per-MAC config loads
#                    the kernel and initrd over HTTP; with Secure Boot on GRUB refuses to load
#                    modules, and the per-MAC config falls back to TFTP.
#   images/bootx64.efi, images/grubx64.efi
#                    links for UEFI HTTP boot clients, which the rack hands
#                    http://<rack>:5248/images/bootx64.efi.
#
# Not installed: Debian's ipxe (undionly.kpxe, ipxe.efi). The rack's DHCP never names them (iPXE
# clients get their script's URL), and the package adds iPXE entries to the rack host's own GRUB
# menu (/etc/grub.d/20_ipxe).
# Not installed either: bootaa64.efi/grubaa64.efi (arm64 UEFI). Debian has them (shim-signed:arm64,
# grub-efi-arm64-signed), but only in the arm64 package index: on an amd64 rack
# `apt-get download grub-efi-arm64-signed:arm64` answers "Unable to locate package" unless arm64
# is added as a foreign architecture (dpkg --add-architecture arm64, i.e. multiarch), which this
# script does not do to a rack. A site with arm64 machines puts shimaa64.efi.signed as bootaa64.efi
# and grubnetaa64.efi.signed as grubaa64.efi into the boot root itself; the same grub/grub.cfg
# serves them.
set -euo pipefail
ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
. "$ROOT_DIR/tools/services.sh"

BOOT_ROOT=${1:?usage: install-boot-loaders.sh BOOT_ROOT}
case "$BOOT_ROOT" in /*) ;; *) echo "install-boot-loaders.sh: BOOT_ROOT must be an absolute path" >&2; exit 2 ;; esac

CACHE=${KILN_BOOT_LOADER_CACHE:-/var/cache/kiln/boot-loaders}
PKGS=(pxelinux syslinux-common shim-signed shim-helpers-amd64-signed grub-efi-amd64-signed grub-efi-amd64-bin)
as_root mkdir -p "$CACHE/debs"

# fetch PKG: the candidate version's .deb in the cache (downloaded once), unpacked under $CACHE/unpacked.
declare -A VERSION
fetch() {
  local pkg=$1 ver deb
  ver=$(apt-cache policy "$pkg" | awk '/Candidate:/ {print $2}')
  if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
    as_root apt-get update -qq
    ver=$(apt-cache policy "$pkg" | awk '/Candidate:/ {print $2}')
  fi
  [ -n "$ver" ] && [ "$ver" != "(none)" ] || { echo "install-boot-loaders.sh: no package $pkg in the apt sources" >&2; exit 1; }
  deb=$(ls "$CACHE/debs/${pkg}_${ver//:/%3a}_"*.deb 2>/dev/null | head -1 || true)
  if [ -z "$deb" ]; then
    # Downloaded as root into a root-owned cache (apt's _apt sandbox user could not write there).
    (cd "$CACHE/debs" && as_root apt-get download -qq -o APT::Sandbox::User=root "$pkg=$ver")
    deb=$(ls "$CACHE/debs/${pkg}_${ver//:/%3a}_"*.deb | head -1)
  fi
  as_root dpkg-deb -x "$deb" "$CACHE/unpacked"
  VERSION[$pkg]=$ver
}
as_root rm -rf "$CACHE/unpacked"
for p in "${PKGS[@]}"; do fetch "$p"; done
U="$CACHE/unpacked/usr"

# put SRC NAME: BOOT_ROOT/NAME becomes a copy of SRC (a plain file: the rack serves nothing through
# a symlink that leaves its boot root).
put() {
  local src=$1 dest="$BOOT_ROOT/$2"
  [ -f "$src" ] || { echo "install-boot-loaders.sh: $src is missing from its package" >&2; exit 1; }
  if [ -f "$dest" ] && [ ! -L "$dest" ] && cmp -s "$src" "$dest"; then return 0; fi
  as_root mkdir -p "$(dirname "$dest")"
  as_root install -m 0644 "$src" "$dest.kiln-new"
  as_root mv -f "$dest.kiln-new" "$dest"
  echo "boot loader: $2 <- $src"
}

# link TARGET NAME: BOOT_ROOT/NAME is a symlink to TARGET (relative, inside the boot root).
link() {
  local target=$1 dest="$BOOT_ROOT/$2"
  [ -L "$dest" ] && [ "$(readlink "$dest")" = "$target" ] && return 0
  as_root mkdir -p "$(dirname "$dest")"
  as_root ln -sfn "$target" "$dest"
}

put "$U/lib/PXELINUX/lpxelinux.0" lpxelinux.0
for m in ldlinux.c32 libcom32.c32 libutil.c32 chain.c32 ifcpu64.c32; do
  put "$U/lib/syslinux/modules/bios/$m" "$m"
done
put "$U/lib/shim/shimx64.efi.signed" bootx64.efi
put "$U/lib/shim/mmx64.efi.signed" mmx64.efi
put "$U/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed" grubx64.efi
# A module must come from the same GRUB build as the image that loads it: the signed package's
# version is "1+" and the binary one's with "-" as "+" (1+2.06+13+deb12u2 signs 2.06-13+deb12u2).
signed=${VERSION[grub-efi-amd64-signed]}
bin=${VERSION[grub-efi-amd64-bin]}
if [ "$signed" = "1+${bin//-/+}" ]; then
  put "$U/lib/grub/x86_64-efi/http.mod" grub/x86_64-efi/http.mod
else
  echo "install-boot-loaders.sh: grub-efi-amd64-bin $bin is not the build of grub-efi-amd64-signed $signed;" \
    "GRUB will load kernels over TFTP until both are upgraded" >&2
  as_root rm -f "$BOOT_ROOT/grub/x86_64-efi/http.mod"
fi
link ../bootx64.efi images/bootx64.efi
link ../grubx64.efi images/grubx64.efi
