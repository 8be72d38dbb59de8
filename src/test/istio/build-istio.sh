#!/usr/bin/env bash
# Builds Istio's control plane (pilot-discovery, i.e. istiod) and istioctl from the Go module proxy
# (no Docker, no release downloads) and copies what istiod needs at run time out of the same
# istio.io/istio module version, into a cache outside the work tree:
#   $KUBE_API_TEST_DIR/istio/<pseudo-version>-linux-<arch>/{pilot-discovery,istioctl}
#   .../templates/         injection templates (sidecar, gateway, waypoint, ...) of istio-discovery
#   .../crds/              Istio's CRDs (crd-all.gen.yaml)
#   .../gateway-api-crds/  Gateway API standard CRDs of the version this Istio is built against
#   .../inject/{config,values}  the istio-sidecar-injector ConfigMap's keys, as the istio-discovery chart
#                          renders them for the ambient profile (istioctl manifest generate); istiod reads
#                          them from ./var/lib/istio/inject/ relative to its working directory
#   .../mesh.yaml          the mesh config of that profile (pilot-discovery --meshConfig)
#   .../xdsdump            cmd/xdsdump: prints the CDS/LDS istiod sends to a (fake) waypoint proxy
#   .../cnicapture         cmd/cnicapture: istio-cni's capture decision for one pod (+ its annotation)
#   .../cni-values.yaml    the istio-cni chart's values (its ambient enablement selectors)
# and writes $KUBE_API_TEST_DIR/istio.properties for the test harness.
# A no-op when everything is already there. Separate Go module from ../kube: Istio pins its own
# k8s.io libraries (v0.36.x), which must not be mixed with the k8s v1.37 server build.
#   KUBE_API_TEST_DIR=<cache dir> (default ~/.kube_api_test)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${KUBE_API_TEST_DIR:-$HOME/.kube_api_test}
mkdir -p "$cache"
exec 9>"$cache/.zeebe-ambient-enforcer-istio.lock"
flock 9   # parallel builds wait for the first one instead of building twice

