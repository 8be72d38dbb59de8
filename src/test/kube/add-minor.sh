#!/usr/bin/env bash
# Adds a module pinning another Kubernetes minor's kube-apiserver for the version matrix:
#   src/test/kube/add-minor.sh v1.33.5   ->  src/test/kube/v1.33/{go.mod,go.sum,tools.go}
# Kubernetes' own go.mod requires its staging modules (k8s.io/api, ...) at v0.0.0 and replaces them with
# ./staging; outside its repository each needs a replace to the matching v0.X.Y tag, which this writes.
# build-binaries.sh then builds that minor's kube-apiserver (KUBE_MINORS=all, or the oldest by default).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
v=${1:?usage: add-minor.sh vX.Y.Z}
n=${v#v}; minor=$(echo "$n" | cut -d. -f1,2); staging=v0.${n#*.}
dir="$here/v$minor"
mkdir -p "$dir"
cd "$dir"
rm -f go.mod go.sum
go mod init "github.com/zeebe-ambient-enforcer/testkube${minor//./}" >/dev/null 2>&1
cat > tools.go <<GO
//go:build tools

// Package tools pins the kube-apiserver of Kubernetes $minor for the version matrix (KubernetesMatrixIT),
// built like ../ builds the newest minor: build-binaries.sh reads the version from this module. Written by ../add-minor.sh.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
GO
gomod=$(go mod download -json "k8s.io/kubernetes@$v" | awk -F'"' '/"GoMod"/ { print $4 }')
{
  echo "replace ("
  awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" { print "\t" $1 " => " $1 " '"$staging"'" }' "$gomod" | sort -u
  echo ")"
} >> go.mod
go get "k8s.io/kubernetes@$v" >/dev/null
go mod tidy
echo "add-minor: $dir pins k8s.io/kubernetes $v (staging $staging)"
