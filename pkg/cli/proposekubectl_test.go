package cli

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/proposal"
	"github.com/agentctl/agentctl/pkg/request"
)

// fakeCluster is a cluster whose kube-system UID is uid (or err) and
// whose objects are objects.
type fakeCluster struct {
	uid, objects string
	err          error
	reads        *int
}

func (c fakeCluster) ClusterUID(context.Context, *classify.Assessment) (string, error) {
	*c.reads++
	return c.uid, c.err
}

func (c fakeCluster) ObjectVersions(context.Context, *classify.Assessment) (string, error) {
	return c.objects, nil
}

const liveObjects = "ConfigMap web app-config 4711\n"

// askedNext records that a request went on to the next approver.
type askedNext struct{ asked *bool }

func (n askedNext) Approve(context.Context, *approve.Request) (approve.Answer, error) {
	*n.asked = true
	return approve.Answer{Channel: "none", Reason: "nobody"}, nil
}

const (
	uidProd  = "0b6e6c4a-1f0e-4d7e-9a53-6f1e2b3c4d5e"
	uidOther = "7d1f0e2a-3b4c-4d5e-8f60-718293a4b5c6"
)

// TestSignedKubectlApply checks the signed approver on a kubectl apply,
// with a fake reader of the cluster's kube-system UID: a rebuilt cluster
// behind the same URL and CA (another UID) cannot be started cheaply, and
// the UID is the only thing that tells it apart.
func TestSignedKubectlApply(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("allowed_signers must be root's: run the tests as root, as CI does")
	}
	dir := t.TempDir()
	manifests := []byte("---\n{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\"}\n")
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	alice, _ := ssh.NewSignerFromKey(priv)
	signers := filepath.Join(dir, "allowed_signers")
	os.WriteFile(signers, append([]byte("alice@example.com "), ssh.MarshalAuthorizedKey(alice.PublicKey())...), 0o644)
	target := classify.Target{Context: "prod", Cluster: "prod", Server: "https://10.0.0.1:6443", CASHA256: strings.Repeat("ab", 32), Namespace: "web"}
	bundlePath := filepath.Join(dir, "deploy.yaml.proposal.json")
	writeBundle := func(t *testing.T, edit func(b *proposal.Bundle)) {
		t.Helper()
		nonce, _ := proposal.NewNonce()
		now := time.Now().UTC().Truncate(time.Second)
		b := &proposal.Bundle{Version: proposal.Version, Tool: "kubectl", SHA256: proposal.HashBytes(manifests), Class: "write",
			Reasons: []string{"apply configmaps"}, Target: kubectlTarget(&classify.Assessment{Target: target}), Summary: "diff",
			Created: now, Expires: now.Add(time.Hour), Nonce: nonce, Pins: proposal.Pins{ClusterUID: uidProd, Objects: proposal.HashBytes([]byte(liveObjects))}}
		if edit != nil {
			edit(b)
		}
		data, err := b.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		sig, err := proposal.Sign(alice, proposal.Namespace, data)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(bundlePath, data, 0o644)
		os.WriteFile(bundlePath+".alice.sig", sig, 0o644)
	}
	assessment := func() *classify.Assessment {
		a := &classify.Assessment{Tool: "kubectl", Subcommand: "apply", Class: classify.Write, Target: target,
			Manifests: []string{"deploy.yaml"},
			Exec:      classify.Invocation{Args: []string{"--context", "prod", "-n", "web", "apply", "-f", "-"}}}
		a.SetManifest(manifests)
		return a
	}
	for _, c := range []struct {
		name    string
		bundle  func(b *proposal.Bundle) // nil: as proposed
		edit    func(a *classify.Assessment)
		cluster fakeCluster
		refusal string // "" approves
		reads   int    // UID reads wanted
	}{
		{name: "signed, same cluster", cluster: fakeCluster{uid: uidProd, objects: liveObjects}, reads: 1},
		{name: "another cluster behind the same URL and CA", cluster: fakeCluster{uid: uidOther, objects: liveObjects}, reads: 1,
			refusal: `bundle is for the cluster with kube-system UID "` + uidProd + `", this one is "` + uidOther + `"`},
		{name: "the objects changed since the proposal", cluster: fakeCluster{uid: uidProd, objects: "ConfigMap web app-config 4712\n"}, reads: 1,
			refusal: "the objects the manifests name changed since they were proposed"},
		{name: "the cluster cannot be read", cluster: fakeCluster{err: errors.New("cannot read the cluster's kube-system namespace: forbidden")}, reads: 1,
			refusal: "cannot read the cluster's kube-system namespace: forbidden"},
		{name: "manifests changed after signing", cluster: fakeCluster{uid: uidProd, objects: liveObjects}, reads: 1,
			edit:    func(a *classify.Assessment) { a.SetManifest(append(append([]byte(nil), manifests...), ' ')) },
			refusal: "are not the ones approved"},
		{name: "another namespace: the cluster is not read", cluster: fakeCluster{uid: uidProd, objects: liveObjects},
			edit:    func(a *classify.Assessment) { a.Target.Namespace = "kube-system" },
			refusal: `bundle is for namespace "web", this is "kube-system"`},
		{name: "another context", cluster: fakeCluster{uid: uidProd, objects: liveObjects},
			edit:    func(a *classify.Assessment) { a.Target.Context = "dev" },
			refusal: `bundle is for context "prod", this is "dev"`},
		{name: "another flag than the target's", cluster: fakeCluster{uid: uidProd, objects: liveObjects},
			edit:    func(a *classify.Assessment) { a.Exec.Args = []string{"apply", "--server-side", "-f", "-"} },
			refusal: "a signed kubectl apply takes only target flags"},
		{name: "a signed bundle for a cluster whose CA is not checked", cluster: fakeCluster{uid: uidProd, objects: liveObjects},
			bundle:  func(b *proposal.Bundle) { b.Target.CAFingerprint = "" },
			edit:    func(a *classify.Assessment) { a.Target.CASHA256 = "" },
			refusal: `cannot tell which cluster context "prod" is`},
		{name: "class the manifests are not", cluster: fakeCluster{uid: uidProd, objects: liveObjects}, reads: 1,
			edit:    func(a *classify.Assessment) { a.Class = classify.Privilege },
			refusal: "bundle says class write, the manifests are privilege"},
		{name: "privilege with one signer", cluster: fakeCluster{uid: uidProd, objects: liveObjects}, reads: 1,
			bundle:  func(b *proposal.Bundle) { b.Class = "privilege" },
			edit:    func(a *classify.Assessment) { a.Class = classify.Privilege },
			refusal: "1 distinct allowed signer(s), privilege bundle needs 2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			writeBundle(t, c.bundle)
			a := assessment()
			if c.edit != nil {
				c.edit(a)
			}
			reads, asked := 0, false
			c.cluster.reads = &reads
			s := signedApprover{next: askedNext{&asked}, allowed: signers, required: 1,
				nonces: proposal.NonceStore{Dir: t.TempDir()}, now: time.Now, cluster: c.cluster}
			r := &approve.Request{Req: &request.Request{Cwd: dir}, Assessment: a}
			ans, err := s.Approve(context.Background(), r)
			if err != nil || asked {
				t.Fatalf("Approve: %v, asked the next approver: %v", err, asked)
			}
			if reads != c.reads {
				t.Errorf("read the cluster's UID %d times, want %d", reads, c.reads)
			}
			if c.refusal == "" {
				if !ans.Approved || ans.Channel != "signed" || !strings.Contains(ans.Approver, "alice@example.com") {
					t.Fatalf("answer %+v, want approved by alice", ans)
				}
				if again, _ := s.Approve(context.Background(), r); again.Approved || !strings.Contains(again.Reason, "was used before (replay)") {
					t.Fatalf("second use: %+v, want a replay refusal", again)
				}
				return
			}
			if ans.Approved || !strings.Contains(ans.Reason, c.refusal) || strings.Contains(ans.Reason, "\n") {
				t.Fatalf("answer %+v, want a one-line refusal with %q", ans, c.refusal)
			}
		})
	}
}

