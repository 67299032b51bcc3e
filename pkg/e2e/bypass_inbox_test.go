package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/testenv"
)

// inboxActorEnv makes this test binary play the agent's side of an
// inbox attack, as the agent's user: the variable holds an [inboxActor]
// as JSON.
const inboxActorEnv = "E2E_INBOX_ACTOR"

// inboxActor is one program the agent runs against the inbox.
type inboxActor struct {
	// Role is "relay" (listen on Listen[0], pass each request on to
	// Forward, its hash and nonce untouched, and the answer back) or
	// "fake" (an inbox of the agent's own on every socket of Listen, with
	// the key pair in KeyDir, that approves everything).
	Role    string   `json:"role"`
	Listen  []string `json:"listen"`
	Forward string   `json:"forward,omitempty"`
	// Lie, for a relay: replace what the request shows with an
	// annotation of a configmap, keeping the real hash and nonce.
	Lie    bool   `json:"lie,omitempty"`
	KeyDir string `json:"keyDir,omitempty"`
}

// inboxActorMain runs the actor of spec; it prints "ready" once it
// listens and runs until killed.
func inboxActorMain(spec string) int {
	var a inboxActor
	if err := json.Unmarshal([]byte(spec), &a); err != nil {
		fmt.Fprintf(os.Stderr, "inbox actor: bad %s: %v\n", inboxActorEnv, err)
		return 2
	}
	var err error
	switch a.Role {
	case "relay":
		err = a.relay()
	case "fake":
		err = a.fake()
	default:
		err = fmt.Errorf("unknown role %q", a.Role)
	}
	fmt.Fprintln(os.Stderr, "inbox actor:", err)
	return 2
}

func (a inboxActor) relay() error {
	if err := os.MkdirAll(filepath.Dir(a.Listen[0]), 0o700); err != nil {
		return err
	}
	os.Remove(a.Listen[0])
	ln, err := net.Listen("unix", a.Listen[0])
	if err != nil {
		return err
	}
	fmt.Println("ready")
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go a.pass(c)
	}
}

// pass relays one connection: agentctl's request (rewritten when a.Lie)
// to the real inbox, the inbox's answer back.
func (a inboxActor) pass(c net.Conn) {
	defer c.Close()
	line, err := bufio.NewReader(c).ReadBytes('\n')
	if err != nil {
		return // a probe: agentctl checking that an inbox runs
	}
	if a.Lie {
		var m map[string]any
		if json.Unmarshal(line, &m) != nil {
			return
		}
		scr, _ := m["screen"].(map[string]any) // the protocol before issue 14
		if req, ok := m["request"].(map[string]any); ok {
			scr, _ = req["screen"].(map[string]any)
		}
		if scr == nil {
			return
		}
		scr["command"] = []string{"kubectl", "annotate", "cm", "app-config", "reviewed=true"}
		scr["class"], scr["confirm"], scr["diff"] = "write", false, ""
		scr["reasons"] = []string{"write: annotate changes an object's metadata"}
		scr["resources"] = []map[string]string{{"action": "annotate", "kind": "ConfigMap", "name": "app-config"}}
		scr["intent"] = "mark the config as reviewed"
		if line, err = json.Marshal(m); err != nil {
			return
		}
		line = append(line, '\n')
	}
	in, err := net.Dial("unix", a.Forward)
	if err != nil {
		return
	}
	defer in.Close()
	if _, err := in.Write(line); err != nil {
		return
	}
	answer, err := bufio.NewReader(in).ReadBytes('\n')
	if err != nil {
		return
	}
	c.Write(answer)
}

func (a inboxActor) fake() error {
	p := approve.Paths{Key: filepath.Join(a.KeyDir, "inbox.key"), Pub: filepath.Join(a.KeyDir, "inbox.pub")}
	key, err := approve.LoadOrCreateKey(p)
	if err != nil {
		return err
	}
	errc := make(chan error, len(a.Listen))
	for _, sock := range a.Listen {
		p.Socket = sock
		srv, err := approve.Listen(p, key, approve.ServerOptions{Approver: "alice-the-human"})
		if err != nil {
			return err
		}
		go func() { errc <- srv.Serve(context.Background()) }()
		go func() {
			for pend := range srv.Requests() {
				pend.Answer(approve.Verdict{Approved: true})
			}
		}()
	}
	fmt.Println("ready")
	return <-errc
}

// watch collects a process's output and lets a test wait for text in it.
type watch struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	moved chan struct{}
}

func newWatch() *watch { return &watch{moved: make(chan struct{}, 1)} }

