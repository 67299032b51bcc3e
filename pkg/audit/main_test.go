package audit

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/request"
)

// The test binary doubles as a writer process: with AUDIT_TEST_CHILD set
// it appends records to AUDIT_TEST_PATH and exits, so tests can run many
// real processes against one file, or kill one mid-write.
func TestMain(m *testing.M) {
	if os.Getenv("AUDIT_TEST_CHILD") != "" {
		os.Exit(child())
	}
	os.Exit(m.Run())
}

func child() int {
	n, _ := strconv.Atoi(os.Getenv("AUDIT_TEST_N"))
	name := os.Getenv("AUDIT_TEST_CHILD")
	l, err := Open(os.Getenv("AUDIT_TEST_PATH"), Options{
		LockTimeout: time.Minute,
		Warn:        func(msg string) { fmt.Fprintln(os.Stderr, "warning:", msg) },
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	l.crashAfter, _ = strconv.Atoi(os.Getenv("AUDIT_TEST_CRASH_AFTER"))
	for i := range n {
		if err := l.Append(testRecord(name, i)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

// runChild starts the test binary as a writer process.
func runChild(t *testing.T, path, name string, n, crashAfter int) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		"AUDIT_TEST_CHILD="+name, "AUDIT_TEST_PATH="+path,
		"AUDIT_TEST_N="+strconv.Itoa(n), "AUDIT_TEST_CRASH_AFTER="+strconv.Itoa(crashAfter))
	cmd.Stderr = &strings.Builder{}
	return cmd
}

func testRecord(agent string, i int) *Record {
	req := &request.Request{
		ID: request.NewID(), Time: time.Now(), Tool: "kubectl",
		Args:  []string{"-n", "prod", "scale", "deploy/web", "--replicas=" + strconv.Itoa(i)},
		Cwd:   "/home/dev/app",
		Agent: agent, Intent: "scale web for the load test",
	}
	a := &classify.Assessment{Tool: "kubectl", Class: classify.Write,
		Target: classify.Target{Context: "prod", Cluster: "prod-eu", Namespace: "prod", Env: "prod"},
		Resources: []classify.Resource{{Group: "apps", Kind: "Deployment", Resource: "deployments",
			Namespace: "prod", Name: "web", Action: "patch", Source: classify.SourceArgv, Class: classify.Write}},
	}
	r := NewDecision(Self(), req, a)
	r.Decision, r.Rule, r.Reason = "approve", "deployments-need-approval", "patch of a deployment in prod"
	r.Approval, r.Approver, r.Channel = "approved", "alice", "tty"
	return r
}

// writeLog writes n records to a fresh log and returns its path.
func writeLog(t testing.TB, n int) string {
	t.Helper()
	path := t.TempDir() + "/audit.jsonl"
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	batch := make([]*Record, 0, 1000)
	for i := range n {
		batch = append(batch, testRecord("agent-"+strconv.Itoa(i+1), i))
		if len(batch) == cap(batch) || i == n-1 {
			if err := l.AppendAll(batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	return path
}

func verifyFile(t testing.TB, path string) Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := Verify(f)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}
