#!/usr/bin/env python3
# Kiln's script runner for the ephemeral environment.
#
# Kiln serves this program (wrapped in the user-data, see user-data.renderer.ts) to machines that
# boot the ephemeral image to enlist, commission, test, release or deploy. It talks to the
# region's metadata API exactly as MAAS's maas-run-remote-scripts does, so a region that serves
# MAAS's own runner and one that serves this one see the same conversation:
#
#   POST <v>/ op=signal status=WORKING                       heartbeat, then every 120 s
#   GET  <v>/maas-scripts                                     tar with index.json (204: nothing)
#   POST <v>/ op=signal status=TESTING|RELEASING|DEPLOYING    before those script sets
#   POST <v>/ op=signal status=WORKING "Starting <name> ..."  per script result
#   POST <v>/ op=signal status=WORKING|TIMEDOUT "Finished <name> ...: <exit>"
#        exit_status, runtime, files <name>, <name>.out, <name>.err[, <name>.yaml]
#   POST <v>/ op=signal status=OK|FAILED                      at the end
#
# Why Python 3 and only its standard library: python3 is the interpreter cloud-init itself runs
# on, so it is present in every image that can run cloud-init at all, while nothing else (not
# PyYAML, not oauthlib) is guaranteed before the runner installs anything. OAuth 1.0 PLAINTEXT,
# multipart bodies, tar extraction and process control are all in the standard library. YAML
# (cloud-init's config files, a script's BMC file) is read with PyYAML when it is importable
# (cloud-init depends on it) and otherwise with a small reader for the flat shapes involved.
#
# Without a token secret (enlistment of an unknown machine) it first asks whether its MACs are
# registered, runs the serial commissioning scripts (the BMC one) without reporting, creates the
# machine (POST /MAAS/api/2.0/machines/ with its MACs and BMC), takes the node credentials from
# the machine's preseed, sends the results it held back and carries on as above.
#
# Usage: kiln-run-scripts.py --config=<file> [--phase=<phase>] <work-dir>
#   The config file is cloud-init's datasource config, as JSON or YAML:
#   {"datasource": {"MAAS": {"metadata_url": ..., "consumer_key": ..., "token_key": ...,
#   "token_secret": ...}}}. Without --config the runner looks in
#   /etc/cloud/cloud.cfg.d/*cmdline*.cfg, then at the cloud-config-url= (or url=) of the kernel
#   command line, as MAAS's user-data does.

import argparse
import email.utils
import glob
import io
import json
import os
import random
import re
import shlex
import shutil
import signal as signals
import subprocess
import sys
import tarfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

API_VERSION = "2012-03-01"
RETRY_DELAYS = (1, 1, 2, 4, 8, 16, 32)
# Hardware types in the order MAAS runs them: CPU, memory, storage, network, GPU, then node.
HARDWARE_ORDER = {1: 0, 2: 1, 3: 2, 4: 3, 5: 4, 0: 5}
SET_SIGNAL = {
    "commissioning_scripts": None,
    "testing_scripts": "TESTING",
    "release_scripts": "RELEASING",
    "deployment_scripts": "DEPLOYING",
}
SET_WORD = {
    "commissioning_scripts": "commissioning",
    "testing_scripts": "test",
    "release_scripts": "release",
    "deployment_scripts": "deployment",
}
TIMEOUT_EXIT = 124


