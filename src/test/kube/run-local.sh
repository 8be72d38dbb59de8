#!/usr/bin/env bash
# README "Run": the enforcer against a local real kube-apiserver + etcd (no cluster, no Docker).
# Builds the API server binaries once (cached), packages the enforcer, starts both, prints the
# kubeconfig and commands to try. Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/../../.."
source src/test/jdk.sh
bash src/test/kube/build-binaries.sh
bash src/test/istio/build-istio.sh
mvn -q -B package -DskipTests
exec mvn -q -B exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=dev.zeebeambient.enforcer.testsupport.LocalRun -Dexec.cleanupDaemonThreads=false
