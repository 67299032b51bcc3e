package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// The capacity of each fake node of a converging cluster. A pod that
// requests more than FakeNodeCPU or FakeNodeMemory fits on no node.
const (
	FakeNodeCPU    = "4"
	FakeNodeMemory = "16Gi"
	FakeNodePods   = "110"
)

// FakeNodeAnnotation marks the nodes kwok manages: FakeNodeAnnotation=fake.
const FakeNodeAnnotation = "kwok.x-k8s.io/node"

// FakeNodes returns the names of a converging cluster's nodes.
func FakeNodes() []string { return []string{"kwok-node-1", "kwok-node-2"} }

// sharedConverging is the converging cluster of this test binary, apart
// from [shared] so that the tests of the plain cluster keep a control plane
// in which nothing reconciles.
var sharedConverging struct {
	once sync.Once
	c    *Cluster
	err  error
}

// convergingBins are the binaries of a converging cluster.
type convergingBins struct {
	etcd, apiserver, controllerManager, scheduler, kwok, kwokStages string
}

func findConvergingBins(t testing.TB) convergingBins {
	t.Helper()
	b := convergingBins{
		etcd:              Bin(t, "etcd"),
		apiserver:         Bin(t, "kube-apiserver"),
		controllerManager: Bin(t, "kube-controller-manager"),
		scheduler:         Bin(t, "kube-scheduler"),
		kwok:              Bin(t, "kwok"),
	}
	b.kwokStages = filepath.Join(filepath.Dir(b.kwok), "kwok-stages.yaml")
	if _, err := os.Stat(b.kwokStages); err != nil {
		missing(t, fmt.Errorf("kwok's stages: %w", err))
	}
	return b
}

// StartConverging returns the test binary's shared converging cluster,
// starting it on first use: a control plane of its own (not [Start]'s)
// with kube-controller-manager, kube-scheduler and kwok, and the
// [FakeNodes] that kwok keeps Ready. In it Deployments roll out, Jobs
// complete, garbage is collected, deleted namespaces are emptied, and a pod
// that fits on no node stays Pending with the scheduler's reason. Pods
// never run a container: kwok marks them Running and Ready (a Job's pods
// Succeeded). It skips or fails t like [Start]; when t fails, the
// components' logs are printed.
func StartConverging(t testing.TB) *Cluster {
	t.Helper()
	bins := findConvergingBins(t)
	sharedConverging.once.Do(func() {
		sharedConverging.c, sharedConverging.err = startConverging(bins)
	})
	if sharedConverging.err != nil {
		t.Fatalf("start converging test cluster: %v", sharedConverging.err)
	}
	c := sharedConverging.c
	t.Cleanup(func() { c.logOnFailure(t) })
	return c
}

// NewConvergingCluster starts a converging cluster (see [StartConverging])
// of t's own, stopped when t ends. Use it only to change the cluster itself
// (stop it mid-wait); otherwise use [StartConverging].
func NewConvergingCluster(t testing.TB) *Cluster {
	t.Helper()
	c, err := startConverging(findConvergingBins(t))
	if err != nil {
		t.Fatalf("start converging test cluster: %v", err)
	}
	t.Cleanup(func() {
		c.logOnFailure(t)
		c.Stop()
	})
	return c
}

// Converging reports whether c runs controllers, a scheduler and kwok
// (it was started by [StartConverging] or [NewConvergingCluster]).
func (c *Cluster) Converging() bool { return c.converging }

// logOnFailure prints the end of the components' logs when t failed.
func (c *Cluster) logOnFailure(t testing.TB) {
	if t.Failed() {
		t.Logf("converging cluster %s:%s", c.dir, c.componentLogs(40))
	}
}

// componentLogs returns the last n lines of each component's log.
func (c *Cluster) componentLogs(n int) string {
	var b strings.Builder
	for _, p := range c.components {
		b.WriteString("\n" + p.tail(n))
	}
	return b.String()
}

func startConverging(bins convergingBins) (*Cluster, error) {
	c, err := startCluster(bins.etcd, bins.apiserver)
	if err != nil {
		return nil, err
	}
	c.converging = true
	if err := c.startComponents(bins); err != nil {
		err = fmt.Errorf("%w%s", err, c.componentLogs(40))
		c.Stop()
		return nil, err
	}
	return c, nil
}

