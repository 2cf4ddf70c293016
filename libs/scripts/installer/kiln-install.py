#!/usr/bin/env python3
# Kiln's installer: what curtin does for MAAS, for a Deploying machine in the ephemeral
# environment (reference maas-api.md 4.13). It reads the curtin-shaped configuration the region
# rendered for the machine (storage config v1, network config v1, the image source with its
# sha256, the reporting webhook, the installed system's datasource), then:
#
#   partitioning  the disks as the storage config lays them out: disk, partition, then in the
#                 config's order raid (mdadm), lvm_volgroup (pvcreate, vgcreate), lvm_partition
#                 (lvcreate), bcache (make-bcache, register, attach, cache mode); format, mount.
#                 Other types (vmfs, ...) are refused with the reason before a disk is touched,
#                 and so is a stack the running kernel cannot build (no device-mapper, md, bcache)
#   formatting    ext4/ext3/ext2/xfs/btrfs here; vfat with the target's own mkfs.vfat
#   extracting    streams the root tarball from the rack into the mounted target, checking its
#                 size and sha256 (a mismatch fails the deployment and names both digests)
#   configuring   fstab, hostname, swap file, the installed system's cloud-init (datasource MAAS
#                 at the rack's metadata URL with the node's credentials, the reporting webhook,
#                 the machine's network config)
#   initramfs     when / or a mount sits on LVM, bcache or RAID: the installed system must have
#                 the tools (lvm2, bcache-tools, mdadm) and its initramfs is rebuilt with them
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
#
#   kiln-install.py CONFIG                 the whole installation
#   kiln-install.py --layout-only CONFIG   only the partitioning stage (disks, stacks, filesystems;
#                                          nothing mounted); prints {id: device} as JSON

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


LAYOUT_TYPES = {"disk", "partition", "format", "mount", "lvm_volgroup", "lvm_partition", "bcache", "raid"}
STACKS = {"lvm_volgroup": "lvm", "lvm_partition": "lvm", "bcache": "bcache", "raid": "raid"}


def stacks_of(storage):
    return sorted({STACKS[e.get("type")] for e in storage.get("config") or [] if e.get("type") in STACKS})


