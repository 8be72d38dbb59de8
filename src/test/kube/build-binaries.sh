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
# go_build <module dir> <Kubernetes version vX.Y.Z> <output dir> <packages...>: as Kubernetes' own build stamps its version
go_build() {
  local module=$1 v=$2 out=$3; shift 3
  local n=${v#v}
  (cd "$module" && go build -trimpath -ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$v -X k8s.io/component-base/version.gitMajor=${n%%.*} -X k8s.io/component-base/version.gitMinor=$(echo "$n" | cut -d. -f2)" -o "$out/" "$@")
}

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
  # shellcheck disable=SC2086 # a list of packages
  go_build "$here" "$k8s" "$tmp" $targets
  mkdir -p "$bin"
  for f in "$tmp"/*; do mv -f "$f" "$bin/"; done
  [ -n "${KUBEBUILDER_ASSETS:-}" ] || echo "$stamp" > "$bin/.built-from"
  echo "build-binaries: built in $(( $(date +%s) - start )) s"
fi

# Older minors the product supports (one module per minor, v1.30/ ... v1.36/, written by add-minor.sh): their
# kube-apiserver only, beside this version's etcd and kubectl (kubectl warns about the skew, which is fine).
# KUBE_MINORS says which: the oldest supported by default (what `mvn verify` runs), `all` for the version matrix
# (src/test/kube/matrix.sh), or a list such as "1.33 1.34".
main_bin=$bin
minors=${KUBE_MINORS:-oldest}
oldest=$(cd "$here" && ls -d v*/ 2>/dev/null | sort -V | head -1)
for module in "$here"/v*/; do
  [ -f "$module/go.mod" ] || continue
  name=$(basename "$module")
  case "$minors" in
    all) ;;
    oldest) [ "$name/" = "$oldest" ] || continue ;;
    *) echo " $minors " | grep -q " ${name#v} " || continue ;;
  esac
  old=$(awk '$1 == "k8s.io/kubernetes" { print $2; exit }' "$module/go.mod"); [ -n "$old" ] || old=$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3; exit }' "$module/go.mod")
  oldv=${old#v}
  obin="$cache/k8s/$oldv-linux-$arch"
  if [ -x "$obin/kube-apiserver" ] && [ "$(cat "$obin/.built-from" 2>/dev/null)" = "k8s=$old" ]; then
    echo "build-binaries: kube-apiserver $old present in $obin"
  else
    go_ok
    echo "build-binaries: building kube-apiserver $old from the Go module proxy into $obin (several minutes, once)"
    start=$(date +%s)
    otmp=$(mktemp -d "$cache/.build.XXXXXX")
    go_build "$module" "$old" "$otmp" k8s.io/kubernetes/cmd/kube-apiserver
    mkdir -p "$obin"
    mv -f "$otmp/kube-apiserver" "$obin/"
    rm -rf "$otmp"
    echo "k8s=$old" > "$obin/.built-from"
    echo "build-binaries: built kube-apiserver $old in $(( $(date +%s) - start )) s"
  fi
  ln -sf "$main_bin/etcd" "$main_bin/kubectl" "$obin/"
done

cat > "$cache/zeebe-ambient-enforcer.properties" <<PROPS
kube.version=$version
kube.bin=$bin
PROPS
echo "build-binaries: kube-api-test dir $cache, version $version"
