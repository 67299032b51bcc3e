package testenv_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/agentctl/agentctl/pkg/testenv"
)

func TestKwokVersionMatchesTestbin(t *testing.T) {
	data, err := os.ReadFile("../../testdata/tools/testbin.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^KWOK_VERSION=(\S+)$`).FindSubmatch(data)
	if m == nil {
		t.Fatal("testbin.sh sets no KWOK_VERSION")
	}
	if got := string(m[1]); got != testenv.KwokVersion {
		t.Errorf("testbin.sh installs kwok %s, testenv expects %s", got, testenv.KwokVersion)
	}
}

// waitFor polls cond until it is true; a cluster that never converges
// fails the test after two minutes instead of hanging it.
func waitFor(t *testing.T, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, 2*time.Minute, true, cond)
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

func labels(app string) map[string]string { return map[string]string{"app": app} }

func TestConvergingDeploymentBecomesAvailable(t *testing.T) {
	c := testenv.StartConverging(t)
	ns := c.NewNamespace(t)
	cs := c.AdminClient(t)
	ctx := context.Background()
	createDeployment(t, cs, ns, "web", 2, "testenv.invalid/web:1")
	waitRolledOut(t, cs, ns, "web", 2)

	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 2 {
		t.Fatalf("deployment web has %d pods, want 2", len(pods.Items))
	}
	for _, pod := range pods.Items {
		if !slices.Contains(testenv.FakeNodes(), pod.Spec.NodeName) {
			t.Errorf("pod %s is on node %q, want one of %q", pod.Name, pod.Spec.NodeName, testenv.FakeNodes())
		}
		if pod.Status.Phase != corev1.PodRunning {
			t.Errorf("pod %s is %s, want Running", pod.Name, pod.Status.Phase)
		}
		if len(pod.OwnerReferences) != 1 || pod.OwnerReferences[0].Kind != "ReplicaSet" {
			t.Errorf("pod %s is owned by %v, want its ReplicaSet", pod.Name, pod.OwnerReferences)
		}
	}
}

func TestConvergingDeploymentRollsOutScalesAndIsCollected(t *testing.T) {
	c := testenv.StartConverging(t)
	ns := c.NewNamespace(t)
	cs := c.AdminClient(t)
	ctx := context.Background()
	createDeployment(t, cs, ns, "api", 2, "testenv.invalid/api:1")
	waitRolledOut(t, cs, ns, "api", 2)

	// A new image: a new ReplicaSet takes over, the old one scales to 0.
	patch := `{"spec":{"template":{"spec":{"containers":[{"name":"api","image":"testenv.invalid/api:2"}]}}}}`
	if _, err := cs.AppsV1().Deployments(ns).Patch(ctx, "api", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatalf("set image: %v", err)
	}
	waitRolledOut(t, cs, ns, "api", 2)
	waitFor(t, "the old ReplicaSet to scale to 0", func(ctx context.Context) (bool, error) {
		rss, err := cs.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=api"})
		if err != nil {
			return false, err
		}
		var images []string
		for _, rs := range rss.Items {
			if rs.Status.Replicas > 0 {
				images = append(images, rs.Spec.Template.Spec.Containers[0].Image)
			}
		}
		return len(rss.Items) == 2 && slices.Equal(images, []string{"testenv.invalid/api:2"}), nil
	})

	// Scaled up: a third pod becomes available.
	if _, err := cs.AppsV1().Deployments(ns).Patch(ctx, "api", types.MergePatchType, []byte(`{"spec":{"replicas":3}}`), metav1.PatchOptions{}); err != nil {
		t.Fatalf("scale: %v", err)
	}
	waitRolledOut(t, cs, ns, "api", 3)

	// Deleted: the garbage collector removes the ReplicaSets and kwok the pods.
	if err := cs.AppsV1().Deployments(ns).Delete(ctx, "api", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete deployment: %v", err)
	}
	waitFor(t, "the deployment's ReplicaSets and pods to be gone", func(ctx context.Context) (bool, error) {
		rss, err := cs.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=api"})
		if err != nil {
			return false, err
		}
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=api"})
		if err != nil {
			return false, err
		}
		return len(rss.Items) == 0 && len(pods.Items) == 0, nil
	})
}

func createDeployment(t *testing.T, cs kubernetes.Interface, ns, name string, replicas int32, image string) {
	t.Helper()
	_, err := cs.AppsV1().Deployments(ns).Create(context.Background(), &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels(name)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels(name)},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  name,
					Image: image,
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceCPU: resource.MustParse("100m"),
					}},
				}}},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create deployment: %v", err)
	}
}

