//go:build tools

// Package tools pins the kube-apiserver of the oldest Kubernetes minor the product supports (1.30),
// built like ../ builds 1.37: build-binaries.sh reads the version from this module.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
