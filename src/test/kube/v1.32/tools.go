//go:build tools

// Package tools pins the kube-apiserver of Kubernetes 1.32 for the version matrix (KubernetesMatrixIT),
// built like ../ builds the newest minor: build-binaries.sh reads the version from this module. Written by ../add-minor.sh.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
