package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// webBroker is a broker serving the web approval page.
type webBroker struct {
	*brokerProc
	origin string
}

// startWebBroker starts `agentctl serve --foreground --web` in the
// interactive user's environment of approvalEnv, on the socket clients
// find by default, and returns once it serves.
func startWebBroker(t *testing.T, dir string, vars []string) *webBroker {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	b := &webBroker{}
	page := regexp.MustCompile(`approval page at (http://localhost:\d+)/`)
	var seen []string
	b.brokerProc = startServe(t, vars, dir, filepath.Join(dir, "run", "agentctl", "broker.sock"), nil,
		[]string{"--web", fmt.Sprintf("127.0.0.1:%d", port)}, func(line string) {
			seen = append(seen, line)
			if m := page.FindStringSubmatch(line); m != nil {
				b.origin = m[1]
			}
		})
	if b.origin != fmt.Sprintf("http://localhost:%d", port) {
		t.Fatalf("agentctl serve --web names the page %q, want http://localhost:%d:\n%s", b.origin, port, strings.Join(seen, ""))
	}
	return b
}

// browser is headless Chromium with a phone's viewport (390×844) and
// Chrome's virtual WebAuthn authenticator (a platform passkey that
// verifies its user), on the page origin+"/".
func browser(t *testing.T, origin string) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if testenv.Required() {
			t.Fatalf("chromium is not installed: %v\nhint: testdata/tools/testdeps.sh installs it (apt-get install chromium)", err)
		}
		t.Skipf("chromium is not installed: %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	t.Logf("chromium: starting %s", path)
	err = chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(origin+"/"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := cdp.Call(ctx, tg, webauthn.Enable, webauthn.EnableParams{}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, tg, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportInternal,
				HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
			}})
			return err
		}))
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	t.Logf("chromium: on %s with a virtual passkey", origin)
	return ctx
}

// do runs the browser's actions, for at most a minute (a deadlock
// guard).
func do(ctx context.Context, steps ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return chromedp.Do(ctx, steps...)
}

// run is do for an action with a value.
func run[T any](ctx context.Context, a chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return chromedp.Run(ctx, a)
}

