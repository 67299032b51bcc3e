package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/agentctl/agentctl/pkg/classify"
)

// The behavioural flags a [Tracker] raises (docs/audit.md, Flags).
const (
	// FlagDenials: the agent (or every agent of the OS user together) was
	// denied at least FlagConfig.Denials.Count times within its window.
	FlagDenials = "denials"
	// FlagNewTarget: the command touches a cluster, namespace or
	// terraform workspace the agent never ran a command against.
	FlagNewTarget = "new-target"
	// FlagNewClass: the command is of a class the agent never ran.
	FlagNewClass = "new-class"
	// FlagWriteBurst: the command is a change (not a read) and the agent
	// (or the OS user's agents together) already had
	// FlagConfig.Writes.Count-1 changes let through within its window.
	FlagWriteBurst = "write-burst"
	// FlagBreakGlass: an active break-glass let the command through in
	// place of a human's answer (and the break-glass record itself).
	// It is raised after the decision, so no policy flags: entry sees it.
	FlagBreakGlass = "break-glass"
)

// FlagNames are every flag, in the order they are raised.
var FlagNames = []string{FlagDenials, FlagNewTarget, FlagNewClass, FlagWriteBurst}

// Flag is one behavioural flag on a record: its name and what raised it.
type Flag struct {
	Name   string `json:"flag"`
	Detail string `json:"detail,omitempty"`
}

// Threshold is a count within a window; Count 0 turns it off.
type Threshold struct {
	Count  int
	Window time.Duration
}

// FlagConfig says which flags are raised and when.
type FlagConfig struct {
	Denials   Threshold
	Writes    Threshold
	NewTarget bool
	NewClass  bool
}

// DefaultFlagConfig is what the admin config changes: 3 denials within
// 10 minutes (the default lockout is at 5), 20 changes within a minute,
// new targets and new classes on.
func DefaultFlagConfig() FlagConfig {
	return FlagConfig{
		Denials:   Threshold{Count: 3, Window: 10 * time.Minute},
		Writes:    Threshold{Count: 20, Window: time.Minute},
		NewTarget: true,
		NewClass:  true,
	}
}

// maxTargets bounds the targets remembered per agent: past it nothing
// more is learnt, so every further target stays new (flagged), never the
// other way round.
const maxTargets = 10_000

