package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// deployPendingKeys are top-level keys of the Kubernetes ConfigMap's
// etl.yaml that other branches of issue #12 add to the config (storage: the
// S3 storage layer; max_run_time: the run deadline). Until they land here,
// the test strips them, loads the rest and logs what it stripped; once the
// loader knows a key the full file loads and the strip is not needed.
var deployPendingKeys = []string{"storage", "max_run_time"}

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
	cfg, first := LoadConfig(path)
	if first != nil {
		var doc map[string]any
		if yerr := yaml.Unmarshal([]byte(text), &doc); yerr != nil {
			t.Fatal(yerr)
		}
		var stripped []string
		for _, k := range deployPendingKeys {
			if _, ok := doc[k]; ok && strings.Contains(first.Error(), k) {
				delete(doc, k)
				stripped = append(stripped, k)
			}
		}
		if len(stripped) == 0 {
			t.Fatalf("the deployed etl.yaml does not load: %v", first)
		}
		out, merr := yaml.Marshal(doc)
		if merr != nil {
			t.Fatal(merr)
		}
		if err := os.WriteFile(path, out, 0o600); err != nil {
			t.Fatal(err)
		}
		var err error
		if cfg, err = LoadConfig(path); err != nil {
			t.Fatalf("the deployed etl.yaml without %v does not load: %v", stripped, err)
		}
		t.Logf("not wired in this branch yet, stripped before loading: %v (the loader said: %v)", stripped, first)
	}
	if !strings.HasPrefix(cfg.Lake, "s3://") || !strings.HasPrefix(cfg.State, "s3://") {
		t.Errorf("lake %q, state %q: want s3://", cfg.Lake, cfg.State)
	}
	if cfg.memoryLimit == 0 {
		t.Error("memory_limit not set")
	}
}