// waitRolledOut waits until deployment name has observed its spec, and
// replicas pods of its current template are updated and available.
func waitRolledOut(t *testing.T, cs kubernetes.Interface, ns, name string, replicas int32) {
	t.Helper()
	waitFor(t, fmt.Sprintf("deployment %s to be Available with %d replicas", name, replicas), func(ctx context.Context) (bool, error) {
		dep, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		available := slices.ContainsFunc(dep.Status.Conditions, func(c appsv1.DeploymentCondition) bool {
			return c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue
		})
		st := dep.Status
		return available && st.ObservedGeneration == dep.Generation && st.Replicas == replicas &&
			st.UpdatedReplicas == replicas && st.AvailableReplicas == replicas, nil
	})
}

func TestConvergingJobCompletes(t *testing.T) {
	c := testenv.StartConverging(t)
	ns := c.NewNamespace(t)
	cs := c.AdminClient(t)
	completions := int32(2)
	_, err := cs.BatchV1().Jobs(ns).Create(context.Background(), &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "once"},
		Spec: batchv1.JobSpec{
			Completions: &completions,
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever,
				Containers:    []corev1.Container{{Name: "once", Image: "testenv.invalid/once:1"}},
			}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create job: %v", err)
	}
	waitFor(t, "job once to complete", func(ctx context.Context) (bool, error) {
		job, err := cs.BatchV1().Jobs(ns).Get(ctx, "once", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, cond := range job.Status.Conditions {
			if cond.Type == batchv1.JobFailed && cond.Status == corev1.ConditionTrue {
				return false, fmt.Errorf("job failed: %s: %s", cond.Reason, cond.Message)
			}
			if cond.Type == batchv1.JobComplete && cond.Status == corev1.ConditionTrue {
				if job.Status.Succeeded != 2 {
					return false, fmt.Errorf("job complete with %d succeeded, want 2", job.Status.Succeeded)
				}
				return true, nil
			}
		}
		return false, nil
	})
}

func TestConvergingImpossiblePodStaysPending(t *testing.T) {
	c := testenv.StartConverging(t)
	ns := c.NewNamespace(t)
	cs := c.AdminClient(t)
	_, err := cs.CoreV1().Pods(ns).Create(context.Background(), &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "huge"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name:  "huge",
			Image: "testenv.invalid/huge:1",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("1000"),
			}},
		}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create pod: %v", err)
	}

	var event corev1.Event
	waitFor(t, "a FailedScheduling event for pod huge", func(ctx context.Context) (bool, error) {
		events, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{
			FieldSelector: "involvedObject.kind=Pod,involvedObject.name=huge,reason=FailedScheduling",
		})
		if err != nil || len(events.Items) == 0 {
			return false, err
		}
		event = events.Items[0]
		return true, nil
	})
	if !strings.Contains(event.Message, "Insufficient cpu") {
		t.Errorf("FailedScheduling says %q, want it to name Insufficient cpu", event.Message)
	}
	if event.Source.Component != "default-scheduler" && event.ReportingController != "default-scheduler" {
		t.Errorf("FailedScheduling reported by %q/%q, want default-scheduler", event.Source.Component, event.ReportingController)
	}
	assertUnschedulable(t, cs, ns, "huge")
}

// assertUnschedulable checks that pod name is Pending, on no node, with
// PodScheduled False for reason Unschedulable.
func assertUnschedulable(t *testing.T, cs kubernetes.Interface, ns, name string) {
	t.Helper()
	pod, err := cs.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pod.Status.Phase != corev1.PodPending || pod.Spec.NodeName != "" {
		t.Errorf("pod %s is %s on node %q, want Pending on none", name, pod.Status.Phase, pod.Spec.NodeName)
	}
	i := slices.IndexFunc(pod.Status.Conditions, func(c corev1.PodCondition) bool { return c.Type == corev1.PodScheduled })
	if i < 0 {
		t.Fatalf("pod %s has no PodScheduled condition: %v", name, pod.Status.Conditions)
	}
	if cond := pod.Status.Conditions[i]; cond.Status != corev1.ConditionFalse || cond.Reason != corev1.PodReasonUnschedulable {
		t.Errorf("pod %s: PodScheduled %s, reason %q, want False, %q", name, cond.Status, cond.Reason, corev1.PodReasonUnschedulable)
	}
}

func TestConvergingNamespaceControllerEmptiesADeletedNamespace(t *testing.T) {
	c := testenv.StartConverging(t)
	cs := c.AdminClient(t)
	ctx := context.Background()
	ns, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "t-gone-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	createDeployment(t, cs, ns.Name, "doomed", 1, "testenv.invalid/doomed:1")
	waitRolledOut(t, cs, ns.Name, "doomed", 1)
	if err := cs.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "namespace "+ns.Name+" to be gone", func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().Namespaces().Get(ctx, ns.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	// Gone from etcd too, not only unseen: the pods of the namespace.
	pods, err := cs.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{LabelSelector: "app=doomed"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 0 {
		t.Errorf("%d pods of the deleted namespace are left", len(pods.Items))
	}
}

func TestStartIsNotConverging(t *testing.T) {
	if c := testenv.Start(t); c.Converging() {
		t.Error("Start's shared cluster runs controllers; tests of it expect none")
	}
}
