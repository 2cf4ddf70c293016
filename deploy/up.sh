#!/usr/bin/env bash
# Installs and starts a whole Kiln on this machine: PostgreSQL, Redis and NATS (from Debian),
# Kiln's npm packages, Kiln's build (JavaScript under dist/, `npx nx run-many -t build`), the
# database and its migrations, a region on :5240 and a rack, an administrator, and prints the
# administrator's API key. Safe to run again: it keeps the database, secrets and users, builds the
# current code again and restarts the region and rack on it. The services, and the admin commands
# this script runs, run the built JavaScript (node dist/apps/<app>/main.js); no TypeScript
# compiler runs when they start.
#
# NATS runs with the config Kiln writes (/etc/kiln/nats-server.conf): no anonymous user, the
# region with its own nkey, each rack with its own nkey and permissions once it has enrolled
# with a one-time token (this script issues one for its local rack).
#
# Settings live in /etc/kiln/region.env and /etc/kiln/rack.env (created on first run).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. tools/services.sh

command -v node >/dev/null || { echo "Kiln needs Node.js 20 or later (https://nodejs.org or Debian's nodejs)" >&2; exit 1; }
[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ] || { echo "Kiln needs Node.js 20 or later" >&2; exit 1; }

ensure_postgres
ensure_redis
apt_ensure nats-server
# Every tool the rack's power drivers run: ipmi (freeipmi's ipmipower, ipmitool), virsh, and curl
# for redfish/webhook checks. A rack without one reports it when it registers.
apt_ensure freeipmi-tools ipmitool libvirt-clients curl
# The rack reads its neighbour table (ip -j neigh) for ARP discoveries.
apt_ensure iproute2
# The build compiles the rack's native addon (apps/rack/native, node-gyp): python3, make, a C compiler.
apt_ensure python3 make g++

# Redis holds queued lifecycle jobs. Postgres's effect outbox is their record and the region
# queues again whatever Redis lost, but an append-only file keeps Redis from losing them at all.
redis_durable() {
  local conf=/etc/redis/redis.conf
  if as_root test -f "$conf"; then
    as_root sed -i -E 's/^#?\s*appendonly .*/appendonly yes/; s/^#?\s*appendfsync .*/appendfsync everysec/' "$conf"
    as_root grep -q '^appendonly yes' "$conf" || echo 'appendonly yes' | as_root tee -a "$conf" >/dev/null
    as_root grep -q '^appendfsync everysec' "$conf" || echo 'appendfsync everysec' | as_root tee -a "$conf" >/dev/null
  fi
  # The running server too, without a restart (the file above covers the next start).
  redis-cli -h 127.0.0.1 -p 6379 CONFIG SET appendfsync everysec >/dev/null
  redis-cli -h 127.0.0.1 -p 6379 CONFIG SET appendonly yes >/dev/null
}
redis_durable

npm ci --no-audit --no-fund --loglevel=error
# The build: region, rack and CLI as JavaScript under dist/ (tools/build/build.js), before
# anything is (re)started on it.
NX_DAEMON=false NX_NO_CLOUD=true npx nx run-many -t build --outputStyle=static

as_root mkdir -p /etc/kiln /var/lib/kiln /var/lib/kiln-rack /var/log/kiln /run/kiln
secret() { head -c 48 /dev/urandom | base64 | tr -d '/+=\n' | head -c 48; }

if ! as_root test -f /etc/kiln/region.env; then
  db_pass=$(secret)
  as_root install -m 600 /dev/null /etc/kiln/secret-key
  secret | as_root tee /etc/kiln/secret-key >/dev/null
  as_root su postgres -c "psql -qc \"CREATE ROLE kiln LOGIN PASSWORD '$db_pass'\"" 2>/dev/null || \
    as_root su postgres -c "psql -qc \"ALTER ROLE kiln LOGIN PASSWORD '$db_pass'\""
  as_root tee /etc/kiln/region.env >/dev/null <<ENV
KILN_DATABASE_URL=postgres://kiln:$db_pass@127.0.0.1:5432/kiln
KILN_REDIS_URL=redis://127.0.0.1:6379
KILN_NATS_URL=nats://127.0.0.1:4222
KILN_SECRET_KEY_FILE=/etc/kiln/secret-key
KILN_HTTP_PORT=5240
ENV
  as_root tee /etc/kiln/rack.env >/dev/null <<ENV
