// Command xdsdump connects to istiod's plaintext xDS port as a (fake) proxy, typically a waypoint,
// requests a few resource types over one SotW ADS stream and prints what istiod sends as JSON:
//
//	{"cds": [<Cluster>...], "lds": [<Listener>...]}
//
// No Envoy is involved: the point is to assert on the configuration istiod generates (clusters,
// load-balancer policy, protocol options, listeners) in tests. istiod identifies the proxy by the
// node ID "<type>~<ip>~<pod>.<namespace>~<namespace>.svc.cluster.local" and finds its pod (and so
// the services selecting it) by IP, so a pod with that IP must exist in the API server.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"

	// Registers every Envoy/Istio type istiod puts into Any fields, so protojson can print them.
	_ "istio.io/istio/pilot/pkg/networking/core"
	_ "istio.io/istio/pkg/config/xds"
)

var typeURLs = map[string]string{
	"cds": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
	"lds": "type.googleapis.com/envoy.config.listener.v3.Listener",
	"rds": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
	"eds": "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
}

func main() {
	addr := flag.String("addr", "127.0.0.1:15010", "istiod plaintext gRPC (xDS) address (pilot-discovery --grpcAddr)")
	nodeType := flag.String("type", "waypoint", "proxy type: waypoint, sidecar, router")
	ip := flag.String("ip", "", "proxy IP: status.podIP of the proxy's pod")
	pod := flag.String("pod", "", "proxy pod name")
	ns := flag.String("namespace", "default", "proxy pod namespace")
	sa := flag.String("service-account", "", "proxy service account")
	labels := flag.String("labels", "", "pod labels k=v,k=v (sent as node metadata LABELS)")
	cluster := flag.String("cluster-id", "Kubernetes", "istiod cluster ID")
	version := flag.String("istio-version", "1.31.0", "ISTIO_VERSION node metadata")
	types := flag.String("types", "cds,lds", "resource types to request, comma separated: cds,lds,rds,eds (rds/eds: all names given by -names)")
	names := flag.String("names", "", "resource names for rds/eds requests, comma separated")
	timeout := flag.Duration("timeout", 20*time.Second, "timeout for receiving the requested types")
	hold := flag.Duration("hold", 0, "keep the stream open this long after printing (so istiod lists the proxy in /debug/connections, /debug/config_dump?proxyID=...)")
	flag.Parse()
	if *ip == "" || *pod == "" {
		fail("-ip and -pod are required")
	}

	lbls := map[string]any{}
	for _, kv := range strings.Split(*labels, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			lbls[k] = v
		}
	}
	meta, err := structpb.NewStruct(map[string]any{
		"ISTIO_VERSION":   *version,
		"CLUSTER_ID":      *cluster,
		"NAMESPACE":       *ns,
		"SERVICE_ACCOUNT": *sa,
		"WORKLOAD_NAME":   *pod,
		"INSTANCE_IPS":    *ip,
		"LABELS":          lbls,
		"NODE_NAME":       "xdsdump",
		// Real proxies send their ProxyConfig; istiod's syncz (istioctl proxy-status) skips nodes without it.
		"PROXY_CONFIG": map[string]any{},
	})
	if err != nil {
		fail("metadata: %v", err)
	}
	node := &core.Node{
		Id:       fmt.Sprintf("%s~%s~%s.%s~%s.svc.cluster.local", *nodeType, *ip, *pod, *ns, *ns),
		Metadata: meta,
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	timer := time.AfterFunc(*timeout, cancel)
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(256<<20)))
	if err != nil {
		fail("dial %s: %v", *addr, err)
	}
	defer conn.Close()
	stream, err := discovery.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		fail("ADS stream to %s: %v", *addr, err)
	}

	var rn []string
	if *names != "" {
		rn = strings.Split(*names, ",")
	}
	out := map[string][]json.RawMessage{}
	pending := map[string]string{} // type URL -> short name
	first := true
	for _, t := range strings.Split(*types, ",") {
		url, ok := typeURLs[t]
		if !ok {
			fail("unknown type %q", t)
		}
		req := &discovery.DiscoveryRequest{TypeUrl: url}
		if t == "rds" || t == "eds" {
			req.ResourceNames = rn
		}
		if first { // the node is only needed on the first request of the stream
			req.Node = node
			first = false
		}
		if err := stream.Send(req); err != nil {
			fail("send %s: %v", t, err)
		}
		pending[url] = t
	}
	for len(pending) > 0 {
		resp, err := stream.Recv()
		if err != nil {
			fail("receive (still waiting for %v): %v", pending, err)
		}
		t, ok := pending[resp.TypeUrl]
		if !ok {
			continue // e.g. a push of a type already printed
		}
		delete(pending, resp.TypeUrl)
		// ACK, so istiod does not log a NACK/timeout for this fake proxy.
		_ = stream.Send(&discovery.DiscoveryRequest{TypeUrl: resp.TypeUrl, VersionInfo: resp.VersionInfo,
			ResponseNonce: resp.Nonce, ResourceNames: resourceNames(t, rn)})
		out[t] = []json.RawMessage{}
		for _, r := range resp.Resources {
			out[t] = append(out[t], marshal(r))
		}
	}
	timer.Stop()
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fail("encode: %v", err)
	}
	if *hold > 0 {
		go func() { // drain pushes (a proxy that does not read would block istiod's pushes)
			for {
				if _, err := stream.Recv(); err != nil {
					return
				}
			}
		}()
		time.Sleep(*hold)
	}
}

func resourceNames(t string, rn []string) []string {
	if t == "rds" || t == "eds" {
		return rn
	}
	return nil
}

func marshal(r *anypb.Any) json.RawMessage {
	m, err := r.UnmarshalNew()
	if err != nil {
		return json.RawMessage(fmt.Sprintf("{%q: %q}", "unmarshalError", err.Error()))
	}
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return json.RawMessage(fmt.Sprintf("{%q: %q}", "marshalError", err.Error()))
	}
	return b
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "xdsdump: "+format+"\n", args...)
	os.Exit(1)
}
