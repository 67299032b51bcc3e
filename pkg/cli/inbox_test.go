package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/exitcode"
	"github.com/agentctl/agentctl/pkg/request"
)

// TestInboxThroughAPipeNeedsRoot plays an agent that starts the inbox
// itself with its input a pipe it writes ("yes y | agentctl inbox"):
// refused, unless root allowed answering through a pipe, and then a line
// answers a real request.
func TestInboxThroughAPipeNeedsRoot(t *testing.T) {
	h := newCLIHome(t)
	h.env = append(h.env, "XDG_RUNTIME_DIR="+filepath.Join(h.home, "run"), "XDG_CONFIG_HOME="+filepath.Join(h.home, "cfg"))
	code, _, errOut := h.run("inbox")
	if code != exitcode.Usage || !strings.Contains(errOut, "agentctl inbox needs a terminal") || !strings.Contains(errOut, "approval.inboxPipe") {
		t.Fatalf("an inbox on a pipe: exit %d\n%s", code, errOut)
	}
	if os.Geteuid() != 0 {
		t.Skip("the rest needs a root-owned admin config")
	}
	h.write("etc-agentctl/config.yaml", "approval:\n  inboxPipe: true\n")
	ios, in, out, _ := Test()
	in.WriteString("y\n")
	f := &Factory{IO: ios, Environ: h.env, Executable: os.Executable, Getwd: func() (string, error) { return h.home, nil }, AdminDir: h.admin}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- Execute(ctx, f, []string{"inbox"}) }()

	paths, err := approve.DefaultPaths(f.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	a := &classify.Assessment{Tool: "kubectl", Class: classify.Destructive, Exec: classify.Invocation{Args: []string{"delete", "cm", "x"}}}
	req := &approve.Request{Req: &request.Request{ID: "r1", Tool: "kubectl", Args: []string{"delete", "cm", "x"}},
		Assessment: a, Expires: time.Now().Add(time.Minute)}
	req.Hash = approve.HashOf(req)
	deadline := time.Now().Add(time.Minute) // a hang, not a duration under test
	for !approve.InboxRunning(paths) {
		if time.Now().After(deadline) {
			t.Fatal("the inbox never started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	ans, err := (&approve.Inbox{Paths: paths}).Approve(ctx, req)
	cancel()
	if err != nil || !ans.Approved || ans.Channel != "inbox" {
		t.Errorf("answer %+v, %v", ans, err)
	}
	if code := <-done; code != 0 {
		t.Errorf("inbox exit %d", code)
	}
	if !strings.Contains(out.String(), "delete cm x") {
		t.Errorf("the request was not printed:\n%s", out.String())
	}
}

// TestInboxClassifierReadsTheRequestItself checks the inbox's own
// classification of what a request would run, offline: a ClusterRoleBinding
// in the manifest bytes is a privilege change whatever the requester
// claimed, and a plain delete stays destructive (no typed confirmation);
// terraform's class comes from its argv and the plan JSON
// (TestInboxReclassifiesTerraformFromThePlanJSON), and an apply without
// plan JSON is unknown.
func TestInboxClassifierReadsTheRequestItself(t *testing.T) {
	crb := []byte("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: agent-admin}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: User, name: agent}]\n")
	c := inboxClassifier()
	for _, tc := range []struct {
		name string
		x    approve.Exec
		want classify.Class
	}{
		{"a binding fed on stdin", approve.Exec{Tool: "kubectl", Args: []string{"apply", "-f", "-"}, Stdin: crb}, classify.Privilege},
		{"a configmap delete", approve.Exec{Tool: "kubectl", Args: []string{"-n", "web", "delete", "cm", "app-config"}}, classify.Destructive},
		{"terraform apply without its plan JSON", approve.Exec{Tool: "terraform", Args: []string{"apply", "plan.tfplan"}}, classify.Unknown},
		{"terraform state rm, from its argv", approve.Exec{Tool: "terraform", Args: []string{"state", "rm", "terraform_data.a"}}, classify.Destructive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, why, err := c(context.Background(), &tc.x)
			if err != nil || got != tc.want {
				t.Errorf("class %v (%v, %v), want %v", got, why, err, tc.want)
			}
		})
	}
}
