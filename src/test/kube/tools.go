//go:build tools

// Package tools pins the commands this module builds (the CRDs the tests install come from the
// istio.io/istio module in ../istio, the same version as the istiod the tests run).
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
