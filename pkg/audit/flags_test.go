package audit

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/request"
)

// flagEnv is a real audit log and a tracker over it, with a clock the
// test moves.
type flagEnv struct {
	t   *testing.T
	log *Log
	tr  *Tracker
	now time.Time
}

func newFlagEnv(t *testing.T, cfg FlagConfig) *flagEnv {
	dir := t.TempDir()
	l, err := Open(dir+"/audit.jsonl", Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	e := &flagEnv{t: t, log: l, now: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	e.tr = &Tracker{Log: l.Path(), State: dir + "/state/flags-state.json", Config: cfg, Now: func() time.Time { return e.now }}
	return e
}

// kube is a kubectl command of class c in namespace ns of cluster
// https://prod:6443.
func kube(c classify.Class, ns string) *classify.Assessment {
	return &classify.Assessment{Tool: "kubectl", Class: c,
		Target:    classify.Target{Server: "https://prod:6443", Cluster: "prod", Namespace: ns},
		Resources: []classify.Resource{{Resource: "deployments", Namespace: ns, Class: c}}}
}

// run checks one command, records its decision as the pipeline does
// and returns the flags the policy saw and those on the record.
func (e *flagEnv) run(agent string, a *classify.Assessment, decision, rule string) (seen, recorded []string) {
	e.t.Helper()
	chk, err := e.tr.Check(agent, a)
	if err != nil {
		e.t.Fatal(err)
	}
	rec := NewDecision(Process{}, &request.Request{ID: request.NewID(), Time: e.now, Tool: a.Tool, Agent: agent}, a)
	rec.Decision, rec.Rule = decision, rule
	rec.Flags = chk.ForRecord(decision == "deny")
	if err := e.log.Append(rec); err != nil {
		e.t.Fatal(err)
	}
	for _, f := range rec.Flags {
		recorded = append(recorded, f.Name)
	}
	return chk.Names(), recorded
}

func has(names []string, n string) bool { return slices.Contains(names, n) }

func TestFlagDenials(t *testing.T) {
	cfg := DefaultFlagConfig() // 3 within 10m
	t.Run("the third denial within the window is flagged, and so is what follows", func(t *testing.T) {
		e := newFlagEnv(t, cfg)
		for i := range 2 {
			if _, rec := e.run("bot", kube(classify.Write, "dev"), "deny", "r"); has(rec, FlagDenials) {
				t.Fatalf("denial %d flagged: %v", i+1, rec)
			}
			e.now = e.now.Add(time.Minute)
		}
		if seen, rec := e.run("bot", kube(classify.Write, "dev"), "deny", "r"); has(seen, FlagDenials) || !has(rec, FlagDenials) {
			t.Fatalf("third denial: seen %v, recorded %v; want the record flagged", seen, rec)
		}
		if seen, _ := e.run("bot", kube(classify.Read, "dev"), "sandbox", "r"); !has(seen, FlagDenials) {
			t.Fatalf("the command after three denials: flags %v, want denials", seen)
		}
	})
	t.Run("denials spread beyond the window are not flagged", func(t *testing.T) {
		e := newFlagEnv(t, cfg)
		for range 4 {
			if seen, rec := e.run("bot", kube(classify.Write, "dev"), "deny", "r"); has(seen, FlagDenials) || has(rec, FlagDenials) {
				t.Fatalf("flagged: %v %v", seen, rec)
			}
			e.now = e.now.Add(6 * time.Minute)
		}
	})
	t.Run("typos the tool rejects are not denials", func(t *testing.T) {
		e := newFlagEnv(t, cfg)
		for range 4 {
			if _, rec := e.run("bot", kube(classify.Write, "dev"), "deny", ruleToolRejects); has(rec, FlagDenials) {
				t.Fatalf("flagged: %v", rec)
			}
		}
	})
	t.Run("denials under other names count for the OS user", func(t *testing.T) {
		e := newFlagEnv(t, cfg)
		e.run("a", kube(classify.Write, "dev"), "deny", "r")
		e.run("b", kube(classify.Write, "dev"), "deny", "r")
		if _, rec := e.run("c", kube(classify.Write, "dev"), "deny", "r"); !has(rec, FlagDenials) {
			t.Fatalf("third name's denial: %v, want denials", rec)
		}
	})
	t.Run("an approved unlock clears them", func(t *testing.T) {
		e := newFlagEnv(t, cfg)
		for range 3 {
			e.run("bot", kube(classify.Write, "dev"), "deny", "r")
		}
		u := NewDecision(Process{}, &request.Request{ID: request.NewID(), Time: e.now, Tool: "agentctl"}, &classify.Assessment{Tool: "agentctl", Class: classify.Privilege})
		u.Decision, u.Rule, u.Approval = "approve", ruleLockout, "approved"
		if err := e.log.Append(u); err != nil {
			t.Fatal(err)
		}
		if seen, _ := e.run("bot", kube(classify.Read, "dev"), "sandbox", "r"); has(seen, FlagDenials) {
			t.Fatalf("after the unlock: %v", seen)
		}
	})
}

func TestFlagNewTarget(t *testing.T) {
	e := newFlagEnv(t, DefaultFlagConfig())
	if seen, _ := e.run("bot", kube(classify.Read, "dev"), "sandbox", "r"); !has(seen, FlagNewTarget) {
		t.Fatalf("first command: %v, want new-target", seen)
	}
	if seen, _ := e.run("bot", kube(classify.Read, "dev"), "sandbox", "r"); has(seen, FlagNewTarget) {
		t.Fatalf("the same namespace again: %v", seen)
	}
	chk, _ := e.tr.Check("bot", kube(classify.Read, "payments"))
	if !has(chk.Names(), FlagNewTarget) || !strings.Contains(chk.Flags[0].Detail, "namespace https://prod:6443/payments") || strings.Contains(chk.Flags[0].Detail, "cluster ") {
		t.Fatalf("another namespace: %+v, want new-target naming only the namespace", chk.Flags)
	}
	if seen, _ := e.run("other", kube(classify.Read, "dev"), "sandbox", "r"); !has(seen, FlagNewTarget) {
		t.Fatalf("another agent in dev: %v, want new-target (targets are per agent)", seen)
	}
	// A denied command touched nothing: its target stays new.
	e.run("bot", kube(classify.Read, "kube-system"), "deny", "r")
	if seen, _ := e.run("bot", kube(classify.Read, "kube-system"), "sandbox", "r"); !has(seen, FlagNewTarget) {
		t.Fatalf("after a denial there: %v, want new-target", seen)
	}
	tf := &classify.Assessment{Tool: "terraform", Class: classify.Read, Target: classify.Target{Dir: "/src/infra", Workspace: "prod"}}
	if seen, _ := e.run("bot", tf, "sandbox", "r"); !has(seen, FlagNewTarget) {
		t.Fatalf("a terraform workspace: %v, want new-target", seen)
	}
	if seen, _ := e.run("bot", tf, "sandbox", "r"); has(seen, FlagNewTarget) {
		t.Fatalf("the workspace again: %v", seen)
	}
}

func TestFlagNewClass(t *testing.T) {
	e := newFlagEnv(t, DefaultFlagConfig())
	e.run("bot", kube(classify.Read, "dev"), "sandbox", "r")
	if seen, _ := e.run("bot", kube(classify.Read, "dev"), "sandbox", "r"); has(seen, FlagNewClass) {
		t.Fatalf("a second read: %v", seen)
	}
	if seen, rec := e.run("bot", kube(classify.Destructive, "dev"), "approve", "r"); !has(seen, FlagNewClass) || !has(rec, FlagNewClass) {
		t.Fatalf("a first delete: %v %v, want new-class", seen, rec)
	}
	if seen, _ := e.run("bot", kube(classify.Destructive, "dev"), "approve", "r"); has(seen, FlagNewClass) {
		t.Fatalf("a second delete: %v", seen)
	}
	off := DefaultFlagConfig()
	off.NewClass = false
	e2 := newFlagEnv(t, off)
	if seen, _ := e2.run("bot", kube(classify.Exec, "dev"), "approve", "r"); has(seen, FlagNewClass) {
		t.Fatalf("newClass off: %v", seen)
	}
}

func TestFlagWriteBurst(t *testing.T) {
	cfg := DefaultFlagConfig()
	cfg.Writes = Threshold{Count: 5, Window: time.Minute}
	t.Run("the fifth change within a minute is a burst", func(t *testing.T) {
		e := newFlagEnv(t, cfg)
		for i := range 4 {
			if seen, _ := e.run("bot", kube(classify.Write, "dev"), "allow", "r"); has(seen, FlagWriteBurst) {
				t.Fatalf("change %d: %v", i+1, seen)
			}
			e.now = e.now.Add(5 * time.Second)
		}
		if seen, _ := e.run("bot", kube(classify.Read, "dev"), "sandbox", "r"); has(seen, FlagWriteBurst) {
			t.Fatalf("a read is no write: %v", seen)
		}
		if seen, rec := e.run("bot", kube(classify.Write, "dev"), "allow", "r"); !has(seen, FlagWriteBurst) || !has(rec, FlagWriteBurst) {
			t.Fatalf("fifth change: %v %v, want write-burst", seen, rec)
		}
	})
	t.Run("changes at a steady pace are not", func(t *testing.T) {
		e := newFlagEnv(t, cfg)
		for i := range 10 {
			if seen, _ := e.run("bot", kube(classify.Write, "dev"), "allow", "r"); has(seen, FlagWriteBurst) {
				t.Fatalf("change %d: %v", i+1, seen)
			}
			e.now = e.now.Add(20 * time.Second)
		}
	})
	t.Run("denied changes are not", func(t *testing.T) {
		e := newFlagEnv(t, cfg)
		for range 6 {
			if seen, _ := e.run("bot", kube(classify.Write, "dev"), "deny", ruleToolRejects); has(seen, FlagWriteBurst) {
				t.Fatalf("flagged: %v", seen)
			}
		}
	})
}

// TestFlagStateReadsOnlyTheTail: the summary remembers where it is in
// the log; a check after more records reads only those (the cursor
// moves by their bytes), and a log replaced by a new file (rotation) is
// read from its start without forgetting what was learnt.
func TestFlagStateReadsOnlyTheTail(t *testing.T) {
	e := newFlagEnv(t, DefaultFlagConfig())
	e.run("bot", kube(classify.Read, "dev"), "sandbox", "r")
	e.run("bot", kube(classify.Read, "dev"), "sandbox", "r")
	var doc flagDoc
	if err := e.tr.locked(func(d *flagDoc) error { doc = *d; return nil }); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(e.log.Path())
	line, _ := os.ReadFile(e.log.Path())
	last := strings.LastIndexByte(strings.TrimSuffix(string(line), "\n"), '\n') + 1
	if doc.Cursor.Offset != int64(last) || doc.Cursor.Seq != 1 {
		t.Fatalf("cursor %+v after two checks, want the offset of record 2 (%d of %d bytes)", doc.Cursor, last, st.Size())
	}
	os.Rename(e.log.Path(), e.log.Path()+".1")
	if seen, _ := e.run("bot", kube(classify.Read, "dev"), "sandbox", "r"); has(seen, FlagNewTarget) || has(seen, FlagNewClass) {
		t.Fatalf("after rotation: %v, want what was learnt kept", seen)
	}
}

// TestFlagStateCorruptFailsClosed: a summary that does not parse is a
// CorruptStateError with a hint; removing it rebuilds it from the log.
func TestFlagStateCorruptFailsClosed(t *testing.T) {
	e := newFlagEnv(t, DefaultFlagConfig())
	e.run("bot", kube(classify.Read, "dev"), "sandbox", "r")
	for _, bad := range []string{"", "{not json", `{"version":2}`} {
		os.WriteFile(e.tr.State, []byte(bad), 0o600)
		_, err := e.tr.Check("bot", kube(classify.Read, "dev"))
		var ce *CorruptStateError
		if !errors.As(err, &ce) || !strings.Contains(ce.Hint(), "rebuilds it from the audit log") {
			t.Fatalf("state %q: %v, want a CorruptStateError", bad, err)
		}
	}
	os.Remove(e.tr.State)
	chk, err := e.tr.Check("bot", kube(classify.Read, "dev"))
	if err != nil || has(chk.Names(), FlagNewTarget) {
		t.Fatalf("rebuilt: %v %v, want dev known again", chk.Names(), err)
	}
}

// TestFlaggedRecordIsAWarning: a flagged record that was let through is
// WARN in OTLP (with its flags' names) and in syslog; unflagged, INFO.
func TestFlaggedRecordIsAWarning(t *testing.T) {
	rec := testRecord("bot", 1)
	rec.Decision, rec.Approval = "sandbox", ""
	if r := LogRecord(rec, []byte("{}"), time.Now()); r.SeverityText() != "INFO" {
		t.Fatalf("unflagged: %s", r.SeverityText())
	}
	rec.Flags = []Flag{{Name: FlagNewTarget, Detail: "namespace x/y"}, {Name: FlagNewClass}}
	r := LogRecord(rec, []byte("{}"), time.Now())
	var flags string
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		if string(kv.Key) == AttrFlags {
			flags = kv.Value.AsString()
		}
		return true
	})
	if r.SeverityText() != "WARN" || flags != "new-target,new-class" || severity(rec) != 4 {
		t.Fatalf("flagged: %s, %s = %q, syslog severity %d", r.SeverityText(), AttrFlags, flags, severity(rec))
	}
}