KILN_NATS_URL=nats://127.0.0.1:4222
KILN_RACK_STATE_DIR=/var/lib/kiln-rack
KILN_REGION_URL=http://127.0.0.1:5240
ENV
  as_root chmod 600 /etc/kiln/region.env /etc/kiln/rack.env
fi
# Racks prove who they are with their NATS nkey now: the old shared rack secret is dropped.
as_root sed -i '/^KILN_RACK_SECRET=/d' /etc/kiln/region.env /etc/kiln/rack.env
# Settings added since the first run of an older version; a value the operator set is kept.
env_default() {
  as_root grep -q "^$2=" "$1" || echo "$2=$3" | as_root tee -a "$1" >/dev/null
}
env_default /etc/kiln/region.env KILN_NATS_NKEY_FILE /etc/kiln/nats-region.nk
env_default /etc/kiln/region.env KILN_NATS_SERVER_CONFIG /etc/kiln/nats-server.conf
env_default /etc/kiln/region.env KILN_NATS_SERVER_PID_FILE /run/kiln/nats-server.pid
env_default /etc/kiln/region.env KILN_NATS_SERVER_LISTEN 0.0.0.0:4222
env_default /etc/kiln/region.env KILN_NATS_JETSTREAM_DIR /var/lib/kiln/nats
as_root mkdir -p /var/lib/kiln/nats
kiln_cli() { as_root env $(as_root grep -v '^#' /etc/kiln/region.env | xargs) node dist/apps/cli/main.js "$@"; }

as_root su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname = 'kiln'\"" | grep -q 1 || \
  as_root su postgres -c "psql -qc 'CREATE DATABASE kiln OWNER kiln'"

set -a
. /etc/kiln/region.env
set +a
node dist/apps/cli/main.js migrate

# The region's NATS identity (created once), and the server's config from the database.
kiln_cli nats-nkey --out /etc/kiln/nats-region.nk >/dev/null
kiln_cli nats-config --out /etc/kiln/nats-server.conf
if have_systemd; then
  # Debian's own nats-server service runs without auth: Kiln's takes its place.
  as_root systemctl disable --now --quiet nats-server 2>/dev/null || true
  as_root cp deploy/systemd/kiln-nats.service /etc/systemd/system/kiln-nats.service
  as_root systemctl daemon-reload
  as_root systemctl enable --quiet kiln-nats
  if as_root systemctl is-active --quiet kiln-nats; then as_root systemctl reload kiln-nats; else as_root systemctl start kiln-nats; fi
else
  nats_pid=$(as_root cat /run/kiln/nats-server.pid 2>/dev/null || true)
  if [ -n "$nats_pid" ] && as_root kill -0 "$nats_pid" 2>/dev/null; then
    as_root kill -HUP "$nats_pid"
  else
    # A NATS server that is not Kiln's (e.g. one started without auth) must give up the port.
    as_root start-stop-daemon --stop --oknodo --retry 5 --exec /usr/sbin/nats-server >/dev/null
    as_root start-stop-daemon --start --background --exec /usr/sbin/nats-server -- \
      -c /etc/kiln/nats-server.conf -l /var/log/kiln/nats.log
  fi
fi
wait_port 4222 NATS

start() {
  local name=$1 script=$2 envfile=$3
  if have_systemd; then
    sed "s#@ROOT@#$ROOT#g" "deploy/systemd/kiln-$name.service" | as_root tee "/etc/systemd/system/kiln-$name.service" >/dev/null
    as_root systemctl daemon-reload
    as_root systemctl enable --quiet "kiln-$name"
    as_root systemctl restart "kiln-$name"
  else
    local pidfile=/run/kiln/$name.pid
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      kill "$(cat "$pidfile")"; while kill -0 "$(cat "$pidfile")" 2>/dev/null; do sleep 0.2; done
    fi
    # exec all the way down, so that the pid recorded is node's own and the next run stops it.
    if [ "$(id -u)" -eq 0 ]; then
      (exec env $(grep -v '^#' "$envfile" | xargs) nohup node --enable-source-maps "$script") \
        >>"/var/log/kiln/$name.log" 2>&1 &
    else
      sudo env $(grep -v '^#' "$envfile" | xargs) nohup node --enable-source-maps "$script" \
        >>"/var/log/kiln/$name.log" 2>&1 &
    fi
    echo $! | as_root tee "$pidfile" >/dev/null
  fi
}

