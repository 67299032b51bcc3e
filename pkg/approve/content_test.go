package approve

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/classify"
)

// crbRequest is a request to bind cluster-admin, as agentctl sends it.
func crbRequest(t *testing.T) *Content {
	t.Helper()
	manifest := []byte("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: agent-admin}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: User, name: agent}]\n")
	a := &classify.Assessment{Tool: "kubectl", Class: classify.Privilege,
		Resources: []classify.Resource{{Kind: "ClusterRoleBinding", Name: "agent-admin", Action: "apply", Class: classify.Privilege}},
		Reasons:   []classify.Reason{{Class: classify.Privilege, Message: "ClusterRoleBinding agent-admin changes who can do what"}},
		Exec:      classify.Invocation{Args: []string{"apply", "-f", "-"}, Stdin: manifest},
		Target:    classify.Target{Context: "prod", Namespace: "default"}}
	a.ManifestSHA256 = classify.SHA256(manifest)
	r := testRequest("req-crb")
	r.Assessment, r.Req.Args = a, []string{"apply", "-f", "crb.yaml"}
	r.Diff = "+kind: ClusterRoleBinding\n"
	r.Hash = HashOf(r)
	c := ContentOf(r)
	if c.Sum() != r.Hash {
		t.Fatal("the content sent does not sum to the request's hash")
	}
	return c
}

func TestHashCoversWhatTheScreenShowsAndWhatRuns(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spoil func(c *Content)
	}{
		{"the command shown", func(c *Content) { c.Screen.Command = []string{"kubectl", "annotate", "cm", "app-config", "x=y"} }},
		{"the class", func(c *Content) { c.Screen.Class = classify.Write }},
		{"the confirmation", func(c *Content) { c.Screen.Confirm = false }},
		{"the resources", func(c *Content) {
			c.Screen.Resources = []Change{{Action: "annotate", Kind: "ConfigMap", Name: "app-config"}}
		}},
		{"the reasons", func(c *Content) { c.Screen.Reasons = nil }},
		{"the diff", func(c *Content) { c.Screen.Diff = "" }},
		{"the intent", func(c *Content) { c.Screen.Intent = "tidy up annotations" }},
		{"the target", func(c *Content) { c.Screen.Target.Context = "dev" }},
		{"the expiry", func(c *Content) { c.Screen.Expires = c.Screen.Expires.Add(time.Hour) }},
		{"the manifest bytes", func(c *Content) { c.Exec.Stdin = []byte("kind: ConfigMap\n") }},
		{"the argv run", func(c *Content) { c.Exec.Args = []string{"apply", "-f", "-", "--force"} }},
		{"the plan JSON", func(c *Content) { c.Exec.PlanJSON = []byte(`{"resource_changes":[]}`) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := crbRequest(t)
			want := c.Screen.Hash
			tc.spoil(c)
			if c.Sum() == want {
				t.Errorf("the hash does not cover %s", tc.name)
			}
		})
	}
	c := crbRequest(t)
	c.Screen.PID, c.Screen.ConfirmWord = 1, "x" // the inbox's own to fill in
	if c.Sum() != c.Screen.Hash {
		t.Error("the hash covers what the inbox fills in itself")
	}
}

// relay plays a program between agentctl and the inbox: it sends content
// to the inbox socket with the given hash and nonce and returns the answer.
func relay(p Paths, c *Content, nonce string) (*SignedAnswer, error) {
	conn, err := net.Dial("unix", p.Socket)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := writeMessage(conn, &message{Type: "request", Nonce: nonce, Request: c}); err != nil {
		return nil, err
	}
	m, err := readMessage(bufio.NewReader(conn))
	if err != nil {
		return nil, err
	}
	return m.Answer, nil
}

func serveInbox(t *testing.T, o ServerOptions) (Paths, ed25519.PrivateKey, *InboxServer) {
	t.Helper()
	p, key := testPaths(t)
	srv, err := Listen(p, key, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); srv.Close() })
	go srv.Serve(ctx)
	return p, key, srv
}