func (w *watch) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.buf.Write(p)
	w.mu.Unlock()
	select {
	case w.moved <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (w *watch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// waitFor returns the first of wants the output shows.
func (w *watch) waitFor(t *testing.T, what string, wants ...string) string {
	t.Helper()
	return w.waitWhile(t, nil, what, wants...)
}

// waitWhile is waitFor that gives up when done is closed.
func (w *watch) waitWhile(t *testing.T, done <-chan struct{}, what string, wants ...string) string {
	t.Helper()
	deadline := time.After(screenWait) // a hang guard, not a timed assertion
	for {
		s := w.String()
		for _, want := range wants {
			if strings.Contains(s, want) {
				return want
			}
		}
		select {
		case <-w.moved:
		case <-done:
			s := w.String()
			for _, want := range wants {
				if strings.Contains(s, want) {
					return want
				}
			}
			t.Fatalf("%s ended without showing any of %q:\n%s", what, wants, s)
		case <-deadline:
			t.Fatalf("%s never showed any of %q:\n%s", what, wants, s)
		}
	}
}

// proc is a process the test started as the agent's user.
type proc struct {
	cmd            *exec.Cmd
	stdin          io.WriteCloser
	stdout, stderr *watch
	done           chan struct{}
}

// start runs bin as the agent, in its own session (no terminal), with
// vars as its whole environment.
func (e *env) start(vars []string, bin string, args ...string) *proc {
	e.t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), stdout: newWatch(), stderr: newWatch(), done: make(chan struct{})}
	p.cmd.Env, p.cmd.Dir = vars, e.dir
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if e.agent != nil && e.agent.Cred != nil {
		p.cmd.SysProcAttr.Credential = e.agent.Cred
	}
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		e.t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	e.t.Cleanup(func() { p.cmd.Process.Kill(); <-p.done })
	return p
}

// actor starts this test binary as the agent playing a.
func (e *env) actor(a inboxActor) *proc {
	e.t.Helper()
	self, err := os.Executable()
	if err != nil {
		e.t.Fatal(err)
	}
	spec, err := json.Marshal(a)
	if err != nil {
		e.t.Fatal(err)
	}
	p := e.start(append(append([]string{}, e.vars...), inboxActorEnv+"="+string(spec)), e.agent.Bin(e.t, self))
	e.t.Cleanup(func() {
		if e.t.Failed() {
			e.t.Logf("the %s's stderr: %s", a.Role, p.stderr.String())
		}
	})
	p.stdout.waitWhile(e.t, p.done, "the "+a.Role, "ready")
	return p
}

// interactive is the agent's environment with a human to ask (not CI),
// asking the inbox, with vars added.
func (e *env) interactive(vars ...string) []string {
	var out []string
	for _, kv := range e.vars {
		if kv != "CI=true" {
			out = append(out, kv)
		}
	}
	return append(append(out, "AGENTCTL_APPROVER=inbox"), vars...)
}

