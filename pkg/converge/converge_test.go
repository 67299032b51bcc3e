package converge

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/agentctl/agentctl/pkg/classify"
)

func obj(t *testing.T, y string) *unstructured.Unstructured {
	t.Helper()
	// As a client reads it: integers as int64.
	j, err := yaml.YAMLToJSON([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(j); err != nil {
		t.Fatal(err)
	}
	return u
}

const deployManifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: nginx:1.27
        resources: {requests: {cpu: "0.5", memory: 64Mi}}
`

// liveDeploy is deployManifest as the API server and the controller
// return it: defaults filled, status written.
const liveDeploy = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  uid: d-1
  generation: 3
  labels: {app: web}
  annotations: {deployment.kubernetes.io/revision: "3"}
spec:
  replicas: 2
  progressDeadlineSeconds: 600
  revisionHistoryLimit: 10
  selector: {matchLabels: {app: web}}
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 25%, maxUnavailable: 25%}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: nginx:1.27
        imagePullPolicy: IfNotPresent
        resources: {requests: {cpu: 500m, memory: 64Mi}}
        terminationMessagePath: /dev/termination-log
      restartPolicy: Always
      dnsPolicy: ClusterFirst
status:
  observedGeneration: 3
  replicas: 2
  updatedReplicas: 2
  readyReplicas: 2
  availableReplicas: 2
  conditions:
  - {type: Available, status: "True", reason: MinimumReplicasAvailable}
  - {type: Progressing, status: "True", reason: NewReplicaSetAvailable}
`

func TestFromManifestsRecordsWhatTheManifestSets(t *testing.T) {
	ins, err := FromManifests([]string{deployManifest + "---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: other}, data: {k: v}}\n"}, "shop", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != 2 {
		t.Fatalf("got %d intents, want 2 (the List expanded)", len(ins))
	}
	d := ins[0]
	if d.Ref != (Ref{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "web"}) {
		t.Errorf("ref = %+v", d.Ref)
	}
	var paths []string
	for _, f := range d.Fields {
		paths = append(paths, f.Path.String())
	}
	got := strings.Join(paths, "\n")
	for _, want := range []string{"spec.replicas", "spec.template.spec.containers[name=app].image", `metadata.labels.app`, "spec.template.spec.containers[name=app].resources.requests.cpu"} {
		if !strings.Contains(got, want) {
			t.Errorf("fields lack %s:\n%s", want, got)
		}
	}
	for _, not := range []string{"metadata.name", "apiVersion", "kind", "containers[name=app].name"} {
		for _, p := range paths {
			if p == not {
				t.Errorf("identity field %s recorded as wanted state", not)
			}
		}
	}
	if ins[1].Ref.Namespace != "other" {
		t.Errorf("a manifest's own namespace was replaced: %q", ins[1].Ref.Namespace)
	}
}

func TestCompare(t *testing.T) {
	intent := func(y string) []Field {
		ins, err := FromManifests([]string{y}, "shop", nil)
		if err != nil {
			t.Fatal(err)
		}
		return ins[0].Fields
	}
	live := obj(t, liveDeploy).Object
	tests := []struct {
		name   string
		fields []Field
		want   []Diff
	}{
		{"server defaults and status are ignored, 0.5 cpu equals 500m", intent(deployManifest), nil},
		{"another image is a divergence",
			intent(strings.Replace(deployManifest, "nginx:1.27", "nginx:1.28", 1)),
			[]Diff{{Field: "spec.template.spec.containers[name=app].image", Wanted: `"nginx:1.28"`, Got: `"nginx:1.27"`}}},
		{"replicas changed by someone else",
			intent(strings.Replace(deployManifest, "replicas: 2", "replicas: 5", 1)),
			[]Diff{{Field: "spec.replicas", Wanted: "5", Got: "2"}}},
		{"a container the manifest names is missing",
			SetImage(Ref{Kind: "Deployment"}, map[string]string{"sidecar": "envoy:1"}).Fields,
			[]Diff{{Field: "spec.template.spec.containers[name=sidecar].image", Wanted: `"envoy:1"`, Got: "(absent)"}}},
		{"a removed label that is still there",
			Meta(Ref{}, "labels", []string{"app-"}).Fields,
			[]Diff{{Field: "metadata.labels.app", Wanted: "(absent)", Got: `"web"`}}},
		{"a label with a dotted key",
			Meta(Ref{}, "labels", []string{"app.kubernetes.io/name=web"}).Fields,
			[]Diff{{Field: `metadata.labels["app.kubernetes.io/name"]`, Wanted: `"web"`, Got: "(absent)"}}},
		{"scale to what is there", Scale(Ref{}, 2).Fields, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compare(tt.fields, live)
			if len(got) != len(tt.want) {
				t.Fatalf("diffs = %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("diff %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestPatchIntent(t *testing.T) {
	in, err := Patch(Ref{Kind: "Deployment"}, []byte(`{"spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"app","image":"x:2"},{"$patch":"delete","name":"old"}]}}}}`), "strategic")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range in.Fields {
		got = append(got, f.Path.String())
	}
	if strings.Join(got, ",") != "spec.replicas,spec.template.spec.containers[name=app].image" {
		t.Errorf("fields = %v", got)
	}
	if in, _ := Patch(Ref{}, []byte(`[{"op":"replace","path":"/spec/replicas","value":3}]`), "json"); len(in.Fields) != 0 {
		t.Errorf("a JSON patch's operations read as fields: %+v", in.Fields)
	}
}

func pod(t *testing.T, phase, sched string) *unstructured.Unstructured {
	y := "apiVersion: v1\nkind: Pod\nmetadata: {name: web-1, namespace: shop, uid: p-1, creationTimestamp: \"2020-01-01T00:00:00Z\", ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-abc, uid: rs-1}]}\nstatus:\n  phase: " + phase + "\n"
	if sched != "" {
		y += "  conditions:\n  - {type: PodScheduled, status: \"False\", reason: Unschedulable, message: \"" + sched + "\"}\n"
	}
	return obj(t, y)
}

func TestJudge(t *testing.T) {
	rolling := strings.Replace(liveDeploy, "updatedReplicas: 2", "updatedReplicas: 1", 1)
	tests := []struct {
		name    string
		obj     string
		pods    []*unstructured.Unstructured
		state   State
		reason  string
		message string
	}{
		{"a rolled out Deployment", liveDeploy, nil, Converged, "", ""},
		{"a Deployment mid-rollout", rolling, nil, Progressing, "LessUpdated", ""},
		{"a Deployment the controller has not seen", strings.Replace(liveDeploy, "observedGeneration: 3", "observedGeneration: 2", 1), nil, Progressing, "", ""},
		{"an unschedulable pod fails its Deployment with the scheduler's reason", rolling,
			[]*unstructured.Unstructured{pod(t, "Pending", "0/1 nodes are available: 1 Insufficient cpu.")}, Failed, "Unschedulable", "0/1 nodes are available: 1 Insufficient cpu."},
		{"a ConfigMap is ready once it exists", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: v}\n", nil, Converged, "", ""},
		{"an object without status kstatus has no rules for", "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa}\n", nil, Unknown, "UnknownStatus", "unknown status"},
		{"a custom resource without standard conditions", "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, generation: 1}\nspec: {size: 3}\nstatus: {phase: Whatever}\n", nil, Unknown, "UnknownStatus", "Widget.example.com"},
		{"a custom resource with a Ready condition", "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, generation: 1}\nstatus: {observedGeneration: 1, conditions: [{type: Ready, status: \"True\"}]}\n", nil, Converged, "", ""},
		{"a custom resource that is Stalled", "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, generation: 1}\nstatus: {observedGeneration: 1, conditions: [{type: Stalled, status: \"True\", reason: QuotaExceeded, message: no room}]}\n", nil, Failed, "QuotaExceeded", "no room"},
		{"a Job that failed", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, generation: 1}\nspec: {completions: 1, parallelism: 1}\nstatus: {failed: 1, conditions: [{type: Failed, status: \"True\", reason: BackoffLimitExceeded, message: too many}]}\n", nil, Failed, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := Judge(obj(t, tt.obj), tt.pods)
			if st.State != tt.state {
				t.Fatalf("state = %s (%s: %s), want %s", st.State, st.Reason, st.Message, tt.state)
			}
			if tt.reason != "" && st.Reason != tt.reason {
				t.Errorf("reason = %q, want %q", st.Reason, tt.reason)
			}
			if !strings.Contains(st.Message, tt.message) {
				t.Errorf("message = %q, want it to contain %q", st.Message, tt.message)
			}
		})
	}
}

// fakeSource is a cluster in memory: pure logic, the e2e tests use a real one.
type fakeSource struct {
	objs []*unstructured.Unstructured
	err  error
}

func (f *fakeSource) Get(_ context.Context, r Ref) (*unstructured.Unstructured, error) {
	if f.err != nil {
		return nil, f.err
	}
	for _, o := range f.objs {
		if o.GetKind() == r.Kind && o.GetName() == r.Name && o.GetNamespace() == r.Namespace {
			return o, nil
		}
	}
	return nil, nil
}

func (f *fakeSource) Owned(_ context.Context, ns string, uids []string) ([]*unstructured.Unstructured, error) {
	if f.err != nil {
		return nil, f.err
	}
	return closure(f.objs, uids), nil
}

func TestDeleteConvergesWhenDependentsAreGone(t *testing.T) {
	ctx := context.Background()
	d := obj(t, liveDeploy)
	rs := obj(t, "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web-abc, namespace: shop, uid: rs-1, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: d-1}]}\n")
	p := pod(t, "Running", "")
	other := obj(t, "apiVersion: v1\nkind: Pod\nmetadata: {name: db-0, namespace: shop, uid: p-9}\n")
	src := &fakeSource{objs: []*unstructured.Unstructured{d, rs, p, other}}
	in := Intent{Ref: Ref{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "web"}, Op: OpDelete}
	if err := Snapshot(ctx, src, &in); err != nil {
		t.Fatal(err)
	}
	if strings.Join(in.UIDs, ",") != "d-1,rs-1,p-1" {
		t.Fatalf("snapshot uids = %v, want the deployment, its replicaset and its pod", in.UIDs)
	}
	// The Deployment and the ReplicaSet are gone, the pod is not yet:
	// its owner chain is broken but its uid was recorded.
	src.objs = []*unstructured.Unstructured{p, other}
	r, err := Check(ctx, src, in)
	if err != nil {
		t.Fatal(err)
	}
	if r.State != Progressing || !strings.Contains(r.Message, "Pod/web-1") {
		t.Errorf("with a pod left: %s %q, want progressing naming the pod", r.State, r.Message)
	}
	src.objs = []*unstructured.Unstructured{other}
	if r, _ := Check(ctx, src, in); r.State != Converged {
		t.Errorf("with everything gone: %s %q, want converged", r.State, r.Message)
	}
}

func TestCheckSetIntent(t *testing.T) {
	ctx := context.Background()
	in := SetImage(Ref{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "web"}, map[string]string{"app": "nginx:1.27"})
	src := &fakeSource{objs: []*unstructured.Unstructured{obj(t, liveDeploy)}}
	if r, _ := Check(ctx, src, in); r.State != Converged {
		t.Errorf("rolled out with the wanted image: %s %q", r.State, r.Message)
	}
	in2 := SetImage(in.Ref, map[string]string{"app": "nginx:1.28"})
	r, _ := Check(ctx, src, in2)
	if r.State != Diverged || len(r.Diffs) != 1 || r.Diffs[0].Got != `"nginx:1.27"` {
		t.Errorf("another image live: %+v", r)
	}
	src.objs = nil
	if r, _ := Check(ctx, src, in); r.State != Gone {
		t.Errorf("object deleted later: %s, want gone", r.State)
	}
}

func TestWaitUnreachable(t *testing.T) {
	src := &fakeSource{err: errors.New("dial tcp 127.0.0.1:6443: connect: connection refused")}
	w := &Waiter{Source: src, Timeout: time.Minute, Interval: time.Millisecond}
	res, err := w.Wait(context.Background(), []Intent{Scale(Ref{Kind: "Deployment", Name: "web"}, 2)})
	var ue *UnreachableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("err = %v, want an UnreachableError naming the cause", err)
	}
	if res[0].State != Error {
		t.Errorf("state = %s, want error", res[0].State)
	}
}

func TestWaitTimesOutOnProgress(t *testing.T) {
	rolling := strings.Replace(liveDeploy, "updatedReplicas: 2", "updatedReplicas: 1", 1)
	src := &fakeSource{objs: []*unstructured.Unstructured{obj(t, rolling)}}
	polls := 0
	w := &Waiter{Source: src, Timeout: 20 * time.Millisecond, Interval: time.Millisecond, Progress: func([]Result, time.Duration) { polls++ }}
	res, err := w.Wait(context.Background(), []Intent{Scale(Ref{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "web"}, 2)})
	if !errors.Is(err, ErrTimeout) || res[0].State != Progressing {
		t.Fatalf("err = %v state = %s, want a timeout while progressing", err, res[0].State)
	}
	if polls < 2 {
		t.Errorf("polled %d times, want it to poll until the timeout", polls)
	}
}

func TestFromAssessment(t *testing.T) {
	web := classify.Resource{Group: "apps", Version: "v1", Kind: "Deployment", Resource: "deployments", Namespace: "shop", Name: "web", Source: classify.SourceArgv}
	kube := func(sub string, args ...string) *classify.Assessment {
		return &classify.Assessment{Tool: "kubectl", Subcommand: sub, Resources: []classify.Resource{web}, Target: classify.Target{Namespace: "shop"}, Exec: classify.Invocation{Args: args}}
	}
	fields := func(ins []Intent) string {
		var s []string
		for _, in := range ins {
			for _, f := range in.Fields {
				v := render(f.Value)
				if f.Absent {
					v = "(absent)"
				}
				s = append(s, f.Path.String()+"="+v)
			}
		}
		return strings.Join(s, " ")
	}
	tests := []struct {
		name string
		a    *classify.Assessment
		want string
		op   Op
	}{
		{"flags before verb: -n shop scale --replicas 3 deploy/web", kube("scale", "-n", "shop", "scale", "--replicas", "3", "deploy/web"), "spec.replicas=3", OpSet},
		{"set image with a registry path", kube("set image", "set", "image", "deploy/web", "app=registry.local/nginx:1.28"), `spec.template.spec.containers[name=app].image="registry.local/nginx:1.28"`, OpSet},
		{"label with a selector flag value that holds =", kube("label", "label", "-l", "tier=web", "deploy", "web", "app.kubernetes.io/part-of=shop", "old-"), `metadata.labels["app.kubernetes.io/part-of"]="shop" metadata.labels.old=(absent)`, OpSet},
		{"patch -p", kube("patch", "patch", "deploy", "web", "-p", `{"spec":{"replicas":4}}`), "spec.replicas=4", OpSet},
		{"rollout restart: identity only", kube("rollout restart", "rollout", "restart", "deploy/web"), "", OpSet},
		{"delete", kube("delete", "delete", "deploy", "web"), "", OpDelete},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ins, _, err := FromAssessment(tt.a)
			if err != nil {
				t.Fatal(err)
			}
			if len(ins) != 1 || ins[0].Op != tt.op || ins[0].Ref.Name != "web" {
				t.Fatalf("intents = %+v", ins)
			}
			if got := fields(ins); got != tt.want {
				t.Errorf("fields = %s, want %s", got, tt.want)
			}
		})
	}
	apply := kube("apply", "apply", "-f", "-")
	apply.Exec.Stdin = []byte(deployManifest)
	if ins, _, err := FromAssessment(apply); err != nil || len(ins) != 1 || ins[0].Ref.Namespace != "shop" || !strings.Contains(fields(ins), `image="nginx:1.27"`) {
		t.Errorf("apply of the approved bytes: %v %+v", err, ins)
	}
	for _, a := range []*classify.Assessment{kube("get", "get", "deploy"), func() *classify.Assessment {
		a := kube("scale", "scale", "--replicas=1", "deploy/web")
		a.DryRun = true
		return a
	}()} {
		if ins, _, _ := FromAssessment(a); ins != nil {
			t.Errorf("%s (dry run %v) has intents %+v", a.Subcommand, a.DryRun, ins)
		}
	}
}
