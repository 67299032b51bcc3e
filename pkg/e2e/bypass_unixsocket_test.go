package e2e_test

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// Finding 5 of issue 14: code that a sandboxed read runs (a kubeconfig
// credential plugin, a terraform provider) reached Unix sockets outside
// the sandbox: tmux's, with which a provider typed the approval into the
// human's inbox. Each test listens on sockets the agent's user can reach
// (a tmux-like dir in /tmp, an $XDG_RUNTIME_DIR-like dir in /run, the
// agent's home), checks that the agent reaches them outside the sandbox,
// and that the same probe inside the sandbox reaches none of them.

var probeBuild struct {
	once sync.Once
	path string
	err  error
}

// unixProbe builds testdata/unixprobe once per run (without cgo, so that
// it runs with what the sandbox grants) and returns a copy in dir.
func unixProbe(t *testing.T, e *env, dir string) string {
	t.Helper()
	agentctlBin(t) // build.dir
	probeBuild.once.Do(func() {
		probeBuild.path = filepath.Join(build.dir, "unixprobe")
		cmd := exec.Command("go", "build", "-o", probeBuild.path, "./testdata/unixprobe")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			probeBuild.err = fmt.Errorf("%v\n%s", err, out)
		}
	})
	if probeBuild.err != nil {
		t.Fatalf("go build unixprobe: %v", probeBuild.err)
	}
	dst := filepath.Join(dir, "unixprobe")
	b, err := os.ReadFile(probeBuild.path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
	e.agent.Own(t, dst)
	return dst
}

