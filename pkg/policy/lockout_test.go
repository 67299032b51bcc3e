package policy_test

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/policy"
)

const limitsPolicy = `
limits:
  lockout: {denials: 3, window: 10m}
  mutations: {max: 2, window: 1h}
`

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration)     { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newClock() *clock                   { return &clock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)} }
func denied(rule string) policy.Decision { return policy.Decision{Action: policy.Deny, Rule: rule} }

// TestLockoutCountsEveryName plays an agent that gives a new --agent name
// to each command, so that no name reaches the limit: the denials of
// every name of the OS user count together, and so do the changes that
// ran towards the rate limit.
func TestLockoutCountsEveryName(t *testing.T) {
	dir, clk := t.TempDir(), newClock()
	e := engine(t, policy.Options{StateDir: dir, Now: clk.now}, layer(t, policy.LayerUser, "u.yaml", limitsPolicy))
	in := func(name string, class classify.Class) *policy.Input {
		return &policy.Input{Assessment: kube(class, "patch", "Deployment", "web"), Agent: name}
	}
	for _, name := range []string{"bot-1", "bot-2", "bot-3"} {
		e.Observe(in(name, classify.Write), denied("u.yaml:9"), false)
	}
	if d := decide(t, e, in("bot-4", classify.Write)); d.Rule != policy.RuleLockout {
		t.Errorf("3 denials under 3 names, then a 4th name: %s by %s, want lockout", d.Action, d.Rule)
	}
	if was, err := policy.OpenState(dir).Unlock("bot-4"); err != nil || !was {
		t.Fatalf("unlock: was=%v err=%v", was, err)
	}
	if d := decide(t, e, in("bot-4", classify.Write)); d.Rule == policy.RuleLockout {
		t.Fatalf("still locked after unlock: %s", d.Message)
	}
	for _, name := range []string{"w-1", "w-2"} {
		e.Observe(in(name, classify.Write), policy.Decision{Action: policy.Allow, Rule: "u.yaml:9"}, true)
	}
	if d := decide(t, e, in("w-3", classify.Write)); d.Rule != policy.RuleRateLimit {
		t.Errorf("2 changes under 2 names, then a 3rd: %s by %s, want the rate limit", d.Action, d.Rule)
	}
}

func TestLockoutAfterDenialsThenUnlock(t *testing.T) {
	dir, clk := t.TempDir(), newClock()
	e := engine(t, policy.Options{StateDir: dir, Now: clk.now}, layer(t, policy.LayerUser, "u.yaml", limitsPolicy))
	write := &policy.Input{Assessment: kube(classify.Write, "patch", "Deployment", "web"), Agent: "bot"}
	read := &policy.Input{Assessment: kube(classify.Read, "get", "Pod", "web"), Agent: "bot"}

	for i := 0; i < 2; i++ {
		if err := e.Observe(write, denied("u.yaml:9"), false); err != nil {
			t.Fatal(err)
		}
	}
	if d := decide(t, e, write); d.Rule == policy.RuleLockout {
		t.Fatalf("locked after 2 of 3 denials: %s", d.Message)
	}
	// A denial outside the window does not count.
	clk.add(11 * time.Minute)
	e.Observe(write, denied("u.yaml:9"), false)
	if d := decide(t, e, write); d.Rule == policy.RuleLockout {
		t.Fatal("denials older than the window counted")
	}
	e.Observe(write, denied("u.yaml:9"), false)
	e.Observe(write, denied("u.yaml:9"), false)

	d := decide(t, e, write)
	if d.Action != policy.Deny || d.Rule != policy.RuleLockout || !strings.Contains(d.Message, "agentctl unlock --agent bot") {
		t.Fatalf("after 3 denials in 10m: %s by %s (%s), want deny by lockout naming agentctl unlock", d.Action, d.Rule, d.Message)
	}
	if d := decide(t, e, read); d.Action != policy.Sandbox {
		t.Errorf("a locked agent's read: %s by %s, want sandbox", d.Action, d.Rule)
	}
	// The name is the agent's to choose: another one is no way out.
	other := &policy.Input{Assessment: write.Assessment, Agent: "other"}
	if d := decide(t, e, other); d.Rule != policy.RuleLockout || !strings.Contains(d.Message, "agents of this OS user") {
		t.Errorf("the same user's agent under another name: %s by %s (%s), want lockout", d.Action, d.Rule, d.Message)
	}
	// A second engine (another process) sees the lock.
	e2 := engine(t, policy.Options{StateDir: dir, Now: clk.now}, layer(t, policy.LayerUser, "u.yaml", limitsPolicy))
	if d := decide(t, e2, write); d.Rule != policy.RuleLockout {
		t.Errorf("another engine on the same state: %s by %s, want lockout", d.Action, d.Rule)
	}
	was, err := policy.OpenState(dir).Unlock("bot")
	if err != nil || !was {
		t.Fatalf("unlock: was=%v err=%v", was, err)
	}
	if d := decide(t, e, write); d.Rule == policy.RuleLockout || d.Action != policy.Approve {
		t.Errorf("after unlock: %s by %s, want approve by the default", d.Action, d.Rule)
	}
}

