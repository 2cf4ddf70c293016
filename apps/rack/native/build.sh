#!/usr/bin/env bash
# Builds the kiln_net N-API addon (apps/rack/native/build/Release/kiln_net.node) with node-gyp,
# against the Node headers already on the machine (no header download). Needs python3, make and
# a C compiler. Idempotent; safe to run from several processes at once (a lock directory
# serialises them).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

lock="$here/.build.lock"
for _ in $(seq 1 600); do
  if mkdir "$lock" 2>/dev/null; then break; fi
  sleep 0.1
done
trap 'rmdir "$lock" 2>/dev/null || true' EXIT

if [[ -f build/Release/kiln_net.node && build/Release/kiln_net.node -nt src/kiln_net.c && build/Release/kiln_net.node -nt binding.gyp ]]; then
  exit 0
fi

gyp="$(command -v node-gyp || true)"
if [[ -z "$gyp" ]]; then
  # npm ships node-gyp; find it next to the npm that is on PATH.
  npm_root="$(dirname "$(readlink -f "$(command -v npm)")")/.."
  gyp="$npm_root/node_modules/node-gyp/bin/node-gyp.js"
fi
nodedir="${npm_config_nodedir:-$(npm config get nodedir 2>/dev/null || true)}"
if [[ -z "$nodedir" || "$nodedir" == "undefined" || "$nodedir" == "null" ]]; then
  nodedir="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
fi
node "$gyp" rebuild --nodedir="$nodedir" --loglevel=warn >&2
