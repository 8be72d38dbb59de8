#!/usr/bin/env bash
# Builds helm 3 (this module) and helm 4 (v4/) from the Go module proxy into the test binaries' cache:
# $KUBE_API_TEST_DIR/helm/<version>-k8s1.<minor>/helm (default ~/.kube_api_test), beside the API server's binaries.
# Wrapper modules (`tool` directive) pin helm and everything it builds with in go.sum.
# No-ops when the binaries are there. The chart tests (HelmChartTest, HelmIT) run them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${KUBE_API_TEST_DIR:-$HOME/.kube_api_test}
command -v go >/dev/null || { echo "build-helm: Go is required (go.mod in $here)" >&2; exit 1; }
mkdir -p "$cache/helm"
exec 9>"$cache/.zeebe-ambient-enforcer-helm.lock"
flock 9
for module in "$here" "$here/v4"; do
  major=$(awk '$1 ~ /^helm\.sh\/helm\/v[0-9]+$/ { n = split($1, p, "/"); print p[n]; exit }' "$module/go.mod")
  version=$(awk -v m="helm.sh/helm/$major" '$1 == m { print $2; exit }' "$module/go.mod")
  # As helm's Makefile: the version, and the Kubernetes version `helm template`/`lint` assume (client-go's minor).
  minor=$(awk '$1 == "k8s.io/client-go" { split($2, v, "."); print v[2]; exit }' "$module/go.mod")
  out="$cache/helm/$version-k8s1.$minor"
  [ -x "$out/helm" ] && continue
  mkdir -p "$out"
  echo "build-helm: building helm $version (first time: a few minutes)" >&2
  pkg="helm.sh/helm/$major"
  ldflags="-w -s -X $pkg/internal/version.version=$version"
  if [ "$major" = v3 ]; then # helm 4 takes the Kubernetes version from its client-go
    ldflags="$ldflags -X $pkg/pkg/lint/rules.k8sVersionMajor=1 -X $pkg/pkg/lint/rules.k8sVersionMinor=$minor"
    ldflags="$ldflags -X $pkg/pkg/chartutil.k8sVersionMajor=1 -X $pkg/pkg/chartutil.k8sVersionMinor=$minor"
  fi
  (cd "$module" && go build -trimpath -ldflags "$ldflags" -o "$out/helm.tmp" "$pkg/cmd/helm")
  mv "$out/helm.tmp" "$out/helm"
  "$out/helm" version --short >&2
done
