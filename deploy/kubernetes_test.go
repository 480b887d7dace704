package deploy

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// The Kubernetes manifests, decoded strictly (an unknown or misspelt field
// is an error, as `kubectl apply --validate=strict` would say) into the
// API's types, and checked against each other and against gale.

const k8sDir = "kubernetes"

// kustomization is the part of kustomize's file these manifests use
// (decoded strictly too).
type kustomization struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Labels     []struct {
		Pairs map[string]string `json:"pairs"`
	} `json:"labels"`
	Resources []string `json:"resources"`
	Images    []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
	} `json:"images"`
}

// serviceMonitor is the part of monitoring.coreos.com/v1 ServiceMonitor
// used here (the operator's Go module is too heavy for this test).
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector  metav1.LabelSelector `json:"selector"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path"`
			Interval      string `json:"interval"`
			Authorization struct {
				Type        string                   `json:"type"`
				Credentials corev1.SecretKeySelector `json:"credentials"`
			} `json:"authorization"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// manifests are the decoded objects.
type manifests struct {
	sts      *appsv1.StatefulSet
	services map[string]*corev1.Service
	pdb      *policyv1.PodDisruptionBudget
	sm       *serviceMonitor
	configs  map[string]*corev1.ConfigMap
	secrets  map[string]*corev1.Secret // the example Secret
}

// docs splits a YAML file into its documents.
func docs(b []byte) [][]byte {
	var out [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(b), -1) {
		if strings.TrimSpace(regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(d, "")) != "" {
			out = append(out, []byte(d))
		}
	}
	return out
}

func strict(t *testing.T, where string, doc []byte, into any) {
	t.Helper()
	if err := yaml.UnmarshalStrict(doc, into); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
}

func load(t *testing.T) (*kustomization, *manifests) {
	t.Helper()
	var k kustomization
	b, err := os.ReadFile(filepath.Join(k8sDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	strict(t, "kustomization.yaml", b, &k)
	files, _ := filepath.Glob(filepath.Join(k8sDir, "*.yaml"))
	m := &manifests{services: map[string]*corev1.Service{}, configs: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{}}
	for _, f := range files {
		base := filepath.Base(f)
		if base == "kustomization.yaml" {
			continue
		}
		listed := slices.Contains(k.Resources, base)
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, d := range docs(b) {
			where := fmt.Sprintf("%s (document %d)", base, i+1)
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal(d, &tm); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			switch tm.APIVersion + " " + tm.Kind {
			case "apps/v1 StatefulSet":
				m.sts = new(appsv1.StatefulSet)
				strict(t, where, d, m.sts)
			case "v1 Service":
				s := new(corev1.Service)
				strict(t, where, d, s)
				m.services[s.Name] = s
			case "policy/v1 PodDisruptionBudget":
				m.pdb = new(policyv1.PodDisruptionBudget)
				strict(t, where, d, m.pdb)
			case "monitoring.coreos.com/v1 ServiceMonitor":
				m.sm = new(serviceMonitor)
				strict(t, where, d, m.sm)
			case "v1 ConfigMap":
				c := new(corev1.ConfigMap)
				strict(t, where, d, c)
				m.configs[c.Name] = c
			case "v1 Secret":
				s := new(corev1.Secret)
				strict(t, where, d, s)
				if listed {
					t.Errorf("%s: a Secret among the kustomization's resources would apply example secrets to a cluster", where)
				}
				m.secrets[s.Name] = s
			default:
				t.Fatalf("%s: unexpected %s %s", where, tm.APIVersion, tm.Kind)
			}
			if tm.Kind != "Secret" && !listed {
				t.Errorf("%s: not among the kustomization's resources", where)
			}
		}
	}
	for _, r := range k.Resources {
		if _, err := os.Stat(filepath.Join(k8sDir, r)); err != nil {
			t.Errorf("kustomization.yaml: resource %s: %v", r, err)
		}
	}
	if m.sts == nil || m.pdb == nil || m.sm == nil {
		t.Fatal("want a StatefulSet, a PodDisruptionBudget and a ServiceMonitor")
	}
	return &k, m
}

// selects: a selector (matchLabels or a Service's map) picks pods with
// these labels.
func selects(sel map[string]string, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func TestKubernetes(t *testing.T) {
	_, m := load(t)
	sts := m.sts
	pod := sts.Spec.Template
	if !selects(sts.Spec.Selector.MatchLabels, pod.Labels) || len(sts.Spec.Selector.MatchExpressions) > 0 {
		t.Errorf("the StatefulSet's selector %v does not select its pods %v", sts.Spec.Selector.MatchLabels, pod.Labels)
	}
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("%d containers; want gale's", len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]
	if len(c.Args) == 0 || c.Args[0] != "worker" {
		t.Fatalf("args %v; want gale worker ...", c.Args)
	}
	vals := checkArgs(t, "the StatefulSet", c.Args[1:])

	// every $(VAR) of the args is set in the environment
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	for _, a := range c.Args {
		for _, v := range regexp.MustCompile(`\$\(([A-Z_]+)\)`).FindAllStringSubmatch(a, -1) {
			if _, ok := env[v[1]]; !ok {
				t.Errorf("arg %s: $(%s) is not in the container's env", a, v[1])
			}
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			continue
		}
		if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
			if cm := m.configs[r.Name]; cm == nil || cm.Data[r.Key] == "" {
				t.Errorf("env %s: ConfigMap %s has no key %s", e.Name, r.Name, r.Key)
			}
		}
		if r := e.ValueFrom.SecretKeyRef; r != nil {
			if s := m.secrets[r.Name]; s == nil || s.StringData[r.Key] == "" && len(s.Data[r.Key]) == 0 {
				t.Errorf("env %s: the example Secret %s has no key %s", e.Name, r.Name, r.Key)
			}
		}
	}
	if env["POD_NAME"].ValueFrom == nil || env["POD_NAME"].ValueFrom.FieldRef.FieldPath != "metadata.name" ||
		env["POD_IP"].ValueFrom == nil || env["POD_IP"].ValueFrom.FieldRef.FieldPath != "status.podIP" {
		t.Error("POD_NAME and POD_IP must come from the downward API (metadata.name, status.podIP)")
	}
	if vals["name"] != "$(POD_NAME)" {
		t.Errorf("--name %q: want $(POD_NAME), unique and stable per pod", vals["name"])
	}

	// ports: the container's are the worker's flags'
	wp := workerPorts(t, vals)
	type cport struct {
		port  int32
		proto corev1.Protocol
	}
	byName := map[string]cport{}
	for _, p := range c.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		byName[p.Name] = cport{p.ContainerPort, proto}
	}
	want := map[string]cport{"gossip-tcp": {int32(wp.gossip), "TCP"}, "gossip-udp": {int32(wp.gossip), "UDP"},
		"transport": {int32(wp.transport), "TCP"}, "http": {int32(wp.http), "TCP"}}
	for name, w := range want {
		if byName[name] != w {
			t.Errorf("container port %s: %v; want %v (from --bind %s, --http %s)", name, byName[name], w, value(t, vals, "bind"), value(t, vals, "http"))
		}
	}
	if len(byName) != len(want) {
		t.Errorf("container ports %v; want %v", byName, want)
	}
	// a Service's target port names a container port of its protocol
	target := func(svc string, sp corev1.ServicePort) {
		proto := sp.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		var cp cport
		var ok bool
		if sp.TargetPort.Type == intstr.String {
			cp, ok = byName[sp.TargetPort.StrVal]
		}
		if !ok || cp.proto != proto {
			t.Errorf("Service %s port %s: target %s/%s is no container port", svc, sp.Name, sp.TargetPort.String(), proto)
		}
	}

	// the headless gossip service: the StatefulSet's, every pod, ready or not
	hl := m.services[sts.Spec.ServiceName]
	if hl == nil {
		t.Fatalf("the StatefulSet's serviceName %q is no Service here", sts.Spec.ServiceName)
	}
	if hl.Spec.ClusterIP != corev1.ClusterIPNone || !hl.Spec.PublishNotReadyAddresses || !selects(hl.Spec.Selector, pod.Labels) {
		t.Errorf("Service %s: want clusterIP None, publishNotReadyAddresses and a selector of the pods", hl.Name)
	}
	var hlPorts []string
	for _, sp := range hl.Spec.Ports {
		target(hl.Name, sp)
		hlPorts = append(hlPorts, sp.TargetPort.StrVal)
	}
	slices.Sort(hlPorts)
	if !slices.Equal(hlPorts, []string{"gossip-tcp", "gossip-udp", "transport"}) {
		t.Errorf("Service %s ports %v; want gossip TCP and UDP, transport", hl.Name, hlPorts)
	}
	ns := "$(POD_NAMESPACE)"
	if j := vals["join"]; !strings.HasPrefix(j, hl.Name+"."+ns+".svc") {
		t.Errorf("--join %q: want the headless service's name, %s.%s.svc", j, hl.Name, ns)
	}

	// the client service: the API on the pods, not headless
	var client *corev1.Service
	for _, s := range m.services {
		if s != hl {
			if client != nil {
				t.Fatalf("services %s and %s: want one client service", client.Name, s.Name)
			}
			client = s
		}
	}
	if client == nil || client.Spec.ClusterIP == corev1.ClusterIPNone || !selects(client.Spec.Selector, pod.Labels) {
		t.Fatal("want a client Service (not headless) that selects the pods")
	}
	for _, sp := range client.Spec.Ports {
		target(client.Name, sp)
		if sp.TargetPort.StrVal != "http" {
			t.Errorf("client Service port %s: target %s; want the API's only", sp.Name, sp.TargetPort.String())
		}
	}

	// probes: the worker's paths, on its API port; checked on a real worker
	for _, p := range []struct {
		what  string
		probe *corev1.Probe
		path  string
	}{{"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}, {"startup", c.StartupProbe, "/healthz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("no %s probe over HTTP", p.what)
			continue
		}
		g := p.probe.HTTPGet
		if g.Path != p.path || g.Port.StrVal != "http" || g.Scheme != "" && g.Scheme != corev1.URISchemeHTTP && vals["tls-cert"] == "" {
			t.Errorf("%s probe: %s %s on port %s; want %s on http", p.what, g.Scheme, g.Path, g.Port.String(), p.path)
		}
	}
	api := startWorker(t)
	for _, path := range []string{c.LivenessProbe.HTTPGet.Path, c.ReadinessProbe.HTTPGet.Path} {
		probeOK(t, api, path)
	}

	// secrets: files from a secret volume, keys in the example Secret
	secretFiles := map[string]bool{}
	vols := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		vols[v.Name] = v
	}
	for _, vm := range c.VolumeMounts {
		v := vols[vm.Name]
		if v.Name == "" {
			t.Errorf("volume mount %s: no such volume", vm.Name)
			continue
		}
		if v.Secret == nil {
			continue
		}
		if !vm.ReadOnly {
			t.Errorf("secret volume %s mounted writable", vm.Name)
		}
		s := m.secrets[v.Secret.SecretName]
		if s == nil {
			t.Errorf("volume %s: Secret %s has no example here", v.Name, v.Secret.SecretName)
			continue
		}
		if len(v.Secret.Items) == 0 {
			t.Errorf("volume %s: list the Secret's keys (items), so that a missing key fails the pod's start", v.Name)
		}
		for _, it := range v.Secret.Items {
			if s.StringData[it.Key] == "" && len(s.Data[it.Key]) == 0 {
				t.Errorf("volume %s: the example Secret %s has no key %s", v.Name, s.Name, it.Key)
			}
			secretFiles[filepath.Join(vm.MountPath, it.Path)] = true
		}
	}
	for _, f := range []string{"cluster-key-file", "auth-token-file"} {
		if !secretFiles[vals[f]] {
			t.Errorf("--%s %q: want a file of a secret volume (%v): secure by default, the API off loopback needs a token and the cluster a key",
				f, vals[f], secretFiles)
		}
	}
	for _, f := range []string{"insecure", "cluster-key", "auth-token", "reads"} {
		if _, ok := vals[f]; ok {
			t.Errorf("--%s: the manifests must not loosen the defaults or put secrets in args", f)
		}
	}

	// the drain fits in the grace period
	drain := duration(t, vals, "drain-timeout", 30*time.Second)
	if grace := sts.Spec.Template.Spec.TerminationGracePeriodSeconds; grace == nil || time.Duration(*grace)*time.Second < drain+10*time.Second {
		t.Errorf("terminationGracePeriodSeconds %s; want at least --drain-timeout %v + 10 s", fmtPtr(grace), drain)
	}

	// the PodDisruptionBudget: the same pods, one at a time
	if !selects(m.pdb.Spec.Selector.MatchLabels, pod.Labels) || m.pdb.Spec.MaxUnavailable == nil || m.pdb.Spec.MaxUnavailable.IntValue() != 1 {
		t.Errorf("PodDisruptionBudget: want maxUnavailable 1 over the StatefulSet's pods")
	}

	// hardening
	psc, sc := pod.Spec.SecurityContext, c.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Error("the pod must run as a non-root user (runAsNonRoot, a runAsUser)")
	}
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil ||
		*sc.AllowPrivilegeEscalation || sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Error("the container needs readOnlyRootFilesystem, no privilege escalation and capabilities drop ALL")
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Error("the container needs CPU and memory requests and a memory limit")
	}
	// --data-dir is a writable volume (the root filesystem is read-only)
	var dataOK bool
	for _, vm := range c.VolumeMounts {
		if vm.MountPath == vals["data-dir"] && !vm.ReadOnly && vols[vm.Name].EmptyDir != nil {
			dataOK = true
		}
	}
	if !dataOK {
		t.Errorf("--data-dir %q: want a writable volume mounted there", vals["data-dir"])
	}

	// the ServiceMonitor: the client service's labels and port, the token
	sm := m.sm
	if !selects(sm.Spec.Selector.MatchLabels, client.Labels) || selects(sm.Spec.Selector.MatchLabels, hl.Labels) {
		t.Errorf("ServiceMonitor selector %v: want the client service %s only", sm.Spec.Selector.MatchLabels, client.Name)
	}
	for _, ep := range sm.Spec.Endpoints {
		if !slices.ContainsFunc(client.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == ep.Port }) {
			t.Errorf("ServiceMonitor port %q: no such port on Service %s", ep.Port, client.Name)
		}
		if ep.Path != "/metrics" {
			t.Errorf("ServiceMonitor path %q; want /metrics", ep.Path)
		}
		cr := ep.Authorization.Credentials
		if s := m.secrets[cr.Name]; ep.Authorization.Type != "Bearer" || s == nil || s.StringData[cr.Key] == "" {
			t.Errorf("ServiceMonitor: want a Bearer token from the example Secret's keys (reads need the token off loopback); got %s %s/%s",
				ep.Authorization.Type, cr.Name, cr.Key)
		}
		if cr.Key != filepath.Base(vals["auth-token-file"]) {
			t.Errorf("ServiceMonitor token key %s; want the API token's, %s", cr.Key, filepath.Base(vals["auth-token-file"]))
		}
	}
}

// TestKubernetes_Kustomize: kustomize (kubectl's) builds the manifests.
func TestKubernetes_Kustomize(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("SKIPPED LOUDLY: kubectl is not installed; the strict decoding above still ran")
	}
	var out, errb bytes.Buffer
	cmd := exec.Command(kubectl, "kustomize", k8sDir)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("kubectl kustomize %s: %v\n%s", k8sDir, err, errb.String())
	}
	// every object, rendered, still decodes strictly
	n := 0
	for _, d := range docs(out.Bytes()) {
		var tm metav1.TypeMeta
		yaml.Unmarshal(d, &tm)
		var into any
		switch tm.Kind {
		case "StatefulSet":
			into = new(appsv1.StatefulSet)
		case "Service":
			into = new(corev1.Service)
		case "ConfigMap":
			into = new(corev1.ConfigMap)
		case "PodDisruptionBudget":
			into = new(policyv1.PodDisruptionBudget)
		case "ServiceMonitor":
			into = new(serviceMonitor)
		default:
			t.Errorf("kustomize rendered an unexpected %s", tm.Kind)
			continue
		}
		strict(t, "rendered "+tm.Kind, d, into)
		n++
	}
	if n != 6 {
		t.Errorf("kustomize rendered %d objects; want 6", n)
	}
}

func fmtPtr(p *int64) string {
	if p == nil {
		return "unset"
	}
	return fmt.Sprint(*p)
}
