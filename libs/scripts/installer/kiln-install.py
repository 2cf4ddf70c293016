#!/usr/bin/env python3
# Kiln's installer: what curtin does for MAAS, for a Deploying machine in the ephemeral
# environment (reference maas-api.md 4.13). It reads the curtin-shaped configuration the region
# rendered for the machine (storage config v1, network config v1, the image source with its
# sha256, the reporting webhook, the installed system's datasource), then:
#
#   partitioning  the disks as the storage config lays them out (flat layouts: disk, partition,
#                 format, mount; LVM and bcache are refused with the reason)
#   formatting    ext4/ext3/ext2/xfs/btrfs here; vfat with the target's own mkfs.vfat
#   extracting    streams the root tarball from the rack into the mounted target, checking its
#                 size and sha256 (a mismatch fails the deployment and names both digests)
#   configuring   fstab, hostname, swap file, the installed system's cloud-init (datasource MAAS
#                 at the rack's metadata URL with the node's credentials, the reporting webhook,
#                 the machine's network config)
#   bootloader    GRUB from the target: BIOS (i386-pc) on the grub device, or UEFI (x86_64-efi,
#                 removable path, no NVRAM) into the ESP when the machine booted UEFI
#   netboot-off   tells the region the disk can boot now (the rack then answers "local boot")
#
# Every step is reported to the status webhook as curtin does (origin "curtin", names
# "cmd-install/stage-<step>"), and the image download reports progress every 64 MiB: each event
# pushes the region's deadline back. A failure is reported as "cmd-install" failed with the step
# and the reason; the region moves the machine to Failed deployment with that text. On success
# the script exits 0 and cloud-init's power_state reboots the machine into its new system.
#
# Python 3 standard library only (the ephemeral environment has python3; no PyYAML needed: the
# configuration is JSON and cloud-init reads JSON as YAML).

import hashlib
import json
import os
import random
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

TARGET = "/run/kiln-target"
PROGRESS_BYTES = 64 * 1024 * 1024
CHUNK = 1024 * 1024


def log(msg):
    sys.stderr.write("kiln-install: %s\n" % msg)
    sys.stderr.flush()


class StepFailed(Exception):
    pass


def run(cmd, **kw):
    log("$ " + " ".join(cmd))
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)
    out = p.stdout.decode("utf-8", "replace")
    if out.strip():
        sys.stderr.write(out)
    if p.returncode != 0:
        raise StepFailed("%s exited %d: %s" % (cmd[0], p.returncode, out.strip().splitlines()[-1] if out.strip() else ""))
    return out


# ---------------------------------------------------------------------------------------------
# Reporting (OAuth 1.0 PLAINTEXT with the node's token)


class Reporter:
    def __init__(self, cfg):
        rep = (cfg.get("reporting") or {}).get("maas") or {}
        self.endpoint = rep.get("endpoint")
        self.creds = rep
        self.metadata_url = (cfg.get("kiln") or {}).get("metadata_url")

    def auth(self):
        q = lambda s: urllib.parse.quote(s or "", safe="~")  # noqa: E731
        params = [
            ("oauth_nonce", str(random.getrandbits(64))),
            ("oauth_timestamp", str(int(time.time()))),
            ("oauth_version", "1.0"),
            ("oauth_signature_method", "PLAINTEXT"),
            ("oauth_consumer_key", self.creds.get("consumer_key", "")),
            ("oauth_token", self.creds.get("token_key", "")),
            ("oauth_signature", "&" + q(self.creds.get("token_secret", ""))),
        ]
        return "OAuth " + ", ".join('%s="%s"' % (k, q(v)) for k, v in params)

    def post(self, url, data, content_type):
        for delay in (1, 2, 4, 8, None):
            req = urllib.request.Request(url, data=data, method="POST", headers={"Authorization": self.auth(), "Content-Type": content_type})
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    return r.status
            except urllib.error.HTTPError as e:
                if e.code < 500:
                    log("POST %s: %d %s" % (url, e.code, e.read()[:200]))
                    return e.code
            except (urllib.error.URLError, OSError) as e:
                log("POST %s: %s" % (url, e))
            if delay is None:
                return None
            time.sleep(delay)

    def event(self, event_type, name, description, result=None):
        if not self.endpoint:
            return
        body = {"event_type": event_type, "origin": "curtin", "name": name, "description": description, "timestamp": time.time()}
        if result:
            body["result"] = result
        self.post(self.endpoint, json.dumps(body).encode("ascii", "replace"), "application/json")

    def netboot_off(self):
        if not self.metadata_url:
            return
        url = self.metadata_url.rstrip("/") + "/2012-03-01/?op=netboot_off"
        status = self.post(url, b"op=netboot_off", "application/x-www-form-urlencoded")
        if status != 200:
            raise StepFailed("the region did not take netboot_off (%s)" % status)