func TestMutationRateLimit(t *testing.T) {
	dir, clk := t.TempDir(), newClock()
	e := engine(t, policy.Options{StateDir: dir, Now: clk.now}, layer(t, policy.LayerUser, "u.yaml", limitsPolicy))
	write := &policy.Input{Assessment: kube(classify.Write, "patch", "Deployment", "web"), Agent: "bot"}
	approved := policy.Decision{Action: policy.Approve, Rule: "x"}
	e.Observe(write, approved, true)
	e.Observe(write, approved, false) // approved but did not run: not counted
	if d := decide(t, e, write); d.Rule == policy.RuleRateLimit {
		t.Fatal("limited after 1 of 2")
	}
	e.Observe(write, approved, true)
	if d := decide(t, e, write); d.Action != policy.Deny || d.Rule != policy.RuleRateLimit {
		t.Fatalf("after 2 changes in 1h: %s by %s, want deny by ratelimit", d.Action, d.Rule)
	}
	clk.add(61 * time.Minute)
	if d := decide(t, e, write); d.Rule == policy.RuleRateLimit {
		t.Error("still limited after the window passed")
	}
}

// TestLockoutConcurrentProcesses has several processes (this test binary
// re-run) and goroutines, each with its own engine on one state dir,
// record denials at once: none is lost, and the agent ends locked.
func TestLockoutConcurrentProcesses(t *testing.T) {
	if dir := os.Getenv("AGENTCTL_TEST_LOCKOUT_DIR"); dir != "" {
		n, _ := strconv.Atoi(os.Getenv("AGENTCTL_TEST_LOCKOUT_N"))
		observeDenials(t, dir, n)
		return
	}
	dir := t.TempDir()
	const procs, goroutines, each = 3, 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, procs+goroutines)
	for i := 0; i < procs; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^TestLockoutConcurrentProcesses$")
			cmd.Env = append(os.Environ(), "AGENTCTL_TEST_LOCKOUT_DIR="+dir, "AGENTCTL_TEST_LOCKOUT_N="+strconv.Itoa(each))
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("child: %v\n%s", err, out)
			}
		}()
	}
	for i := 0; i < goroutines; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); observeDenials(t, dir, each) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	a, err := policy.OpenState(dir).Agent("bot")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(a.Denials), (procs+goroutines)*each; got != want {
		t.Errorf("%d denials recorded, want %d: concurrent writers lost updates", got, want)
	}
	if a.Locked == nil || a.Locked.Denials != 25 {
		t.Errorf("lock %+v, want locked at the 25th denial", a.Locked)
	}
}

func observeDenials(t *testing.T, dir string, n int) {
	e := engine(t, policy.Options{StateDir: dir}, layer(t, policy.LayerUser, "u.yaml", "limits:\n  lockout: {denials: 25, window: 1h}\n"))
	in := &policy.Input{Assessment: kube(classify.Destructive, "delete", "Pod", "web"), Agent: "bot"}
	for i := 0; i < n; i++ {
		if err := e.Observe(in, denied("u.yaml:2"), false); err != nil {
			t.Error(err)
		}
	}
}
