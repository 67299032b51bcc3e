package e2e_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// jailEnv is an agent (nobody, when the tests run as root) with the
// credential stores of a careless user in its home, the test cluster's
// admin kubeconfig as ~/.kube/config, and its broker serving with it.
type jailEnv struct {
	*env
	b    *brokerProc
	ns   string
	kube string // ~/.kube/config
	c    *testenv.Cluster
}

func newJailEnv(t *testing.T) *jailEnv {
	t.Helper()
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	c.Apply(t, ns, webFixtures)
	e := newAgentEnv(t)
	kc, err := os.ReadFile(c.Kubeconfig(t, testenv.UserAdmin))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		".kube/config":                       string(kc),
		".ssh/id_rsa":                        "SECRET-ssh",
		".aws/credentials":                   "SECRET-aws",
		".config/gcloud/credentials.db":      "SECRET-gcloud",
		".azure/accessTokens.json":           "SECRET-azure",
		".terraform.d/credentials.tfrc.json": "SECRET-tfc",
		".vault-token":                       "SECRET-vault",
		".config/agentctl/inbox.key":         "SECRET-inbox",
		".config/agentctl/config.yaml":       "# SECRET-config\n",
	}
	for name, content := range files {
		p := filepath.Join(e.home, name)
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e.agent.Own(t, e.home)
	kube := filepath.Join(e.home, ".kube/config")
	e.vars = append(e.vars, "KUBECONFIG="+kube)
	b := startBroker(t, e)
	e = e.via(b)
	// What the agent's launcher might leak: none of it reaches the agent.
	e.vars = append(e.vars, "AWS_SECRET_ACCESS_KEY=SECRET-awsenv", "VAULT_TOKEN=SECRET-vaultenv",
		"GOOGLE_APPLICATION_CREDENTIALS=/x", "TF_TOKEN_app_terraform_io=SECRET-tfenv", "AGENTCTL_POLICY=/tmp/loose.yaml")
	return &jailEnv{env: e, b: b, ns: ns, kube: kube, c: c}
}

// jail runs script with sh inside `agentctl run`.
func (j *jailEnv) jail(script string) result {
	j.t.Helper()
	return j.agentctl("run", "--", "/bin/bash", "-c", script)
}

