#!/usr/bin/env bash
# Builds promtool (Prometheus' rule checker and unit-test runner) from the Go module proxy into the
# test binaries' cache: $KUBE_API_TEST_DIR/prometheus/<version>/promtool (default ~/.kube_api_test).
# This module is a wrapper (`tool` directive): Prometheus' own go.mod has replace/exclude lines,
# so `go install github.com/prometheus/prometheus/cmd/promtool@version` refuses it.
# A no-op when the binary is there. AlertRulesTest runs it on webhook-config/components/alerts.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${KUBE_API_TEST_DIR:-$HOME/.kube_api_test}
version=$(awk '$1 == "github.com/prometheus/prometheus" { print $2; exit }' "$here/go.mod")
out="$cache/prometheus/$version"
[ -x "$out/promtool" ] && exit 0
command -v go >/dev/null || { echo "build-promtool: Go is required (go.mod in $here)" >&2; exit 1; }
mkdir -p "$out"
exec 9>"$cache/.zeebe-ambient-enforcer-promtool.lock"
flock 9
[ -x "$out/promtool" ] && exit 0
echo "build-promtool: building promtool $version (first time: a few minutes)" >&2
(cd "$here" && go build -trimpath -o "$out/promtool.tmp" github.com/prometheus/prometheus/cmd/promtool)
mv "$out/promtool.tmp" "$out/promtool"
"$out/promtool" --version | head -1 >&2
