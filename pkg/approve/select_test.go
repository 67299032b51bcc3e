package approve

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSelect(t *testing.T) {
	noTTY := func() (*os.File, error) { return nil, errors.New("no controlling terminal") }
	withTTY := func() (*os.File, error) { return os.Open(os.DevNull) }
	prompt := func(context.Context, *os.File, *Screen) (Verdict, error) { return Verdict{}, nil }
	for _, tc := range []struct {
		name    string
		opts    SelectOptions
		inbox   bool
		want    string
		wantErr bool
	}{
		{"inbox running wins over the terminal", SelectOptions{OpenTTY: withTTY, Prompt: prompt}, true, "inbox", false},
		{"terminal when no inbox runs", SelectOptions{OpenTTY: withTTY, Prompt: prompt}, false, "tty", false},
		{"no terminal and no inbox: none", SelectOptions{OpenTTY: noTTY, Prompt: prompt}, false, "none", false},
		{"non-interactive beats a running inbox", SelectOptions{NonInteractive: true, OpenTTY: withTTY, Prompt: prompt}, true, "none", false},
		{"--approver tty beats a running inbox", SelectOptions{Choice: "tty", OpenTTY: withTTY, Prompt: prompt}, true, "tty", false},
		{"--approver inbox without a terminal", SelectOptions{Choice: "inbox", OpenTTY: noTTY, Prompt: prompt}, false, "inbox", false},
		{"--approver none with a terminal", SelectOptions{Choice: "none", OpenTTY: withTTY, Prompt: prompt}, false, "none", false},
		{"unknown approver", SelectOptions{Choice: "email"}, false, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			env := map[string]string{"XDG_RUNTIME_DIR": filepath.Join(dir, "run"), "HOME": dir}
			tc.opts.Getenv = func(k string) string { return env[k] }
			if tc.inbox {
				p, err := DefaultPaths(tc.opts.Getenv)
				if err != nil {
					t.Fatal(err)
				}
				key, err := LoadOrCreateKey(p)
				if err != nil {
					t.Fatal(err)
				}
				srv, err := Listen(p, key, ServerOptions{})
				if err != nil {
					t.Fatal(err)
				}
				defer srv.Close()
				go srv.Serve(context.Background())
			}
			ap, err := Select(tc.opts)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			got := ""
			switch ap.(type) {
			case *Inbox:
				got = "inbox"
			case *TTY:
				got = "tty"
			case None:
				got = "none"
			}
			if got != tc.want {
				t.Errorf("selected %q (%T), want %q", got, ap, tc.want)
			}
		})
	}
}

func TestNoneDeniesWithItsReason(t *testing.T) {
	ap, _ := Select(SelectOptions{NonInteractive: true})
	a, err := ap.Approve(context.Background(), testRequest("r"))
	if err != nil || a.Approved || a.Channel != "none" || a.Reason == "" {
		t.Errorf("answer %+v, err %v", a, err)
	}
}

func TestTTYPromptsOnItsOwnTerminal(t *testing.T) {
	var shown *Screen
	var opened bool
	ap := &TTY{
		Open:   func() (*os.File, error) { opened = true; return os.Open(os.DevNull) },
		Driver: func() (string, int, bool) { return "", 0, false },
		Prompt: func(_ context.Context, _ *os.File, s *Screen) (Verdict, error) {
			shown = s
			return Verdict{Approved: true}, nil
		},
	}
	req := testRequest("r")
	a, err := ap.Approve(context.Background(), req)
	if err != nil || !a.Approved || a.Channel != "tty" {
		t.Fatalf("answer %+v, err %v", a, err)
	}
	if !opened || shown == nil || shown.Hash != req.Hash {
		t.Errorf("terminal opened %v, screen %+v", opened, shown)
	}
	ap.Prompt = func(ctx context.Context, _ *os.File, _ *Screen) (Verdict, error) {
		return Verdict{Approved: true}, context.DeadlineExceeded
	}
	if a, _ := ap.Approve(context.Background(), testRequest("r")); a.Approved || a.Reason != "approval timed out" {
		t.Errorf("a prompt that timed out: %+v", a)
	}
}

func TestTTYRefusesATerminalAProgramDrives(t *testing.T) {
	ap := &TTY{
		Open:   func() (*os.File, error) { return os.Open(os.DevNull) },
		Driver: func() (string, int, bool) { return "codex", 4242, true },
		Prompt: func(context.Context, *os.File, *Screen) (Verdict, error) {
			t.Error("the screen was shown on a terminal a program drives")
			return Verdict{Approved: true}, nil
		},
	}
	a, err := ap.Approve(context.Background(), testRequest("r"))
	if err != nil || a.Approved || !strings.Contains(a.Reason, `"codex" (pid 4242)`) || !strings.Contains(a.Reason, "agentctl inbox") {
		t.Errorf("answer %+v, err %v", a, err)
	}
}
