// Command cnicapture does for one pod what the istio-cni node agent does when a pod starts on its
// node, minus the network plumbing: it decides with istio-cni's own code (the enablement selectors
// of the istio-cni chart of this Istio version, util.CompiledEnablementSelectors.Matches) whether
// the pod is captured by ambient, and if so writes the annotation the node agent writes once
// redirection is set up (ambient.istio.io/redirection: enabled). istiod reads that annotation to
// list the pod as an HBONE workload for ztunnel. Prints {"pod": "<ns>/<name>", "captured": bool}.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"istio.io/api/annotation"
	"istio.io/istio/cni/pkg/util"
	"istio.io/istio/pkg/config/constants"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the API server")
	values := flag.String("cni-values", "", "the istio-cni chart's values.yaml (ambient.enablementSelectors)")
	ns := flag.String("namespace", "", "pod namespace")
	pod := flag.String("pod", "", "pod name")
	flag.Parse()
	if *kubeconfig == "" || *values == "" || *ns == "" || *pod == "" {
		fail("-kubeconfig, -cni-values, -namespace and -pod are required")
	}
	raw, err := os.ReadFile(*values)
	if err != nil {
		fail("read %s: %v", *values, err)
	}
	type ambient struct {
		Ambient struct {
			EnablementSelectors []util.EnablementSelector `json:"enablementSelectors"`
		} `json:"ambient"`
	}
	// the chart nests its defaults under _internal_defaults_do_not_set (values a user sets sit at the top)
	var chart struct {
		ambient
		Defaults ambient `json:"_internal_defaults_do_not_set"`
	}
	if err := yaml.Unmarshal(raw, &chart); err != nil {
		fail("parse %s: %v", *values, err)
	}
	found := chart.Ambient.EnablementSelectors
	if len(found) == 0 {
		found = chart.Defaults.Ambient.EnablementSelectors
	}
	if len(found) == 0 {
		fail("%s has no ambient.enablementSelectors", *values)
	}
	selectors, err := util.NewCompiledEnablementSelectors(found)
	if err != nil {
		fail("enablement selectors: %v", err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fail("kubeconfig: %v", err)
	}
	client := kubernetes.NewForConfigOrDie(cfg)
	ctx := context.Background()
	p, err := client.CoreV1().Pods(*ns).Get(ctx, *pod, metav1.GetOptions{})
	if err != nil {
		fail("get pod %s/%s: %v", *ns, *pod, err)
	}
	namespace, err := client.CoreV1().Namespaces().Get(ctx, *ns, metav1.GetOptions{})
	if err != nil {
		fail("get namespace %s: %v", *ns, err)
	}
	captured := selectors.Matches(p, namespace.Labels)
	if captured {
		patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, annotation.AmbientRedirection.Name, constants.AmbientRedirectionEnabled)
		if _, err := client.CoreV1().Pods(*ns).Patch(ctx, *pod, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			fail("annotate pod %s/%s: %v", *ns, *pod, err)
		}
	}
	out, _ := json.Marshal(map[string]any{"pod": *ns + "/" + *pod, "captured": captured})
	fmt.Println(string(out))
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "cnicapture: "+format+"\n", args...)
	os.Exit(1)
}
