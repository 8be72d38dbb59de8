#!/usr/bin/env bash
# README "Container image": start-up and footprint of the built image under podman, run as the
# Deployment runs it (security context, 384Mi limit, the image's JVM flags), per variant of extra
# JVM flags; the system benchmark's load in between. Builds the image first (mvn package).
# Options: -Drounds=3 -Dpods=200 -Dload.duration=30s -Dvariants='name=flags;name=flags' -Dimage=REF
set -euo pipefail
cd "$(dirname "$0")/../../.."
source src/test/jdk.sh
command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null
source src/test/bench/bench.sh
bench_main ImageBenchmark "$@"