// waitText waits until the element sel's text contains want, and
// returns it.
func waitText(t *testing.T, ctx context.Context, sel, want string) string {
	t.Helper()
	deadline := time.Now().Add(screenWait)
	var got string
	for time.Now().Before(deadline) {
		var err error
		if got, err = run(ctx, chromedp.Text(chromedp.CSS(sel))); err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		if strings.Contains(got, want) {
			return got
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s says %q, not %q", sel, got, want)
	return ""
}

// enroll enrolls the browser's passkey with a code from `agentctl
// approvers enroll`.
func enroll(t *testing.T, ctx context.Context, origin string, vars []string) {
	t.Helper()
	code := func() string {
		cmd := exec.Command(agentctlBin(t), "approvers", "enroll")
		cmd.Env = vars
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("agentctl approvers enroll: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	if err := do(ctx, chromedp.Navigate(origin+"/enroll"),
		chromedp.SetValue(chromedp.CSS("#code"), "AAAA-BBBB-CCCC-DDDD"), chromedp.Click(chromedp.CSS("#enroll-button"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#result", "no enrollment code is open")
	c := code()
	if !regexp.MustCompile(`^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$`).MatchString(c) {
		t.Fatalf("agentctl approvers enroll printed %q, not a code", c)
	}
	if err := do(ctx, chromedp.SetValue(chromedp.CSS("#code"), "AAAA-BBBB-CCCC-DDDD"), chromedp.Click(chromedp.CSS("#enroll-button"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#result", "wrong enrollment code")
	if err := do(ctx, chromedp.SetValue(chromedp.CSS("#code"), strings.ToLower(c)), chromedp.Click(chromedp.CSS("#enroll-button"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#result", "enrolled: it can answer approval requests now")
	// One use: the same code enrolls nothing more.
	if err := do(ctx, chromedp.Click(chromedp.CSS("#enroll-button"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#result", "no enrollment code is open")
}

// agentDelete starts `agentctl kubectl delete cm app-config` in ns from
// no terminal, through the broker; wait returns its exit code and stderr.
func agentDelete(t *testing.T, bin, kc, ns, dir string, vars []string) (wait func() (int, string)) {
	t.Helper()
	cmd := exec.Command(bin, "--intent", "clean up the old config", "kubectl", "--kubeconfig", kc, "-n", ns, "delete", "cm", "app-config")
	cmd.Env, cmd.Dir = vars, dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })
	return func() (int, string) {
		select {
		case <-done:
		case <-time.After(screenWait):
			t.Fatalf("agentctl delete in %s did not end; stderr:\n%s", ns, stderr.String())
		}
		return cmd.ProcessState.ExitCode(), stderr.String()
	}
}

// webTimeout is how long the web test's requests wait for an answer.
const webTimeout = 30 * time.Second

var hashLink = regexp.MustCompile(`/r/([0-9a-f]{64})"`)

// waitRequest waits until the page lists a request whose row names ns,
// and returns its hash.
func waitRequest(t *testing.T, origin, ns string) string {
	t.Helper()
	deadline := time.Now().Add(screenWait)
	for time.Now().Before(deadline) {
		resp, err := http.Get(origin + "/")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, p := range strings.Split(string(b), "<p>") {
			if strings.Contains(p, "namespace="+ns) {
				if m := hashLink.FindStringSubmatch(p); m != nil {
					return m[1]
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the web page never listed the request in %s", ns)
	return ""
}

// sign has the page's passkey sign an answer without sending it.
func sign(t *testing.T, ctx context.Context, hash string, approve bool) map[string]any {
	t.Helper()
	js := fmt.Sprintf("agentctlSign(%q, %v, '')", hash, approve)
	body, err := run(ctx, chromedp.Evaluate[map[string]any](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("agentctlSign: %v", err)
	}
	if e, ok := body["error"]; ok {
		t.Fatalf("agentctlSign: %v", e)
	}
	return body
}

// send posts an answer from the page; it returns the page's JSON reply.
func send(t *testing.T, ctx context.Context, body map[string]any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	res, err := run(ctx, chromedp.Evaluate[map[string]any](fmt.Sprintf("agentctlSend(%s)", b), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("agentctlSend: %v", err)
	}
	return res
}

func refused(t *testing.T, what string, res map[string]any, want string) {
	t.Helper()
	if res["ok"] == true || !strings.Contains(fmt.Sprint(res["error"]), want) {
		t.Errorf("%s: the page answered %v, want a refusal saying %q", what, res, want)
	}
}

// TestWebApproval answers requests on the web approval page in headless
// Chromium with a virtual passkey, through a broker, against a real
// cluster: approval.notify run with each request's link, enrollment
// with the one-time code, a delete approved (it
// runs) and one denied (it does not), on a phone-sized viewport; an
// answer signed for one request and sent for another, a replayed one, an
// unsigned one, a forged signature, one from another origin and one
// signed before its request expired are all refused, and change nothing.
func TestWebApproval(t *testing.T) {
	c := testenv.Start(t)
	bin := agentctlBin(t)
	kc := c.Kubeconfig(t, testenv.UserAdmin)
	dir, vars := approvalEnv(t)
	notified := filepath.Join(dir, "notified")
	adminFiles(t, map[string]string{"config.yaml": fmt.Sprintf("approval:\n  notify: 'echo \"$AGENTCTL_APPROVAL_URL $AGENTCTL_APPROVAL_CLASS\" >> %s'\n", notified)})
	// The broker's workers ask with its environment: every request
	// expires after 30s (the last case waits for that).
	b := startWebBroker(t, dir, append(append([]string{}, vars...), "AGENTCTL_APPROVAL_TIMEOUT="+webTimeout.String()))
	ctx := browser(t, b.origin)

	t.Run("enroll", func(t *testing.T) {
		enroll(t, ctx, b.origin, vars)
		fi, err := os.Stat(filepath.Join(dir, "cfg", "agentctl", "passkeys.json"))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("passkeys.json: %v, %v; want mode 0600", fi, err)
		}
	})

	t.Run("approve a delete: it runs", func(t *testing.T) {
		ns := c.NewNamespace(t)
		c.Apply(t, ns, webFixtures)
		wait := agentDelete(t, bin, kc, ns, dir, vars)
		hash := waitRequest(t, b.origin, ns)
		// approval.notify ran with the request's link.
		deadline := time.Now().Add(screenWait)
		for n, _ := os.ReadFile(notified); !strings.Contains(string(n), b.origin+"/r/"+hash+" destructive"); n, _ = os.ReadFile(notified) {
			if time.Now().After(deadline) {
				t.Fatalf("approval.notify was not run with the link %s/r/%s and the class; it wrote %q", b.origin, hash, n)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err := do(ctx, chromedp.Navigate(b.origin+"/r/"+hash), chromedp.ScrollIntoView(chromedp.CSS("#approve"))); err != nil {
			t.Fatal(err)
		}
		page := waitText(t, ctx, "body", "Approve with passkey")
		num := func(js string) float64 {
			v, err := run(ctx, chromedp.Evaluate[float64](js))
			if err != nil {
				t.Fatalf("%s: %v", js, err)
			}
			return v
		}
		scrollW, innerW := num(`document.documentElement.scrollWidth`), num(`window.innerWidth`)
		right, width := num(`document.getElementById('deny').getBoundingClientRect().right`), num(`document.getElementById('approve').getBoundingClientRect().width`)
		for _, want := range []string{"destructive", "approval needed", "clean up the old config", "kubectl --kubeconfig", "delete cm app-config",
			"namespace=" + ns, "If you approve, agentctl runs exactly this command", "nothing runs", "Approve with passkey", "Deny with passkey"} {
			if !strings.Contains(page, want) {
				t.Errorf("the request's page lacks %q:\n%s", want, page)
			}
		}
		if innerW != 390 || scrollW > innerW {
			t.Errorf("on a 390px-wide phone the page is %vpx wide in a %vpx viewport: it scrolls sideways", scrollW, innerW)
		}
		if right > innerW || width < 44 {
			t.Errorf("the buttons do not fit a phone: deny ends at %vpx of %vpx, approve is %vpx wide", right, innerW, width)
		}
		if err := do(ctx, chromedp.Click(chromedp.CSS("#approve"))); err != nil {
			t.Fatal(err)
		}
		waitText(t, ctx, "#result", "approved in the web page")
		if code, stderr := wait(); code != 0 {
			t.Fatalf("exit %d after approval in the web page; stderr:\n%s", code, stderr)
		}
		if configMapExists(t, c, ns, "app-config") {
			t.Error("approved in the web page, the configmap is still there")
		}
		var approver string
		for _, r := range readAudit(t, filepath.Join(dir, "home", ".local", "state", "agentctl", "audit.jsonl")) {
			if r["kind"] == "decision" && strings.Contains(fmt.Sprint(r["args"]), ns) {
				approver = fmt.Sprint(r["approver"])
			}
		}
		if !strings.Contains(approver, "web page, passkey") {
			t.Errorf("the decision record names approver %q, not the web page's passkey", approver)
		}
	})

	t.Run("deny a delete: it does not run", func(t *testing.T) {
		ns := c.NewNamespace(t)
		c.Apply(t, ns, webFixtures)
		wait := agentDelete(t, bin, kc, ns, dir, vars)
		hash := waitRequest(t, b.origin, ns)
		if err := do(ctx, chromedp.Navigate(b.origin+"/r/"+hash), chromedp.Click(chromedp.CSS("#deny"))); err != nil {
			t.Fatal(err)
		}
		waitText(t, ctx, "#result", "denied in the web page")
		if code, stderr := wait(); code != 77 || !strings.Contains(stderr, "denied in the web page") {
			t.Fatalf("exit %d after a denial in the web page, want 77 and the reason; stderr:\n%s", code, stderr)
		}
		if !configMapExists(t, c, ns, "app-config") {
			t.Error("denied in the web page, the configmap is gone")
		}
	})

	t.Run("the first answer wins between the page and agentctl inbox", func(t *testing.T) {
		tm := newTerm(t, dir, vars)
		tm.start("inbox", shellQuote([]string{bin, "inbox"}))
		tm.waitFor("inbox", "agentctl inbox", "0 pending")

		// Answered in the browser: the inbox says so.
		ns := c.NewNamespace(t)
		c.Apply(t, ns, webFixtures)
		wait := agentDelete(t, bin, kc, ns, dir, vars)
		hash := waitRequest(t, b.origin, ns)
		tm.waitFor("inbox", "1 pending")
		if err := do(ctx, chromedp.Navigate(b.origin+"/r/"+hash), chromedp.Click(chromedp.CSS("#approve"))); err != nil {
			t.Fatal(err)
		}
		waitText(t, ctx, "#result", "approved in the web page")
		if code, stderr := wait(); code != 0 {
			t.Fatalf("exit %d after approval in the web page with the inbox open; stderr:\n%s", code, stderr)
		}
		screen := flat(tm.waitFor("inbox", "0 pending", "answered elsewhere"))
		if !strings.Contains(screen, "was answered elsewhere: approved in the web page") {
			t.Errorf("the inbox does not say the page answered:\n%s", screen)
		}
		if configMapExists(t, c, ns, "app-config") {
			t.Error("approved in the web page, the configmap is still there")
		}

		// Answered in the inbox: the open page says so, and refuses.
		ns = c.NewNamespace(t)
		c.Apply(t, ns, webFixtures)
		wait = agentDelete(t, bin, kc, ns, dir, vars)
		hash = waitRequest(t, b.origin, ns)
		if err := do(ctx, chromedp.Navigate(b.origin+"/r/"+hash)); err != nil {
			t.Fatal(err)
		}
		body := sign(t, ctx, hash, true)
		tm.waitFor("inbox", "1 pending")
		tm.keys("inbox", "Enter")
		tm.waitFor("inbox", "approval needed", "a approve")
		tm.keys("inbox", "d")
		waitText(t, ctx, "#result", "answered elsewhere: denied in agentctl inbox")
		refused(t, "an approval sent after the inbox denied", send(t, ctx, body), "answered elsewhere: denied in agentctl inbox")
		if code, _ := wait(); code != 77 {
			t.Errorf("exit %d after the inbox denied, want 77", code)
		}
		if !configMapExists(t, c, ns, "app-config") {
			t.Error("denied in the inbox, the configmap is gone")
		}
		tm.keys("inbox", "q")
	})

	t.Run("replayed, unsigned, forged, cross-origin answers refused", func(t *testing.T) {
		nsA, nsB := c.NewNamespace(t), c.NewNamespace(t)
		c.Apply(t, nsA, webFixtures)
		c.Apply(t, nsB, webFixtures)
		waitA := agentDelete(t, bin, kc, nsA, dir, vars)
		waitB := agentDelete(t, bin, kc, nsB, dir, vars)
		hashA, hashB := waitRequest(t, b.origin, nsA), waitRequest(t, b.origin, nsB)
		if err := do(ctx, chromedp.Navigate(b.origin+"/r/"+hashA)); err != nil {
			t.Fatal(err)
		}
		// Signed for A, sent for B.
		body := sign(t, ctx, hashA, true)
		body["hash"] = hashB
		refused(t, "an approval signed for A sent for B", send(t, ctx, body), "not to")
		// Signed as a denial, sent as an approval.
		body = sign(t, ctx, hashB, false)
		body["approve"] = true
		refused(t, "a denial sent as an approval", send(t, ctx, body), "not the one the passkey signed")
		// No signature at all.
		refused(t, "an unsigned approval", send(t, ctx, map[string]any{"hash": hashB, "approve": true, "typed": ""}), "not signed with a passkey")
		// A signature changed.
		body = sign(t, ctx, hashB, true)
		cred := body["credential"].(map[string]any)
		resp := cred["response"].(map[string]any)
		sig := []byte(resp["signature"].(string))
		sig[len(sig)/2] ^= 1
		if sig[len(sig)/2] == '-' || sig[len(sig)/2] == '_' {
			sig[len(sig)/2] = 'A'
		}
		resp["signature"] = string(sig)
		refused(t, "a forged signature", send(t, ctx, body), "does not verify")
		// A well-signed answer from another origin (a form elsewhere).
		body = sign(t, ctx, hashB, true)
		j, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, b.origin+"/api/answer", strings.NewReader(string(j)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", "http://evil.example")
		if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != http.StatusForbidden {
			t.Errorf("a POST from another origin: %v, %v; want 403", r, err)
		}
		// Approving A for real, then replaying that very answer.
		body = sign(t, ctx, hashA, true)
		if res := send(t, ctx, body); res["ok"] != true {
			t.Fatalf("approving A: %v", res)
		}
		refused(t, "the approval of A replayed", send(t, ctx, body), "no challenge this page has open")
		if code, stderr := waitA(); code != 0 {
			t.Fatalf("A: exit %d; stderr:\n%s", code, stderr)
		}
		if configMapExists(t, c, nsA, "app-config") {
			t.Error("A was approved, its configmap is still there")
		}
		// B still waits: nothing above answered it.
		var state map[string]any
		r, err := http.Get(b.origin + "/api/state/" + hashB)
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(r.Body).Decode(&state)
		r.Body.Close()
		if state["pending"] != true {
			t.Fatalf("B after the refused answers: %v, want still pending", state)
		}
		if err := do(ctx, chromedp.Navigate(b.origin+"/r/"+hashB), chromedp.Click(chromedp.CSS("#deny"))); err != nil {
			t.Fatal(err)
		}
		waitText(t, ctx, "#result", "denied in the web page")
		if code, _ := waitB(); code != 77 {
			t.Errorf("B: exit %d after its denial, want 77", code)
		}
		if !configMapExists(t, c, nsB, "app-config") {
			t.Error("B was never approved, its configmap is gone")
		}
	})

	t.Run("an answer signed before its request expired is refused", func(t *testing.T) {
		ns := c.NewNamespace(t)
		c.Apply(t, ns, webFixtures)
		wait := agentDelete(t, bin, kc, ns, dir, vars)
		hash := waitRequest(t, b.origin, ns)
		if err := do(ctx, chromedp.Navigate(b.origin+"/r/"+hash)); err != nil {
			t.Fatal(err)
		}
		body := sign(t, ctx, hash, true)
		if code, stderr := wait(); code != 77 || !strings.Contains(stderr, "timed out") {
			t.Fatalf("exit %d when no answer came in time, want 77 (timed out); stderr:\n%s", code, stderr)
		}
		refused(t, "an approval sent after its request expired", send(t, ctx, body), "expired")
		if !configMapExists(t, c, ns, "app-config") {
			t.Error("the configmap is gone after its request expired")
		}
	})
}
