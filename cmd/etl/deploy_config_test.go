package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// deployPending maps the settings of the Kubernetes ConfigMap's etl.yaml
// that the loader refuses today, because issue #12 has not wired them yet
// (the lake and the state on S3), to a local stand-in. The test checks the
// loader still refuses them with "not supported yet" (so this list is
// emptied the day they land), then loads the rest with the stand-ins.
var deployPending = map[string]string{"lake": "/var/lib/calletl/lake", "state": "/var/lib/calletl/state"}

// TestDeployConfigLoads loads deploy/kubernetes/configmap.yaml's etl.yaml
// with the project's own loader: strict (unknown fields are errors) and
// validated, so a misspelt key or a bad value in the deployed config fails
// here rather than in the first nightly pod.
func TestDeployConfigLoads(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "kubernetes", "configmap.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cm struct {
		Data map[string]string `yaml:"data"`
	}
	if err := yaml.Unmarshal(b, &cm); err != nil {
		t.Fatal(err)
	}
	text := cm.Data["etl.yaml"]
	if text == "" {
		t.Fatal("configmap.yaml: no etl.yaml")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "etl.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	_, first := LoadConfig(path)
	if first == nil {
		t.Fatal("the deployed etl.yaml loads with lake and state on S3: wiring has landed, empty deployPending and check cfg.Lake/cfg.State are s3://")
	}
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatal(err)
	}
	for k, local := range deployPending {
		v, _ := doc[k].(string)
		if !strings.HasPrefix(v, "s3://") {
			t.Errorf("%s: %q, want s3:// (a pod has no lasting disk)", k, v)
		}
		if !strings.Contains(first.Error(), k+": ") || !strings.Contains(first.Error(), "not supported yet") {
			t.Errorf("the loader's error does not refuse %s as not supported yet: %v", k, first)
		}
		doc[k] = local
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatalf("the deployed etl.yaml (lake and state local) does not load: %v", err)
	}
	t.Logf("lake and state on S3 are not wired yet (issue #12 items 2-3); loaded with local stand-ins")
	if cfg.memoryLimit == 0 {
		t.Error("memory_limit not set")
	}
}
