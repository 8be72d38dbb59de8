#!/usr/bin/env bash
# README "Performance" 2-4: HTTPS /mutate vs a no-op endpoint under wrk and at a fixed rate under
# h2load, pods/s through a real kube-apiserver with no webhook / the webhook calling /noop / the
# webhook calling /mutate, start-to-ready and RSS; the admission paths (no admission, the enroll
# policy, policy + webhook as shipped, webhook only; two pod mixes; webhook calls counted by the API
# server; -Donly=paths runs this part alone, -Dpaths.no-warning=true adds the mutating policy without its
# two warning policies). Installs wrk and h2load (Debian wrk,
# nghttp2-client) if missing. Options: -Drounds=3 -Dpods=200 -Dwrk.duration=10s -Dh2load.duration=10
# -Dh2load.clients=10 -Dh2load.rps=100 -Dcompare.match-conditions=true (as MAVEN_OPTS-style -D args).
set -euo pipefail
cd "$(dirname "$0")/../../.."
source src/test/jdk.sh
command -v wrk >/dev/null || { apt-get install -y -q wrk >/dev/null || sudo apt-get install -y -q wrk >/dev/null; }
command -v h2load >/dev/null || { apt-get install -y -q nghttp2-client >/dev/null || sudo apt-get install -y -q nghttp2-client >/dev/null; }
source src/test/bench/bench.sh
bench_main SystemBenchmark "$@"