// TestJailEscapes runs, from the agent's seat inside `agentctl run`, the
// attempts an agent of the user's own uid would make to reach around the
// broker. Each script prints REFUSED when the attempt failed and ESCAPED
// when it worked.
func TestJailEscapes(t *testing.T) {
	j := newJailEnv(t)
	// A service of the host on loopback, and a tmux-like socket.
	hostPort := hostService(t)
	tmuxDir := fmt.Sprintf("/tmp/tmux-%d", j.agent.UID)
	os.MkdirAll(tmuxDir, 0o700)
	os.Chown(tmuxDir, j.agent.UID, j.agent.GID)
	tl, err := net.Listen("unix", filepath.Join(tmuxDir, "default"))
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	defer os.RemoveAll(tmuxDir)
	apiserver := strings.TrimPrefix(j.c.Server(), "https://")
	apiHost, apiPort, _ := net.SplitHostPort(apiserver)
	// A real kubectl and a hand-written kubeconfig in the project.
	kubectl := filepath.Join(j.dir, "kubectl")
	copyTo(t, testenv.Bin(t, "kubectl"), kubectl, 0o755)
	copyTo(t, j.kube, filepath.Join(j.dir, "kc.yaml"), 0o600)
	// This test binary, as a raw client of the broker (rawClientEnv).
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	copyTo(t, self, filepath.Join(j.dir, "rawclient"), 0o755)
	j.agent.Own(t, j.dir)
	approver := filepath.Join(filepath.Dir(j.b.sock), "approver.sock")

	try := func(cmd string) string {
		return "if " + cmd + "; then echo ESCAPED; else echo REFUSED; fi"
	}
	h := j.home
	cases := []struct{ name, script string }{
		{"read ~/.kube/config", try("cat " + h + "/.kube/config")},
		{"read ~/.ssh/id_rsa", try("cat " + h + "/.ssh/id_rsa")},
		{"read ~/.aws/credentials", try("cat " + h + "/.aws/credentials")},
		{"read ~/.config/gcloud", try("cat " + h + "/.config/gcloud/credentials.db")},
		{"read ~/.azure", try("cat " + h + "/.azure/accessTokens.json")},
		{"read ~/.terraform.d credentials", try("cat " + h + "/.terraform.d/credentials.tfrc.json")},
		{"read ~/.vault-token", try("cat " + h + "/.vault-token")},
		{"read the inbox key", try("cat " + h + "/.config/agentctl/inbox.key")},
		{"read agentctl's config", try("cat " + h + "/.config/agentctl/config.yaml")},
		{"read the audit log", try("cat " + j.auditPath())},
		{"connect to the apiserver directly", try("exec 3<>/dev/tcp/" + apiHost + "/" + apiPort)},
		{"a real kubectl with a hand-written kubeconfig", try("./kubectl --kubeconfig kc.yaml --request-timeout 5s get pods -A")},
		{"a host service on 127.0.0.1", try(fmt.Sprintf("exec 3<>/dev/tcp/127.0.0.1/%d", hostPort))},
		{"the tmux socket", try("test -e " + tmuxDir + "/default")},
		{"kill the broker", try(fmt.Sprintf("kill -9 %d", j.b.pid))},
		{"ptrace a child of its own", try("strace -o /dev/null true")},
		{"read /proc of the broker", try(fmt.Sprintf("cat /proc/%d/cmdline", j.b.pid))},
		{"see outside processes in /proc", try(fmt.Sprintf("test -e /proc/%d || test -e /proc/%d", os.Getpid(), j.b.pid))},
		{"write the home dir", try("echo x > " + h + "/evil")},
		{"symlink into ~/.ssh", try("ln -s " + h + "/.ssh/id_rsa link && cat link")},
		{"hard link into ~/.ssh", try("ln " + h + "/.ssh/id_rsa hard && cat hard")},
		{"no credential variable inside", try("env | grep -E '^(KUBECONFIG|AWS_|VAULT_|GOOGLE_|TF_TOKEN_|AGENTCTL_POLICY)'")},
		{"run as the broker's worker", try("AGENTCTL_BROKER_WORKER=1 agentctl kubectl --request-timeout 5s -n " + j.ns + " get pods -o name | grep web")},
		{"a worker with the kubeconfig named", try("AGENTCTL_BROKER_WORKER=1 KUBECONFIG=" + h + "/.kube/config agentctl kubectl --request-timeout 5s -n " + j.ns + " get pods -o name | grep web")},
		{"a second agentctl serve", try("(agentctl serve --foreground --socket $TMPDIR/b.sock &) ; sleep 2; AGENTCTL_SOCKET=$TMPDIR/b.sock kubectl -n " + j.ns + " get pods -o name | grep web")},
		{"the approver socket", try("test -e " + approver)},
		// Through the broker, agentctl's other commands would run outside
		// the jail with the human's keys (inbox approve, approve BUNDLE).
		{"the broker running agentctl's other commands", try(rawClientEnv + "=/run/agentctl/broker.sock ./rawclient agentctl version")},
		{"the broker running a shell", try(rawClientEnv + "=/run/agentctl/broker.sock ./rawclient sh -c 'cat " + h + "/.kube/config'")},
		{"the broker's dir", try("ls " + filepath.Dir(j.b.sock))},
		{"unshare a user namespace", try("unshare -Ur true")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := j.jail(tc.script)
			if strings.Contains(r.stdout, "ESCAPED") || strings.Contains(r.stdout+r.stderr, "SECRET") || strings.Contains(r.stdout, "HOST-SERVICE") {
				t.Fatalf("the attempt worked: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, "REFUSED") {
				t.Fatalf("the script did not run: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
		})
	}
	// The broker outlived the attempts on it.
	if err := j.b.cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("the broker died: %v", err)
	}
	// Every jail is in the audit log, with what it enforced.
	var jails int
	for _, rec := range j.auditRecords() {
		if n, _ := rec["note"].(string); strings.HasPrefix(n, "agent jail (") && strings.Contains(n, "seccomp") && strings.Contains(n, "mountns") {
			jails++
		}
	}
	if jails < len(cases) {
		t.Errorf("the audit log records %d jails with their enforcement, want %d", jails, len(cases))
	}
}

// TestJailAgentStillWorks: inside the jail the agent edits its project
// and runs kubectl through the broker against the real cluster, which
// the broker audits.
func TestJailAgentStillWorks(t *testing.T) {
	j := newJailEnv(t)
	os.WriteFile(filepath.Join(j.dir, "main.txt"), []byte("old\n"), 0o644)
	j.agent.Own(t, j.dir)
	r := j.jail("readlink /proc/self/exe && sed -i s/old/new/ main.txt && echo tmp > /tmp/agentctl-jail-private && cat /tmp/agentctl-jail-private && kubectl -n " + j.ns + " get pods -o name")
	if r.code != 0 || !strings.Contains(r.stdout, "pod/web") || !strings.Contains(r.stdout, "tmp") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(j.dir, "main.txt")); string(b) != "new\n" {
		t.Errorf("main.txt = %q, want the agent's edit", b)
	}
	if _, err := os.Stat("/tmp/agentctl-jail-private"); err == nil {
		os.Remove("/tmp/agentctl-jail-private")
		t.Error("the jail's /tmp is the host's")
	}
	var byBroker bool
	for _, rec := range j.auditRecords() {
		if rec["kind"] == "decision" && rec["ppid"] == float64(j.b.pid) && rec["tool"] == "kubectl" {
			byBroker = true
		}
	}
	if !byBroker {
		t.Error("no decision of the broker's worker for the jailed kubectl in the audit log")
	}
	// --allow-host opens exactly that destination.
	port := hostService(t)
	a := j.agentctl("run", "--allow-host", fmt.Sprintf("127.0.0.1:%d", port), "--", "/bin/bash", "-c",
		fmt.Sprintf("exec 3<>/dev/tcp/127.0.0.1/%d && head -1 <&3", port))
	if a.code != 0 || !strings.Contains(a.stdout, "HOST-SERVICE") {
		t.Errorf("--allow-host 127.0.0.1:%d: exit %d\nstdout: %s\nstderr: %s", port, a.code, a.stdout, a.stderr)
	}
	// The profile's proxy refuses a name it does not allow, says so, and
	// the jail's audit record names it.
	p := j.agentctl("run", "--profile", "claude", "--", "/bin/bash", "-c",
		`hp=${HTTPS_PROXY#http://}; exec 3<>/dev/tcp/${hp%:*}/${hp#*:} && printf "CONNECT evil.example:443 HTTP/1.1\r\n\r\n" >&3 && head -1 <&3`)
	if !strings.Contains(p.stdout, "403") || !strings.Contains(p.stderr, `refused a connection to "evil.example:443"`) {
		t.Errorf("CONNECT evil.example:443: exit %d\nstdout: %s\nstderr: %s", p.code, p.stdout, p.stderr)
	}
	var audited bool
	for _, rec := range j.auditRecords() {
		if n, _ := rec["note"].(string); strings.Contains(n, "profile claude") && strings.Contains(n, "refused: evil.example:443") {
			audited = true
		}
	}
	if !audited {
		t.Error("the refused CONNECT is not in the jail's audit record")
	}
	c := j.agentctl("run", "--check")
	if c.code != 0 || !strings.Contains(c.stdout, "can be enforced in full") {
		t.Errorf("run --check: exit %d\n%s%s", c.code, c.stdout, c.stderr)
	}
}

func copyTo(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		t.Fatal(err)
	}
}

// hostService serves "HOST-SERVICE" on a loopback port of the host, as
// a service an agent must not reach unless --allow-host names it, and
// returns the port.
func hostService(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
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
			c.Write([]byte("HOST-SERVICE\n"))
			c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}
