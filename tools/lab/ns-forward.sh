#!/usr/bin/env bash
# ns-forward.sh NS PORT SOCKET: makes a service of the root namespace reachable from inside NS
# without linking NS to it: socat in NS listens on 127.0.0.1:PORT and passes each connection to
# the Unix socket SOCKET (a file, so visible from every network namespace), where the caller
# listens and relays to the real service (a rack in the lab reaches NATS this way). Returns once
# the port accepts connections; socat runs in NS until lab-down.sh ends it.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lab-env.sh"
NS=${1:?usage: ns-forward.sh NS PORT SOCKET}; PORT=${2:?PORT}; SOCKET=${3:?SOCKET}
[[ "$PORT" =~ ^[0-9]+$ ]] || lab_die "PORT must be a number"
command -v socat >/dev/null || lab_die "socat is not installed (tools/test.sh installs it)"
ip netns exec "$NS" setsid socat "TCP-LISTEN:$PORT,bind=127.0.0.1,reuseaddr,fork" "UNIX-CONNECT:$SOCKET" </dev/null >/dev/null 2>&1 &
for _ in $(seq 1 250); do
  if ip netns exec "$NS" bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" 2>/dev/null; then exit 0; fi
  sleep 0.02
done
lab_die "socat did not listen on $NS 127.0.0.1:$PORT"