// sockets listens on Unix sockets where other programs keep theirs, each
// the agent's, and returns their paths and what reached them.
func sockets(t *testing.T, e *env) ([]string, func() []string) {
	t.Helper()
	tmux, err := os.MkdirTemp("", "tmux-")
	if err != nil {
		t.Fatal(err)
	}
	runDir, err := os.MkdirTemp("/run", "agentctl-e2e-xdg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmux); os.RemoveAll(runDir) })
	home := filepath.Join(e.home, ".ssh")
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	paths := []string{filepath.Join(tmux, "default"), filepath.Join(runDir, "agentctl", "inbox.sock"), filepath.Join(home, "agent.sock")}
	var mu sync.Mutex
	var got []string
	for _, p := range paths {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("unix", p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				got = append(got, p)
				mu.Unlock()
				bufio.NewReader(c).ReadString('\n')
				fmt.Fprintln(c, "OK")
				c.Close()
			}
		}()
	}
	// chown, not agent.Own: Own would open up the parent (/tmp, /run)
	// and everything in it.
	for _, p := range append([]string{tmux, runDir, filepath.Dir(paths[1])}, paths[:2]...) {
		if err := os.Lchown(p, e.agent.UID, e.agent.GID); err != nil {
			t.Fatal(err)
		}
	}
	e.agent.Own(t, home)
	e.vars = append(e.vars, "XDG_RUNTIME_DIR="+runDir)
	return paths, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

// checkOutside runs the probe as the agent outside the sandbox: it must
// reach every socket, or the test proves nothing.
func checkOutside(t *testing.T, e *env, probe string, socks []string, reached func() []string) {
	t.Helper()
	got := e.run(probe, append([]string{"-"}, socks...)...)
	if strings.Count(got.stderr, "reached ") != len(socks) {
		t.Fatalf("outside the sandbox the agent does not reach its sockets; the test proves nothing:\n%s", got.stderr)
	}
	if n := len(reached()); n != len(socks) {
		t.Fatalf("the listeners saw %d connections, want %d", n, len(socks))
	}
}

// checkInside fails t unless the probe's report (inside the sandbox)
// names every socket as blocked and no listener saw more than before.
func checkInside(t *testing.T, report string, socks []string, before int, reached func() []string) {
	t.Helper()
	t.Logf("inside the sandbox:\n%s", report)
	for _, s := range socks {
		if !strings.Contains(report, "blocked "+s+":") {
			t.Errorf("the probe inside the sandbox was not blocked from %s", s)
		}
	}
	if got := reached(); len(got) != before {
		t.Errorf("sockets reached from inside the sandbox: %v", got[before:])
	}
}

// TestBypassUnixSocketFromKubectlCredentialPlugin: the agent's kubeconfig
// names a credential plugin (client-go runs it inside the sandbox of the
// read) that tries the sockets before printing a valid token.
func TestBypassUnixSocketFromKubectlCredentialPlugin(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	c.Apply(t, ns, webFixtures)
	e := newAgentEnv(t)
	socks, reached := sockets(t, e)
	dir := e.agent.Dir(t)
	probe := unixProbe(t, e, dir)
	checkOutside(t, e, probe, socks, reached)

	plugin := filepath.Join(dir, "credential-plugin.sh")
	script := fmt.Sprintf("#!/bin/sh\n%s - %s\ncat <<EOF\n{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"%s\"}}\nEOF\n",
		probe, strings.Join(socks, " "), c.Token(testenv.UserAdmin))
	if err := os.WriteFile(plugin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	kc := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kc, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: %q, certificate-authority-data: %q}
users:
- name: plugin
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: %q, interactiveMode: Never}
contexts:
- name: test
  context: {cluster: test, user: plugin}
current-context: test
`, c.Server(), base64.StdEncoding.EncodeToString(c.CAData()), plugin)), 0o600); err != nil {
		t.Fatal(err)
	}
	e.agent.Own(t, dir)

	before := len(reached())
	got := e.agentctl("kubectl", "--kubeconfig", kc, "-n", ns, "get", "cm", "app-config", "-o", "name")
	if got.code != 0 || strings.TrimSpace(got.stdout) != "configmap/app-config" {
		t.Errorf("the sandboxed read with the plugin failed: exit %d\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	checkInside(t, got.stderr, socks, before, reached)
}

// TestBypassUnixSocketFromTerraformProvider: the agent installs, with the
// real terraform, a provider of its own from a mirror in its project (a
// script that tries the sockets and then runs testcloud), and runs a
// sandboxed plan, which starts that provider inside the sandbox with Unix
// sockets allowed (terraform talks to its plugins over them).
func TestBypassUnixSocketFromTerraformProvider(t *testing.T) {
	a := newTFAgent(t, "creates")
	e := a.e
	socks, reached := sockets(t, e)
	tools := filepath.Join(a.d.Dir, "tools")
	if err := os.MkdirAll(tools, 0o755); err != nil {
		t.Fatal(err)
	}
	probe := unixProbe(t, e, tools)
	checkOutside(t, e, probe, socks, reached)

	testcloud := testenv.Testcloud(t)
	b, err := os.ReadFile(testcloud)
	if err != nil {
		t.Fatal(err)
	}
	realCopy := filepath.Join(tools, "testcloud")
	if err := os.WriteFile(realCopy, b, 0o755); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(a.d.Dir, "probe.out")
	pkg := filepath.Join(a.d.Dir, "mirror", testenv.TestcloudAddress, "0.1.0", "linux_amd64")
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf("#!/bin/sh\n%s %s %s\nexec %s \"$@\"\n", probe, report, strings.Join(socks, " "), realCopy)
	if err := os.WriteFile(filepath.Join(pkg, "terraform-provider-testcloud"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	rc := filepath.Join(a.d.Dir, "agent-init.tfrc")
	if err := os.WriteFile(rc, []byte(fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path = %q\n  }\n}\n", filepath.Join(a.d.Dir, "mirror"))), 0o644); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(a.d.Dir, ".terraform"))
	os.Remove(filepath.Join(a.d.Dir, ".terraform.lock.hcl"))
	e.agent.Own(t, a.d.Dir)
	// The agent's own init, with the real terraform on disk.
	if got := e.run("/usr/bin/env", "TF_CLI_CONFIG_FILE="+rc, a.tf, "init", "-input=false", "-no-color"); got.code != 0 {
		t.Fatalf("the agent's terraform init: exit %d\n%s%s", got.code, got.stdout, got.stderr)
	}

	before := len(reached())
	got := e.agentctl("terraform", "plan", "-no-color", "-input=false")
	if got.code != 0 || !strings.Contains(got.stdout, "Plan: 2 to add") {
		t.Errorf("the sandboxed plan with the agent's provider failed: exit %d\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	out, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("the agent's provider did not run in the plan: %v\nstderr: %s", err, got.stderr)
	}
	checkInside(t, string(out), socks, before, reached)
}
