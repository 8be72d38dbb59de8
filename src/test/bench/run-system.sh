#!/usr/bin/env bash
# README "Performance" 2-4: HTTPS /mutate vs a no-op endpoint under wrk, pods/s through a real
# kube-apiserver with vs without the webhook, start-to-ready and RSS. Installs wrk (Debian) if
# missing. Options: -Drounds=3 -Dpods=200 -Dwrk.duration=10s (as MAVEN_OPTS-style -D args).
set -euo pipefail
cd "$(dirname "$0")/../../.."
source src/test/jdk.sh
command -v wrk >/dev/null || { apt-get install -y -q wrk >/dev/null || sudo apt-get install -y -q wrk >/dev/null; }
bash src/test/kube/build-binaries.sh >/dev/null
bash src/test/istio/build-istio.sh >/dev/null
mvn -q -B package -DskipTests
exec mvn -q -B exec:java -Dexec.classpathScope=test -Dexec.cleanupDaemonThreads=false \
  -Dexec.mainClass=dev.zeebeambient.enforcer.bench.SystemBenchmark "$@"
