#!/usr/bin/env bash
# README "Reliability": an hour of mixed churn against two replicas (leader frozen past its Lease every 10 min);
# heap after a full GC and RSS of each replica every 5 minutes, ERROR lines, stack frames, clients never enrolled.
# Not in CI. Options as -D args, e.g. -Dsoak.minutes=10 -Dsoak.rate=10. Exit status 1 on a never-enrolled client or an error.
set -euo pipefail
cd "$(dirname "$0")/../../.."
source src/test/bench/bench.sh
bench_main Soak "$@"
