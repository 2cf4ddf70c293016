#!/usr/bin/env bash
# Walks one machine through Kiln's lifecycle with plain curl and MAAS API keys:
# an admin adopts a server with manual power and releases it (Ready), user A allocates it,
# user B fails to, A deploys it (Deploying), releases it, and the events are shown.
#   tools/demo/lifecycle-demo.sh <admin api key> [region url]
set -euo pipefail
here=$(dirname "$0")
ADMIN=$1
URL=${2:-http://127.0.0.1:5240}/MAAS/api/2.0
c() { "$here/maas-curl.sh" "$@"; }
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# Create a user (as the admin) and log in as it the way python-libmaas does, to get its API key.
user_key() {
  local pw
  pw=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
  c "$ADMIN" -X POST "$URL/users/" -d username="$1" -d email="$1@example.com" -d password="$pw" -d is_superuser=0 >/dev/null
  curl -sS -X POST "${URL%/api/2.0}/accounts/authenticate/" -d username="$1" -d password="$pw" -d consumer=demo |
    field 'd["consumer_key"] + ":" + d["token_key"] + ":" + d["token_secret"]'
}

run=$(date +%s)
ALICE=$(user_key "alice-$run")
BOB=$(user_key "bob-$run")
mac=$(printf '52:54:00:%02x:%02x:%02x' $((RANDOM%256)) $((RANDOM%256)) $((RANDOM%256)))

echo "== admin adopts a running server with manual power (deployed=true), then releases it"
sid=$(c "$ADMIN" -X POST "$URL/machines/" -d architecture=amd64/generic -d mac_addresses="$mac" -d power_type=manual -d deployed=true | field 'd["system_id"]')
c "$ADMIN" -X POST "$URL/machines/$sid/?op=release" | field 'd["status_name"]'
echo "== alice-$run allocates $sid"
c "$ALICE" -X POST "$URL/machines/?op=allocate" -d system_id="$sid" | field 'd["status_name"], d["owner"]'
echo "== bob-$run tries to allocate it"
c "$BOB" -w ' (HTTP %{http_code})\n' -X POST "$URL/machines/?op=allocate" -d system_id="$sid"
echo "== alice-$run deploys it"
c "$ALICE" -X POST "$URL/machines/$sid/?op=deploy" -d distro_series=jammy | field 'd["status_name"], d["distro_series"]'
echo "== alice-$run releases it"
c "$ALICE" -X POST "$URL/machines/$sid/?op=release" | field 'd["status_name"], d["owner"]'
echo "== events, newest first"
c "$ADMIN" "$URL/events/?op=query&id=$sid&level=DEBUG" |
  field '"\n".join("%s  %-7s %s: %s" % (e["created"], e["level"], e["type"], e["description"]) for e in d["events"])'
