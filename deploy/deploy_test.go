package deploy_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	sigsyaml "sigs.k8s.io/yaml"
)

const manifests = "kubernetes"

// Figures the manifests must agree with.
const (
	// documentedPeakRSS is the nightly run's peak RSS with memory_limit
	// 160MiB (BENCHMARKS.md, "End to end"): ~210 MB, under 256 MB.
	documentedPeakRSS = 210_000_000
	// maxRunGrace is how long etl takes at most to stop after max_run_time
	// (cmd/etl maxRunGrace) before it exits anyway.
	maxRunGrace = 5 * time.Minute
)

// objects is every manifest, strictly decoded.
type objects struct {
	cronJob   *batchv1.CronJob
	configMap *corev1.ConfigMap
	secret    *corev1.Secret
	sa        *corev1.ServiceAccount
	// The receiver (receive.yaml).
	receiver *appsv1.Deployment
	service  *corev1.Service
}

// decodeStrict decodes one YAML document into the API type its kind names.
// Unknown or duplicate fields are errors (sigs.k8s.io/yaml UnmarshalStrict:
// JSON decoding with DisallowUnknownFields), so a misspelt or misplaced
// field cannot be silently dropped as the API server would drop it.
func decodeStrict(t *testing.T, name string, doc []byte, o *objects) {
	t.Helper()
	var meta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := sigsyaml.Unmarshal(doc, &meta); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var target any
	switch meta.APIVersion + " " + meta.Kind {
	case "batch/v1 CronJob":
		o.cronJob = new(batchv1.CronJob)
		target = o.cronJob
	case "v1 ConfigMap":
		o.configMap = new(corev1.ConfigMap)
		target = o.configMap
	case "v1 Secret":
		o.secret = new(corev1.Secret)
		target = o.secret
	case "v1 ServiceAccount":
		o.sa = new(corev1.ServiceAccount)
		target = o.sa
	case "apps/v1 Deployment":
		o.receiver = new(appsv1.Deployment)
		target = o.receiver
	case "v1 Service":
		o.service = new(corev1.Service)
		target = o.service
	default:
		t.Fatalf("%s: unexpected %s %s: add it to decodeStrict", name, meta.APIVersion, meta.Kind)
	}
	if err := sigsyaml.UnmarshalStrict(doc, target); err != nil {
		t.Fatalf("%s: strict decode into %T: %v", name, target, err)
	}
}

// splitDocs splits a multi-document YAML stream.
func splitDocs(b []byte) [][]byte {
	var out [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(b), -1) {
		if strings.TrimSpace(regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(d, "")) != "" {
			out = append(out, []byte(d))
		}
	}
	return out
}

func loadObjects(t *testing.T) objects {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(manifests, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in %s: %v", manifests, err)
	}
	var o objects
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range splitDocs(b) {
			decodeStrict(t, f, doc, &o)
		}
	}
	if o.cronJob == nil || o.configMap == nil || o.secret == nil || o.sa == nil {
		t.Fatalf("want a CronJob, a ConfigMap, a Secret and a ServiceAccount, got %+v", o)
	}
	return o
}

// TestStrictDecodeCatchesMistakes shows that the strict decoding the other
// tests rely on refuses what the API server would silently drop.
func TestStrictDecodeCatchesMistakes(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(manifests, "cronjob.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, from, to string }{
		{"misspelt field", "backoffLimitPerIndex:", "backofLimitPerIndex:"},
		{"field at the wrong level", "      completionMode: Indexed", "      template:\n        completionMode: Indexed\n      x: 1"},
		{"duplicate field", "      parallelism: 4", "      parallelism: 4\n      parallelism: 8"},
		{"wrong type", "completions: 4", "completions: four"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(string(good), tc.from, tc.to, 1)
			if bad == string(good) {
				t.Fatalf("%q not found in cronjob.yaml", tc.from)
			}
			if err := sigsyaml.UnmarshalStrict([]byte(bad), new(batchv1.CronJob)); err == nil {
				t.Fatalf("strict decoding accepted a CronJob with a %s", tc.name)
			}
		})
	}
}