# ---------------------------------------------------------------------------------------------
# Storage


def size_bytes(v):
    if isinstance(v, int):
        return v
    s = str(v).strip().upper()
    units = {"B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
    if s and s[-1] == "B" and len(s) > 1 and s[-2] in "KMGT":
        s = s[:-1]
    if s and s[-1] in units:
        return int(float(s[:-1]) * units[s[-1]])
    return int(s)


def block_devices():
    out = run(["lsblk", "-J", "-d", "-b", "-o", "NAME,SERIAL,MODEL,SIZE,TYPE"])
    return [d for d in json.loads(out)["blockdevices"] if d.get("type") == "disk"]


def find_disk(entry, disks):
    serial, model = entry.get("serial"), entry.get("model")
    if serial:
        for d in disks:
            if (d.get("serial") or "").strip() == serial and (not model or (d.get("model") or "").strip().replace(" ", "_") in (model, model.replace(" ", "_"))):
                return "/dev/" + d["name"]
        for d in disks:
            if (d.get("serial") or "").strip() == serial:
                return "/dev/" + d["name"]
    path = entry.get("path")
    if path and os.path.exists(path):
        return os.path.realpath(path)
    name = entry.get("name")
    if name and os.path.exists("/dev/" + name):
        return "/dev/" + name
    raise StepFailed("disk %s (serial %s, model %s) is not on this machine" % (entry.get("id"), serial, model))


def ensure_node(path):
    """Makes /dev/<name> from /sys/class/block/<name>/dev where no udev made it."""
    name = os.path.basename(path)
    try:
        major, minor = open("/sys/class/block/%s/dev" % name).read().strip().split(":")
        if not os.path.exists(path):
            os.mknod(path, 0o660 | 0o060000, os.makedev(int(major), int(minor)))
    except (OSError, ValueError):
        pass


def have(command):
    return subprocess.run(["sh", "-c", "command -v " + command], stdout=subprocess.DEVNULL).returncode == 0


def part_path(disk, number):
    return "%s%s%d" % (disk, "p" if disk[-1].isdigit() else "", number)


def partition(storage, reporter=None):
    entries = storage.get("config") or []
    unsupported = sorted({e.get("type") for e in entries} - {"disk", "partition", "format", "mount"})
    if unsupported:
        raise StepFailed("this installer lays out flat storage only; the layout has %s" % ", ".join(unsupported))
    disks = block_devices()
    devices = {}
    formats = {e["volume"]: e for e in entries if e.get("type") == "format" and e.get("volume")}
    for e in entries:
        if e.get("type") != "disk":
            continue
        dev = find_disk(e, disks)
        devices[e["id"]] = dev
        if reporter:
            reporter.event("progress", "cmd-install/stage-partitioning", "partitioning %s" % os.path.basename(dev))
        run(["wipefs", "-a", "-f", dev])
        ptable = e.get("ptable")
        if ptable == "gpt":
            run(["sgdisk", "--zap-all", dev])
            run(["sgdisk", "--clear", dev])
        elif ptable == "msdos":
            run(["sfdisk", "--quiet", "--wipe", "always", dev], input=b"label: dos\n")
        elif ptable:
            raise StepFailed("disk %s: partition table %s is not supported" % (e["id"], ptable))
    nexts = {}
    for e in entries:
        if e.get("type") != "partition":
            continue
        disk_entry = next((d for d in entries if d.get("type") == "disk" and d["id"] == e["device"]), None)
        if not disk_entry or e["device"] not in devices:
            raise StepFailed("partition %s is on %s, which is not a disk of the layout" % (e["id"], e["device"]))
        dev = devices[e["device"]]
        number = int(e["number"])
        size = size_bytes(e["size"])
        start = size_bytes(e["offset"]) if e.get("offset") else nexts.get(dev, 4 * 1024 * 1024)
        end = start + size
        nexts[dev] = end
        fstype = (formats.get(e["id"]) or {}).get("fstype")
        if disk_entry.get("ptable") == "gpt":
            code = "EF02" if e.get("flag") == "bios_grub" else "EF00" if fstype in ("fat32", "vfat", "fat16") else "8300"
            run(["sgdisk", "-n", "%d:%ds:%ds" % (number, start // 512, end // 512 - 1), "-t", "%d:%s" % (number, code), dev])
        else:
            line = "start=%d, size=%d, type=%s%s\n" % (
                start // 512, size // 512, "ef" if fstype in ("fat32", "vfat", "fat16") else "83", ", bootable" if e.get("flag") == "boot" else "")
            run(["sfdisk", "--quiet", "--append", "--no-reread", dev], input=line.encode())
        devices[e["id"]] = part_path(dev, number)
        if e.get("wipe"):
            pass  # a fresh partition table: the filesystem step makes new superblocks
    for dev in set(v for k, v in devices.items() if any(d.get("id") == k and d.get("type") == "disk" for d in entries)):
        subprocess.run(["partprobe", dev] if have("partprobe") else ["blockdev", "--rereadpt", dev])
    if have("udevadm"):
        subprocess.run(["udevadm", "settle"])
    for k, v in devices.items():
        for _ in range(20):
            if os.path.exists(v):
                break
            ensure_node(v)
            time.sleep(0.5)
        if not os.path.exists(v):
            raise StepFailed("%s did not appear as %s" % (k, v))
    return devices


FAT = ("fat32", "vfat", "fat16", "fat12")


def make_filesystems(storage, devices, fat_too):
    for e in storage.get("config") or []:
        if e.get("type") != "format":
            continue
        fstype = e["fstype"]
        dev = devices.get(e["volume"])
        if not dev:
            raise StepFailed("format %s: no device %s" % (e["id"], e["volume"]))
        label = e.get("label")
        if fstype in FAT:
            if not fat_too:
                continue
            cmd = ["mkfs.vfat", "-F", "16" if fstype == "fat16" else "32"] + (["-n", label.upper()[:11]] if label else []) + [dev]
        elif fstype in ("ext4", "ext3", "ext2"):
            cmd = ["mkfs." + fstype, "-F", "-q"] + (["-L", label] if label else []) + [dev]
        elif fstype in ("xfs", "btrfs"):
            cmd = ["mkfs." + fstype, "-f"] + (["-L", label] if label else []) + [dev]
        elif fstype == "swap":
            cmd = ["mkswap"] + (["-L", label] if label else []) + [dev]
        else:
            raise StepFailed("format %s: filesystem %s is not supported" % (e["id"], fstype))
        run(cmd)


def mounts_of(storage, devices):
    """(path, device, fstype, options) of every mount, / first."""
    formats = {e["id"]: e for e in storage.get("config") or [] if e.get("type") == "format"}
    out = []
    for e in storage.get("config") or []:
        if e.get("type") != "mount" or not e.get("path"):
            continue
        if e.get("device"):
            f = formats[e["device"]]
            out.append((e["path"], devices[f["volume"]], f["fstype"], e.get("options") or "defaults"))
        else:
            out.append((e["path"], e.get("spec") or e.get("fstype"), e.get("fstype"), e.get("options") or "defaults"))
    out.sort(key=lambda m: m[0])
    if not any(m[0] == "/" for m in out):
        raise StepFailed("the storage layout mounts nothing at /")
    return out


def mount_all(mounts, fat_too):
    os.makedirs(TARGET, exist_ok=True)
    for path, dev, fstype, _ in mounts:
        if not dev or not dev.startswith("/dev/") or fstype == "swap":
            continue
        if fstype in FAT and not fat_too:
            continue
        where = TARGET + path
        os.makedirs(where, exist_ok=True)
        run(["mount", dev, where])


# ---------------------------------------------------------------------------------------------
# Image


def stream_image(source, reporter):
    uri, want_sha, want_size = source["uri"], source.get("sha256"), source.get("size")
    kind = source.get("type", "tgz")
    flags = {"tgz": "-xzf", "tar.gz": "-xzf", "tar": "-xf", "tar.zst": "--zstd -xf".split()}.get(kind)
    if flags is None:
        raise StepFailed("image type %s is not supported" % kind)
    log("streaming %s" % uri)
    try:
        resp = urllib.request.urlopen(uri, timeout=60)
    except (urllib.error.URLError, OSError) as e:
        raise StepFailed("cannot fetch the image %s: %s" % (uri, e))
    tar = subprocess.Popen(["tar"] + (flags if isinstance(flags, list) else [flags]) + ["-", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-p", "-C", TARGET], stdin=subprocess.PIPE)
    h = hashlib.sha256()
    got = 0
    next_report = PROGRESS_BYTES
    started = time.time()
    try:
        while True:
            chunk = resp.read(CHUNK)
            if not chunk:
                break
            h.update(chunk)
            got += len(chunk)
            tar.stdin.write(chunk)
            if got >= next_report:
                next_report += PROGRESS_BYTES
                reporter.event("progress", "cmd-install/stage-extract", "%d MiB of the image written" % (got // (1024 * 1024)))
    except BrokenPipeError:
        pass
    finally:
        try:
            tar.stdin.close()
        except BrokenPipeError:
            pass
    rc = tar.wait()
    digest = h.hexdigest()
    if want_size is not None and got != int(want_size):
        raise StepFailed("the image is %d bytes, expected %d (%s)" % (got, int(want_size), uri))
    if want_sha and digest != want_sha:
        raise StepFailed("image sha256 mismatch: expected %s, got %s (%s)" % (want_sha, digest, uri))
    if rc != 0:
        raise StepFailed("tar could not unpack the image (exit %d)" % rc)
    seconds = time.time() - started
    log("image: %d bytes in %.1f s, sha256 %s" % (got, seconds, digest))
    return got, seconds


# ---------------------------------------------------------------------------------------------
# The installed system


def blkid(dev, tag):
    return run(["blkid", "-s", tag, "-o", "value", dev]).strip()


def write(path, text, mode=0o644):
    full = TARGET + path
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(text)
    os.chmod(full, mode)


def configure(cfg, mounts):
    k = cfg.get("kiln") or {}
    lines = ["# written by Kiln's installer"]
    for path, dev, fstype, options in mounts:
        if dev and dev.startswith("/dev/"):
            fs = "vfat" if fstype in FAT else fstype
            spec = "UUID=%s" % blkid(dev, "UUID")
            passno = "1" if path == "/" else "0" if fs in ("vfat", "swap") else "2"
            lines.append("%s %s %s %s 0 %s" % (spec, path if fstype != "swap" else "none", fs, options, passno))
        else:
            lines.append("%s %s %s %s 0 0" % (dev, path, fstype, options))
    swap = cfg.get("swap") or {}
    if swap.get("size") and size_bytes(swap["size"]) > 0:
        size = size_bytes(swap["size"])
        run(["fallocate", "-l", str(size), TARGET + "/swap.img"])
        os.chmod(TARGET + "/swap.img", 0o600)
        run(["mkswap", TARGET + "/swap.img"])
        lines.append("/swap.img none swap sw 0 0")
    write("/etc/fstab", "\n".join(lines) + "\n")

    hostname = k.get("hostname") or "localhost"
    write("/etc/hostname", hostname.split(".")[0] + "\n")

    creds = (cfg.get("reporting") or {}).get("maas") or {}
    datasource = {
        "datasource_list": ["MAAS"],
        "datasource": {
            "MAAS": {
                "metadata_url": k.get("metadata_url"),
                "consumer_key": creds.get("consumer_key"),
                "token_key": creds.get("token_key"),
                "token_secret": creds.get("token_secret"),
            }
        },
        "manual_cache_clean": True,
        "reporting": {"maas": dict(creds, type="webhook")},
    }
    write("/etc/cloud/cloud.cfg.d/90_kiln_datasource.cfg", json.dumps(datasource, indent=1) + "\n", 0o600)
    if cfg.get("network"):
        write("/etc/cloud/cloud.cfg.d/50-curtin-networking.cfg", json.dumps({"network": cfg["network"]}, indent=1) + "\n")
    # The ephemeral environment's instance is not this system's: cloud-init starts afresh.
    subprocess.run(["rm", "-rf", TARGET + "/var/lib/cloud/instances", TARGET + "/var/lib/cloud/instance"])


def bind_mounts():
    done = []
    for d in ("/dev", "/dev/pts", "/proc", "/sys", "/run"):
        where = TARGET + d
        os.makedirs(where, exist_ok=True)
        run(["mount", "--bind", d, where])
        done.append(where)
    if os.path.isdir("/sys/firmware/efi/efivars"):
        try:
            run(["mount", "--bind", "/sys/firmware/efi/efivars", TARGET + "/sys/firmware/efi/efivars"])
            done.append(TARGET + "/sys/firmware/efi/efivars")
        except StepFailed:
            pass
    return done


def install_grub(storage, devices, uefi):
    grub_disk = next((devices[e["id"]] for e in storage.get("config") or [] if e.get("type") == "disk" and e.get("grub_device")), None)
    if not grub_disk:
        grub_disk = next((devices[e["id"]] for e in storage.get("config") or [] if e.get("type") == "disk"), None)
    with open(TARGET + "/etc/default/grub", "a") as f:
        f.write('\n# Kiln: serial and screen consoles, classic interface names (the network config names them)\n')
        f.write('GRUB_CMDLINE_LINUX="console=tty0 console=ttyS0,115200 net.ifnames=0"\n')
        f.write('GRUB_TERMINAL="console serial"\nGRUB_SERIAL_COMMAND="serial --speed=115200"\nGRUB_TIMEOUT=1\nGRUB_DISABLE_OS_PROBER=true\n')
    if uefi:
        run(["chroot", TARGET, "grub-install", "--target=x86_64-efi", "--efi-directory=/boot/efi", "--bootloader-id=debian", "--removable", "--no-nvram", "--recheck"])
    else:
        if not grub_disk:
            raise StepFailed("no disk to install GRUB on")
        run(["chroot", TARGET, "grub-install", "--target=i386-pc", "--recheck", grub_disk])
    run(["chroot", TARGET, "update-grub"])


def unmount_all():
    out = subprocess.run(["findmnt", "-R", "-n", "-l", "-o", "TARGET", TARGET], stdout=subprocess.PIPE).stdout.decode().split()
    for where in sorted(out, key=len, reverse=True):
        subprocess.run(["umount", "-l", where])


# ---------------------------------------------------------------------------------------------


def main(argv):
    cfg = json.load(open(argv[1]))
    reporter = Reporter(cfg)
    storage = cfg.get("storage") or {}
    source = next(iter((cfg.get("sources") or {}).values()), None)
    uefi = os.path.isdir("/sys/firmware/efi")
    have_mkfs_vfat = have("mkfs.vfat")
    step = "start"
    t0 = time.time()
    reporter.event("start", "cmd-install", "curtin command install")
    try:
        if not source:
            raise StepFailed("the configuration names no image to install")
        step = "partitioning"
        reporter.event("start", "cmd-install/stage-partitioning", "partitioning the disks")
        devices = partition(storage, reporter)
        make_filesystems(storage, devices, have_mkfs_vfat)
        mounts = mounts_of(storage, devices)
        mount_all(mounts, have_mkfs_vfat)
        reporter.event("finish", "cmd-install/stage-partitioning", "disks partitioned and formatted", "SUCCESS")

        step = "extract"
        reporter.event("start", "cmd-install/stage-extract", "writing the image %s" % source.get("uri"))
        got, seconds = stream_image(source, reporter)
        if not have_mkfs_vfat and any(f in FAT for _, _, f, _ in mounts):
            # The ephemeral environment has no mkfs.vfat: the installed system's own makes the ESP.
            binds = bind_mounts()
            real_fat = [(p, d, f, o) for p, d, f, o in mounts if f in FAT]
            for e in storage.get("config") or []:
                if e.get("type") == "format" and e["fstype"] in FAT:
                    label = e.get("label")
                    run(["chroot", TARGET, "mkfs.vfat", "-F", "32"] + (["-n", label.upper()[:11]] if label else []) + [devices[e["volume"]]])
            for where in reversed(binds):
                subprocess.run(["umount", where])
            for path, dev, _, _ in real_fat:
                os.makedirs(TARGET + path, exist_ok=True)
                run(["mount", dev, TARGET + path])
        reporter.event("finish", "cmd-install/stage-extract", "image written (%d MB in %.0f s, sha256 verified)" % (got // 1000000, seconds), "SUCCESS")

        step = "configuring"
        reporter.event("start", "cmd-install/stage-curthooks", "configuring the installed system")
        configure(cfg, mounts)
        step = "bootloader"
        binds = bind_mounts()
        try:
            install_grub(storage, devices, uefi)
        finally:
            for where in reversed(binds):
                subprocess.run(["umount", "-l", where])
        reporter.event("finish", "cmd-install/stage-curthooks", "GRUB installed (%s), system configured" % ("UEFI" if uefi else "BIOS"), "SUCCESS")

        step = "netboot-off"
        subprocess.run(["sync"])
        unmount_all()
        reporter.netboot_off()
        reporter.event("finish", "cmd-install", "installed in %.0f s; rebooting" % (time.time() - t0), "SUCCESS")
        return 0
    except Exception as e:  # noqa: BLE001 - every failure is reported, with the step it stopped at
        reason = "%s: %s" % (step, e)
        log("FAILED " + reason)
        reporter.event("finish", "cmd-install", reason, "FAIL")
        # Stay up (the reboot would only netboot again): an operator can look, or release it.
        open("/tmp/block-reboot", "w").close()
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
