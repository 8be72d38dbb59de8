#!/usr/bin/env bash
# Builds kube-apiserver, kubectl and etcd from the Go module proxy (no Docker, no release
# downloads) into a cache outside the work tree in the layout io.fabric8:kube-api-test expects:
#   $KUBE_API_TEST_DIR/k8s/<version>-linux-amd64/{kube-apiserver,etcd,kubectl}
# (The Gateway API and Istio CRDs come from ../istio/build-istio.sh: the istiod version's own.)
# and writes $KUBE_API_TEST_DIR/zeebe-ambient-enforcer.properties for the test harness.
# A no-op when everything is already there. Reuses binaries you have:
#   KUBEBUILDER_ASSETS=<dir with kube-apiserver and etcd [and kubectl]>
#   KUBE_API_TEST_DIR=<cache dir> (default ~/.kube_api_test)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${KUBE_API_TEST_DIR:-$HOME/.kube_api_test}
mkdir -p "$cache"
exec 9>"$cache/.zeebe-ambient-enforcer.lock"
flock 9   # parallel builds wait for the first one instead of building twice

modver() { awk -v m="$1" '$1 == m { print $2; exit }' "$here/go.mod"; }
k8s=$(modver k8s.io/kubernetes)          # e.g. v1.37.2
etcd=$(modver go.etcd.io/etcd/server/v3)
version=${k8s#v}
arch=$(go env GOARCH)
go_ok() { command -v go >/dev/null || { echo "build-binaries: Go is required (go.mod in $here)" >&2; exit 1; }; }

bin="$cache/k8s/$version-linux-$arch"
stamp="k8s=$k8s etcd=$etcd"
if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then
  # Reuse the user's binaries: link them under the version they report.
  [ -x "$KUBEBUILDER_ASSETS/kube-apiserver" ] && [ -x "$KUBEBUILDER_ASSETS/etcd" ] \
    || { echo "build-binaries: KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS lacks kube-apiserver or etcd" >&2; exit 1; }
  version=$("$KUBEBUILDER_ASSETS/kube-apiserver" --version | sed -E 's/^Kubernetes v//')
  bin="$cache/k8s/$version-linux-$arch"
  stamp="KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS"
  mkdir -p "$bin"
  ln -sf "$KUBEBUILDER_ASSETS/kube-apiserver" "$KUBEBUILDER_ASSETS/etcd" "$bin/"
  if [ -x "$KUBEBUILDER_ASSETS/kubectl" ]; then ln -sf "$KUBEBUILDER_ASSETS/kubectl" "$bin/"; fi
fi

if [ -x "$bin/kube-apiserver" ] && [ -x "$bin/etcd" ] && [ -x "$bin/kubectl" ] \
   && { [ -n "${KUBEBUILDER_ASSETS:-}" ] || [ "$(cat "$bin/.built-from" 2>/dev/null)" = "$stamp" ]; }; then
  echo "build-binaries: binaries present in $bin"
else
  go_ok
  echo "build-binaries: building Kubernetes $k8s and etcd $etcd from the Go module proxy into $bin (several minutes, once)"
  start=$(date +%s)
  tmp=$(mktemp -d "$cache/.build.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  targets="./cmd/etcd"
  [ -x "$bin/kube-apiserver" ] || targets="$targets k8s.io/kubernetes/cmd/kube-apiserver"
  [ -x "$bin/kubectl" ] || targets="$targets k8s.io/kubernetes/cmd/kubectl"
  if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then targets="k8s.io/kubernetes/cmd/kubectl"; fi
  (cd "$here" && go build -trimpath -ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$k8s -X k8s.io/component-base/version.gitMajor=${version%%.*} -X k8s.io/component-base/version.gitMinor=$(echo "$version" | cut -d. -f2)" -o "$tmp/" $targets)
  mkdir -p "$bin"
  for f in "$tmp"/*; do mv -f "$f" "$bin/"; done
  [ -n "${KUBEBUILDER_ASSETS:-}" ] || echo "$stamp" > "$bin/.built-from"
  echo "build-binaries: built in $(( $(date +%s) - start )) s"
fi

cat > "$cache/zeebe-ambient-enforcer.properties" <<PROPS
kube.version=$version
kube.bin=$bin
PROPS
echo "build-binaries: kube-api-test dir $cache, version $version"
