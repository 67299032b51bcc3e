package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/agentctl/agentctl/pkg/proposal"
	"github.com/agentctl/agentctl/pkg/testenv"
)

// sshSign signs msg with the key file in namespace ns with the real
// ssh-keygen, as a human (or an attacker with the key) would.
func sshSign(t *testing.T, key, ns string, msg []byte) []byte {
	t.Helper()
	cmd := exec.Command(sshTool(t, "ssh-keygen"), "-Y", "sign", "-n", ns, "-f", key)
	cmd.Stdin = bytes.NewReader(msg)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("ssh-keygen -Y sign: %v: %s", err, stderr)
	}
	return out
}

type kubeProposed struct {
	Bundle     string `json:"bundle"`
	SHA256     string `json:"sha256"`
	Class      string `json:"class"`
	Nonce      string `json:"nonce"`
	ClusterUID string `json:"clusterUid"`
}

// kubeEnv is an agent (uid nobody) with a kubeconfig of the test cluster
// (contexts "admin" and "ops", both the admin user), a namespace, and a
// manifests directory deploy/ of its own in its working directory.
type kubeEnv struct {
	e    *env
	c    *testenv.Cluster
	ns   string
	kc   string
	dir  string // deploy/
	file string // deploy/app.yaml
}

func newKubeProposalEnv(t *testing.T, manifest string) *kubeEnv {
	t.Helper()
	c := testenv.Start(t)
	k := &kubeEnv{c: c, ns: c.NewNamespace(t), e: newAgentEnv(t)}
	k.kc = k.e.give(c.KubeconfigContexts(t, testenv.Context{Name: "admin", User: testenv.UserAdmin}, testenv.Context{Name: "ops", User: testenv.UserAdmin}))
	k.dir = filepath.Join(k.e.dir, "deploy")
	k.file = filepath.Join(k.dir, "app.yaml")
	if err := os.Mkdir(k.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(k.file, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	k.e.agent.Own(t, k.dir)
	return k
}

// kubectl runs `agentctl kubectl --kubeconfig KC -n NS ARGS...` as the agent.
func (k *kubeEnv) kubectl(args ...string) result {
	k.e.t.Helper()
	return k.e.agentctl(append([]string{"kubectl", "--kubeconfig", k.kc, "-n", k.ns}, args...)...)
}

func (k *kubeEnv) propose(t *testing.T) kubeProposed {
	t.Helper()
	got := k.e.agentctl("--output", "json", "propose", "kubectl", "--kubeconfig", k.kc, "-n", k.ns, "apply", "-f", "deploy")
	if got.code != 0 {
		t.Fatalf("propose exited %d\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	var p kubeProposed
	if err := json.Unmarshal([]byte(got.stdout), &p); err != nil {
		t.Fatalf("propose printed no JSON object: %v\n%s", err, got.stdout)
	}
	return p
}

// configMap is the data of configmap name in ns of cluster c, nil when
// there is none.
func configMap(t *testing.T, c *testenv.Cluster, ns, name string) map[string]string {
	t.Helper()
	cm, err := c.AdminClient(t).CoreV1().ConfigMaps(ns).Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return cm.Data
}

const appConfig = `apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
data:
  color: blue
`

// TestSignedKubectlProposalApplies checks propose / approve / apply of
// kubectl manifests with the real cluster: the agent (uid nobody)
// proposes a directory of manifests, a human signs the bundle with a key
// file after reading the server-side diff, and the apply runs in CI with
// nobody to ask; a second apply of the bundle is refused as a replay, also
// after the agent deleted its nonce records, and a bundle whose objects
// changed after it was proposed is refused as stale.
func TestSignedKubectlProposalApplies(t *testing.T) {
	aliceKey, alice := humanKey(t, "alice@example.com")
	approvalsConfig(t, alice)
	k := newKubeProposalEnv(t, appConfig)
	e := k.e

	p := k.propose(t)
	ns, err := k.c.AdminClient(t).CoreV1().Namespaces().Get(context.Background(), "kube-system", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Class != "write" || p.Bundle != k.dir+".proposal.json" || p.ClusterUID != string(ns.UID) {
		t.Fatalf("proposal %+v, want a write bundle beside deploy/ pinning kube-system UID %s", p, ns.UID)
	}
	if configMap(t, k.c, k.ns, "app-config") != nil {
		t.Fatal("propose applied the manifests")
	}
	got := approveAs(t, e, "yes\n", p.Bundle, aliceKey, "")
	if got.code != 0 || !strings.Contains(got.stderr, "+  color: blue") || !strings.Contains(got.stderr, "kube-system UID "+p.ClusterUID) ||
		!strings.Contains(got.stderr, "the manifests at "+k.dir+" (apply -f) flatten to this sha256") {
		t.Fatalf("approve exited %d, want the diff and the cluster pin shown\nstderr: %s", got.code, got.stderr)
	}
	if v := e.agentctl("approve", "--verify", p.Bundle); v.code != 0 || !strings.Contains(v.stdout, "alice@example.com") {
		t.Fatalf("approve --verify exited %d\nstdout: %s\nstderr: %s", v.code, v.stdout, v.stderr)
	}
	got = k.kubectl("apply", "-f", "deploy")
	if got.code != 0 || !strings.Contains(got.stdout, "configmap/app-config created") {
		t.Fatalf("signed apply exited %d\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	if cm := configMap(t, k.c, k.ns, "app-config"); cm["color"] != "blue" {
		t.Fatalf("configmap after the signed apply: %v", cm)
	}
	rec := lastBundleDecision(t, e)
	if rec["channel"] != "signed" || !strings.Contains(rec["reason"].(string), p.Nonce) || !strings.Contains(rec["approver"].(string), "alice@example.com") {
		t.Errorf("audit record of the signed apply: %v", rec)
	}
	got = k.kubectl("apply", "-f", "deploy")
	if got.code != exitDenied || !strings.Contains(got.stderr, "was used before (replay)") {
		t.Errorf("second apply: exit %d, want %d with a replay refusal\nstderr: %s", got.code, exitDenied, got.stderr)
	}
	// The agent deletes its nonce records and replays: the objects
	// moved on (the apply created the configmap), and the pin refuses it.
	if err := os.RemoveAll(filepath.Join(e.home, ".local", "state", "agentctl", "nonces")); err != nil {
		t.Fatal(err)
	}
	got = k.kubectl("apply", "-f", "deploy")
	if got.code != exitDenied || !strings.Contains(got.stderr, "the objects the manifests name changed since they were proposed") {
		t.Errorf("replay after deleting the nonce records: exit %d, want %d\nstderr: %s", got.code, exitDenied, got.stderr)
	}

	// A new proposal; someone changes the configmap before the apply:
	// the diff the human signed is stale.
	os.WriteFile(k.file, []byte(strings.Replace(appConfig, "blue", "green", 1)), 0o644)
	p = k.propose(t)
	// The agent changes the manifests after proposing: the human is told.
	os.WriteFile(k.file, []byte(strings.Replace(appConfig, "blue", "purple", 1)), 0o644)
	if got := approveAs(t, e, "no\n", p.Bundle, aliceKey, ""); got.code == 0 || !strings.Contains(got.stderr, "WARNING: the manifests at "+k.dir+" do not flatten to this sha256") {
		t.Fatalf("approve beside other manifests: exit %d\nstderr: %s", got.code, got.stderr)
	}
	os.WriteFile(k.file, []byte(strings.Replace(appConfig, "blue", "green", 1)), 0o644)
	if got := approveAs(t, e, "yes\n", p.Bundle, aliceKey, ""); got.code != 0 || !strings.Contains(got.stderr, "+  color: green") {
		t.Fatalf("approve exited %d\nstderr: %s", got.code, got.stderr)
	}
	cm, err := k.c.AdminClient(t).CoreV1().ConfigMaps(k.ns).Get(context.Background(), "app-config", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["size"] = "large"
	if _, err := k.c.AdminClient(t).CoreV1().ConfigMaps(k.ns).Update(context.Background(), cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	got = k.kubectl("apply", "-f", "deploy")
	if got.code != exitDenied || !strings.Contains(got.stderr, "the signed diff is stale") {
		t.Errorf("apply over a changed object: exit %d, want %d\nstderr: %s", got.code, exitDenied, got.stderr)
	}
	if data := configMap(t, k.c, k.ns, "app-config"); data["color"] != "blue" {
		t.Errorf("the stale bundle ran: %v", data)
	}
}

// TestSignedKubectlProposalRefusals checks each way a signed kubectl
// bundle must not apply, played by the agent (uid nobody), which owns the
// manifests, the bundle and the directory the signatures are in: nothing
// runs (the configmap is never created), and each refusal is one line,
// exit 77, and audited.
func TestSignedKubectlProposalRefusals(t *testing.T) {
	aliceKey, alice := humanKey(t, "alice@example.com")
	malloryKey, _ := humanKey(t, "mallory@example.com")
	approvalsConfig(t, alice)
	k := newKubeProposalEnv(t, appConfig)
	e := k.e
	p := k.propose(t)
	bundle, err := os.ReadFile(p.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	edited := func(t *testing.T, edit func(b *proposal.Bundle)) []byte {
		t.Helper()
		b, err := proposal.Parse(bundle)
		if err != nil {
			t.Fatal(err)
		}
		edit(b)
		out, err := b.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	// Another cluster: a second control plane, whose kubeconfig names
	// its context and cluster as the first one's do, with the namespace.
	other := testenv.NewCluster(t)
	if _, err := other.AdminClient(t).CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: k.ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	otherKC := e.give(other.KubeconfigContexts(t, testenv.Context{Name: "admin", User: testenv.UserAdmin}))

	sigPath := func(who string) string { return p.Bundle + "." + who + ".sig" }
	goodSig := func(t *testing.T) { os.WriteFile(sigPath("a"), sshSign(t, aliceKey, "agentctl", bundle), 0o644) }
	for _, c := range []struct {
		name    string
		prepare func(t *testing.T)
		args    []string // the apply's target flags, default --kubeconfig KC -n NS
		extra   []string // after apply -f deploy
		refusal string
	}{
		{name: "manifest bytes changed after signing", prepare: func(t *testing.T) {
			goodSig(t)
			os.WriteFile(k.file, []byte(strings.Replace(appConfig, "blue", "red", 1)), 0o644)
		}, refusal: "are not the ones approved"},
		{name: "a manifest added to the directory after signing", prepare: func(t *testing.T) {
			goodSig(t)
			os.WriteFile(filepath.Join(k.dir, "more.yaml"), []byte(strings.Replace(appConfig, "app-config", "more", 1)), 0o644)
		}, refusal: "are not the ones approved"},
		{name: "another cluster", prepare: goodSig, args: []string{"--kubeconfig", otherKC, "-n", k.ns},
			refusal: `bundle is for server "` + k.c.Server() + `", this is "` + other.Server() + `"`},
		{name: "another namespace", prepare: goodSig, args: []string{"--kubeconfig", k.kc, "-n", "default"},
			refusal: `bundle is for namespace "` + k.ns + `", this is "default"`},
		{name: "another context", prepare: goodSig, args: []string{"--kubeconfig", k.kc, "--context", "ops", "-n", k.ns},
			refusal: `bundle is for context "admin", this is "ops"`},
		{name: "another flag of apply", prepare: goodSig, extra: []string{"--server-side"},
			refusal: "a signed kubectl apply takes only target flags"},
		{name: "expired", prepare: func(t *testing.T) {
			old := edited(t, func(b *proposal.Bundle) {
				b.Created, b.Expires = time.Now().Add(-2*time.Hour).UTC(), time.Now().Add(-time.Hour).UTC()
			})
			os.WriteFile(p.Bundle, old, 0o644)
			os.WriteFile(sigPath("a"), sshSign(t, aliceKey, "agentctl", old), 0o644)
		}, refusal: "bundle expired at"},
		{name: "unknown signer", prepare: func(t *testing.T) {
			os.WriteFile(sigPath("m"), sshSign(t, malloryKey, "agentctl", bundle), 0o644)
		}, refusal: "is not in allowed_signers"},
		{name: "bundle edited after signing", prepare: func(t *testing.T) {
			goodSig(t)
			os.WriteFile(p.Bundle, edited(t, func(b *proposal.Bundle) { b.Summary = "(no changes)" }), 0o644)
		}, refusal: "signature does not verify"},
		{name: "bundle for another cluster UID, signed", prepare: func(t *testing.T) {
			lie := edited(t, func(b *proposal.Bundle) { b.Pins.ClusterUID = "00000000-0000-0000-0000-000000000000" })
			os.WriteFile(p.Bundle, lie, 0o644)
			os.WriteFile(sigPath("a"), sshSign(t, aliceKey, "agentctl", lie), 0o644)
		}, refusal: `bundle is for the cluster with kube-system UID "00000000-0000-0000-0000-000000000000", this one is "` + p.ClusterUID + `"`},
		{name: "malformed bundle", prepare: func(t *testing.T) {
			goodSig(t)
			os.WriteFile(p.Bundle, bundle[:len(bundle)/2], 0o644)
		}, refusal: "malformed proposal bundle: truncated"},
		{name: "malformed signature", prepare: func(t *testing.T) {
			os.WriteFile(sigPath("a"), sshSign(t, aliceKey, "agentctl", bundle)[:100], 0o644)
		}, refusal: "malformed ssh signature"},
	} {
		t.Run(c.name, func(t *testing.T) {
			os.WriteFile(p.Bundle, bundle, 0o644)
			os.WriteFile(k.file, []byte(appConfig), 0o644)
			os.Remove(filepath.Join(k.dir, "more.yaml"))
			old, _ := filepath.Glob(p.Bundle + ".*.sig")
			for _, f := range old {
				os.Remove(f)
			}
			c.prepare(t)
			args := c.args
			if args == nil {
				args = []string{"--kubeconfig", k.kc, "-n", k.ns}
			}
			got := e.agentctl(append(append(append([]string{"kubectl"}, args...), "apply", "-f", "deploy"), c.extra...)...)
			if got.code != exitDenied || !strings.Contains(got.stderr, c.refusal) || strings.Contains(got.stdout, "created") {
				t.Errorf("exit %d, want %d with %q\nstdout: %s\nstderr: %s", got.code, exitDenied, c.refusal, got.stdout, got.stderr)
			}
			if cm := configMap(t, k.c, k.ns, "app-config"); cm != nil {
				t.Fatalf("the configmap was created: %v", cm)
			}
			if cm := configMap(t, k.c, "default", "app-config"); cm != nil {
				t.Fatalf("the configmap was created in namespace default: %v", cm)
			}
			if cm := configMap(t, other, k.ns, "app-config"); cm != nil {
				t.Fatalf("the configmap was created in the other cluster: %v", cm)
			}
			if rec := lastBundleDecision(t, e); rec["approval"] != "denied" || !strings.Contains(rec["reason"].(string), c.refusal) || strings.Contains(rec["reason"].(string), "\n") {
				t.Errorf("refusal not audited as one line: %v", rec)
			}
		})
	}
	// The same bundle, untouched, still applies: each refusal above was
	// the case's own.
	os.WriteFile(p.Bundle, bundle, 0o644)
	os.WriteFile(k.file, []byte(appConfig), 0o644)
	os.Remove(filepath.Join(k.dir, "more.yaml"))
	for _, f := range []string{sigPath("m")} {
		os.Remove(f)
	}
	goodSig(t)
	if got := k.kubectl("apply", "-f", "deploy"); got.code != 0 {
		t.Fatalf("the untouched bundle: exit %d\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
}

const podReaderRole = `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: pod-reader
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list"]
`

// TestSignedKubectlPrivilegeProposalNeedsTwoSigners checks that an RBAC
// Role (privilege) needs the target typed to sign, is refused with one
// signer, and applies once a second human signs through a real ssh-agent.
func TestSignedKubectlPrivilegeProposalNeedsTwoSigners(t *testing.T) {
	aliceKey, alice := humanKey(t, "alice@example.com")
	bobKey, bob := humanKey(t, "bob@example.com")
	approvalsConfig(t, alice, bob)
	k := newKubeProposalEnv(t, podReaderRole)
	e := k.e
	p := k.propose(t)
	if p.Class != "privilege" {
		t.Fatalf("class %q, want privilege", p.Class)
	}
	if got := approveAs(t, e, "yes\n", p.Bundle, aliceKey, ""); got.code == 0 {
		t.Fatalf("a privilege bundle was signed with a plain yes\nstderr: %s", got.stderr)
	}
	if got := approveAs(t, e, "admin\n", p.Bundle, aliceKey, ""); got.code != 0 || !strings.Contains(got.stderr, "type the target (admin)") {
		t.Fatalf("approve exited %d\nstderr: %s", got.code, got.stderr)
	}
	role := func() bool {
		_, err := k.c.AdminClient(t).RbacV1().Roles(k.ns).Get(context.Background(), "pod-reader", metav1.GetOptions{})
		return err == nil
	}
	got := k.kubectl("apply", "-f", "deploy")
	if got.code != exitDenied || !strings.Contains(got.stderr, "privilege bundle needs 2") || role() {
		t.Fatalf("one signer: exit %d, want %d\nstderr: %s", got.code, exitDenied, got.stderr)
	}
	sock := startAgent(t, bobKey)
	if got := approveAs(t, e, "admin\n", p.Bundle, "", sock); got.code != 0 {
		t.Fatalf("approve through ssh-agent exited %d\nstderr: %s", got.code, got.stderr)
	}
	got = k.kubectl("apply", "-f", "deploy")
	if got.code != 0 || !strings.Contains(got.stdout, "role.rbac.authorization.k8s.io/pod-reader created") || !role() {
		t.Fatalf("two signers: exit %d\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
}

// TestSignedKubectlKustomize checks a proposal of a kustomization (-k):
// the bundle sits beside the directory and the signed apply -k runs; and
// that propose refuses what a bundle cannot name (stdin, another flag of
// apply) without writing one.
func TestSignedKubectlKustomize(t *testing.T) {
	aliceKey, alice := humanKey(t, "alice@example.com")
	approvalsConfig(t, alice)
	k := newKubeProposalEnv(t, appConfig)
	e := k.e
	os.WriteFile(filepath.Join(k.dir, "kustomization.yaml"), []byte("resources: [app.yaml]\nnamePrefix: k-\n"), 0o644)
	k.e.agent.Own(t, k.dir)

	for _, c := range []struct {
		name    string
		args    []string
		refusal string
	}{
		{"stdin", []string{"apply", "-f", "-"}, "the bundle is written beside the first -f or -k path"},
		{"another flag of apply", []string{"apply", "--server-side", "-k", "deploy"}, "not other flags of apply"},
		{"not an apply", []string{"delete", "-k", "deploy"}, `cannot propose kubectl "delete"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := e.agentctlStdin(appConfig, append([]string{"propose", "kubectl", "--kubeconfig", k.kc, "-n", k.ns}, c.args...)...)
			if got.code != 2 || !strings.Contains(got.stderr, c.refusal) {
				t.Errorf("exit %d, want 2 with %q\nstderr: %s", got.code, c.refusal, got.stderr)
			}
			if _, err := os.Stat(k.dir + ".proposal.json"); err == nil {
				t.Fatal("a bundle was written")
			}
		})
	}

	got := e.agentctl("--output", "json", "propose", "kubectl", "--kubeconfig", k.kc, "-n", k.ns, "apply", "-k", "deploy")
	var p kubeProposed
	if got.code != 0 || json.Unmarshal([]byte(got.stdout), &p) != nil || p.Bundle != k.dir+".proposal.json" {
		t.Fatalf("propose -k: exit %d\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	if got := approveAs(t, e, "yes\n", p.Bundle, aliceKey, ""); got.code != 0 || !strings.Contains(got.stderr, "name: k-app-config") {
		t.Fatalf("approve exited %d\nstderr: %s", got.code, got.stderr)
	}
	if got := k.kubectl("apply", "-k", "deploy"); got.code != 0 || configMap(t, k.c, k.ns, "k-app-config") == nil {
		t.Fatalf("signed apply -k: exit %d\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
}

// TestSignedKubectlProposalWithBrokeredIdentities checks the flow with a
// credentials configuration: propose reads the diff, the kube-system UID
// and the objects as the read identity (which needs get on that
// namespace, and the write's rights for the server-side dry run of the
// diff, or the bundle says why it has none), and the signed apply runs as
// the deploy identity.
func TestSignedKubectlProposalWithBrokeredIdentities(t *testing.T) {
	aliceKey, alice := humanKey(t, "alice@example.com")
	approvalsConfig(t, alice)
	l := newCredLab(t)
	l.config(t, fmt.Sprintf(`targets:
- name: lab
  match: {context: %s}
  read:
    kubeconfig: {path: %s}
  deploy:
    kubernetes-token:
      serviceAccount: %s/%s-deploy
      ttl: 10m
      broker: {path: %s}
`, labContext, l.c.Kubeconfig(t, testenv.UserReader), l.ns, l.prefix, l.c.Kubeconfig(t, testenv.UserBroker)))
	e := l.e
	dir := filepath.Join(e.dir, "deploy")
	os.Mkdir(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "app.yaml"), []byte(strings.Replace(appConfig, "app-config", "signed-config", 1)), 0o644)

	got := e.agentctl("propose", "kubectl", "apply", "-f", "deploy")
	if got.code == 0 || !strings.Contains(got.stderr, `cannot read the cluster's kube-system namespace`) || !strings.Contains(got.stderr, `User "reader" cannot get resource "namespaces"`) {
		t.Fatalf("propose with a read identity that cannot read kube-system: exit %d\nstderr: %s", got.code, got.stderr)
	}
	rbac := l.c.AdminClient(t).RbacV1()
	name := l.prefix + "-kube-system"
	l.c.Apply(t, l.ns, `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: `+name+`}
rules: [{apiGroups: [""], resources: [namespaces], resourceNames: [kube-system], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: `+name+`}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: `+name+`}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: reader}]
`)
	t.Cleanup(func() {
		rbac.ClusterRoleBindings().Delete(context.Background(), name, metav1.DeleteOptions{})
		rbac.ClusterRoles().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	got = e.agentctl("--output", "json", "propose", "kubectl", "apply", "-f", "deploy")
	var p kubeProposed
	if got.code != 0 || json.Unmarshal([]byte(got.stdout), &p) != nil {
		t.Fatalf("propose: exit %d\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	// A server-side dry run needs the rights of the write: the read
	// identity has none, and the human is told so instead of a diff.
	if got := approveAs(t, e, "yes\n", p.Bundle, aliceKey, ""); got.code != 0 ||
		!strings.Contains(got.stderr, `cannot compute the change: kubectl diff: exit 2: Error from server (Forbidden): configmaps is forbidden: User "reader" cannot create resource "configmaps"`) {
		t.Fatalf("approve exited %d\nstderr: %s", got.code, got.stderr)
	}
	got = e.agentctl("kubectl", "apply", "-f", "deploy")
	if got.code != 0 || !configMapExists(t, l.c, l.ns, "signed-config") {
		t.Fatalf("signed apply: exit %d\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	want := "deploy kubernetes-token " + l.ns + "/" + l.prefix + "-deploy"
	if id := e.lastResult()["identity"]; id != want {
		t.Errorf("signed apply: audit identity %q, want %q", id, want)
	}
}