def log(msg):
    print("kiln-run-scripts: %s" % msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Configuration


def read_flat_yaml(text):
    """A reader for the shapes the runner meets when PyYAML is missing: nested block mappings of
    scalars (cloud-init's datasource config, a BMC file) and JSON."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        import yaml  # noqa: PLC0415 (optional)

        return yaml.safe_load(text)
    except ImportError:
        pass
    root = {}
    stack = [(-1, root)]
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        key, _, value = line.strip().partition(":")
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1]
        value = value.strip()
        if value == "":
            child = {}
            parent[key.strip()] = child
            stack.append((indent, child))
            continue
        if value[0] in "\"'":
            try:
                value = json.loads(value) if value[0] == '"' else value[1:-1]
            except ValueError:
                value = value[1:-1]
        parent[key.strip()] = value
    return root


DATASOURCE_KEYS = ("metadata_url", "consumer_key", "token_key", "token_secret", "consumer_secret")


def datasource_from_text(text):
    """datasource.MAAS of a cloud-config document (JSON or YAML). Without PyYAML, a full cloud-
    config (lists, flow mappings) is read only for the keys of the MAAS datasource block."""
    try:
        doc = read_flat_yaml(text) or {}
        maas = (doc.get("datasource") or {}).get("MAAS") or {}
        if isinstance(maas, dict) and maas.get("metadata_url"):
            return maas
    except (ValueError, AttributeError):
        pass
    m = re.search(r"^(\s*)MAAS:\s*\n((?:\1\s+\S.*\n?)+)", text, re.M)
    if not m:
        return {}
    maas = {}
    for k, v in re.findall(r"^\s+(\w+):\s*(\S+)\s*$", m.group(2), re.M):
        if k in DATASOURCE_KEYS:
            maas[k] = v.strip("\"'")
    return maas


def config_from_cmdline(cmdline):
    """The datasource of the cloud-config the kernel command line points at (cloud-config-url=
    or url=), as MAAS's user-data falls back to when cloud-init wrote no config file."""
    m = re.search(r"(?:^|\s)(?:cloud-config-url|url)=(\S+)", cmdline)
    if not m:
        return {}
    try:
        with urllib.request.urlopen(m.group(1), timeout=60) as resp:
            return datasource_from_text(resp.read().decode("utf-8"))
    except (OSError, urllib.error.URLError, UnicodeDecodeError) as e:
        log("cannot read %s: %s" % (m.group(1), e))
        return {}


def load_config(path):
    paths = [path] if path else sorted(glob.glob("/etc/cloud/cloud.cfg.d/*cmdline*.cfg"))
    for p in paths:
        with open(p, encoding="utf-8") as f:
            maas = datasource_from_text(f.read())
        if maas.get("metadata_url"):
            return maas
    if not path:
        try:
            with open("/proc/cmdline", encoding="utf-8") as f:
                maas = config_from_cmdline(f.read())
        except OSError:
            maas = {}
        if maas.get("metadata_url"):
            return maas
    raise SystemExit("kiln-run-scripts: no datasource MAAS metadata_url in %s" % (paths or "cloud.cfg.d"))


# ---------------------------------------------------------------------------------------------
# HTTP with OAuth 1.0 PLAINTEXT


class Credentials:
    def __init__(self, consumer_key="", token_key="", token_secret="", consumer_secret=""):
        self.consumer_key = consumer_key or ""
        self.token_key = token_key or ""
        self.token_secret = token_secret or ""
        self.consumer_secret = consumer_secret or ""

    @property
    def anonymous(self):
        return not self.token_secret


class Client:
    def __init__(self, base_url, creds):
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.creds = creds
        self.skew = 0

    def auth_header(self):
        c = self.creds
        q = lambda s: urllib.parse.quote(s, safe="~")  # noqa: E731
        signature = "%s&%s" % (q(c.consumer_secret), q(c.token_secret))
        params = [
            ("oauth_nonce", str(random.getrandbits(64))),
            ("oauth_timestamp", str(int(time.time() + self.skew))),
            ("oauth_version", "1.0"),
            ("oauth_signature_method", "PLAINTEXT"),
            ("oauth_consumer_key", c.consumer_key),
            ("oauth_token", c.token_key),
            ("oauth_signature", signature),
        ]
        return "OAuth " + ", ".join('%s="%s"' % (k, q(v)) for k, v in params)

    def request(self, url, data=None, headers=None, sign=True):
        """Returns (status, headers, body). Retries connection errors and 5xx with MAAS's delays;
        on 401/403 to a signed request learns the clock skew from the Date header and retries."""
        last = None
        for delay in RETRY_DELAYS + (None,):
            h = dict(headers or {})
            signed = sign and not self.creds.anonymous
            if signed:
                h["Authorization"] = self.auth_header()
            req = urllib.request.Request(url, data=data, headers=h, method="POST" if data is not None else "GET")
            try:
                with urllib.request.urlopen(req, timeout=60) as resp:
                    return resp.status, resp.headers, resp.read()
            except urllib.error.HTTPError as e:
                body = e.read()
                last = "%s %s: %d %s" % (req.get_method(), url, e.code, body[:200])
                # Only a signed request can be refused for the clock; an unsigned one's
                # 401/403 is the answer (an enlistment the region refuses), not worth a minute of retries.
                if signed and e.code in (401, 403) and e.headers.get("Date"):
                    server = email.utils.parsedate_to_datetime(e.headers["Date"]).timestamp()
                    self.skew = server - time.time()
                elif e.code < 500:
                    return e.code, e.headers, body
            except (urllib.error.URLError, OSError) as e:
                last = "%s %s: %s" % (req.get_method(), url, e)
            if delay is None:
                break
            log("%s; retrying in %ds" % (last, delay))
            time.sleep(delay)
        raise RuntimeError(last or "request failed")

    def signal(self, status, error=None, fields=None, files=None):
        parts = [("op", "signal"), ("status", status)]
        if error is not None:
            parts.append(("error", error))
        parts.extend((k, str(v)) for k, v in (fields or []) if v is not None)
        body, ctype = multipart(parts, files or [])
        code, _, text = self.request(self.base_url + API_VERSION + "/", body, {"Content-Type": ctype})
        if code != 200:
            raise RuntimeError("signal %s answered %d: %s" % (status, code, text[:200]))


def multipart(fields, files):
    boundary = "----kiln-%032x" % random.getrandbits(128)
    out = io.BytesIO()
    for name, value in fields:
        out.write(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n" % (boundary, name)).encode())
        out.write(value.encode("utf-8") + b"\r\n")
    for name, data in files:
        out.write(
            (
                "--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n" % (boundary, name, name)
            ).encode()
        )
        out.write(data + b"\r\n")
    out.write(("--%s--\r\n" % boundary).encode())
    return out.getvalue(), "multipart/form-data; boundary=%s" % boundary


# ---------------------------------------------------------------------------------------------
# Heartbeat


class HeartBeat(threading.Thread):
    def __init__(self, client, interval):
        super().__init__(daemon=True)
        self.client = client
        self.interval = interval
        self.stopped = threading.Event()
        self.started_at = time.monotonic()

    def beat(self, first=False):
        if first:
            self.client.signal("WORKING")
        else:
            elapsed = time.monotonic() - self.started_at
            self.client.signal("WORKING", "Elapsed time (real): %.2fs" % elapsed)

    def run(self):
        while not self.stopped.wait(self.interval):
            try:
                self.beat()
            except Exception as e:  # noqa: BLE001 (a missed heartbeat must not end the run)
                log("heartbeat failed: %s" % e)

    def stop(self, wait=0):
        """Stops beating; with `wait`, lets a beat in flight finish first (up to `wait` seconds), so
        that no heartbeat reaches the region after the final signal has ended the run (and revoked
        the token it would be signed with)."""
        self.stopped.set()
        if wait and self.is_alive() and threading.current_thread() is not self:
            self.join(wait)


# ---------------------------------------------------------------------------------------------
# Scripts


def download_scripts(client, work_dir, generation):
    code, _, body = client.request(client.base_url + API_VERSION + "/maas-scripts")
    if code == 204:
        return None
    if code != 200:
        raise RuntimeError("maas-scripts answered %d" % code)
    scripts_dir = os.path.join(work_dir, "scripts.%d" % generation)
    shutil.rmtree(scripts_dir, ignore_errors=True)
    os.makedirs(scripts_dir)
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:*") as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(scripts_dir, filter="data")
        else:
            tar.extractall(scripts_dir)
    with open(os.path.join(scripts_dir, "index.json"), encoding="utf-8") as f:
        index = json.load(f)["1.0"]
    return scripts_dir, index


def current_disks():
    """name -> (model, serial) from lsblk; empty when lsblk is missing."""
    try:
        out = subprocess.run(
            ["lsblk", "--exclude", "1,2,7", "-d", "-P", "-o", "NAME,MODEL,SERIAL"],
            capture_output=True, text=True, check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    disks = {}
    for line in out.splitlines():
        kv = dict(re.findall(r'(\w+)="([^"]*)"', line))
        if "NAME" in kv:
            disks[kv["NAME"]] = (kv.get("MODEL", "").strip(), kv.get("SERIAL", "").strip())
    return disks


def interface_by_mac(mac):
    for path in glob.glob("/sys/class/net/*/address"):
        try:
            with open(path) as f:
                if f.read().strip().lower() == (mac or "").lower():
                    return path.split("/")[-2]
        except OSError:
            continue
    return None


def render_parameters(script):
    """argv entries and the runtime (seconds) for a script's parameters (reference §5.3)."""
    argv = []
    runtime = None
    for pname, p in sorted((script.get("parameters") or {}).items()):
        ptype = p.get("type")
        value = p.get("value", p.get("default"))
        if value is None or value == "":
            continue
        if ptype == "storage":
            v = dict(value) if isinstance(value, dict) else {"name": str(value)}
            path = None
            for name, (model, serial) in current_disks().items():
                if v.get("model") and model == v.get("model") and serial == v.get("serial"):
                    path = "/dev/" + name
                    v["name"] = name
            if path is None:
                path = v.get("id_path") or ("/dev/" + v["name"] if v.get("name") else "")
            v.setdefault("input", v.get("name", ""))
            keys = {k: str(v.get(k) or "") for k in ("input", "name", "model", "serial")}
            keys["path"] = path
            fmt = p.get("argument_format") or "--storage={path}"
        elif ptype == "interface":
            v = dict(value) if isinstance(value, dict) else {"name": str(value)}
            v["name"] = interface_by_mac(v.get("mac_address")) or v.get("name", "")
            keys = {k: str(v.get(k) or "") for k in ("name", "mac_address", "vendor", "product")}
            keys["mac"] = keys["mac_address"]
            keys["input"] = str(v.get("input") or keys["name"])
            fmt = p.get("argument_format") or "--interface={name}"
        elif ptype == "runtime":
            runtime = int(value)
            keys = {"input": str(runtime)}
            fmt = p.get("argument_format") or "--runtime={input}"
        else:
            keys = {"input": str(value)}
            fmt = p.get("argument_format") or "--%s={input}" % pname
        argv.extend(fmt.format(**keys).split())
    return argv, runtime


def run_order(scripts):
    return sorted(scripts, key=lambda s: (HARDWARE_ORDER.get(s.get("hardware_type", 0), 5), s["name"], s.get("script_result_id") or 0))


class Runner:
    def __init__(self, client, work_dir, send=True):
        self.client = client
        self.work_dir = work_dir
        self.out_dir = os.path.join(work_dir, "out")
        self.config_dir = os.path.join(work_dir, "config")
        self.bmc_sent = False
        self.send = send
        # Results of scripts run before the machine exists (enlistment), sent once it does.
        self.held = []
        os.makedirs(self.out_dir, exist_ok=True)
        os.makedirs(self.config_dir, exist_ok=True)

    def signal(self, *args, **kwargs):
        if self.send:
            self.client.signal(*args, **kwargs)

    def ident(self, s):
        return "%s (id: %s, script_version_id: %s)" % (s["name"], s.get("script_result_id"), s.get("script_version_id"))

    def install_packages(self, s, download_dir, env):
        pkgs = s.get("packages") or {}
        if not any(pkgs.get(k) for k in ("apt", "snap", "url")):
            return True
        self.signal("INSTALLING", "Installing packages for %s" % self.ident(s), self.id_fields(s))
        cmds = []
        apt = pkgs.get("apt") or []
        if apt:
            cmds.append(["apt-get", "-qy", "update"])
            cmds.append(["apt-get", "-qy", "--no-install-recommends", "install"] + list(apt if isinstance(apt, list) else [apt]))
        for snap in pkgs.get("snap") or []:
            snap = snap if isinstance(snap, dict) else {"name": snap}
            cmd = ["snap", "install", snap["name"]]
            if snap.get("channel"):
                cmd.append("--%s" % snap["channel"])
            if snap.get("mode") in ("classic", "dev", "jail"):
                cmd.append("--%smode" % snap["mode"] if snap["mode"] != "classic" else "--classic")
            cmds.append(cmd)
        for url in pkgs.get("url") or []:
            target = os.path.join(download_dir, os.path.basename(urllib.parse.urlparse(url).path) or "download")
            cmds.append(lambda url=url, target=target: fetch(url, target))
            # What MAAS's runner does with what it downloaded: install packages, unpack archives.
            if target.endswith(".deb"):
                cmds.append(["dpkg", "-i", target])
            elif target.endswith(".snap"):
                cmds.append(["snap", "install", "--dangerous", target])
            elif re.search(r"\.(tar|tar\.\w+|tgz|tbz2|txz)$", target):
                cmds.append(lambda target=target: unpack(target, download_dir))
        for cmd in cmds:
            if callable(cmd):
                proc = cmd()
                if proc.returncode == 0:
                    continue
            else:
                try:
                    proc = subprocess.run(cmd, env=dict(env, DEBIAN_FRONTEND="noninteractive"), capture_output=True)
                except OSError as e:
                    proc = subprocess.CompletedProcess(cmd, 127, b"", str(e).encode())
            if proc.returncode != 0:
                self.signal(
                    "WORKING",
                    "Failed installing package(s) for %s" % self.ident(s),
                    self.id_fields(s) + [("exit_status", proc.returncode)],
                    [(s["name"], proc.stdout + proc.stderr), (s["name"] + ".out", proc.stdout), (s["name"] + ".err", proc.stderr)],
                )
                return False
        return True

    @staticmethod
    def id_fields(s):
        return [("script_result_id", s.get("script_result_id")), ("name", s["name"]), ("script_version_id", s.get("script_version_id"))]

    def run_one(self, scripts_dir, s, serial_commissioning):
        name = s["name"]
        rid = s.get("script_result_id")
        base = os.path.join(self.out_dir, "%s.%s" % (name, rid) if rid is not None else name)
        paths = {"combined": base, "stdout": base + ".out", "stderr": base + ".err", "result": base + ".yaml"}
        download_dir = os.path.join(self.work_dir, "downloads", name)
        os.makedirs(download_dir, exist_ok=True)
        for p in paths.values():
            if os.path.exists(p):
                os.unlink(p)
        argv, runtime = render_parameters(s)
        timeout = runtime if runtime is not None else float(s.get("timeout_seconds") or 0)
        base_url = urllib.parse.urlparse(self.client.base_url)
        env = dict(os.environ)
        env.update(
            OUTPUT_COMBINED_PATH=paths["combined"],
            OUTPUT_STDOUT_PATH=paths["stdout"],
            OUTPUT_STDERR_PATH=paths["stderr"],
            RESULT_PATH=paths["result"],
            DOWNLOAD_PATH=download_dir,
            RUNTIME=str(int(timeout)),
            HAS_STARTED=str(bool(s.get("has_started"))),
            MAAS_BASE_URL="%s://%s" % (base_url.scheme, base_url.netloc),
            MAAS_RESOURCES_FILE=os.path.join(self.work_dir, "machine-resources.json"),
            MAAS_MACHINE_EXTRA_FILE="/machine-extra.json",
            MAAS_STORAGE_CONFIG_FILE="/storage-config.json",
        )
        bmc_path = os.path.join(self.config_dir, "bmc-config.yaml")
        if serial_commissioning:
            env["BMC_CONFIG_PATH"] = bmc_path

        self.signal("WORKING", "Starting %s" % self.ident(s), self.id_fields(s))
        if not self.install_packages(s, download_dir, env):
            return False

        cmd = [os.path.join(scripts_dir, s["path"])] + argv
        log("running %s" % " ".join(shlex.quote(c) for c in cmd))
        started = time.monotonic()
        timed_out = False
        with open(paths["combined"], "wb") as combined, open(paths["stdout"], "wb") as out, open(paths["stderr"], "wb") as err:
            lock = threading.Lock()
            try:
                proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=download_dir, start_new_session=True)
            except OSError as e:
                msg = ("%s: %s\n" % (cmd[0], e)).encode()
                err.write(msg)
                combined.write(msg)
                exit_status = 127
                proc = None
            if proc is not None:

                def pump(src, dst):
                    for chunk in iter(lambda: src.read1(65536), b""):
                        with lock:
                            dst.write(chunk)
                            combined.write(chunk)

                pumps = [threading.Thread(target=pump, args=(proc.stdout, out)), threading.Thread(target=pump, args=(proc.stderr, err))]
                for t in pumps:
                    t.start()
                try:
                    exit_status = proc.wait(timeout=timeout if timeout > 0 else None)
                except subprocess.TimeoutExpired:
                    timed_out = True
                    try:
                        os.killpg(proc.pid, signals.SIGKILL)
                    except ProcessLookupError:
                        pass
                    proc.wait()
                    exit_status = TIMEOUT_EXIT
                for t in pumps:
                    t.join()
        runtime_s = round(time.monotonic() - started, 4)

        files = []
        for part, key in ((name, "combined"), (name + ".out", "stdout"), (name + ".err", "stderr"), (name + ".yaml", "result")):
            if os.path.exists(paths[key]):
                with open(paths[key], "rb") as f:
                    files.append((part, f.read()))
        fields = [
            ("script_result_id", rid),
            ("runtime", runtime_s),
            ("exit_status", exit_status),
            ("name", name),
            ("script_version_id", s.get("script_version_id")),
        ]
        if timed_out:
            result = ("TIMEDOUT", "Timeout(%s) expired on %s" % (format_duration(timeout), self.ident(s)), fields, files)
        else:
            result = ("WORKING", "Finished %s: %d" % (self.ident(s), exit_status), fields, files)
        if self.send:
            self.client.signal(*result)
        else:
            self.held.append(result)

        if self.send and serial_commissioning and exit_status == 0 and not self.bmc_sent and os.path.exists(bmc_path):
            self.report_bmc(name, bmc_path)
        return exit_status == 0 and not timed_out

    def report_bmc(self, script_name, bmc_path):
        with open(bmc_path, encoding="utf-8") as f:
            params = read_flat_yaml(f.read()) or {}
        power_type = params.pop("power_type", None)
        if not power_type:
            return
        self.signal(
            "WORKING",
            "BMC credentials reconfigured by %s" % script_name,
            [("power_type", power_type), ("power_parameters", json.dumps({k: ("" if v is None else str(v)) for k, v in params.items()}))],
        )
        self.bmc_sent = True

    def run_set(self, scripts_dir, set_key, scripts):
        """Runs one set in MAAS's order; returns the number of scripts that failed."""
        failed = 0
        ordered = run_order(scripts)
        serial = [s for s in ordered if s.get("parallel", 0) == 0]
        instance = [s for s in ordered if s.get("parallel", 0) == 1]
        anything = [s for s in ordered if s.get("parallel", 0) == 2]
        anything.sort(key=lambda s: bool(s.get("apply_configured_networking")))
        for s in serial:
            failed += 0 if self.run_one(scripts_dir, s, set_key == "commissioning_scripts") else 1
        groups = {}
        for s in instance:
            groups.setdefault(s["name"], []).append(s)
        for name in sorted(groups, key=lambda n: [instance.index(s) for s in instance if s["name"] == n][0]):
            failed += self.run_parallel(scripts_dir, groups[name])
        if anything:
            failed += self.run_parallel(scripts_dir, anything)
        return failed

    def run_parallel(self, scripts_dir, scripts):
        results = [None] * len(scripts)

        def go(i, s):
            try:
                results[i] = self.run_one(scripts_dir, s, False)
            except Exception as e:  # noqa: BLE001
                log("%s: %s" % (s["name"], e))
                results[i] = False

        threads = [threading.Thread(target=go, args=(i, s)) for i, s in enumerate(scripts)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return sum(1 for r in results if not r)


def fetch(url, target):
    """Downloads url to target (no credentials: package URLs are public); a CompletedProcess."""
    try:
        with urllib.request.urlopen(url, timeout=300) as resp, open(target, "wb") as f:
            while True:
                chunk = resp.read(1 << 20)
                if not chunk:
                    break
                f.write(chunk)
        return subprocess.CompletedProcess([url], 0, ("downloaded %s\n" % url).encode(), b"")
    except (OSError, urllib.error.URLError) as e:
        return subprocess.CompletedProcess([url], 1, b"", ("%s: %s\n" % (url, e)).encode())


def unpack(archive, into):
    try:
        with tarfile.open(archive, "r:*") as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(into, filter="data")
            else:
                tar.extractall(into)
        return subprocess.CompletedProcess([archive], 0, ("unpacked %s\n" % archive).encode(), b"")
    except (OSError, tarfile.TarError) as e:
        return subprocess.CompletedProcess([archive], 1, b"", ("%s: %s\n" % (archive, e)).encode())


def format_duration(seconds):
    seconds = int(seconds)
    return "%d:%02d:%02d" % (seconds // 3600, seconds % 3600 // 60, seconds % 60)


def run(client, work_dir, heartbeat_interval):
    heart = HeartBeat(client, heartbeat_interval)
    heart.beat(first=True)
    heart.start()

    def finish(status, message):
        heart.stop(wait=30)
        client.signal(status, message)

    try:
        runner = Runner(client, work_dir)
        generation = 0
        got = download_scripts(client, work_dir, generation)
        if got is None:
            finish("OK", "All scripts successfully ran")
            return 0
        scripts_dir, index = got
        commissioning = index.get("commissioning_scripts") or []
        if commissioning:
            failed = runner.run_set(scripts_dir, "commissioning_scripts", commissioning)
            if failed:
                finish("FAILED", "%d commissioning scripts failed to run" % failed)
                return 1
            # The region may have added scripts for the hardware just discovered (for_hardware).
            generation += 1
            got = download_scripts(client, work_dir, generation)
            if got is None:
                finish("OK", "All scripts successfully ran")
                return 0
            scripts_dir, index = got
        for set_key in ("testing_scripts", "release_scripts", "deployment_scripts"):
            scripts = index.get(set_key) or []
            if not scripts:
                continue
            client.signal(SET_SIGNAL[set_key])
            failed = runner.run_set(scripts_dir, set_key, scripts)
            if failed:
                finish("FAILED", "%d %s scripts failed to run" % (failed, SET_WORD[set_key]))
                return 1
        finish("OK", "All scripts successfully ran")
        return 0
    finally:
        heart.stop()


def debian_arch():
    try:
        arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()
        if arch:
            return arch
    except OSError:
        pass
    machine = os.uname().machine
    return {"x86_64": "amd64", "aarch64": "arm64", "ppc64le": "ppc64el", "i686": "i386", "i386": "i386"}.get(machine, machine)


OPENBMC_MAC = "02:00:00:00:00:02"


def mac_addresses():
    """MACs of the physical interfaces (all non-loopback ones when none is physical), without
    the OpenBMC USB network's MAC."""
    physical, other = [], []
    for d in sorted(glob.glob("/sys/class/net/*")):
        try:
            with open(d + "/address") as f:
                mac = f.read().strip().lower()
        except OSError:
            continue
        if not mac or mac == "00:00:00:00:00:00" or mac == OPENBMC_MAC:
            continue
        (physical if os.path.exists(d + "/device") else other).append(mac)
    return sorted(set(physical or other))


def enlist(client, work_dir, config_path, heartbeat_interval):
    """Anonymous enlistment (reference 4.10): register the machine with its MACs and BMC, take the
    node credentials from its preseed, send the results held back, then run as a known node."""
    meta = urllib.parse.urlparse(client.base_url)
    api = "%s://%s/MAAS/api/2.0/machines/" % (meta.scheme, meta.netloc)
    macs = mac_addresses()
    code, _, body = client.request(api + "?op=is_registered&mac_address=" + urllib.parse.quote(",".join(macs)))
    if code == 200 and body.strip().lower() == b"true":
        print("Machine is already registered")
        return 0
    runner = Runner(client, work_dir, send=False)
    got = download_scripts(client, work_dir, 0)
    if got is not None:
        scripts_dir, index = got
        for s in run_order(index.get("commissioning_scripts") or []):
            if s.get("parallel", 0) == 0:
                runner.run_one(scripts_dir, s, True)
    bmc_path = os.path.join(runner.config_dir, "bmc-config.yaml")
    power = []
    if os.path.exists(bmc_path):
        with open(bmc_path, encoding="utf-8") as f:
            params = read_flat_yaml(f.read()) or {}
        power_type = params.pop("power_type", None)
        if power_type:
            power = [("power_type", power_type), ("power_parameters", json.dumps({k: ("" if v is None else str(v)) for k, v in params.items()}))]
    form = [("architecture", debian_arch()), ("mac_addresses", ",".join(macs)), ("commission", "True")]
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    code, _, body = client.request(api, urllib.parse.urlencode(form + power).encode(), headers)
    if code != 200 and power:
        log("enlisting with power parameters failed (%d %s); retrying without" % (code, body[:200]))
        code, _, body = client.request(api, urllib.parse.urlencode(form).encode(), headers)
    if code != 200:
        raise RuntimeError("enlisting failed: %d %s" % (code, body[:200]))
    system_id = json.loads(body)["system_id"]
    log("enlisted as %s" % system_id)
    code, _, preseed = client.request(client.base_url + "latest/by-id/%s/?op=get_preseed" % system_id)
    if code != 200:
        raise RuntimeError("get_preseed answered %d" % code)
    text = preseed.decode("utf-8")
    if config_path:
        with open(config_path, "w", encoding="utf-8") as f:
            f.write(text)
    maas = datasource_from_text(text)
    client.creds = Credentials(maas.get("consumer_key"), maas.get("token_key"), maas.get("token_secret"), maas.get("consumer_secret"))
    if client.creds.anonymous:
        raise RuntimeError("the preseed of %s holds no node credentials" % system_id)
    for result in runner.held:
        client.signal(*result)
    return run(client, work_dir, heartbeat_interval)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Run the scripts the region gives this machine and report their results.")
    ap.add_argument("--config", help="cloud-init datasource config (JSON or YAML)")
    ap.add_argument("--url", help="metadata URL, e.g. http://rack:5248/MAAS/metadata/")
    ap.add_argument("--ckey")
    ap.add_argument("--tkey")
    ap.add_argument("--tsec")
    ap.add_argument("--csec", default="")
    ap.add_argument("--phase", default="", help="what the region booted this machine for (logged)")
    ap.add_argument("--heartbeat-interval", type=float, default=120.0)
    ap.add_argument("work_dir")
    args = ap.parse_args(argv)

    conf = {} if (args.url and args.tsec) else load_config(args.config)
    url = args.url or conf.get("metadata_url")
    creds = Credentials(
        args.ckey or conf.get("consumer_key"),
        args.tkey or conf.get("token_key"),
        args.tsec or conf.get("token_secret"),
        args.csec or conf.get("consumer_secret"),
    )
    os.makedirs(args.work_dir, exist_ok=True)
    log("phase %s, metadata %s" % (args.phase or "-", url))
    client = Client(url, creds)
    try:
        if creds.anonymous:
            return enlist(client, args.work_dir, args.config, args.heartbeat_interval)
        return run(client, args.work_dir, args.heartbeat_interval)
    except RuntimeError as e:
        log(str(e))
        return 2


if __name__ == "__main__":
    sys.exit(main())
