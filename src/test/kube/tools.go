//go:build tools

// Package tools pins the commands and CRD-carrying modules this module builds or reads.
package tools

import (
	_ "istio.io/api/networking/v1"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "sigs.k8s.io/gateway-api/apis/v1"
)
