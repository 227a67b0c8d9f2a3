package deploy_test

import (
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// TestReceiveDeployment checks the receiver's Deployment and Service
// against the CronJob and the config: one replica replaced with Recreate
// (two landers on one spool could seal a batch twice), the same image,
// ServiceAccount, security and Secret as the nightly pods, probes on
// /healthz at the port the config listens on, a spool on S3 (a pod has no
// lasting disk), a grace period covering the shutdown (20s for requests in
// flight + 30s for the last landing), and a Service that selects the
// receiver's pods only.
func TestReceiveDeployment(t *testing.T) {
	o := loadObjects(t)
	d, svc := o.receiver, o.service
	if d == nil || svc == nil {
		t.Fatal("want the receiver's Deployment and Service (receive.yaml)")
	}
	cfg := parseConfig(t, o.configMap)
	rc, _ := cfg.raw["receive"].(map[string]any)
	if rc == nil {
		t.Fatal("etl.yaml has no receive section")
	}
	if spool, _ := rc["spool"].(string); !strings.HasPrefix(spool, "s3://") {
		t.Errorf("receive.spool %q: want s3:// (a pod has no lasting disk: acknowledged events would be lost with it)", spool)
	}
	listen, _ := rc["listen"].(string)
	_, port, _ := strings.Cut(listen, ":")

	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		t.Error("replicas: want exactly 1 (one lander per spool)")
	}
	if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("strategy %q: want Recreate, so an old and a new pod never land at once", d.Spec.Strategy.Type)
	}
	pod := d.Spec.Template.Spec
	job := o.cronJob.Spec.JobTemplate.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	if c.Image != job.Containers[0].Image {
		t.Errorf("image %q, the CronJob's %q: want the same (kustomize sets both)", c.Image, job.Containers[0].Image)
	}
	if !slices.Contains(c.Args, "receive") || !slices.Contains(c.Args, "/etc/calletl/etl.yaml") {
		t.Errorf("args %v: want etl --config /etc/calletl/etl.yaml … receive", c.Args)
	}
	if pod.ServiceAccountName != job.ServiceAccountName || pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("ServiceAccount: want the CronJob's, without a mounted token")
	}
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Error("pod securityContext: want runAsNonRoot")
	}
	if sc := c.SecurityContext; sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("container securityContext: want a read-only root and no privilege escalation")
	}
	if pod.TerminationGracePeriodSeconds == nil || *pod.TerminationGracePeriodSeconds < 50 {
		t.Error("terminationGracePeriodSeconds: want at least 50 (20s of requests in flight + 30s of last landing)")
	}
	var cport *corev1.ContainerPort
	for i := range c.Ports {
		if c.Ports[i].Name == "http" {
			cport = &c.Ports[i]
		}
	}
	if cport == nil || port == "" || port != strconv.Itoa(int(cport.ContainerPort)) {
		t.Fatalf("container port %v, receive.listen %q: want the named port http on the port the config listens on", cport, listen)
	}
	for name, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" || p.HTTPGet.Port.String() != "http" {
			t.Errorf("%s probe: want GET /healthz on port http", name)
		}
	}
	// The secret the config names is in the mounted Secret.
	sec, _ := rc["secret"].(map[string]any)
	file, _ := sec["file"].(string)
	mounted := false
	for _, m := range c.VolumeMounts {
		for _, v := range pod.Volumes {
			if v.Name == m.Name && v.Secret != nil && v.Secret.SecretName == o.secret.Name && strings.HasPrefix(file, m.MountPath+"/") && m.ReadOnly {
				mounted = true
			}
		}
	}
	if _, ok := o.secret.StringData[path.Base(file)]; !mounted || !ok {
		t.Errorf("receive.secret {file: %s}: want it read-only from the Secret %s, which has the key", file, o.secret.Name)
	}
	// The Service selects the receiver's pods, not the CronJob's.
	labels := d.Spec.Template.Labels
	for k, v := range svc.Spec.Selector {
		if labels[k] != v {
			t.Errorf("Service selector %s=%s: the receiver's pods are labelled %v", k, v, labels)
		}
	}
	jobLabels := o.cronJob.Spec.JobTemplate.Spec.Template.Labels
	selectsJob := true
	for k, v := range svc.Spec.Selector {
		if jobLabels[k] != v {
			selectsJob = false
		}
	}
	if selectsJob {
		t.Error("the Service selector matches the CronJob's pods too")
	}
	for k, v := range d.Spec.Selector.MatchLabels {
		if labels[k] != v {
			t.Errorf("Deployment selector %s=%s does not match its pods", k, v)
		}
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort.String() != "http" {
		t.Errorf("Service ports %v: want one, to the container port http", svc.Spec.Ports)
	}
}