command -v go >/dev/null || { echo "build-istio: Go is required (go.mod in $here)" >&2; exit 1; }
# Works for both "require m v" and a "require ( ... )" block line.
modver() { awk -v m="$1" '{ sub(/^require[ \t]+/, "") } $1 == m { print $2; exit }' "$here/go.mod"; }
istio=$(modver istio.io/istio)           # e.g. v0.0.0-20260827124520-eed52ebb66ad
gwapi=$(modver sigs.k8s.io/gateway-api)  # as chosen by Istio's own requirements (go mod tidy)
[ -n "$istio" ] && [ -n "$gwapi" ] || { echo "build-istio: istio.io/istio or sigs.k8s.io/gateway-api missing in $here/go.mod" >&2; exit 1; }
arch=$(go env GOARCH)
sha=${istio##*-}                         # commit of the pseudo-version
dir="$cache/istio/$istio-linux-$arch"
# The stamp also covers this directory's own sources, so editing the script or cmd/xdsdump rebuilds
# (a relink of the cached Go build: about a minute).
stamp="istio=$istio gateway-api=$gwapi src=$(cat "$here/build-istio.sh" "$here/configmap-data.awk" "$here"/cmd/*/*.go "$here/go.mod" | sha256sum | cut -c1-16)"

moddir() { (cd "$here" && go mod download -json "$1" | sed -nE 's/^\s*"Dir": "(.*)",?$/\1/p'); }

if [ -x "$dir/pilot-discovery" ] && [ -x "$dir/istioctl" ] && [ -x "$dir/xdsdump" ] && [ -x "$dir/cnicapture" ] && [ -f "$dir/inject/config" ] \
   && [ -f "$dir/crds/crd-all.gen.yaml" ] && [ "$(cat "$dir/.built-from" 2>/dev/null)" = "$stamp" ]; then
  echo "build-istio: binaries present in $dir"
else
  echo "build-istio: building Istio $istio from the Go module proxy into $dir (several minutes, once)"
  start=$(date +%s)
  src=$(moddir "istio.io/istio@$istio")
  gwdir=$(moddir "sigs.k8s.io/gateway-api@$gwapi")
  [ -d "$src" ] && [ -d "$gwdir" ] || { echo "build-istio: go mod download of istio.io/istio@$istio or sigs.k8s.io/gateway-api@$gwapi failed" >&2; exit 1; }
  # Istio's own dev builds report <major.minor>-alpha.<sha>; also the (never pulled) proxy image tag.
  minor=$(tr -d '[:space:]' < "$src/VERSION" 2>/dev/null || echo 0.0)
  pv=istio.io/istio/pkg/version
  ldflags="-s -w -X $pv.buildVersion=$minor-alpha.$sha -X $pv.buildGitRevision=$sha -X $pv.buildTag=$istio"
  ldflags="$ldflags -X $pv.buildStatus=Clean -X $pv.buildOS=linux -X $pv.buildArch=$arch"
  tag=$minor-alpha.$sha
  tmp=$(mktemp -d "$cache/.build-istio.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  (cd "$here" && go build -trimpath -ldflags="$ldflags" -o "$tmp/" \
      istio.io/istio/pilot/cmd/pilot-discovery istio.io/istio/istioctl/cmd/istioctl ./cmd/xdsdump ./cmd/cnicapture)
  # Injection config and mesh config exactly as the charts compiled into istioctl render them. No image is
  # ever pulled in tests: the hub is a placeholder so the waypoint Deployment istiod writes names no registry.
  mkdir -p "$tmp/inject"
  "$tmp/istioctl" manifest generate --set profile=ambient --set values.global.hub=example.invalid/istio \
      --set "values.global.tag=$tag" > "$tmp/manifest.yaml" 2> "$tmp/manifest.err" \
    || { cat "$tmp/manifest.err" >&2; echo "build-istio: istioctl manifest generate failed" >&2; exit 1; }
  awk -v out="$tmp" -f "$here/configmap-data.awk" "$tmp/manifest.yaml"
  mv "$tmp/istio-sidecar-injector.config" "$tmp/inject/config"
  mv "$tmp/istio-sidecar-injector.values" "$tmp/inject/values"
  mv "$tmp/istio.mesh" "$tmp/mesh.yaml"
  rm -f "$tmp"/*.config "$tmp"/*.values "$tmp"/*.mesh "$tmp/manifest.yaml" "$tmp/manifest.err"
  mkdir -p "$tmp/templates" "$tmp/crds" "$tmp/gateway-api-crds"
  # files/ also holds the profile-*.yaml value overlays of the chart: not templates.
  for f in "$src"/manifests/charts/istio-control/istio-discovery/files/*.yaml; do
    case "$(basename "$f")" in profile-*) ;; *) cp "$f" "$tmp/templates/" ;; esac
  done
  cp "$src/manifests/charts/istio-control/istio-discovery/values.yaml" "$tmp/istio-discovery-values.yaml"
  cp "$src/manifests/charts/base/files/crd-all.gen.yaml" "$tmp/crds/"
  cp "$src/manifests/charts/istio-cni/values.yaml" "$tmp/cni-values.yaml"   # ambient.enablementSelectors (cnicapture)
  cp "$gwdir"/config/crd/standard/gateway.networking.k8s.io_*.yaml "$tmp/gateway-api-crds/"
  rm -f "$tmp"/gateway-api-crds/*_vap_*.yaml   # a ValidatingAdmissionPolicy, not a CRD
  chmod -R u+w "$tmp" && chmod 755 "$tmp"
  rm -rf "$dir" && mkdir -p "$(dirname "$dir")"
  trap - EXIT
  mv "$tmp" "$dir"
  echo "$stamp" > "$dir/.built-from"
  echo "build-istio: built in $(( $(date +%s) - start )) s"
fi

cat > "$cache/istio.properties" <<PROPS
istio.version=$istio
istio.bin=$dir
istio.templates=$dir/templates
istio.crds=$dir/crds
istio.gateway-api-crds=$dir/gateway-api-crds
istio.inject=$dir/inject
istio.mesh=$dir/mesh.yaml
istio.xdsdump=$dir/xdsdump
istio.cnicapture=$dir/cnicapture
istio.cni-values=$dir/cni-values.yaml
PROPS
echo "build-istio: Istio $istio in $dir"