// etlConfig is what the tests read of the ConfigMap's etl.yaml.
type etlConfig struct {
	raw         map[string]any
	Lake        string         `yaml:"lake"`
	State       string         `yaml:"state"`
	Timezone    string         `yaml:"timezone"`
	MemoryLimit string         `yaml:"memory_limit"`
	MaxRunTime  string         `yaml:"max_run_time"`
	S3          map[string]any `yaml:"s3"`
	Sources     struct {
		Mobilgroup struct {
			IDsFile string `yaml:"broadcast_ids_file"`
		} `yaml:"mobilgroup"`
	} `yaml:"sources"`
}

func parseConfig(t *testing.T, cm *corev1.ConfigMap) etlConfig {
	t.Helper()
	text, ok := cm.Data["etl.yaml"]
	if !ok {
		t.Fatalf("ConfigMap %s has no etl.yaml", cm.Name)
	}
	var c etlConfig
	if err := yaml.Unmarshal([]byte(text), &c); err != nil {
		t.Fatalf("etl.yaml: %v", err)
	}
	if err := yaml.Unmarshal([]byte(text), &c.raw); err != nil {
		t.Fatalf("etl.yaml: %v", err)
	}
	return c
}

// secretRefs walks etl.yaml for secret references: maps with exactly one
// key, env or file (cmd/etl SecretRef).
func secretRefs(v any, field string, fn func(field, kind, value string)) {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 1 {
			for k, x := range v {
				if s, ok := x.(string); ok && (k == "env" || k == "file") {
					fn(field, k, s)
					return
				}
			}
		}
		for k, x := range v {
			secretRefs(x, strings.TrimPrefix(field+"."+k, "."), fn)
		}
	case []any:
		for i, x := range v {
			secretRefs(x, fmt.Sprintf("%s[%d]", field, i), fn)
		}
	}
}

func parseBytes(t *testing.T, s string) int64 {
	t.Helper()
	for suffix, mult := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.ParseInt(n, 10, 64)
			if err != nil {
				t.Fatalf("size %q: %v", s, err)
			}
			return v * mult
		}
	}
	t.Fatalf("size %q: want KiB, MiB or GiB", s)
	return 0
}

