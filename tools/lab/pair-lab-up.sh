#!/usr/bin/env bash
# pair-lab-up.sh PREFIX: two namespaces joined by one veth pair, for benchmarks
# (perf-baselines.md section 1): PREFIX-srv holds pbs0 10.99.0.1/16 (the server under test),
# PREFIX-cli holds pbc0 10.99.0.2/16 (the load generator). Nothing is routed out.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lab-env.sh"
P=${1:?usage: pair-lab-up.sh PREFIX}
lab_ns_add "$P-srv"
lab_ns_add "$P-cli"
ip -n "$P-srv" link add pbs0 type veth peer name pbc0 netns "$P-cli"
ip -n "$P-srv" addr add 10.99.0.1/16 dev pbs0
ip -n "$P-cli" addr add 10.99.0.2/16 dev pbc0
ip -n "$P-srv" link set pbs0 up
ip -n "$P-cli" link set pbc0 up
lab_wait_up "$P-srv" pbs0
lab_wait_up "$P-cli" pbc0
