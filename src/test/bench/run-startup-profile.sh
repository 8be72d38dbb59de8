#!/usr/bin/env bash
# README "Performance" 6 (issue 15 §1): where the packaged enforcer's start-up goes, against the local
# API server and istiod: phase times per round, the lifecycle's per-part cost, classes loaded by
# origin/package and JFR execution samples by package. Options: -Drounds=3 -Dreplica.jvm.extra=...
set -euo pipefail
cd "$(dirname "$0")/../../.."
source src/test/bench/bench.sh
bench_main StartupProfile "$@"