func TestCronJob(t *testing.T) {
	o := loadObjects(t)
	cj := o.cronJob
	cfg := parseConfig(t, o.configMap)
	job := cj.Spec.JobTemplate.Spec
	pod := job.Template.Spec

	t.Run("schedule", func(t *testing.T) {
		if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
			t.Errorf("concurrencyPolicy %q: want Forbid (never two nights at once)", cj.Spec.ConcurrencyPolicy)
		}
		if d := cj.Spec.StartingDeadlineSeconds; d == nil || *d <= 0 || *d >= 24*3600 {
			t.Errorf("startingDeadlineSeconds %v: want set, under a day", d)
		}
		if tz := cj.Spec.TimeZone; tz == nil || *tz != cfg.Timezone {
			t.Errorf("timeZone %v: want etl.yaml's timezone %q, so the run's today is the schedule's", tz, cfg.Timezone)
		}
	})

	var container *corev1.Container
	for i := range pod.Containers {
		if pod.Containers[i].Name == "etl" {
			container = &pod.Containers[i]
		}
	}
	if container == nil {
		t.Fatal("no container named etl (the podFailurePolicy rules name it)")
	}

	t.Run("indexed job", func(t *testing.T) {
		if job.CompletionMode == nil || *job.CompletionMode != batchv1.IndexedCompletion {
			t.Fatalf("completionMode %v: want Indexed (JOB_COMPLETION_INDEX is the shard)", job.CompletionMode)
		}
		if job.Parallelism == nil || job.Completions == nil || *job.Parallelism != *job.Completions || *job.Completions < 2 {
			t.Fatalf("parallelism %v, completions %v: want equal, ≥ 2 (one pod per shard, all at once)", job.Parallelism, job.Completions)
		}
		n := strconv.Itoa(int(*job.Completions))
		i := slices.Index(container.Args, "--shards")
		if i < 0 || i+1 >= len(container.Args) || container.Args[i+1] != n {
			t.Errorf("args %q: want --shards %s (= completions)", container.Args, n)
		}
		if r := slices.Index(container.Args, "run"); r < 0 || r > i {
			t.Errorf("args %q: want run … --shards %s", container.Args, n)
		}
		var env *corev1.EnvVar
		for k := range container.Env {
			if container.Env[k].Name == "JOB_COMPLETION_INDEX" {
				env = &container.Env[k]
			}
		}
		if env != nil && (env.ValueFrom == nil || env.ValueFrom.FieldRef == nil ||
			env.ValueFrom.FieldRef.FieldPath != "metadata.annotations['batch.kubernetes.io/job-completion-index']") {
			t.Errorf("JOB_COMPLETION_INDEX %+v: want the job-completion-index annotation (or leave it to the Job controller)", env)
		}
		if job.BackoffLimitPerIndex == nil || *job.BackoffLimitPerIndex < 1 {
			t.Errorf("backoffLimitPerIndex %v: want set (a shard retried on its own)", job.BackoffLimitPerIndex)
		}
		if job.BackoffLimit != nil {
			t.Errorf("backoffLimit %d: with backoffLimitPerIndex, leave it unset", *job.BackoffLimit)
		}
		if pod.RestartPolicy != corev1.RestartPolicyNever {
			t.Errorf("restartPolicy %q: want Never (per-index backoff and podFailurePolicy need it)", pod.RestartPolicy)
		}
		if p := job.PodReplacementPolicy; p == nil || *p != batchv1.Failed {
			t.Errorf("podReplacementPolicy %v: want Failed, so a shard's two pods never overlap", p)
		}
		failIndex := map[int32]bool{}
		if job.PodFailurePolicy != nil {
			for _, r := range job.PodFailurePolicy.Rules {
				if r.Action == batchv1.PodFailurePolicyActionFailIndex && r.OnExitCodes != nil &&
					r.OnExitCodes.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn {
					if c := r.OnExitCodes.ContainerName; c == nil || *c != container.Name {
						t.Errorf("podFailurePolicy rule %+v: want containerName %s", r, container.Name)
					}
					for _, v := range r.OnExitCodes.Values {
						failIndex[v] = true
					}
				}
			}
		}
		if !failIndex[2] {
			t.Errorf("podFailurePolicy: want FailIndex on exit 2 (bad config: a retry cannot help)")
		}
		if failIndex[1] || failIndex[3] {
			t.Errorf("podFailurePolicy: exits 1 (some streams failed) and 3 (lease held) are worth a retry, not FailIndex")
		}
	})

	t.Run("deadlines", func(t *testing.T) {
		maxRun, err := time.ParseDuration(cfg.MaxRunTime)
		if err != nil || maxRun <= 0 {
			t.Fatalf("etl.yaml max_run_time %q: want a duration", cfg.MaxRunTime)
		}
		if pod.ActiveDeadlineSeconds == nil {
			t.Fatal("pod activeDeadlineSeconds: want set (a hung pod is killed)")
		}
		podDeadline := time.Duration(*pod.ActiveDeadlineSeconds) * time.Second
		if podDeadline < maxRun+maxRunGrace {
			t.Errorf("pod activeDeadlineSeconds %s < max_run_time %s + grace %s: Kubernetes would kill a run that is stopping by itself", podDeadline, maxRun, maxRunGrace)
		}
		if podDeadline > maxRun+maxRunGrace+30*time.Minute {
			t.Errorf("pod activeDeadlineSeconds %s: more than 30m past max_run_time + grace; keep them in step", podDeadline)
		}
		if job.ActiveDeadlineSeconds == nil {
			t.Fatal("job activeDeadlineSeconds: want set")
		}
		jobDeadline := time.Duration(*job.ActiveDeadlineSeconds) * time.Second
		if jobDeadline < podDeadline || jobDeadline >= 24*time.Hour {
			t.Errorf("job activeDeadlineSeconds %s: want ≥ the pod's %s (room for a retry) and under a day (the next night)", jobDeadline, podDeadline)
		}
		if g := pod.TerminationGracePeriodSeconds; g == nil || *g < 30 {
			t.Errorf("terminationGracePeriodSeconds %v: want ≥ 30s for etl to stop on SIGTERM", g)
		}
	})

	t.Run("resources", func(t *testing.T) {
		req, lim := container.Resources.Requests.Memory(), container.Resources.Limits.Memory()
		if req.IsZero() || lim.IsZero() {
			t.Fatalf("memory request %s, limit %s: want both", req, lim)
		}
		if req.Value() < documentedPeakRSS || lim.Cmp(*req) < 0 {
			t.Errorf("memory request %s, limit %s: want request ≥ the documented peak RSS (210 MB) and limit ≥ request", req, lim)
		}
		soft := parseBytes(t, cfg.MemoryLimit)
		if soft >= req.Value() {
			t.Errorf("etl.yaml memory_limit %s (the Go soft limit) ≥ the memory request %s: want it below, so the GC works before the kernel kills", cfg.MemoryLimit, req)
		}
		if container.Resources.Requests.Cpu().IsZero() {
			t.Error("cpu request: want set")
		}
	})

	t.Run("security", func(t *testing.T) {
		psc, csc := pod.SecurityContext, container.SecurityContext
		if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
			t.Errorf("pod securityContext %+v: want runAsNonRoot and a non-zero runAsUser", psc)
		}
		if csc == nil || csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem {
			t.Errorf("container securityContext: want readOnlyRootFilesystem")
		}
		if csc == nil || csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation {
			t.Errorf("container securityContext: want allowPrivilegeEscalation false")
		}
		if csc == nil || csc.Capabilities == nil || !slices.Contains(csc.Capabilities.Drop, "ALL") {
			t.Errorf("container securityContext: want capabilities drop ALL")
		}
		if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
			t.Errorf("automountServiceAccountToken: want false (etl never talks to the API server)")
		}
		if pod.ServiceAccountName != o.sa.Name {
			t.Errorf("serviceAccountName %q: want %q", pod.ServiceAccountName, o.sa.Name)
		}
	})

	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	// mountOf returns the volume mounted at the directory holding file.
	mountOf := func(file string) (corev1.VolumeMount, corev1.Volume, bool) {
		for _, m := range container.VolumeMounts {
			if path.Dir(file) == path.Clean(m.MountPath) {
				return m, volumes[m.Name], true
			}
		}
		return corev1.VolumeMount{}, corev1.Volume{}, false
	}

	t.Run("tmp", func(t *testing.T) {
		m, v, ok := mountOf("/tmp/x")
		if !ok || v.EmptyDir == nil || m.ReadOnly {
			t.Fatalf("/tmp: want a writable emptyDir (the root filesystem is read-only), got %+v %+v", m, v)
		}
		if v.EmptyDir.SizeLimit == nil {
			t.Error("/tmp emptyDir: want a sizeLimit")
		}
	})

	t.Run("config", func(t *testing.T) {
		i := slices.Index(container.Args, "--config")
		if i < 0 || i+1 >= len(container.Args) {
			t.Fatalf("args %q: want --config FILE", container.Args)
		}
		wantConfigFile := func(field, file string) {
			m, v, ok := mountOf(file)
			switch {
			case !ok || v.ConfigMap == nil:
				t.Errorf("%s %s: not in a mounted ConfigMap", field, file)
			case v.ConfigMap.Name != o.configMap.Name:
				t.Errorf("%s %s: mounted from ConfigMap %q, want %q", field, file, v.ConfigMap.Name, o.configMap.Name)
			case !m.ReadOnly:
				t.Errorf("%s: mount %s read-only", field, m.MountPath)
			default:
				if _, ok := o.configMap.Data[path.Base(file)]; !ok {
					t.Errorf("%s %s: the ConfigMap has no key %s", field, file, path.Base(file))
				}
			}
		}
		wantConfigFile("--config", container.Args[i+1])
		if f := cfg.Sources.Mobilgroup.IDsFile; f != "" {
			wantConfigFile("sources.mobilgroup.broadcast_ids_file", f)
		}
		for field, v := range map[string]string{"lake": cfg.Lake, "state": cfg.State} {
			if !strings.HasPrefix(v, "s3://") {
				t.Errorf("etl.yaml %s %q: want s3://bucket/prefix (a pod has no lasting disk)", field, v)
			}
		}
		if cfg.S3 == nil {
			t.Error("etl.yaml: want the top-level s3 section (the connection of the lake, the state and the recordings)")
		}
	})

	t.Run("secrets", func(t *testing.T) {
		envs := map[string]corev1.EnvVar{}
		for _, e := range container.Env {
			envs[e.Name] = e
		}
		n := 0
		secretRefs(cfg.raw, "", func(field, kind, value string) {
			n++
			switch kind {
			case "file":
				m, v, ok := mountOf(value)
				switch {
				case !ok || v.Secret == nil:
					t.Errorf("%s: {file: %s} is not in a mounted Secret", field, value)
				case v.Secret.SecretName != o.secret.Name:
					t.Errorf("%s: {file: %s} mounts Secret %q, want %q", field, value, v.Secret.SecretName, o.secret.Name)
				case !m.ReadOnly:
					t.Errorf("%s: mount %s read-only", field, m.MountPath)
				case v.Secret.DefaultMode == nil || *v.Secret.DefaultMode&0o227 != 0:
					var mode int32
					if v.Secret.DefaultMode != nil {
						mode = *v.Secret.DefaultMode
					}
					t.Errorf("%s: Secret volume defaultMode %#o: want read-only for owner and group, nothing for others (YAML 0440 is octal)", field, mode)
				default:
					if _, ok := o.secret.StringData[path.Base(value)]; !ok {
						t.Errorf("%s: {file: %s}: the Secret has no key %s", field, value, path.Base(value))
					}
				}
			case "env":
				e, ok := envs[value]
				if !ok || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Name != o.secret.Name {
					t.Errorf("%s: {env: %s}: want the container's env %s from Secret %s", field, value, value, o.secret.Name)
				} else if _, ok := o.secret.StringData[e.ValueFrom.SecretKeyRef.Key]; !ok {
					t.Errorf("%s: env %s from Secret key %s, which the Secret lacks", field, value, e.ValueFrom.SecretKeyRef.Key)
				}
			}
		})
		if n == 0 {
			t.Fatal("etl.yaml names no secrets: the walk found nothing")
		}
		for k, v := range o.secret.StringData {
			if v != "" {
				t.Errorf("secret.example.yaml %s: holds a value; the repo holds no secrets", k)
			}
		}
	})
}