def kernel_has(stack):
    """Whether the running kernel can build the stack (loading its module where it can)."""
    module, probe = {"lvm": ("dm_mod", lambda: "device-mapper" in open("/proc/misc").read() or os.path.exists("/dev/mapper/control")),
                     "bcache": ("bcache", lambda: os.path.isdir("/sys/fs/bcache")),
                     "raid": ("md_mod", lambda: os.path.exists("/proc/mdstat"))}[stack]
    try:
        if probe():
            return True
    except OSError:
        pass
    if have("modprobe"):
        subprocess.run(["modprobe", module], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if module == "dm_mod":
            subprocess.run(["dmsetup", "mknodes"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return probe()
    except OSError:
        return False


STACK_NEEDS = {
    "lvm": (["pvcreate", "vgcreate", "lvcreate"], "lvm2", "device-mapper"),
    "bcache": (["make-bcache"], "bcache-tools", "bcache"),
    "raid": (["mdadm"], "mdadm", "md (software RAID)"),
}


def check_layout(storage):
    """Refuses, before any disk is touched, a layout this installer or this kernel cannot build."""
    entries = storage.get("config") or []
    unsupported = sorted({str(e.get("type")) for e in entries} - LAYOUT_TYPES)
    if unsupported:
        raise StepFailed("this installer cannot lay out %s (it builds disks, partitions, LVM, bcache and RAID)" % ", ".join(unsupported))
    for stack in stacks_of(storage):
        tools, package, feature = STACK_NEEDS[stack]
        missing = [t for t in tools if not have(t)]
        if missing:
            raise StepFailed("the layout has %s but this environment has no %s (package %s)" % (stack, ", ".join(missing), package))
        if not kernel_has(stack):
            raise StepFailed("the layout has %s but the running kernel has no %s" % (stack, feature))


def holders(name):
    """Every device stacked on /sys/class/block/<name> or its partitions, the top ones first."""
    out = []
    base = "/sys/class/block/" + name
    names = [name] + [p for p in (os.listdir(base) if os.path.isdir(base) else []) if p.startswith(name)]
    for n in names:
        d = "/sys/class/block/%s/holders" % n
        for h in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            out = holders(h) + [h] + out
    return out


def release(dev):
    """Stops what an earlier layout left active on the disk (volume groups, bcache, md arrays)."""
    name = os.path.basename(os.path.realpath(dev))
    for h in holders(name):
        if h.startswith("dm-"):
            dm = open("/sys/class/block/%s/dm/name" % h).read().strip()
            subprocess.run(["dmsetup", "remove", "--retry", "-f", dm])
        elif h.startswith("md"):
            subprocess.run(["mdadm", "--stop", "/dev/" + h])
        elif h.startswith("bcache"):
            try:
                with open("/sys/block/%s/bcache/stop" % h, "w") as f:
                    f.write("1")
            except OSError:
                pass
    base = "/sys/class/block/" + name
    for n in [name] + [p for p in (os.listdir(base) if os.path.isdir(base) else []) if p.startswith(name)]:
        unregister = "/sys/class/block/%s/bcache/set/unregister" % n
        if os.path.exists(unregister):
            try:
                with open(unregister, "w") as f:
                    f.write("1")
            except OSError:
                pass


def wait_for(path, what):
    for _ in range(40):
        if os.path.exists(path):
            return path
        ensure_node(path)
        time.sleep(0.25)
    raise StepFailed("%s did not appear as %s" % (what, path))


def settle():
    if have("udevadm"):
        subprocess.run(["udevadm", "settle", "--timeout=30"])


def write_sys(path, value):
    try:
        with open(path, "w") as f:
            f.write(value)
        return True
    except OSError as e:
        log("%s <- %s: %s" % (path, value, e))
        return False


def ids_to_devices(e, key, devices):
    out = []
    for ref in e.get(key) or []:
        if ref not in devices:
            raise StepFailed("%s %s uses %s, which the layout has not made" % (e.get("type"), e.get("id"), ref))
        out.append(devices[ref])
    return out


def make_raid(e, devices, progress):
    members = ids_to_devices(e, "devices", devices)
    spares = ids_to_devices(e, "spare_devices", devices)
    name = e.get("name") or e["id"]
    dev = "/dev/" + name if name.startswith("md") and name[2:].isdigit() else "/dev/md/" + name
    for m in members + spares:
        subprocess.run(["mdadm", "--zero-superblock", "--force", m], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        run(["wipefs", "-a", "-f", m])
    cmd = ["mdadm", "--create", dev, "--run", "--force", "--metadata=1.2", "--homehost=any", "--level=%s" % e["raidlevel"], "--raid-devices=%d" % len(members)]
    if spares:
        cmd.append("--spare-devices=%d" % len(spares))
    run(cmd + members + spares)
    settle()
    real = os.path.realpath(dev)
    wait_for(real, "RAID %s" % name)
    progress("RAID %s (level %s) on %s" % (name, e["raidlevel"], ", ".join(members + spares)))
    return real


LVM_EXTENT = 4 * 1024 * 1024


def make_volgroup(e, devices, progress):
    pvs = ids_to_devices(e, "devices", devices)
    for pv in pvs:
        run(["wipefs", "-a", "-f", pv])
        run(["pvcreate", "-ff", "-y", "--zero", "y", pv])
    run(["vgcreate", "-y", "-s", "%db" % LVM_EXTENT, e["name"]] + pvs)
    progress("volume group %s on %s" % (e["name"], ", ".join(pvs)))
    return None


def make_logical_volume(e, progress):
    vg = e["volgroup"]
    free = int(run(["vgs", "--noheadings", "--nosuffix", "-o", "vg_free_count", vg]).strip())
    if e.get("size"):
        want = size_bytes(e["size"]) // LVM_EXTENT
        extents = min(want, free)
        if extents < want:
            log("logical volume %s/%s: %d extents asked, %d free; taking what is free" % (vg, e["name"], want, free))
        size_arg = ["-l", str(extents)]
    else:
        size_arg = ["-l", "100%FREE"]
    run(["lvcreate", "-y", "--wipesignatures", "y", "-Zy", "-n", e["name"]] + size_arg + [vg])
    subprocess.run(["vgmknodes", vg], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    settle()
    dev = run(["lvs", "--noheadings", "-o", "lv_dm_path", "%s/%s" % (vg, e["name"])]).strip()
    wait_for(dev, "logical volume %s/%s" % (vg, e["name"]))
    progress("logical volume %s/%s (%s)" % (vg, e["name"], e.get("size") or "all free space"))
    return dev


def register_bcache(dev):
    # udev's bcache rule may have registered it already: a second registration is refused, harmlessly.
    write_sys("/sys/fs/bcache/register", dev)


def make_bcache(e, devices, progress):
    backing = devices.get(e.get("backing_device"))
    cache = devices.get(e.get("cache_device"))
    if not backing or not cache:
        raise StepFailed("bcache %s needs a backing and a cache device the layout has made" % e.get("id"))
    for d in (backing, cache):
        run(["wipefs", "-a", "-f", d])
    mode = e.get("cache_mode") or "writethrough"
    # The kernel wants at least 1024 buckets in a cache: a small cache gets smaller buckets than
    # make-bcache's 512 KiB.
    bucket = 512 * 1024
    cache_size = int(run(["blockdev", "--getsize64", cache]).strip())
    while bucket > 64 * 1024 and cache_size // bucket < 2048:
        bucket //= 2
    run(["make-bcache", "--wipe-bcache", "--bucket", "%dk" % (bucket // 1024)] + (["--writeback"] if mode == "writeback" else []) + ["-B", backing, "-C", cache])
    settle()
    register_bcache(cache)
    register_bcache(backing)
    link = "/sys/class/block/%s/bcache/dev" % os.path.basename(backing)
    for _ in range(40):
        if os.path.exists(link):
            break
        time.sleep(0.25)
    else:
        raise StepFailed("bcache %s: the kernel made no bcache device for %s" % (e.get("id"), backing))
    name = os.path.basename(os.path.realpath(link))
    cset = [l.split()[-1] for l in run(["bcache-super-show", cache]).splitlines() if l.startswith("cset.uuid")]
    state = "/sys/block/%s/bcache/state" % name
    if cset and os.path.exists(state) and open(state).read().strip() == "no cache":
        write_sys("/sys/block/%s/bcache/attach" % name, cset[0])
    if os.path.exists(state) and open(state).read().strip() == "no cache":
        raise StepFailed("bcache %s: the cache %s did not attach to %s (see the kernel log)" % (e.get("id"), cache, name))
    write_sys("/sys/block/%s/bcache/cache_mode" % name, mode)
    dev = wait_for("/dev/" + name, "bcache %s" % e.get("id"))
    progress("bcache %s: %s cached by %s (%s)" % (name, backing, cache, mode))
    return dev


def build_stacks(entries, devices, progress):
    for e in entries:
        t = e.get("type")
        if t == "raid":
            devices[e["id"]] = make_raid(e, devices, progress)
        elif t == "lvm_volgroup":
            make_volgroup(e, devices, progress)
        elif t == "lvm_partition":
            devices[e["id"]] = make_logical_volume(e, progress)
        elif t == "bcache":
            devices[e["id"]] = make_bcache(e, devices, progress)


def partition(storage, progress=lambda msg: log(msg)):
    entries = storage.get("config") or []
    check_layout(storage)
    disks = block_devices()
    devices = {}
    ours = [find_disk(e, disks) for e in entries if e.get("type") == "disk"]
    old_vgs = {}
    if have("pvs"):
        for line in subprocess.run(["pvs", "--noheadings", "-o", "pv_name,vg_name"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode().splitlines():
            f = line.split()
            if len(f) == 2:
                old_vgs.setdefault(f[1], []).append(os.path.realpath(f[0]))
    on_ours = lambda pv: any(pv == d or pv.startswith(d) for d in ours)  # noqa: E731
    for e in entries:
        pvs = old_vgs.get(e.get("name")) if e.get("type") == "lvm_volgroup" else None
        if pvs and not all(on_ours(pv) for pv in pvs):
            # A volume group of that name on a disk outside the layout would clash: refused, untouched.
            raise StepFailed("a volume group named %s is already on this machine, on %s" % (e["name"], ", ".join(pvs)))
    for dev in ours:
        release(dev)
    for vg, pvs in old_vgs.items():
        if all(on_ours(pv) for pv in pvs):
            run(["vgremove", "-ff", "-y", vg])
    formats = {e["volume"]: e for e in entries if e.get("type") == "format" and e.get("volume")}
    for e in entries:
        if e.get("type") != "disk":
            continue
        dev = find_disk(e, disks)
        devices[e["id"]] = dev
        progress("partitioning %s" % os.path.basename(dev))
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
    progress("%d disk(s) partitioned" % sum(1 for e in entries if e.get("type") == "disk"))
    build_stacks(entries, devices, progress)
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


# What the installed system's initramfs carries when it can assemble each stack at boot: the file
# its initramfs-tools hook copies in (lvm2: the lvm binary; bcache-tools: the udev helper that
# registers bcache devices; mdadm: the mdadm binary).
INITRAMFS_CARRIES = {"lvm": "lvm", "bcache": "bcache-register", "raid": "mdadm"}


def initramfs_carries(name):
    """Whether every initramfs of the installed image already holds `name` (built with the image)."""
    boot = TARGET + "/boot"
    images = sorted(f for f in os.listdir(boot) if f.startswith("initrd.img-")) if os.path.isdir(boot) else []
    if not images:
        return False
    for image in images:
        out = subprocess.run(["chroot", TARGET, "lsinitramfs", "/boot/" + image], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        if out.returncode != 0 or not any(line.rsplit("/", 1)[-1] == name for line in out.stdout.decode(errors="replace").split("\n")):
            return False
    return True


def rebuild_initramfs(stacks):
    """
    The installed system's initramfs must assemble / : its tools, then an initramfs that carries
    them. Kiln's deployable image is built with lvm2, bcache-tools and mdadm, so its initramfs
    already does for LVM and bcache and is kept (update-initramfs takes seconds on hardware but
    many minutes in an emulated VM); a RAID needs its arrays in mdadm.conf, so it is rebuilt, as
    is any image whose initramfs lacks a stack's tools. Returns what was rebuilt for, if anything.
    """
    for stack in stacks:
        tools, package, _ = STACK_NEEDS[stack]
        if subprocess.run(["chroot", TARGET, "sh", "-c", "command -v " + tools[0]], stdout=subprocess.DEVNULL).returncode != 0:
            raise StepFailed("the layout has %s but the installed image has no %s (package %s): it could not boot" % (stack, tools[0], package))
    if "raid" in stacks:
        conf = run(["mdadm", "--detail", "--scan"])
        write("/etc/mdadm/mdadm.conf", "# written by Kiln's installer\nHOMEHOST <system>\n" + conf)
    missing = [s for s in stacks if s == "raid" or not initramfs_carries(INITRAMFS_CARRIES[s])]
    if missing:
        run(["chroot", TARGET, "update-initramfs", "-u", "-k", "all"])
    else:
        log("the image's initramfs already assembles %s; kept" % ", ".join(stacks))
    return missing


def layout_only(path):
    cfg = json.load(open(path))
    storage = cfg.get("storage") or {}
    try:
        devices = partition(storage)
        make_filesystems(storage, devices, have("mkfs.vfat"))
        settle()
    except StepFailed as e:
        log("FAILED partitioning: %s" % e)
        return 1
    sys.stdout.write(json.dumps(devices, sort_keys=True) + "\n")
    return 0


def main(argv):
    if len(argv) == 3 and argv[1] == "--layout-only":
        return layout_only(argv[2])
    if len(argv) != 2 or argv[1].startswith("-"):
        sys.stderr.write("usage: kiln-install.py [--layout-only] CONFIG\n")
        return 2
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
        devices = partition(storage, lambda msg: (log(msg), reporter.event("progress", "cmd-install/stage-partitioning", msg)))
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
            stacks = stacks_of(storage)
            if stacks:
                step = "initramfs"
                rebuilt = rebuild_initramfs(stacks)
                reporter.event("progress", "cmd-install/stage-curthooks",
                               "initramfs rebuilt for %s" % ", ".join(rebuilt) if rebuilt else "initramfs of the image assembles %s" % ", ".join(stacks))
                step = "bootloader"
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