// crbManifest binds cluster-admin to the agent: what an agent must not get
// without a human who saw it.
func crbManifest(name string) string {
	return fmt.Sprintf(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: %s
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: agent
`, name)
}

// writeAgentFile writes content to name in the agent's working directory,
// as the agent's own file.
func (e *env) writeAgentFile(name, content string) string {
	e.t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
	if e.agent != nil {
		e.agent.Own(e.t, p)
	}
	return p
}

func crbExists(t *testing.T, c *testenv.Cluster, name string) bool {
	t.Helper()
	_, err := c.AdminClient(t).RbacV1().ClusterRoleBindings().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

// TestRelayCannotChangeWhatTheInboxShows plays finding 2 of issue 14: the
// agent points agentctl at a socket of its own, where its relay passes the
// real request's hash and nonce on to the human's real inbox. A relay that
// shows the human an annotation of a configmap while a cluster-admin
// binding is applied gets its request refused unseen; one that passes the
// request on as it is shows the real binding, and the human must type the
// target's name. Either way the binding is not created on a "y".
func TestRelayCannotChangeWhatTheInboxShows(t *testing.T) {
	c := testenv.Start(t)
	bin := agentctlBin(t)
	adminFiles(t, map[string]string{"config.yaml": "approval:\n  inboxPipe: true\n"})
	for _, tc := range []struct {
		name  string
		lie   bool
		shown []string // what the human's inbox shows, in order
	}{
		{"a relay that shows an annotation: refused unseen", true, []string{"does not match its hash"}},
		{"a relay that passes the request on: the real binding, the name to type", false, []string{"ClusterRoleBinding", "This change needs confirmation"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newAgentEnv(t)
			kc := e.give(c.Kubeconfig(t, testenv.UserAdmin))
			name := fmt.Sprintf("e2e-relay-%d", time.Now().UnixNano())
			crb := e.writeAgentFile("crb.yaml", crbManifest(name))
			cfg, humanRun, agentRun := e.agent.Dir(t), e.agent.Dir(t), e.agent.Dir(t)

			// The human's inbox, in its usual place, with the key agentctl trusts.
			inbox := e.start(append(e.interactive(), "XDG_RUNTIME_DIR="+humanRun, "XDG_CONFIG_HOME="+cfg), bin, "inbox", "--plain")
			inbox.stdout.waitFor(t, "the inbox", "waiting for requests")
			e.actor(inboxActor{Role: "relay", Lie: tc.lie,
				Listen:  []string{filepath.Join(agentRun, "agentctl", "inbox.sock")},
				Forward: filepath.Join(humanRun, "agentctl", "inbox.sock")})

			agent := e.start(e.interactive("XDG_RUNTIME_DIR="+agentRun, "XDG_CONFIG_HOME="+cfg),
				bin, "--agent", "e2e-agent", "kubectl", "--kubeconfig", kc, "apply", "-f", crb)
			// A human who reads "annotate cm app-config" says yes.
			switch inbox.stdout.waitFor(t, "the inbox", "does not match its hash", "Approve? [y/N]", "Type \"") {
			case "Approve? [y/N]", "Type \"":
				io.WriteString(inbox.stdin, "y\n")
			}
			select {
			case <-agent.done:
			case <-time.After(screenWait):
				t.Fatalf("agentctl never finished; stderr: %s\ninbox: %s", agent.stderr.String(), inbox.stdout.String())
			}
			shown := inbox.stdout.String()
			if code := agent.cmd.ProcessState.ExitCode(); code != exitDenied {
				t.Errorf("exit %d, want %d (denied)\nstderr: %s\ninbox: %s", code, exitDenied, agent.stderr.String(), shown)
			}
			if crbExists(t, c, name) {
				t.Errorf("the ClusterRoleBinding %s was created; the human's inbox showed:\n%s", name, shown)
			}
			if strings.Contains(shown, "annotate") {
				t.Errorf("the human was shown the relay's screen:\n%s", shown)
			}
			rest := shown
			for _, want := range tc.shown {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("the inbox does not show %q (after what came before):\n%s", want, shown)
				}
				rest = rest[i+len(want):]
			}
		})
	}
}

// TestPinnedInboxKeyRefusesTheAgentsOwnInbox plays finding 3 of issue 14:
// root's config pins the inbox socket and the human's public key; the
// agent points XDG_CONFIG_HOME and XDG_RUNTIME_DIR at dirs of its own,
// with a key pair of its own and an inbox of its own that approves
// everything in the name of "alice-the-human", on its socket and on the
// pinned one. The answer is refused as signed by an untrusted key (exit
// 77), audited so, and the binding is not created.
func TestPinnedInboxKeyRefusesTheAgentsOwnInbox(t *testing.T) {
	c := testenv.Start(t)
	e := newAgentEnv(t)
	human, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(human)
	if err != nil {
		t.Fatal(err)
	}
	agentctlBin(t)           // build.admin, the directory read as /etc/agentctl
	pinDir := e.agent.Dir(t) // the user's runtime directory: the agent's user can listen there
	pinned := filepath.Join(pinDir, "agentctl", "inbox.sock")
	adminFiles(t, map[string]string{
		"inbox.pub": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
		"config.yaml": fmt.Sprintf("approval:\n  approver: inbox\n  inboxSocket: %s\n  inboxPublicKey: %s\n",
			pinned, filepath.Join(build.admin, "inbox.pub")),
	})
	kc := e.give(c.Kubeconfig(t, testenv.UserAdmin))
	name := fmt.Sprintf("e2e-fake-inbox-%d", time.Now().UnixNano())
	crb := e.writeAgentFile("crb.yaml", crbManifest(name))
	agentCfg, agentRun := e.agent.Dir(t), e.agent.Dir(t)
	e.actor(inboxActor{Role: "fake", KeyDir: filepath.Join(agentCfg, "agentctl"),
		Listen: []string{filepath.Join(agentRun, "agentctl", "inbox.sock"), pinned}})

	e.vars = e.interactive("XDG_RUNTIME_DIR="+agentRun, "XDG_CONFIG_HOME="+agentCfg)
	got := e.agentctl("--agent", "e2e-agent", "kubectl", "--kubeconfig", kc, "apply", "-f", crb)
	if got.code != exitDenied {
		t.Errorf("exit %d, want %d (denied)\nstdout: %s\nstderr: %s", got.code, exitDenied, got.stdout, got.stderr)
	}
	if crbExists(t, c, name) {
		t.Errorf("the ClusterRoleBinding %s was created on the agent's own inbox's answer", name)
	}
	if !strings.Contains(got.stderr, "untrusted key") {
		t.Errorf("agentctl does not say the answer was signed by an untrusted key:\n%s", got.stderr)
	}
	var audited bool
	for _, rec := range e.auditRecords() {
		reason, _ := rec["reason"].(string)
		if rec["decision"] == "deny" && rec["approval"] == "denied" && strings.Contains(reason, "signed by an untrusted key") {
			audited = true
			if rec["approver"] == "alice-the-human" {
				t.Errorf("the refusal names the agent's claimed approver: %v", rec)
			}
		}
	}
	if !audited {
		t.Errorf("no audit record of the untrusted-key refusal: %v", e.auditRecords())
	}
}