// TestKustomize renders the kustomization with kubectl (offline) and
// decodes what it renders strictly too: the namespace and the image are
// set, nothing is dropped.
func TestKustomize(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl not installed: kustomization.yaml not rendered (the strict decoding above still ran)")
	}
	out, err := exec.Command(kubectl, "kustomize", manifests).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl kustomize: %v\n%s", err, out)
	}
	var o objects
	for _, doc := range splitDocs(out) {
		decodeStrict(t, "kubectl kustomize", doc, &o)
	}
	if o.cronJob == nil || o.configMap == nil || o.sa == nil {
		t.Fatalf("kustomize rendered %+v: want the CronJob, ConfigMap and ServiceAccount", o)
	}
	if o.cronJob.Namespace == "" || o.cronJob.Namespace != o.configMap.Namespace {
		t.Errorf("namespaces %q, %q: want both set by the kustomization", o.cronJob.Namespace, o.configMap.Namespace)
	}
	img := o.cronJob.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Image
	if !strings.Contains(img, "/") || !strings.Contains(img, ":") {
		t.Errorf("image %q: want the kustomization's registry name and tag", img)
	}
}

// TestKubectlDryRun runs kubectl's client-side dry run. Even with
// --dry-run=client kubectl asks an API server for its discovery (and, to
// validate, its OpenAPI schema), so this runs only where kubectl reaches a
// cluster (KUBECONFIG); elsewhere it says so and skips.
func TestKubectlDryRun(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, kubectl, "version", "--request-timeout=5s").CombinedOutput(); err != nil {
		t.Skipf("kubectl reaches no API server (client dry run needs its discovery and OpenAPI): %s", firstLine(out))
	}
	for _, args := range [][]string{
		{"apply", "--dry-run=client", "--validate=strict", "-k", manifests},
		{"apply", "--dry-run=client", "--validate=strict", "-f", filepath.Join(manifests, "secret.example.yaml")},
	} {
		out, err := exec.CommandContext(ctx, kubectl, args...).CombinedOutput()
		if err != nil {
			t.Errorf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(bytes.TrimSpace(b), []byte("\n"))
	return string(line)
}
