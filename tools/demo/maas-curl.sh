#!/usr/bin/env bash
# curl with a MAAS API key (OAuth 1.0a PLAINTEXT), as every MAAS client signs requests.
# usage: maas-curl.sh <consumer:token:secret> <curl args...>
set -euo pipefail
IFS=: read -r ck tk ts <<<"$1"
shift
nonce="$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')"
exec curl -sS -H "Authorization: OAuth oauth_version=\"1.0\", oauth_signature_method=\"PLAINTEXT\", oauth_consumer_key=\"$ck\", oauth_token=\"$tk\", oauth_signature=\"%26$ts\", oauth_nonce=\"$nonce\", oauth_timestamp=\"$(date +%s)\"" "$@"
