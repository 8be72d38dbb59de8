#!/usr/bin/env bash
# Builds helm from the Go module proxy into the test binaries' cache:
# $KUBE_API_TEST_DIR/helm/<version>/helm (default ~/.kube_api_test), beside the API server's binaries.
# A wrapper module (`tool` directive) pins helm and everything it builds with in go.sum.
# A no-op when the binary is there. The chart tests (HelmChartTest, HelmIT) run it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${KUBE_API_TEST_DIR:-$HOME/.kube_api_test}
version=$(awk '$1 == "helm.sh/helm/v3" { print $2; exit }' "$here/go.mod")
# As helm's Makefile: the version, and the Kubernetes version `helm template`/`lint` assume (client-go's minor).
minor=$(awk '$1 == "k8s.io/client-go" { split($2, v, "."); print v[2]; exit }' "$here/go.mod")
out="$cache/helm/$version-k8s1.$minor"
[ -x "$out/helm" ] && exit 0
command -v go >/dev/null || { echo "build-helm: Go is required (go.mod in $here)" >&2; exit 1; }
mkdir -p "$out"
exec 9>"$cache/.zeebe-ambient-enforcer-helm.lock"
flock 9
[ -x "$out/helm" ] && exit 0
echo "build-helm: building helm $version (first time: a few minutes)" >&2
(cd "$here" && go build -trimpath -ldflags "-w -s -X helm.sh/helm/v3/internal/version.version=$version \
  -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$minor \
  -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$minor" \
  -o "$out/helm.tmp" helm.sh/helm/v3/cmd/helm)
mv "$out/helm.tmp" "$out/helm"
"$out/helm" version --short >&2