// startComponents starts kube-controller-manager, kube-scheduler and kwok
// against c's API server, creates the fake nodes and waits until a pod
// is scheduled on one and kwok made it Ready.
func (c *Cluster) startComponents(bins convergingBins) error {
	kubeconfig := func(user string) (string, error) {
		path := filepath.Join(c.dir, strings.TrimPrefix(user, "system:")+".kubeconfig")
		return path, writeKubeconfigFile(path, c.server, c.pki.caPEM, c.pki.tokens, []Context{{User: user}})
	}
	cs, err := kubernetes.NewForConfig(c.RESTConfig(UserAdmin))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, name := range FakeNodes() {
		if _, err := cs.CoreV1().Nodes().Create(ctx, fakeNode(name), metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create node %q: %w", name, err)
		}
	}

	kcmConfig, err := kubeconfig(userControllerManager)
	if err != nil {
		return err
	}
	p, err := startProcess(c.dir, "kube-controller-manager", bins.controllerManager,
		"--kubeconfig="+kcmConfig,
		"--secure-port=0",
		"--bind-address=127.0.0.1",
		"--leader-elect=false",
		"--use-service-account-credentials=false",
		// No cloud, no cluster signing key, no pod CIDRs to allocate.
		"--controllers=*,-cloud-node-lifecycle-controller,-node-route-controller,-service-lb-controller,"+
			"-certificatesigningrequest-signing-controller,-node-ipam-controller",
		"--service-account-private-key-file="+c.pki.saKeyFile,
		"--root-ca-file="+c.pki.caFile,
		"--cluster-name="+ClusterName,
		"--profiling=false",
	)
	if err != nil {
		return err
	}
	c.components = append(c.components, p)

	schedConfig, err := kubeconfig(userScheduler)
	if err != nil {
		return err
	}
	p, err = startProcess(c.dir, "kube-scheduler", bins.scheduler,
		"--kubeconfig="+schedConfig,
		"--secure-port=0",
		"--bind-address=127.0.0.1",
		"--leader-elect=false",
		"--profiling=false",
	)
	if err != nil {
		return err
	}
	c.components = append(c.components, p)

	kwokConfig, err := kubeconfig(userKwok)
	if err != nil {
		return err
	}
	p, err = startProcess(c.dir, "kwok", bins.kwok,
		"--kubeconfig="+kwokConfig,
		"--config="+bins.kwokStages,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector="+FakeNodeAnnotation+"=fake",
		"--node-lease-duration-seconds=40",
		"--cidr=10.244.0.0/16", // pod IPs, apart from the service range
	)
	if err != nil {
		return err
	}
	c.components = append(c.components, p)

	return c.waitConverging(ctx, cs)
}

// fakeNode is a node for kwok: the annotation it manages, and a capacity
// the scheduler counts (kwok's default would be 1000 CPUs).
func fakeNode(name string) *corev1.Node {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse(FakeNodeCPU),
		corev1.ResourceMemory: resource.MustParse(FakeNodeMemory),
		corev1.ResourcePods:   resource.MustParse(FakeNodePods),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: name,
			Annotations: map[string]string{
				FakeNodeAnnotation:             "fake",
				"node.alpha.kubernetes.io/ttl": "0",
			},
			Labels: map[string]string{
				"kubernetes.io/hostname": name,
				"kubernetes.io/os":       "linux",
				"kubernetes.io/arch":     "amd64",
				"type":                   "kwok",
			},
		},
		Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
	}
}

// waitConverging waits until every fake node is Ready, the controller
// manager has given the default namespace its service account, and a probe
// pod was scheduled and made Ready; then it deletes the probe.
func (c *Cluster) waitConverging(ctx context.Context, cs kubernetes.Interface) error {
	probe := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "testenv-probe", Namespace: metav1.NamespaceDefault},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "probe", Image: "testenv.invalid/probe"}},
		},
	}
	created := false
	for {
		for _, p := range c.components {
			if done, err := p.exited(); done {
				return err
			}
		}
		last := c.convergingReady(ctx, cs, probe, &created)
		if last == nil {
			grace := int64(0)
			err := cs.CoreV1().Pods(probe.Namespace).Delete(ctx, probe.Name, metav1.DeleteOptions{GracePeriodSeconds: &grace})
			if err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("delete the probe pod: %w", err)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("converging cluster not ready after 2m0s: %w", last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// convergingReady returns nil when the cluster converges, or what it is
// still waiting for.
func (c *Cluster) convergingReady(ctx context.Context, cs kubernetes.Interface, probe *corev1.Pod, created *bool) error {
	for _, name := range FakeNodes() {
		node, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !nodeReady(node) {
			return fmt.Errorf("node %q is not Ready (kwok)", name)
		}
	}
	if _, err := cs.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{}); err != nil {
		return fmt.Errorf("no default service account (kube-controller-manager): %w", err)
	}
	if !*created {
		if _, err := cs.CoreV1().Pods(probe.Namespace).Create(ctx, probe, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create the probe pod: %w", err)
		}
		*created = true
	}
	pod, err := cs.CoreV1().Pods(probe.Namespace).Get(ctx, probe.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if pod.Spec.NodeName == "" {
		return errors.New("the probe pod is not scheduled (kube-scheduler)")
	}
	for _, cond := range pod.Status.Conditions {
		if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue {
			return nil
		}
	}
	return fmt.Errorf("the probe pod on %q is not Ready (kwok)", pod.Spec.NodeName)
}

func nodeReady(node *corev1.Node) bool {
	for _, cond := range node.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}
