#!/usr/bin/env bash
# The version matrix (README "Kubernetes versions"): builds kube-apiserver for every supported minor from the Go module
# proxy (cached per version in ~/.kube_api_test/k8s; cold about 3-5 min each on 2 cores), packages the enforcer and runs
# KubernetesMatrixIT on each minor. Prints one table per minor (also in target/kubernetes-matrix/<version>.md).
#   src/test/kube/matrix.sh              every minor from the oldest supported to the newest
#   src/test/kube/matrix.sh 1.33,1.34    some of them (oldest, newest and x.y work too)
set -euo pipefail
cd "$(dirname "$0")/../../.."
source src/test/jdk.sh
which=${1:-all}
start=$(date +%s)
KUBE_MINORS=all bash src/test/kube/build-binaries.sh
bash src/test/istio/build-istio.sh >/dev/null
built=$(date +%s)
mvn -q -B package -DskipTests -DskipTestBinaries=true -Dimage.skip=true -Daot.skip=true
rm -rf target/kubernetes-matrix
status=0
mvn -B test-compile failsafe:integration-test failsafe:verify -DskipTestBinaries=true -Dit.test=KubernetesMatrixIT \
  -Dkube.matrix="$which" > target/kubernetes-matrix.log 2>&1 || status=$?
for f in target/kubernetes-matrix/*.md; do [ -f "$f" ] && { cat "$f"; echo; }; done
grep -E "Tests run:|FAIL" target/kubernetes-matrix.log | tail -3 || true
echo "matrix: binaries ready in $((built - start)) s, run $(( $(date +%s) - built )) s; exit $status (log: target/kubernetes-matrix.log)"
exit $status
