package audit

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/classify"
)

func TestRequestsFilter(t *testing.T) {
	path := t.TempDir() + "/audit.jsonl"
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	old := testRecord("claude", 0)
	old.Time = time.Now().Add(-48 * time.Hour)
	denied := testRecord("cursor", 1)
	destructive := classify.Destructive
	denied.Decision, denied.Class = "deny", &destructive
	allowed := testRecord("claude", 2)
	allowed.Decision = "allow"
	res := NewResult(allowed, time.Now())
	res.SetExit(3)
	for _, r := range []*Record{old, denied, allowed, res} {
		if err := l.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		filter Filter
		want   []string // request ids
	}{
		{"no filter", Filter{}, []string{old.ID, denied.ID, allowed.ID}},
		{"since 24h ago", Filter{Since: time.Now().Add(-24 * time.Hour)}, []string{denied.ID, allowed.ID}},
		{"agent claude", Filter{Agent: "claude"}, []string{old.ID, allowed.ID}},
		{"class destructive", Filter{Class: &destructive}, []string{denied.ID}},
		{"decision deny", Filter{Decision: "deny"}, []string{denied.ID}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, _ := os.Open(path)
			defer f.Close()
			got, err := Requests(f, tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, e := range got {
				ids = append(ids, e.Decision.ID)
			}
			if strings.Join(ids, ",") != strings.Join(tc.want, ",") {
				t.Errorf("got %v, want %v", ids, tc.want)
			}
			for _, e := range got {
				if e.Decision.ID == allowed.ID && (e.Result == nil || *e.Result.Exit != 3) {
					t.Error("the result was not joined to its decision")
				}
			}
		})
	}
}

func TestFollowSeesAppendedRecords(t *testing.T) {
	path := t.TempDir() + "/audit.jsonl"
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Append(testRecord("before", 0))
	st, _ := os.Stat(path)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan string, 10)
	done := make(chan error)
	go func() {
		done <- Follow(ctx, path, st.Size(), 5*time.Millisecond, func(r *Record, _ []byte) error {
			got <- r.Agent
			return nil
		})
	}()
	l.Append(testRecord("after-1", 0))
	l.Append(testRecord("after-2", 0))
	for _, want := range []string{"after-1", "after-2"} {
		select {
		case a := <-got:
			if a != want {
				t.Errorf("followed %q, want %q", a, want)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("Follow did not deliver %q", want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestDefaultPath(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"override", map[string]string{EnvPath: "/srv/audit.jsonl", "XDG_STATE_HOME": "/s", "HOME": "/h"}, "/srv/audit.jsonl"},
		{"xdg state home", map[string]string{"XDG_STATE_HOME": "/s", "HOME": "/h"}, "/s/agentctl/audit.jsonl"},
		{"relative xdg state home is ignored", map[string]string{"XDG_STATE_HOME": "state", "HOME": "/h"}, "/h/.local/state/agentctl/audit.jsonl"},
		{"home", map[string]string{"HOME": "/h"}, "/h/.local/state/agentctl/audit.jsonl"},
		{"nothing", map[string]string{}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := DefaultPath(func(k string) string { return tc.env[k] }); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
