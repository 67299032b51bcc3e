package webapprove

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestEnrollmentCode(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	st := &Store{Dir: t.TempDir(), Now: func() time.Time { return now }}
	if err := st.useCode("ABCD"); err != ErrNoCode {
		t.Fatalf("no code open: %v, want ErrNoCode", err)
	}
	code, _, err := st.NewCode()
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(st.Dir, enrollFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("enroll.json: %v %v, want mode 0600", fi, err)
	}
	b, _ := os.ReadFile(filepath.Join(st.Dir, enrollFile))
	if strings.Contains(string(b), code) || strings.Contains(string(b), strings.ReplaceAll(code, "-", "")) {
		t.Errorf("enroll.json holds the code itself: %s", b)
	}
	if err := st.useCode("wrong"); err != ErrWrongCode {
		t.Fatalf("a wrong code: %v", err)
	}
	if err := st.useCode(strings.ToLower(code)); err != nil {
		t.Fatalf("the code, typed in lower case: %v", err)
	}
	if err := st.useCode(code); err != ErrNoCode {
		t.Fatalf("the code used twice: %v, want ErrNoCode", err)
	}

	t.Run("expired", func(t *testing.T) {
		code, _, _ := st.NewCode()
		now = now.Add(EnrollTTL)
		if err := st.useCode(code); err == nil || !strings.Contains(err.Error(), "expired") {
			t.Fatalf("a code after %v: %v, want expired", EnrollTTL, err)
		}
	})
	t.Run("five wrong codes close it", func(t *testing.T) {
		code, _, _ := st.NewCode()
		for i := 0; i < maxEnrollTries; i++ {
			st.useCode("nope")
		}
		if err := st.useCode(code); err != ErrNoCode {
			t.Fatalf("the right code after %d wrong ones: %v, want ErrNoCode", maxEnrollTries, err)
		}
	})
}

func TestNotifier(t *testing.T) {
	n := Notice{ID: "0123456789abcdef", Class: "destructive", Link: "http://localhost:8844/r/abc"}
	t.Run("command", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		t.Setenv("VAULT_TOKEN", "s.secret")
		var logged []string
		notify := Notifier(`env > `+out, func(f string, a ...any) { logged = append(logged, f) })
		notify(n)
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatalf("the command did not run: %v %v", err, logged)
		}
		env := string(b)
		for _, want := range []string{"AGENTCTL_APPROVAL_URL=http://localhost:8844/r/abc", "AGENTCTL_APPROVAL_ID=0123456789abcdef", "AGENTCTL_APPROVAL_CLASS=destructive",
			"AGENTCTL_APPROVAL_TEXT=agentctl: a destructive request (0123456789ab) waits for your approval: http://localhost:8844/r/abc"} {
			if !strings.Contains(env, want) {
				t.Errorf("the command's environment lacks %q:\n%s", want, env)
			}
		}
		if strings.Contains(env, "s.secret") {
			t.Errorf("the command got the broker's environment (a Vault token):\n%s", env)
		}
	})
	t.Run("failing command is logged", func(t *testing.T) {
		var logged string
		Notifier("exit 3", func(f string, a ...any) { logged = f })(n)
		if !strings.Contains(logged, "failed") {
			t.Errorf("a failing command logged %q", logged)
		}
	})
	t.Run("webhook", func(t *testing.T) {
		got := make(chan map[string]string, 1)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var m map[string]string
			b, _ := io.ReadAll(r.Body)
			json.Unmarshal(b, &m)
			if r.Header.Get("Content-Type") != "application/json" {
				t.Errorf("content type %q", r.Header.Get("Content-Type"))
			}
			got <- m
		}))
		defer srv.Close()
		Notifier(srv.URL+"/hook/T0KEN", func(f string, a ...any) { t.Errorf(f, a...) })(n)
		m := <-got
		if m["url"] != n.Link || m["id"] != n.ID || m["class"] != "destructive" || !strings.Contains(m["text"], n.Link) {
			t.Errorf("the webhook got %v", m)
		}
	})
	t.Run("webhook failure does not log the URL", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		u := srv.URL + "/hook/T0KEN"
		srv.Close()
		var logged string
		Notifier(u, func(f string, a ...any) { logged = strings.Join(append([]string{f}, toStrings(a)...), " ") })(n)
		if logged == "" || strings.Contains(logged, "T0KEN") {
			t.Errorf("a failed webhook logged %q: want a line without the URL's token", logged)
		}
	})
	if err := CheckNotify("https://"); err == nil {
		t.Error(`CheckNotify("https://") accepted a URL without a host`)
	}
}

func toStrings(a []any) []string {
	var s []string
	for _, v := range a {
		if e, ok := v.(error); ok {
			s = append(s, e.Error())
		} else if x, ok := v.(string); ok {
			s = append(s, x)
		}
	}
	return s
}

func TestGuard(t *testing.T) {
	s, err := New(Options{Origin: "http://localhost:8844", Store: &Store{Dir: t.TempDir()}, User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	for _, tc := range []struct {
		name, method, host, origin, ctype, path, body string
		want                                          int
		wantBody                                      string
	}{
		{"the list", "GET", "localhost:8844", "", "", "/", "", 200, "Nothing waits for approval"},
		{"another host (DNS rebinding)", "GET", "evil.example:8844", "", "", "/", "", http.StatusMisdirectedRequest, "not at host"},
		{"a POST from another origin", "POST", "localhost:8844", "http://evil.example", "application/json", "/api/answer", "{}", 403, "from origin"},
		{"a POST without an origin", "POST", "localhost:8844", "", "application/json", "/api/answer", "{}", 403, "from origin"},
		{"a form POST", "POST", "localhost:8844", "http://localhost:8844", "application/x-www-form-urlencoded", "/api/answer", "a=b", 415, "want application/json"},
		{"an unsigned answer", "POST", "localhost:8844", "http://localhost:8844", "application/json", "/api/answer", `{"hash":"ab","approve":true}`, 403, "not signed with a passkey"},
		{"a garbage signature", "POST", "localhost:8844", "http://localhost:8844", "application/json", "/api/answer", `{"hash":"ab","approve":true,"credential":{"id":"x"}}`, 403, "does not parse"},
		{"a challenge for no request", "POST", "localhost:8844", "http://localhost:8844", "application/json", "/api/challenge", `{"hash":"ab","approve":true}`, 404, "no request ab waits"},
		{"enrollment without a code open", "POST", "localhost:8844", "http://localhost:8844", "application/json", "/api/enroll/begin", `{"code":"ABCD"}`, 403, "no enrollment code is open"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			r.Host = tc.host
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			if tc.ctype != "" {
				r.Header.Set("Content-Type", tc.ctype)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.want || !strings.Contains(w.Body.String(), tc.wantBody) {
				t.Errorf("%s %s: %d %q, want %d with %q", tc.method, tc.path, w.Code, w.Body.String(), tc.want, tc.wantBody)
			}
			if csp := w.Header().Get("Content-Security-Policy"); tc.method == "GET" && tc.want == 200 && !strings.Contains(csp, "script-src 'nonce-") {
				t.Errorf("the page's CSP %q allows scripts without a nonce", csp)
			}
		})
	}
	if _, err := New(Options{Origin: "http://127.0.0.1:8844", Store: &Store{Dir: t.TempDir()}}); err == nil {
		t.Error("an IP origin was accepted: passkeys need a host name")
	}
}
