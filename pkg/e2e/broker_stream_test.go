package e2e_test

import (
	"bufio"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// TestBrokerWatchInterruptedLikeOneShot interrupts a `kubectl get -w` as
// Ctrl-C does, with SIGINT to the client's process group, once it has
// printed two events (the object, then a change the test makes): raw
// kubectl, agentctl one-shot and agentctl through the broker. Through the
// broker the signal reaches the command; the output so far is the
// one-shot output, byte for byte; the client exits with raw kubectl's
// code for an interrupted watch (1: kubectl's interrupt handler); no
// process of the command is left; and the broker's audit log has the
// watch's decision record and its result, with that code.
//
// `kubectl logs -f` is not tested: the test cluster has no kubelet
// (pkg/testenv), so no pod runs and there is no log to follow.
func TestBrokerWatchInterruptedLikeOneShot(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	c.Apply(t, ns, webFixtures)
	e := newAgentEnv(t)
	kc := e.give(c.Kubeconfig(t, testenv.UserAdmin))
	b := startBroker(t, e)
	cm := func(v string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-config}\ndata: {greeting: " + v + "}\n"
	}
	// A list watch (a field selector, not a name): kubectl starts it from
	// the list's resourceVersion, so the change the test makes after the
	// first line is seen however late the watch starts. A watch of one
	// named object starts at "now" and drops its first event, which is
	// the change itself when the change wins the race.
	watchArgs := []string{"--kubeconfig", kc, "-n", ns, "get", "cm", "--field-selector", "metadata.name=app-config", "-w",
		"-o", "custom-columns=NAME:.metadata.name,GREETING:.data.greeting"}
	watch := func(env *env, argv ...string) (string, int) {
		t.Helper()
		c.Apply(t, ns, cm("before"))
		cl := exec.Command(argv[0], argv[1:]...)
		cl.Env, cl.Dir = env.vars, env.dir
		cl.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if env.agent != nil {
			cl.SysProcAttr.Credential = env.agent.Cred
		}
		stdout, _ := cl.StdoutPipe()
		var stderr strings.Builder
		cl.Stderr = &stderr
		if err := cl.Start(); err != nil {
			t.Fatal(err)
		}
		// A deadlock guard, not a timed assertion.
		guard := time.AfterFunc(hang, func() { syscall.Kill(-cl.Process.Pid, syscall.SIGKILL) })
		defer guard.Stop()
		r := bufio.NewReader(stdout)
		var out strings.Builder
		for n := range 3 { // the header, the object, the change
			line, err := r.ReadString('\n')
			out.WriteString(line)
			if err != nil {
				t.Fatalf("%v: the watch ended after %q: %v\nstderr: %s", argv, out.String(), err, stderr.String())
			}
			if n == 1 {
				c.Apply(t, ns, cm("after"))
			}
		}
		syscall.Kill(-cl.Process.Pid, syscall.SIGINT) // the foreground group
		rest, _ := io.ReadAll(r)
		out.Write(rest)
		cl.Wait()
		return out.String(), cl.ProcessState.ExitCode()
	}
	// Raw kubectl as the test's user: the agent's may not run the cached
	// binary.
	rawOut, rawCode := watch(newEnv(t), append([]string{testenv.Bin(t, "kubectl")}, watchArgs...)...)
	agentctl := append([]string{agentctlBin(t), "kubectl"}, watchArgs...)
	oneOut, oneCode := watch(e, agentctl...)
	viaOut, viaCode := watch(e.via(b), agentctl...)
	if want := "NAME         GREETING\napp-config   before\napp-config   after\n"; rawOut != want || rawCode != 1 {
		t.Fatalf("raw kubectl: exit %d, stdout %q; want 1 and %q", rawCode, rawOut, want)
	}
	if viaOut != oneOut || viaCode != rawCode {
		t.Fatalf("one-shot: exit %d, stdout %q\nvia the broker: exit %d, stdout %q\nwant the one-shot output and kubectl's exit %d",
			oneCode, oneOut, viaCode, viaOut, rawCode)
	}
	if oneOut != rawOut || oneCode != rawCode {
		t.Errorf("one-shot: exit %d, stdout %q; raw kubectl: exit %d, stdout %q", oneCode, oneOut, rawCode, rawOut)
	}
	// No process of the command is left: none names the namespace.
	deadline := time.Now().Add(hang)
	for left := processesNaming(ns); len(left) > 0; left = processesNaming(ns) {
		if time.Now().After(deadline) {
			t.Fatalf("processes of the interrupted watch live on: %v", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The broker's worker audited the watch: its decision (a child of
	// the broker) and its result, with the code the client got.
	var decision map[string]any
	results := map[any]map[string]any{}
	for _, rec := range e.auditRecords() {
		switch rec["kind"] {
		case "decision":
			if strings.Contains(fmt.Sprint(rec["args"]), "-w") && rec["ppid"] == float64(b.pid) {
				decision = rec
			}
		case "result":
			results[rec["id"]] = rec
		}
	}
	if decision == nil {
		t.Fatal("no decision record of the watch by the broker's worker")
	}
	if res := results[decision["id"]]; res == nil || res["exit"] != float64(viaCode) {
		t.Errorf("the watch's result record: %v; want one with exit %d", res, viaCode)
	}
}