// Tracker computes the flags of a command from a small summary of the
// audit log, kept in a state file beside the lockout state. Each
// [Tracker.Check] reads only the records appended since the last one
// (the summary remembers where it is in the log, as the OTLP cursor
// does), so a command costs a lock, two small reads and a rename, never
// a scan of the log; only the first check (no summary yet) reads the
// whole log once.
type Tracker struct {
	// Log is the audit log's path, State the summary's
	// (flags-state.json, which is also the flock that serialises checks).
	Log, State string
	Config     FlagConfig
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// CorruptStateError is a summary that cannot be parsed. The caller must
// fail closed (the pipeline denies everything but reads).
type CorruptStateError struct {
	Path string
	Err  error
}

func (e *CorruptStateError) Error() string {
	return fmt.Sprintf("flags state %q is corrupt: %v", e.Path, e.Err)
}

// Hint says how to recover: the summary is rebuilt from the audit log.
func (e *CorruptStateError) Hint() string {
	return "a human may remove it: the next command rebuilds it from the audit log"
}

func (e *CorruptStateError) Unwrap() error { return e.Err }

// Check is what the tracker found of one command before it is decided.
type Check struct {
	// Flags are raised before the decision; the policy sees their names.
	Flags []Flag
	// Denials is how many denials (of the agent, or of the OS user's
	// agents together, whichever is more) fall within the window.
	Denials int
	cfg     FlagConfig
}

// Names are the names of the flags raised before the decision.
func (c *Check) Names() []string {
	if c == nil {
		return nil
	}
	var out []string
	for _, f := range c.Flags {
		out = append(out, f.Name)
	}
	return out
}

// ForRecord returns the flags of the decision record: those raised
// before the decision and, when this command is denied and so reaches
// the denials threshold, the denials flag.
func (c *Check) ForRecord(denied bool) []Flag {
	if c == nil {
		return nil
	}
	out := slices.Clone(c.Flags)
	if t := c.cfg.Denials; denied && t.Count > 0 && c.Denials+1 >= t.Count && !slices.ContainsFunc(out, func(f Flag) bool { return f.Name == FlagDenials }) {
		out = append([]Flag{{Name: FlagDenials, Detail: fmt.Sprintf("%d denials within %s", c.Denials+1, t.Window)}}, out...)
	}
	return out
}

// agentSummary is what the tracker remembers of one agent.
type agentSummary struct {
	Targets map[string]bool `json:"targets,omitempty"`
	Classes []string        `json:"classes,omitempty"`
	Denials []time.Time     `json:"denials,omitempty"`
	Writes  []time.Time     `json:"writes,omitempty"`
}

type flagDoc struct {
	Version int                      `json:"version"`
	Cursor  cursor                   `json:"cursor"`
	Agents  map[string]*agentSummary `json:"agents"`
	// User counts denials and writes of every agent of the OS user: the
	// name is the agent's to choose.
	User *agentSummary `json:"user"`
}

func (d *flagDoc) agent(name string) *agentSummary {
	if name == "" {
		name = "anonymous"
	}
	s := d.Agents[name]
	if s == nil {
		s = &agentSummary{}
		d.Agents[name] = s
	}
	return s
}

// The rules of denials that are no attempt: a command the tool itself
// rejects (pipeline.RuleToolRejects) and the lockout's own
// (policy.RuleLockout), as the lockout counts them.
const (
	ruleToolRejects = "agentctl:tool-rejects"
	ruleLockout     = "lockout"
)

// fold adds one record to the summary: decision records only. A denial
// counts towards the denials flag; a command let through teaches its
// class and targets, and counts as a write unless it is a read. An
// approved `agentctl unlock` clears the denials, as it clears the
// lockout's.
func (d *flagDoc) fold(r *Record) {
	if r.Kind != KindDecision {
		return
	}
	if r.Tool == "agentctl" && r.Rule == ruleLockout && r.Approval == "approved" {
		for _, s := range d.Agents {
			s.Denials = nil
		}
		d.User.Denials = nil
		return
	}
	a := d.agent(r.Agent)
	if r.Decision == "deny" {
		if r.Rule != ruleToolRejects && r.Rule != ruleLockout {
			a.Denials = append(a.Denials, r.Time)
			d.User.Denials = append(d.User.Denials, r.Time)
		}
		return
	}
	if r.Class == nil {
		return
	}
	if c := r.Class.String(); !slices.Contains(a.Classes, c) {
		a.Classes = append(a.Classes, c)
	}
	if r.Target != nil {
		for _, k := range TargetKeys(r.Tool, r.Target, r.Resources) {
			if a.Targets == nil {
				a.Targets = map[string]bool{}
			}
			if len(a.Targets) < maxTargets {
				a.Targets[k] = true
			}
		}
	}
	if *r.Class != classify.Read {
		a.Writes = append(a.Writes, r.Time)
		d.User.Writes = append(d.User.Writes, r.Time)
	}
}

// TargetKeys names what a command touches, as the new-target flag and
// `audit report` count them: "cluster C" (the API server, else the
// kubeconfig's cluster or context name), "namespace C/NS" for each
// namespace of its resources (the target namespace when they name
// none), "workspace DIR:WS" for terraform and tofu.
func TargetKeys(tool string, t *classify.Target, res []classify.Resource) []string {
	if tool == "terraform" || tool == "tofu" {
		ws := t.Workspace
		if ws == "" {
			ws = "default"
		}
		return []string{"workspace " + t.Dir + ":" + ws}
	}
	cluster := maskWord(t.Server)
	if cluster == "" {
		cluster = t.Cluster
	}
	if cluster == "" {
		cluster = t.Context
	}
	if cluster == "" {
		return nil
	}
	keys := []string{"cluster " + cluster}
	for _, r := range res {
		if k := "namespace " + cluster + "/" + r.Namespace; r.Namespace != "" && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 1 && t.Namespace != "" {
		keys = append(keys, "namespace "+cluster+"/"+t.Namespace)
	}
	return keys
}

// Check brings the summary up to date with the log and returns the flags
// of the command agent asks for, assessed as a. It does not count the
// command itself: its decision record does, on the next check. A
// summary that does not parse is a *[CorruptStateError].
func (t *Tracker) Check(agent string, a *classify.Assessment) (*Check, error) {
	now := time.Now()
	if t.Now != nil {
		now = t.Now()
	}
	var c *Check
	err := t.locked(func(doc *flagDoc) error {
		if err := t.catchUp(doc); err != nil {
			return err
		}
		c = t.flags(doc, agent, a, now)
		doc.prune(now, t.Config)
		return nil
	})
	return c, err
}

// catchUp folds the records appended since the summary's cursor.
func (t *Tracker) catchUp(doc *flagDoc) error {
	if doc.Cursor.Log != t.Log {
		// Another log (audit.path changed): what was learnt stays, the
		// new log is read from its start.
		doc.Cursor = cursor{Log: t.Log, Hash: Genesis}
	}
	for {
		b, err := readAfter(t.Log, &doc.Cursor, 4096)
		if err != nil {
			return fmt.Errorf("flags: %w", err)
		}
		for _, r := range b.recs {
			doc.fold(r)
		}
		doc.Cursor = b.next
		if len(b.recs) < 4096 {
			return nil
		}
	}
}

func (t *Tracker) flags(doc *flagDoc, agent string, a *classify.Assessment, now time.Time) *Check {
	cfg := t.Config
	s := doc.agent(agent)
	c := &Check{cfg: cfg}
	count := func(ts []time.Time, w time.Duration) int {
		n := 0
		for _, x := range ts {
			if x.After(now.Add(-w)) {
				n++
			}
		}
		return n
	}
	if d := cfg.Denials; d.Count > 0 {
		c.Denials = max(count(s.Denials, d.Window), count(doc.User.Denials, d.Window))
		if c.Denials >= d.Count {
			c.Flags = append(c.Flags, Flag{Name: FlagDenials, Detail: fmt.Sprintf("%d denials within %s", c.Denials, d.Window)})
		}
	}
	if cfg.NewTarget {
		var fresh []string
		for _, k := range TargetKeys(a.Tool, &a.Target, a.Resources) {
			if !s.Targets[k] {
				fresh = append(fresh, k)
			}
		}
		if len(fresh) > 0 {
			c.Flags = append(c.Flags, Flag{Name: FlagNewTarget, Detail: strings.Join(fresh, ", ")})
		}
	}
	if cls := a.Class.String(); cfg.NewClass && !slices.Contains(s.Classes, cls) {
		c.Flags = append(c.Flags, Flag{Name: FlagNewClass, Detail: "class " + cls})
	}
	if w := cfg.Writes; w.Count > 0 && a.Class != classify.Read {
		if n := max(count(s.Writes, w.Window), count(doc.User.Writes, w.Window)) + 1; n >= w.Count {
			c.Flags = append(c.Flags, Flag{Name: FlagWriteBurst, Detail: fmt.Sprintf("%d changes within %s", n, w.Window)})
		}
	}
	return c
}

// prune drops the times no window looks at any more, and all but the
// last Count: no more are needed to reach the threshold, so the summary
// stays small however fast the agent goes.
func (d *flagDoc) prune(now time.Time, cfg FlagConfig) {
	keep := func(ts []time.Time, th Threshold) []time.Time {
		out := ts[:0]
		for _, x := range ts {
			if x.After(now.Add(-th.Window)) {
				out = append(out, x)
			}
		}
		if len(out) > th.Count {
			out = out[len(out)-th.Count:]
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	for _, s := range append([]*agentSummary{d.User}, mapValues(d.Agents)...) {
		s.Denials = keep(s.Denials, cfg.Denials)
		s.Writes = keep(s.Writes, cfg.Writes)
	}
}

func mapValues(m map[string]*agentSummary) []*agentSummary {
	out := make([]*agentSummary, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// locked runs fn on the summary under an exclusive flock and writes it
// back in place. The summary is derived from the log, so it is not
// fsynced: a crash may cost the last update (the next check reads those
// records again from the log) or leave a file that does not parse,
// which fails closed until a human removes it.
func (t *Tracker) locked(fn func(doc *flagDoc) error) error {
	// The summary is its own lock: one file, opened once.
	sf, err := os.OpenFile(t.State, os.O_RDWR, 0)
	fresh := false
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(t.State), 0o700); err != nil {
			return fmt.Errorf("flags state: %w", err)
		}
		sf, err = os.OpenFile(t.State, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		fresh = err == nil
		if errors.Is(err, os.ErrExist) {
			sf, err = os.OpenFile(t.State, os.O_RDWR, 0)
		}
	}
	if err != nil {
		return fmt.Errorf("flags state: %w", err)
	}
	defer sf.Close()
	for {
		err = unix.Flock(int(sf.Fd()), unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("flags state: lock: %w", err)
	}
	defer unix.Flock(int(sf.Fd()), unix.LOCK_UN)

	doc := &flagDoc{Version: 1}
	b, err := io.ReadAll(sf)
	switch {
	case err != nil:
		return fmt.Errorf("flags state: %w", err)
	case fresh && len(b) == 0:
		// Created just now: the log is read from its start.
	default:
		if err := json.Unmarshal(b, doc); err != nil {
			return &CorruptStateError{Path: t.State, Err: err}
		}
		if doc.Version != 1 || doc.Cursor.Offset < 0 || doc.Cursor.Log != "" && len(doc.Cursor.Hash) != 64 {
			return &CorruptStateError{Path: t.State, Err: errors.New("not a version 1 summary with a cursor")}
		}
	}
	if doc.Agents == nil {
		doc.Agents = map[string]*agentSummary{}
	}
	if doc.User == nil {
		doc.User = &agentSummary{}
	}
	if err := fn(doc); err != nil {
		return err
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	// Rewritten in place under the lock, not renamed over: ext4 flushes
	// a file renamed over another (auto_da_alloc) as if it were synced,
	// which cost a command milliseconds.
	out = append(out, '\n')
	if _, err := sf.WriteAt(out, 0); err != nil {
		return fmt.Errorf("flags state: %w", err)
	}
	if err := sf.Truncate(int64(len(out))); err != nil {
		return fmt.Errorf("flags state: %w", err)
	}
	return nil
}
