#!/usr/bin/env bash
# Builds Kiln's ephemeral environment (Debian 12 "bookworm", amd64) from Debian's packages only:
# vmlinuz, initrd.img (live-boot: fetches the squashfs over HTTP), filesystem.squashfs (Debian's
# cloud-init, python3, the commissioning tools) and manifest.json.
#
#   tools/images/build-ephemeral.sh [--out DIR] [--force] [--print-dir] [--keep-root DIR]
#
# The image is cached in $KILN_IMAGE_CACHE (default /var/cache/kiln/images) under the hash of the
# build inputs (this script, customize.sh, make-squashfs.sh, packages.txt, modules-exclude.txt,
# rootfs/**, and the host's mmdebstrap and squashfs-tools versions): with the
# same inputs a second run builds nothing and prints where the image is. --out DIR copies the
# four files there too. --force rebuilds even when the cache has the image. --print-dir prints
# only the cached image's directory (exit 3 when it is not built) and builds nothing.
# --keep-root DIR keeps the built root directory there (to look into it, or to check that
# make-squashfs.sh gives the same bytes twice).
#
# Needs root, mmdebstrap, squashfs-tools, zstd and python3 (tools/test.sh installs them).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
suite=bookworm
arch=amd64
# Every timestamp in the image (files, squashfs, initramfs) is this one: 2025-01-01T00:00:00Z.
export SOURCE_DATE_EPOCH=1735689600
cache_root="${KILN_IMAGE_CACHE:-/var/cache/kiln/images}"

out=""
force=0
print_dir=0
keep_root=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --out=*) out="${1#--out=}"; shift ;;
    --force) force=1; shift ;;
    --print-dir) print_dir=1; shift ;;
    --keep-root) keep_root="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-ephemeral: unknown argument: $1" >&2; exit 2 ;;
  esac
done

