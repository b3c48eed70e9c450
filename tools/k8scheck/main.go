// k8scheck reads Kubernetes manifests (YAML documents, as `helm template` prints them) on stdin and
// decodes each into the Kubernetes API's own Go type for its apiVersion and kind, strictly: an unknown
// field, a wrong type or an unknown kind is an error. It prints one line per object and exits 1 on the
// first document that does not decode.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

// The kinds a chart may render, by apiVersion and kind.
var types = map[string]func() any{
	"apps/v1/Deployment":                      func() any { return &appsv1.Deployment{} },
	"v1/Service":                              func() any { return &corev1.Service{} },
	"v1/ConfigMap":                            func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                               func() any { return &corev1.Secret{} },
	"v1/ServiceAccount":                       func() any { return &corev1.ServiceAccount{} },
	"policy/v1/PodDisruptionBudget":           func() any { return &policyv1.PodDisruptionBudget{} },
	"autoscaling/v2/HorizontalPodAutoscaler":  func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"monitoring.coreos.com/v1/ServiceMonitor": func() any { return &monitoringv1.ServiceMonitor{} },
}

type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

// documents splits a YAML stream on lines that are exactly "---".
func documents(r io.Reader) ([][]byte, error) {
	var docs [][]byte
	var current bytes.Buffer
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 1<<20), 1<<26)
	for scanner.Scan() {
		line := scanner.Text()
		if strings.TrimRight(line, " ") == "---" {
			docs = append(docs, append([]byte(nil), current.Bytes()...))
			current.Reset()
			continue
		}
		current.WriteString(line)
		current.WriteByte('\n')
	}
	docs = append(docs, current.Bytes())
	return docs, scanner.Err()
}

func check(doc []byte) (string, error) {
	var h header
	if err := yaml.Unmarshal(doc, &h); err != nil {
		return "", fmt.Errorf("not YAML: %w", err)
	}
	if h.APIVersion == "" && h.Kind == "" {
		return "", nil // an empty document (comments only)
	}
	make, ok := types[h.APIVersion+"/"+h.Kind]
	if !ok {
		return "", fmt.Errorf("%s %s: no Kubernetes type known for apiVersion %q kind %q", h.Kind, h.Metadata.Name, h.APIVersion, h.Kind)
	}
	if err := yaml.UnmarshalStrict(doc, make()); err != nil {
		return "", fmt.Errorf("%s %s: %w", h.Kind, h.Metadata.Name, err)
	}
	return fmt.Sprintf("%s %s %s", h.APIVersion, h.Kind, h.Metadata.Name), nil
}

func main() {
	docs, err := documents(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "k8scheck:", err)
		os.Exit(1)
	}
	objects := 0
	for _, doc := range docs {
		name, err := check(doc)
		if err != nil {
			fmt.Fprintln(os.Stderr, "k8scheck:", err)
			os.Exit(1)
		}
		if name != "" {
			fmt.Println("ok", name)
			objects++
		}
	}
	if objects == 0 {
		fmt.Fprintln(os.Stderr, "k8scheck: no objects on stdin")
		os.Exit(1)
	}
}