start region dist/apps/region/main.js /etc/kiln/region.env
for _ in $(seq 1 150); do curl -sf http://127.0.0.1:5240/MAAS/api/2.0/version/ >/dev/null && break; sleep 0.2; done
curl -sf http://127.0.0.1:5240/MAAS/api/2.0/version/ >/dev/null || { echo "the region did not start; see /var/log/kiln/region.log" >&2; exit 1; }
if [ -f dist/apps/rack/main.js ]; then
  # The boot loaders the rack hands out (lpxelinux.0, bootx64.efi, ...), into the rack's boot root.
  rack_setting() { as_root sed -n "s/^$1=//p" /etc/kiln/rack.env | tail -1; }
  boot_root=$(rack_setting KILN_RACK_BOOT_ROOT)
  state_dir=$(rack_setting KILN_RACK_STATE_DIR)
  tools/rack/install-boot-loaders.sh "${boot_root:-${state_dir:-/var/lib/kiln-rack}/boot}"
  # The local rack enrolls with a fresh one-time token until it has pinned the region's key.
  if ! as_root test -f "${state_dir:-/var/lib/kiln-rack}/region-signing.pub"; then
    token=$(kiln_cli rack-token --hours 1 2>/dev/null)
    as_root sed -i '/^KILN_RACK_ENROLL_TOKEN=/d' /etc/kiln/rack.env
    echo "KILN_RACK_ENROLL_TOKEN=$token" | as_root tee -a /etc/kiln/rack.env >/dev/null
  fi
  start rack dist/apps/rack/main.js /etc/kiln/rack.env
fi

if ! as_root test -f /etc/kiln/admin-password; then
  pw=$(secret | head -c 20)
  node dist/apps/cli/main.js createadmin --username admin --password "$pw" --email admin@localhost >/dev/null
  echo "$pw" | as_root tee /etc/kiln/admin-password >/dev/null
  as_root chmod 600 /etc/kiln/admin-password
fi
key=$(node dist/apps/cli/main.js apikey --username admin | head -1)

# --- Images: the ephemeral environment (tools/images/build-ephemeral.sh) and the deployable one --
# The Debian 12 image that machines boot for enlistment, commissioning and testing. Its first build
# takes 5-10 minutes, so it runs in the background (log: /var/log/kiln/images-build.log); later runs
# find it in the cache ($KILN_IMAGE_CACHE, default /var/cache/kiln/images) and build nothing.
# Once built, `kiln boot-resource-import` registers it as the boot resource debian/bookworm
# (amd64/generic) through the region's API (seconds for its ~180 MB; an image the region already
# has is not sent again), and the rack fetches it from the region within a minute
# (KILN_RACK_IMAGE_SYNC_SECONDS) into its cache. Until then a netbooting machine is told, on its
# console and in its events, that the region has no boot image yet.
apt_ensure mmdebstrap squashfs-tools zstd python3
image_cache="${KILN_IMAGE_CACHE:-/var/cache/kiln/images}"
import_image() { node dist/apps/cli/main.js boot-resource-import "$1" --url http://127.0.0.1:5240/MAAS --apikey "$key"; }
# The deployable image (tools/images/build-deployable.sh, ~3 minutes, root.tgz ~160 MB) is what
# `deploy` installs; it is built and imported the same way, after the ephemeral one (the two builds
# share the package cache, so they run one after the other).
to_build=""
for builder in build-ephemeral build-deployable; do
  if image_dir=$(as_root env KILN_IMAGE_CACHE="$image_cache" tools/images/$builder.sh --print-dir); then
    echo "image ($builder): $image_dir"
    import_image "$image_dir"
  else
    to_build="$to_build $builder"
  fi
done
if [ -n "$to_build" ]; then
  as_root mkdir -p /var/log/kiln
  as_root env KILN_IMAGE_CACHE="$image_cache" KEY="$key" BUILDERS="$to_build" sh -c \
    'nohup sh -c "for b in \$BUILDERS; do dir=\$(tools/images/\$b.sh) &&
       node dist/apps/cli/main.js boot-resource-import \"\$dir\" --url http://127.0.0.1:5240/MAAS --apikey \"\$KEY\"; done" \
       >>/var/log/kiln/images-build.log 2>&1 </dev/null &'
  echo "images:$to_build building in the background (5-15 minutes) into $image_cache, then importing them; see /var/log/kiln/images-build.log"
fi
# --- end of the images ----------------------------------------------------------------------------

cat <<MSG

Kiln is running.
  region API   http://$(hostname -f 2>/dev/null || hostname):5240/MAAS/   (logs: /var/log/kiln/region.log)
  admin        user "admin", password in /etc/kiln/admin-password
  API key      $key

  maas login admin http://127.0.0.1:5240/MAAS/ $key
MSG
