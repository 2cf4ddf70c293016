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

# npm ships node-gyp: use its JavaScript entry point (under npm/npx, PATH also holds a shell shim
# named node-gyp that cannot be run with node).
npm_root="$(dirname "$(readlink -f "$(command -v npm)")")/.."
gyp="$npm_root/node_modules/node-gyp/bin/node-gyp.js"
if [[ ! -f "$gyp" ]]; then
  gyp="$(command -v node-gyp || true)"
  [[ -n "$gyp" ]] || { echo "kiln_net: node-gyp not found (it comes with npm)" >&2; exit 1; }
  exec_gyp() { "$gyp" "$@"; }
else
  exec_gyp() { node "$gyp" "$@"; }
fi
nodedir="${npm_config_nodedir:-$(npm config get nodedir 2>/dev/null || true)}"
if [[ -z "$nodedir" || "$nodedir" == "undefined" || "$nodedir" == "null" ]]; then
  nodedir="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
fi
exec_gyp rebuild --nodedir="$nodedir" --loglevel=warn >&2
