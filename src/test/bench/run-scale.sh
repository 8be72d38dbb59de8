#!/usr/bin/env bash
# README "Performance" 5 (issue 14): the enforcer against a real kube-apiserver holding 10,000 pods in
# 50 namespaces (5 opted in): start -> ready, time until 1,000 missed clients are labelled, heap after
# a full GC and RSS per stage, bytes per pod. Options as -D args, e.g. -Dplain.pods=9000 -Dfast.rate=200.
set -euo pipefail
cd "$(dirname "$0")/../../.."
source src/test/bench/bench.sh
bench_main ScaleBenchmark "$@"