func TestSignedKubectlApplyWithoutBundleAsksNext(t *testing.T) {
	for _, c := range []struct {
		name      string
		manifests []string
	}{
		{"no bundle beside the file", []string{"deploy.yaml"}},
		{"stdin", []string{"-"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			asked := false
			s := signedApprover{next: askedNext{&asked}, allowed: "/nonexistent", nonces: proposal.NonceStore{Dir: t.TempDir()}, now: time.Now}
			a := &classify.Assessment{Tool: "kubectl", Subcommand: "apply", Class: classify.Write, Manifests: c.manifests,
				Exec: classify.Invocation{Args: []string{"apply", "-f", "-"}}}
			a.SetManifest([]byte("---\n"))
			if _, err := s.Approve(context.Background(), &approve.Request{Req: &request.Request{Cwd: t.TempDir()}, Assessment: a}); err != nil || !asked {
				t.Fatalf("Approve: %v; asked the next approver: %v", err, asked)
			}
		})
	}
}

func TestKubectlBundlePath(t *testing.T) {
	for _, c := range []struct {
		name   string
		inputs []string
		want   string // "" = none
	}{
		{"file", []string{"deploy.yaml", "other.yaml"}, "/src/deploy.yaml.proposal.json"},
		{"directory with a slash: beside it, not inside", []string{"deploy/"}, "/src/deploy.proposal.json"},
		{"the working directory", []string{"."}, "/src.proposal.json"},
		{"absolute", []string{"/etc/app/k8s"}, "/etc/app/k8s.proposal.json"},
		{"stdin", []string{"-"}, ""},
		{"url", []string{"https://example.com/x.yaml"}, ""},
		{"glob", []string{"*.yaml"}, ""},
		{"root", []string{"/"}, ""},
		{"none", nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := kubectlBundlePath("/src", c.inputs)
			if got != c.want || ok != (c.want != "") {
				t.Errorf("kubectlBundlePath(%q) = %q, %v; want %q", c.inputs, got, ok, c.want)
			}
		})
	}
}

func TestWriteBundleRemovesTheOldSignatures(t *testing.T) {
	dir := t.TempDir()
	bundle := filepath.Join(dir, "deploy.proposal.json")
	other := filepath.Join(dir, "other.proposal.json.a.sig")
	for _, p := range []string{bundle, bundle + ".alice.sig", bundle + ".bob.sig", other} {
		os.WriteFile(p, []byte("old"), 0o644)
	}
	if err := writeBundle(bundle, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(bundle + ".*.sig"); len(left) != 0 {
		t.Errorf("signatures of the replaced bundle left: %q", left)
	}
	if b, _ := os.ReadFile(bundle); string(b) != "new" {
		t.Errorf("bundle %q", b)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another bundle's signature removed: %v", err)
	}
}