log() { printf '%s build-ephemeral: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# The build inputs' hash: every file that decides the image's content, by path and content, and
# the versions of the host's tools that make it.
inputs_hash() {
  (
    cd "$here"
    printf 'suite=%s arch=%s epoch=%s\n' "$suite" "$arch" "$SOURCE_DATE_EPOCH"
    # The host's tools that shape the bytes (mmdebstrap and its hooks, mksquashfs).
    dpkg-query -W -f '${Package} ${Version}\n' mmdebstrap squashfs-tools 2>/dev/null || true
    { printf '%s\n' build-ephemeral.sh customize.sh make-squashfs.sh packages.txt modules-exclude.txt
      find rootfs -type f; } | LC_ALL=C sort | while read -r f; do
      printf '%s %s\n' "$(sha256sum < "$f" | cut -d' ' -f1)" "$f"
    done
  ) | sha256sum | cut -d' ' -f1
}

hash="$(inputs_hash)"
image_dir="$cache_root/$suite-$arch-${hash:0:16}"

deliver() {
  if [ -n "$out" ]; then
    mkdir -p "$out"
    for f in vmlinuz initrd.img filesystem.squashfs manifest.json; do
      cp --reflink=auto "$image_dir/$f" "$out/$f.tmp" && mv "$out/$f.tmp" "$out/$f"
    done
    log "copied to $out"
  fi
  echo "$image_dir"
}

if [ "$print_dir" = 1 ]; then
  [ -f "$image_dir/manifest.json" ] || exit 3
  echo "$image_dir"
  exit 0
fi

if [ "$force" = 0 ] && [ -f "$image_dir/manifest.json" ]; then
  log "cached image (inputs $hash): $image_dir"
  deliver
  exit 0
fi

[ "$(id -u)" = 0 ] || { echo "build-ephemeral: needs root (mmdebstrap --mode=root)" >&2; exit 1; }
for tool in mmdebstrap mksquashfs python3 zstd; do
  command -v "$tool" >/dev/null || { echo "build-ephemeral: missing $tool (apt-get install mmdebstrap squashfs-tools zstd python3)" >&2; exit 1; }
done

mkdir -p "$cache_root"
# One build per input hash at a time (deploy/up.sh and a test may both ask for it).
exec 9>"$cache_root/.lock-$hash"
if ! flock -n 9; then
  log "another build of the same inputs is running; waiting for it"
  flock 9
fi
if [ "$force" = 0 ] && [ -f "$image_dir/manifest.json" ]; then
  log "cached image (inputs $hash): $image_dir"
  deliver
  exit 0
fi

started=$(date +%s)
work="$(mktemp -d "$cache_root/.build-XXXXXX")"
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
debs="$cache_root/debs"
mkdir -p "$debs"

packages="$(grep -v '^\s*#' "$here/packages.txt" | awk 'NF { print $1 }' | paste -sd, -)"
dpkg_opts=(
  --dpkgopt='path-exclude=/usr/share/man/*'
  --dpkgopt='path-exclude=/usr/share/info/*'
  --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/locale/*'
  --dpkgopt='path-include=/usr/share/locale/locale.alias'
  --dpkgopt='path-exclude=/usr/share/i18n/locales/*'
  --dpkgopt='path-exclude=/usr/share/i18n/charmaps/*'
  --dpkgopt='path-exclude=/usr/share/lintian/*'
  --dpkgopt='path-exclude=/usr/share/bash-completion/*'
  --dpkgopt='path-exclude=/usr/share/zsh/*'
  --dpkgopt='path-exclude=/lib/firmware/*'
)
while read -r tree; do
  dpkg_opts+=("--dpkgopt=path-exclude=/lib/modules/*/kernel/$tree/*")
done < <(grep -v '^\s*#' "$here/modules-exclude.txt" | awk 'NF { print $1 }')

log "building $suite/$arch (inputs $hash) in $work; this takes 5-10 minutes"
# The .debs are kept in $cache_root/debs between builds (apt checks them against the index), so
# a rebuild downloads only what changed.
# The merged-usr hook makes /usr merged itself and installs usr-is-merged, which keeps usrmerge
# (and with it perl, 45 MB) out of the image.
# In a mount namespace of its own, with private propagation: the mounts mmdebstrap makes in the
# root (/dev, /dev/shm, /proc, /sys) can never reach the host, whose /dev/shm PostgreSQL uses.
unshare --mount --propagation private \
mmdebstrap --mode=root --variant=minbase --arch="$arch" --format=directory \
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --aptopt='APT::Install-Recommends "false"' \
  --aptopt='Acquire::Languages "none"' \
  "${dpkg_opts[@]}" \
  --include="$packages" \
  --skip=download/empty --skip=essential/unlink \
  --setup-hook='mkdir -p "$1"/var/cache/apt/archives' \
  --setup-hook="sync-in '$debs' /var/cache/apt/archives" \
  --customize-hook='chroot "$1" apt-get autoclean -qq' \
  --customize-hook="sync-out /var/cache/apt/archives '$debs'" \
  --customize-hook="'$here/customize.sh' \"\$1\"" \
  "$suite" "$work/root" >"$work/mmdebstrap.log" 2>&1 || {
    tail -n 40 "$work/mmdebstrap.log" >&2; log "mmdebstrap failed"; exit 1; }
rootdone=$(date +%s)
log "root built in $((rootdone - started)) s ($(du -sh "$work/root" | cut -f1))"

mkdir -p "$work/image"
rootboot="$work/root/boot"
kernel="$(ls "$rootboot"/vmlinuz-* | sort -V | tail -n 1)"
kver="${kernel##*/vmlinuz-}"
install -m 0644 "$kernel" "$work/image/vmlinuz"
install -m 0644 "$rootboot/initrd.img-$kver" "$work/image/initrd.img"
touch -d "@$SOURCE_DATE_EPOCH" "$work/image/vmlinuz" "$work/image/initrd.img"

# The package list, before the squashfs is made from the root.
chroot "$work/root" dpkg-query -W -f '${Package}\t${Version}\t${Architecture}\n' | LC_ALL=C sort > "$work/packages.tsv"

"$here/make-squashfs.sh" "$work/root" "$work/image/filesystem.squashfs"
log "squashfs made in $(($(date +%s) - rootdone)) s"

python3 - "$work/image" "$work/packages.tsv" "$suite" "$arch" "$kver" "$hash" "$SOURCE_DATE_EPOCH" <<'PY'
import hashlib, json, os, sys
image, pkgs, suite, arch, kver, inputs, epoch = sys.argv[1:]
def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
files = {}
for name in ("vmlinuz", "initrd.img", "filesystem.squashfs"):
    p = os.path.join(image, name)
    files[name] = {"sha256": sha(p), "size": os.path.getsize(p)}
packages = []
with open(pkgs) as f:
    for line in f:
        name, version, parch = line.rstrip("\n").split("\t")
        packages.append({"name": name, "version": version, "architecture": parch})
manifest = {
    "architecture": arch,
    "series": suite,
    "os": "debian",
    "kernel": kver,
    "inputsHash": inputs,
    "sourceDateEpoch": int(epoch),
    "files": files,
    "packages": packages,
}
with open(os.path.join(image, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=2, sort_keys=True)
    f.write("\n")
PY

rm -rf "$image_dir"
mv "$work/image" "$image_dir"
# Keep the three newest images (branches may differ in their inputs); drop older ones.
ls -1dt "$cache_root/$suite-$arch-"* 2>/dev/null | tail -n +4 | xargs -r rm -rf
cp "$work/mmdebstrap.log" "$image_dir/build.log"
if [ -n "$keep_root" ]; then
  rm -rf "$keep_root" && mv "$work/root" "$keep_root"
fi
log "built in $(($(date +%s) - started)) s: $image_dir"
ls -l "$image_dir" >&2
deliver
