package broker_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// TestBrokerFigures measures, against the real test cluster, a sandboxed
// `agentctl kubectl get pods` (in one namespace and with -A) and
// `agentctl kubectl version --client`, and `agentctl terraform plan` on
// testdata/terraform/fleet, through a broker with warm workers (and, for
// some, one without), against the one-shot path and the raw tool,
// interleaved in one run, and prints medians and ratios. It asserts
// nothing about time and runs only from testdata/tools/bench-broker.sh
// (AGENTCTL_BENCH_AGENTCTL names the binary). Each command starts after an
// idle gap (AGENTCTL_BENCH_GAP, default 300ms), as an agent's commands
// come between its thoughts: the warm pool refills in it.
func TestBrokerFigures(t *testing.T) {
	agentctl := os.Getenv("AGENTCTL_BENCH_AGENTCTL")
	if agentctl == "" {
		t.Skip("run testdata/tools/bench-broker.sh")
	}
	runs := 20
	if n, err := fmt.Sscan(os.Getenv("AGENTCTL_BENCH_RUNS"), &runs); n != 1 || err != nil {
		runs = 20
	}
	gap := 300 * time.Millisecond
	if d, err := time.ParseDuration(os.Getenv("AGENTCTL_BENCH_GAP")); err == nil {
		gap = d
	}
	c := testenv.Start(t)
	kubectl := testenv.Bin(t, "kubectl")
	ns := c.NewNamespace(t)
	for i := range 5 {
		c.Apply(t, ns, fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: p%d}\nspec: {containers: [{name: c, image: busybox}]}\n", i))
	}
	kc := c.Kubeconfig(t, testenv.UserAdmin)
	home := t.TempDir()
	run := filepath.Join(home, "run")
	os.Mkdir(run, 0o700)
	env := []string{
		"HOME=" + home, "PATH=" + os.Getenv("PATH"), "KUBECONFIG=" + kc, "CI=true",
		"XDG_STATE_HOME=" + filepath.Join(home, "state"), "XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_CACHE_HOME=" + filepath.Join(home, "cache"), "XDG_RUNTIME_DIR=" + run,
	}
	// terraform plan on testdata/terraform/fleet with 20 instances,
	// applied first so that the plan refreshes them, as bench-terraform.sh
	// does. The broker's world holds the terraform configuration (CLI
	// config, provider mirror, the binary): a client cannot send it.
	tf := testenv.NewTerraformDir(t, "fleet")
	tf.Env = append(tf.Env, "TF_VAR_instances=20")
	tf.Run(t, "apply", "-input=false", "-auto-approve", "-no-color")
	for _, kv := range tf.Env {
		if !strings.HasPrefix(kv, "PATH=") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	env = append(env, "AGENTCTL_TERRAFORM="+tf.Bin)
	warmSock, coldSock := filepath.Join(run, "w", "broker.sock"), filepath.Join(run, "c", "broker.sock")
	startServe(t, agentctl, env, warmSock, 2)
	startServe(t, agentctl, env, coldSock, 0)
	nocache := filepath.Join(home, "no-cache")
	oneShot, viaCold, viaWarm := "AGENTCTL_SOCKET=/nonexistent", "AGENTCTL_SOCKET="+coldSock, "AGENTCTL_SOCKET="+warmSock
	get := []string{agentctl, "kubectl", "get", "pods", "-n", ns}
	getAll := []string{agentctl, "kubectl", "get", "pods", "-A"}
	ver := []string{agentctl, "kubectl", "version", "--client"}
	plan := []string{"terraform", "plan", "-input=false", "-no-color"}
	agentctlPlan := append([]string{agentctl}, plan...)
	// base is the index of the raw command a variant is compared with;
	// dir, when set, is the working directory.
	variants := []struct {
		name string
		env  string
		argv []string
		want string
		base int
		dir  string
	}{
		{"raw kubectl get pods", "", []string{kubectl, "get", "pods", "-n", ns}, "p4", 0, ""},
		{"raw kubectl get pods, no discovery cache", "", []string{kubectl, "--cache-dir", nocache, "get", "pods", "-n", ns}, "p4", 0, ""},
		{"agentctl kubectl get pods (sandboxed), one-shot", oneShot, get, "p4", 0, ""},
		{"agentctl kubectl get pods (sandboxed), broker, fresh workers", viaCold, get, "p4", 0, ""},
		{"agentctl kubectl get pods (sandboxed), broker, warm workers", viaWarm, get, "p4", 0, ""},
		{"raw kubectl get pods -A", "", []string{kubectl, "get", "pods", "-A"}, "p4", 5, ""},
		{"agentctl kubectl get pods -A (sandboxed), one-shot", oneShot, getAll, "p4", 5, ""},
		{"agentctl kubectl get pods -A (sandboxed), broker, warm workers", viaWarm, getAll, "p4", 5, ""},
		{"raw kubectl version --client", "", []string{kubectl, "version", "--client"}, "Client Version", 8, ""},
		{"agentctl kubectl version --client, one-shot", oneShot, ver, "Client Version", 8, ""},
		{"agentctl kubectl version --client, broker, fresh workers", viaCold, ver, "Client Version", 8, ""},
		{"agentctl kubectl version --client, broker, warm workers", viaWarm, ver, "Client Version", 8, ""},
		{"raw terraform plan (fleet, 20 instances)", "", append([]string{tf.Bin}, plan[1:]...), "No changes", 12, tf.Dir},
		{"agentctl terraform plan, one-shot", oneShot, agentctlPlan, "No changes", 12, tf.Dir},
		{"agentctl terraform plan, broker, warm workers", viaWarm, agentctlPlan, "No changes", 12, tf.Dir},
	}
	wall := make([][]time.Duration, len(variants))
	cpu := make([][]time.Duration, len(variants))
	for i := range runs + 1 {
		for v, vr := range variants { // interleaved, so drift hits all alike
			os.RemoveAll(nocache)
			time.Sleep(gap)
			var out bytes.Buffer
			cmd := exec.Command(vr.argv[0], vr.argv[1:]...)
			cmd.Env, cmd.Stdout, cmd.Stderr, cmd.Dir = append(slices.Clone(env), vr.env), &out, &out, vr.dir
			start := time.Now()
			err := cmd.Run()
			d := time.Since(start)
			if err != nil || !strings.Contains(out.String(), vr.want) {
				t.Fatalf("%s: %v\n%s", vr.name, err, out.String())
			}
			if i > 0 { // the first round warms caches
				wall[v] = append(wall[v], d)
				cpu[v] = append(cpu[v], cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
			}
		}
	}
	var report strings.Builder
	fmt.Fprintf(&report, "| command (median of %d runs, %s apart) | wall | ratio to the raw tool | CPU of the process (user+sys) | ratio |\n|---|---|---|---|---|\n", runs, gap)
	for v, vr := range variants {
		base := vr.base
		w, bw := testenv.Median(wall[v]), testenv.Median(wall[base])
		c, bc := testenv.Median(cpu[v]), testenv.Median(cpu[base])
		fmt.Fprintf(&report, "| `%s` | %.1f ms | %.2f× | %.1f ms | %.2f× |\n", vr.name, testenv.Ms(w), float64(w)/float64(bw), testenv.Ms(c), float64(c)/float64(bc))
	}
	t.Log("\n" + report.String())
	if out := os.Getenv("AGENTCTL_BENCH_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(report.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// startServe starts `agentctl serve --foreground` on sock with warm
// workers and waits until it listens.
func startServe(t *testing.T, agentctl string, env []string, sock string, warm int) {
	t.Helper()
	cmd := exec.Command(agentctl, "serve", "--foreground", "--socket", sock, "--warm", fmt.Sprint(warm))
	cmd.Env = env
	stderr, _ := cmd.StderrPipe()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "broker serving at") {
			go func() {
				for sc.Scan() {
				}
			}()
			return
		}
	}
	t.Fatalf("serve --warm %d did not start", warm)
}