// TestInboxRefusesAScreenItsHashDoesNotCover plays the relay of issue 14:
// it forwards the real request's hash and nonce with a screen that shows
// an annotation. The inbox shows nothing, says why, and signs only a
// denial.
func TestInboxRefusesAScreenItsHashDoesNotCover(t *testing.T) {
	p, key, srv := serveInbox(t, ServerOptions{})
	c := crbRequest(t)
	c.Screen.Command = []string{"kubectl", "annotate", "cm", "app-config", "x=y"}
	c.Screen.Class, c.Screen.Confirm, c.Screen.Reasons, c.Screen.Diff = classify.Write, false, nil, ""
	c.Screen.Resources = []Change{{Action: "annotate", Kind: "ConfigMap", Name: "app-config"}}
	type answer struct {
		a   *SignedAnswer
		err error
	}
	got := make(chan answer, 1)
	go func() { a, err := relay(p, c, "the-real-nonce"); got <- answer{a, err} }()
	select {
	case pend := <-srv.Requests():
		t.Fatalf("the inbox shows the relay's screen: %s", pend.Screen.CommandLine())
	case n := <-srv.Notices():
		if !strings.Contains(n, "does not match its hash") {
			t.Errorf("notice %q", n)
		}
	}
	res := <-got
	a := res.a
	if res.err != nil || a == nil || a.Approved {
		t.Fatalf("answer %+v (%v), want a signed denial", a, res.err)
	}
	if err := a.Verify(key.Public().(ed25519.PublicKey), c.Screen.Hash, "the-real-nonce", time.Now()); err != nil {
		t.Errorf("the denial does not verify: %v", err)
	}
}

// TestInboxDecidesTheTypedConfirmationItself sends requests whose content
// matches their hash (a forger can compute one) but that ask for no
// typed confirmation: the inbox demands it for a privilege class, and for
// a class its own classifier finds in the manifest bytes.
func TestInboxDecidesTheTypedConfirmationItself(t *testing.T) {
	reclassify := func(_ context.Context, x *Exec) (classify.Class, []string, error) {
		if strings.Contains(string(x.Stdin), "kind: ClusterRoleBinding") {
			return classify.Privilege, []string{"privilege: ClusterRoleBinding agent-admin"}, nil
		}
		return classify.Read, nil, nil
	}
	for _, tc := range []struct {
		name  string
		spoil func(c *Content)
	}{
		{"privilege class without confirmation", func(c *Content) { c.Screen.Confirm = false }},
		{"class lowered to write", func(c *Content) { c.Screen.Class, c.Screen.Confirm = classify.Write, false }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _, srv := serveInbox(t, ServerOptions{Classify: reclassify})
			c := crbRequest(t)
			tc.spoil(c)
			c.Screen.Hash = c.Sum()
			go relay(p, c, "n")
			pend := <-srv.Requests()
			defer pend.Answer(Verdict{})
			if !pend.Screen.Confirm || pend.Screen.Class != classify.Privilege {
				t.Errorf("inbox screen: class %v, confirm %v; want privilege with the target typed", pend.Screen.Class, pend.Screen.Confirm)
			}
		})
	}
}

// TestAnswerByAnUntrustedKeyIsRefused plays an agent with a key pair and
// inbox of its own: the public key at Paths.Pub is the agent's, but the
// pinned one is the human's, and the answer is refused as signed by an
// untrusted key.
func TestAnswerByAnUntrustedKeyIsRefused(t *testing.T) {
	p, agentKey := testPaths(t)
	human, _, _ := ed25519.GenerateKey(rand.Reader)
	p.Trusted = human
	fakeInbox(t, p, func(m *message) *SignedAnswer {
		a := &SignedAnswer{Hash: m.Request.Screen.Hash, Nonce: m.Nonce, Approved: true, Approver: "alice-the-human",
			KeyID: KeyID(agentKey.Public().(ed25519.PublicKey)), Expires: time.Now().Add(time.Minute).UnixNano()}
		a.Sign(agentKey)
		return a
	})
	a, err := (&Inbox{Paths: p}).Approve(context.Background(), testRequest("req-1"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Approved || !strings.Contains(a.Reason, "signed by an untrusted key") || !strings.Contains(a.Reason, KeyID(human)) {
		t.Errorf("answer %+v, want a denial saying it was signed by an untrusted key", a)
	}
}

func TestParsePublicKeyForms(t *testing.T) {
	p, key := testPaths(t)
	pub := key.Public().(ed25519.PublicKey)
	pemBytes, err := os.ReadFile(p.Pub)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]string{
		"PEM":            string(pemBytes),
		"base64 of DER":  base64.StdEncoding.EncodeToString(der),
		"base64 raw key": base64.StdEncoding.EncodeToString(pub) + "\n",
	} {
		got, err := ParsePublicKey([]byte(in))
		if err != nil || !got.Equal(pub) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ParsePublicKey([]byte("not a key")); err == nil {
		t.Error("garbage parsed as a key")
	}
}
