//go:build tools

// Package tools pins the Istio commands build-istio.sh builds; the istio.io/istio module also
// carries the sidecar/waypoint injection templates and the CRDs the script copies out of it.
package tools

import (
	_ "istio.io/istio/istioctl/cmd/istioctl"
	_ "istio.io/istio/pilot/cmd/pilot-discovery"
)
