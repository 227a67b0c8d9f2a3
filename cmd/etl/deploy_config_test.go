package main

import (
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestDeployConfigLoads loads deploy/kubernetes/configmap.yaml's etl.yaml
// with the project's own loader: strict (unknown fields are errors) and
// validated, so a misspelt key or a bad value in the deployed config fails
// here rather than in the first nightly pod. A pod has no lasting disk:
// the lake and the state must be on S3.
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
	path := filepath.Join(t.TempDir(), "etl.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatalf("the deployed etl.yaml does not load: %v", err)
	}
	if !cfg.lakeLoc.IsS3() || !cfg.stateLoc.IsS3() {
		t.Errorf("lake %q, state %q: want both on S3 (a pod has no lasting disk)", cfg.Lake, cfg.State)
	}
	if cfg.memoryLimit == 0 {
		t.Error("memory_limit not set")
	}
}
