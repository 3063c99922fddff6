// Command validate checks the Kubernetes manifests of deploy/kubernetes
// offline, without a cluster: every document is decoded strictly into the
// Go type the API server itself uses for its kind (an unknown or misspelt
// field, a wrong type or an unknown kind is an error), and a few rules the
// webhook's safety depends on are checked. kubectl's own --dry-run=client
// needs a server for discovery; this does not.
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

// certManagerObject is the part of cert-manager's types these manifests
// use; cert-manager's Go module is too large to fetch for this check.
type certManagerObject struct {
	APIVersion string                 `json:"apiVersion"`
	Kind       string                 `json:"kind"`
	Metadata   map[string]interface{} `json:"metadata"`
	Spec       map[string]interface{} `json:"spec"`
}

type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "validate: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 2 {
		fail("usage: validate DIR")
	}
	dir := os.Args[1]
	kinds := map[string]int{}
	var webhook *admissionv1.ValidatingWebhookConfiguration
	var deployment *appsv1.Deployment
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			fail("%v", err)
		}
		for i, doc := range bytes.Split(data, []byte("\n---\n")) {
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			var head struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			}
			if err := yaml.Unmarshal(doc, &head); err != nil {
				fail("%s: document %d: %v", file, i+1, err)
			}
			var obj interface{}
			switch head.APIVersion + " " + head.Kind {
			case "v1 Namespace":
				obj = &corev1.Namespace{}
			case "v1 ConfigMap":
				obj = &corev1.ConfigMap{}
			case "v1 Service":
				obj = &corev1.Service{}
			case "v1 ServiceAccount":
				obj = &corev1.ServiceAccount{}
			case "apps/v1 Deployment":
				deployment = &appsv1.Deployment{}
				obj = deployment
			case "policy/v1 PodDisruptionBudget":
				obj = &policyv1.PodDisruptionBudget{}
			case "autoscaling/v2 HorizontalPodAutoscaler":
				obj = &autoscalingv2.HorizontalPodAutoscaler{}
			case "admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration":
				webhook = &admissionv1.ValidatingWebhookConfiguration{}
				obj = webhook
			case "cert-manager.io/v1 Issuer", "cert-manager.io/v1 Certificate":
				obj = &certManagerObject{}
			case "kustomize.config.k8s.io/v1beta1 Kustomization":
				obj = &kustomization{}
			default:
				fail("%s: document %d: unknown kind %q %q", file, i+1, head.APIVersion, head.Kind)
			}
			if err := yaml.UnmarshalStrict(doc, obj); err != nil {
				fail("%s: document %d (%s): %v", file, i+1, head.Kind, err)
			}
			if k, ok := obj.(*kustomization); ok {
				for _, r := range k.Resources {
					if _, err := os.Stat(filepath.Join(dir, r)); err != nil {
						fail("%s: resource %s: %v", file, r, err)
					}
				}
			}
			kinds[head.Kind]++
		}
	}
	for _, k := range []string{"Namespace", "Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler", "ValidatingWebhookConfiguration"} {
		if kinds[k] == 0 {
			fail("no %s", k)
		}
	}
	// What the webhook's safety rests on.
	for _, w := range webhook.Webhooks {
		if w.FailurePolicy == nil || *w.FailurePolicy != admissionv1.Fail {
			fail("webhook %s: failurePolicy must be Fail (fail closed)", w.Name)
		}
		if w.TimeoutSeconds == nil || *w.TimeoutSeconds > 15 {
			fail("webhook %s: timeoutSeconds must be set, at most 15", w.Name)
		}
		exempt := false
		if w.NamespaceSelector != nil {
			for _, e := range w.NamespaceSelector.MatchExpressions {
				if e.Operator == "NotIn" && strings.Contains(strings.Join(e.Values, ","), "attest-system") {
					exempt = true
				}
			}
		}
		if !exempt {
			fail("webhook %s: the namespace selector must exempt attest-system", w.Name)
		}
	}
	if deployment.Spec.Replicas == nil || *deployment.Spec.Replicas < 2 {
		fail("deployment: at least 2 replicas")
	}
	c := deployment.Spec.Template.Spec.Containers[0]
	if c.SecurityContext == nil || c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem {
		fail("deployment: the root file system must be read-only")
	}
	if deployment.Spec.Template.Spec.SecurityContext == nil || deployment.Spec.Template.Spec.SecurityContext.RunAsNonRoot == nil || !*deployment.Spec.Template.Spec.SecurityContext.RunAsNonRoot {
		fail("deployment: must run as non-root")
	}
	fmt.Printf("validate: %d documents in %s: ok\n", func() int {
		n := 0
		for _, v := range kinds {
			n += v
		}
		return n
	}(), dir)
}
