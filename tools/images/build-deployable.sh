#!/usr/bin/env bash
# Builds Kiln's deployable Debian 12 ("bookworm", amd64) image from Debian's packages only: a
# root tarball (root.tgz) with the kernel, initramfs, GRUB for BIOS and UEFI (the installer runs
# grub-install from it), cloud-init (MAAS datasource) and openssh-server, plus manifest.json.
#
#   tools/images/build-deployable.sh [--out DIR] [--force] [--print-dir]
#
# Cached in $KILN_IMAGE_CACHE (default /var/cache/kiln/images) under the hash of its inputs (this
# script, deployable/packages.txt, deployable/customize.sh, modules-exclude.txt, the host's
# mmdebstrap version), as deploy-bookworm-amd64-<hash>: a second run with the same inputs builds
# nothing and prints where the image is. Register it with
# `kiln boot-resource-import <dir> --apikey ...` (boot resource debian/bookworm, amd64/generic,
# file type root-tgz). Needs root, mmdebstrap, gzip and python3.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
suite=bookworm
arch=amd64
export SOURCE_DATE_EPOCH=1735689600
cache_root="${KILN_IMAGE_CACHE:-/var/cache/kiln/images}"

out=""
force=0
print_dir=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --out=*) out="${1#--out=}"; shift ;;
    --force) force=1; shift ;;
    --print-dir) print_dir=1; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-deployable: unknown argument: $1" >&2; exit 2 ;;
  esac
done

log() { printf '%s build-deployable: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

inputs_hash() {
  (
    cd "$here"
    printf 'deployable suite=%s arch=%s epoch=%s\n' "$suite" "$arch" "$SOURCE_DATE_EPOCH"
    dpkg-query -W -f '${Package} ${Version}\n' mmdebstrap tar gzip 2>/dev/null || true
    printf '%s\n' build-deployable.sh deployable/packages.txt deployable/customize.sh modules-exclude.txt | LC_ALL=C sort | while read -r f; do
      printf '%s %s\n' "$(sha256sum < "$f" | cut -d' ' -f1)" "$f"
    done
  ) | sha256sum | cut -d' ' -f1
}

hash="$(inputs_hash)"
image_dir="$cache_root/deploy-$suite-$arch-${hash:0:16}"

deliver() {
  if [ -n "$out" ]; then
    mkdir -p "$out"
    for f in root.tgz manifest.json; do
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

[ "$(id -u)" = 0 ] || { echo "build-deployable: needs root (mmdebstrap --mode=root)" >&2; exit 1; }
for tool in mmdebstrap python3 gzip; do
  command -v "$tool" >/dev/null || { echo "build-deployable: missing $tool" >&2; exit 1; }
done

mkdir -p "$cache_root"
exec 9>"$cache_root/.lock-deploy-$hash"
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
work="$(mktemp -d "$cache_root/.build-deploy-XXXXXX")"
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
debs="$cache_root/debs"
mkdir -p "$debs"

packages="$(grep -v '^\s*#' "$here/deployable/packages.txt" | awk 'NF { print $1 }' | paste -sd, -)"
dpkg_opts=(
  --dpkgopt='path-exclude=/usr/share/man/*'
  --dpkgopt='path-exclude=/usr/share/info/*'
  --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/locale/*'
  --dpkgopt='path-include=/usr/share/locale/locale.alias'
  --dpkgopt='path-exclude=/usr/share/lintian/*'
  --dpkgopt='path-exclude=/lib/firmware/*'
)
while read -r tree; do
  dpkg_opts+=("--dpkgopt=path-exclude=/lib/modules/*/kernel/$tree/*")
done < <(grep -v '^\s*#' "$here/modules-exclude.txt" | awk 'NF { print $1 }')

log "building the deployable $suite/$arch (inputs $hash) in $work"
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
  --customize-hook="'$here/deployable/customize.sh' \"\$1\"" \
  "$suite" "$work/root" >"$work/mmdebstrap.log" 2>&1 || {
    tail -n 40 "$work/mmdebstrap.log" >&2; log "mmdebstrap failed"; exit 1; }
log "root built in $(($(date +%s) - started)) s ($(du -sh "$work/root" | cut -f1))"

kver="$(ls "$work/root/boot"/vmlinuz-* | sort -V | tail -n 1)"
kver="${kver##*/vmlinuz-}"
chroot "$work/root" dpkg-query -W -f '${Package}\t${Version}\t${Architecture}\n' | LC_ALL=C sort > "$work/packages.tsv"

mkdir -p "$work/image"
# Reproducible: names sorted, every mtime clamped to SOURCE_DATE_EPOCH, numeric owners, no
# atime/ctime in pax headers, gzip without a name or time stamp.
tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --clamp-mtime --numeric-owner --xattrs --xattrs-include='security.capability' \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
  -C "$work/root" -cf - . | gzip -n -6 > "$work/image/root.tgz"
log "root.tgz: $(du -h "$work/image/root.tgz" | cut -f1)"

python3 - "$work/image" "$work/packages.tsv" "$suite" "$arch" "$kver" "$hash" "$SOURCE_DATE_EPOCH" <<'PY'
import hashlib, json, os, sys
image, pkgs, suite, arch, kver, inputs, epoch = sys.argv[1:]
h = hashlib.sha256()
p = os.path.join(image, "root.tgz")
with open(p, "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
packages = []
with open(pkgs) as f:
    for line in f:
        name, version, parch = line.rstrip("\n").split("\t")
        packages.append({"name": name, "version": version, "architecture": parch})
manifest = {
    "kind": "deployable",
    "architecture": arch,
    "series": suite,
    "os": "debian",
    "kernel": kver,
    "inputsHash": inputs,
    "sourceDateEpoch": int(epoch),
    "files": {"root.tgz": {"sha256": h.hexdigest(), "size": os.path.getsize(p)}},
    "packages": packages,
}
with open(os.path.join(image, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=2, sort_keys=True)
    f.write("\n")
PY

rm -rf "$image_dir"
mv "$work/image" "$image_dir"
ls -1dt "$cache_root/deploy-$suite-$arch-"* 2>/dev/null | tail -n +4 | xargs -r rm -rf
cp "$work/mmdebstrap.log" "$image_dir/build.log"
log "built in $(($(date +%s) - started)) s: $image_dir"
deliver
