package tui

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/classify"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func deleteScreen() *approve.Screen {
	return &approve.Screen{
		Hash: strings.Repeat("ab", 32), ID: "req1", Expires: t0.Add(5 * time.Minute),
		Agent: "claude-code", Intent: "remove the stale app config",
		Tool: "kubectl", Command: []string{"kubectl", "-n", "web", "delete", "cm", "app-config"},
		Target: classify.Target{Context: "kind-test", Cluster: "test", Namespace: "web", Env: "prod"},
		Class:  classify.Destructive, Rule: "interim:approve", Message: "destructive commands need a human approval",
		Reasons:   []string{"destructive: delete configmaps"},
		Resources: []approve.Change{{Action: "delete", Kind: "ConfigMap", Namespace: "web", Name: "app-config"}},
		Diff:      "--- a/v1.ConfigMap.web.app-config\n+++ b/v1.ConfigMap.web.app-config\n@@ -1,5 +0,0 @@\n-apiVersion: v1\n-data:\n-  color: blue\n-kind: ConfigMap\n-metadata:\n",
	}
}

func privilegeScreen() *approve.Screen {
	s := deleteScreen()
	s.Command = []string{"kubectl", "create", "clusterrolebinding", "x", "--clusterrole=cluster-admin", "--user=agent"}
	s.Class, s.Confirm, s.ConfirmWord = classify.Privilege, true, "kind-test"
	s.Resources = []approve.Change{{Action: "create", Kind: "ClusterRoleBinding", Name: "x"}}
	s.Message = "privilege commands need a human approval and a typed confirmation"
	s.Reasons = []string{"privilege: binds ClusterRole cluster-admin"}
	s.Diff = "+apiVersion: rbac.authorization.k8s.io/v1\n+kind: ClusterRoleBinding\n+roleRef:\n+  name: cluster-admin\n"
	return s
}

func newTestModel(s *approve.Screen) Model {
	return NewModel(s, Options{NoColor: true, Now: func() time.Time { return t0 }, Width: 100, Height: 30, Location: time.UTC})
}

func press(s string) tea.KeyMsg {
	switch s {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

// drive sends msgs to m in order and returns the final model.
func drive(m Model, msgs ...tea.Msg) Model {
	var tm tea.Model = m
	for _, msg := range msgs {
		tm, _ = tm.Update(msg)
	}
	return tm.(Model)
}

func typeText(s string) []tea.Msg {
	var out []tea.Msg
	for _, r := range s {
		out = append(out, press(string(r)))
	}
	return out
}

func TestApprovalKeys(t *testing.T) {
	for _, tc := range []struct {
		name     string
		screen   *approve.Screen
		msgs     []tea.Msg
		done     bool
		approved bool
		reason   string
	}{
		{"a approves a destructive change", deleteScreen(), []tea.Msg{press("a")}, true, true, ""},
		{"y approves too", deleteScreen(), []tea.Msg{press("y")}, true, true, ""},
		{"d denies", deleteScreen(), []tea.Msg{press("d")}, true, false, ""},
		{"enter is deny, the default", deleteScreen(), []tea.Msg{press("enter")}, true, false, ""},
		{"q quits, which denies", deleteScreen(), []tea.Msg{press("q")}, true, false, ""},
		{"ctrl+c denies", deleteScreen(), []tea.Msg{press("ctrl+c")}, true, false, ""},
		{"r then a typed reason denies with it", deleteScreen(),
			append(append([]tea.Msg{press("r")}, typeText("wrong namespace")...), press("enter")), true, false, "wrong namespace"},
		{"scrolling and toggling the diff decide nothing", deleteScreen(), []tea.Msg{press("down"), press("j"), press("f"), press("f")}, false, false, ""},
		{"privilege: a alone does not approve", privilegeScreen(), []tea.Msg{press("a")}, false, false, ""},
		{"privilege: typed wrong name does not approve", privilegeScreen(),
			append(append([]tea.Msg{press("a")}, typeText("kind-tset")...), press("enter")), false, false, ""},
		{"privilege: wrong then right name approves", privilegeScreen(),
			append(append(append(append([]tea.Msg{press("a")}, typeText("kind-tset")...), press("enter")), typeText("kind-test")...), press("enter")), true, true, ""},
		{"privilege: esc goes back, then d denies", privilegeScreen(), []tea.Msg{press("a"), press("esc"), press("d")}, true, false, ""},
		{"privilege: a typed 'a' is text, not a second approve", privilegeScreen(), []tea.Msg{press("a"), press("a"), press("enter")}, false, false, ""},
		{"keys after the decision change nothing", deleteScreen(), []tea.Msg{press("d"), press("a")}, true, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := drive(newTestModel(tc.screen), tc.msgs...)
			if m.Done() != tc.done {
				t.Fatalf("done = %v, want %v\n%s", m.Done(), tc.done, m.View())
			}
			v := m.Verdict()
			if v.Approved != tc.approved || v.Reason != tc.reason {
				t.Errorf("verdict %+v, want approved=%v reason=%q", v, tc.approved, tc.reason)
			}
		})
	}
}

func TestTypedConfirmationShowsMismatch(t *testing.T) {
	m := drive(newTestModel(privilegeScreen()), press("a"))
	if !strings.Contains(m.View(), `type the target's name "kind-test"`) {
		t.Fatalf("confirmation prompt missing:\n%s", m.View())
	}
	m = drive(m, append(typeText("prod"), press("enter"))...)
	if !strings.Contains(m.View(), `does not match: type "kind-test" exactly`) {
		t.Errorf("no mismatch message after a wrong name:\n%s", m.View())
	}
}

func TestTimeoutDenies(t *testing.T) {
	m := newTestModel(deleteScreen())
	m = drive(m, tickMsg(t0.Add(4*time.Minute+59*time.Second)))
	if m.Done() {
		t.Fatal("denied before the deadline")
	}
	m = drive(m, tickMsg(t0.Add(5*time.Minute)))
	if !m.Done() || m.Verdict().Approved || m.Verdict().Reason != "approval timed out" {
		t.Fatalf("at the deadline: done=%v verdict=%+v", m.Done(), m.Verdict())
	}
	if !strings.Contains(m.View(), "denied: approval timed out") {
		t.Errorf("view after timeout: %q", m.View())
	}
	// A key pressed after the timeout cannot approve.
	if m = drive(m, press("a")); m.Verdict().Approved {
		t.Error("a key after the timeout approved")
	}
}

func TestResizeFitsTheScreen(t *testing.T) {
	s := deleteScreen()
	s.Diff = strings.Repeat("+ a long added line of a manifest that does not fit in a narrow terminal at all\n", 80)
	for _, size := range []tea.WindowSizeMsg{{Width: 40, Height: 20}, {Width: 120, Height: 50}, {Width: 60, Height: 12}} {
		m := drive(newTestModel(s), size)
		view := m.View()
		lines := strings.Split(view, "\n")
		if len(lines) > size.Height {
			t.Errorf("%dx%d: view has %d lines\n%s", size.Width, size.Height, len(lines), view)
		}
		for _, l := range lines {
			if w := len([]rune(l)); w > size.Width {
				t.Errorf("%dx%d: line of %d cells: %q", size.Width, size.Height, w, l)
			}
		}
		if !strings.Contains(view, "a approve") {
			t.Errorf("%dx%d: help line missing\n%s", size.Width, size.Height, view)
		}
	}
}

func TestViewShowsWhatIsDecided(t *testing.T) {
	view := newTestModel(deleteScreen()).View()
	for _, want := range []string{
		"claude-code", "remove the stale app config", "kubectl -n web delete cm app-config",
		"context=kind-test", "namespace=web", "env prod", "[DESTRUCTIVE]", "interim:approve",
		"destructive: delete configmaps", "delete  ConfigMap", "app-config", "-  color: blue",
		"d deny", "q quit (deny)",
	} {
		if !strings.Contains(view, want) {
			t.Errorf("view lacks %q\n%s", want, view)
		}
	}
	if strings.Contains(view, "\x1b[") {
		t.Errorf("NoColor view has escape sequences: %q", view)
	}
}

func TestLongCommandIsWrappedNotCut(t *testing.T) {
	s := deleteScreen()
	long := "/tmp/" + strings.Repeat("very-long-directory-name/", 6) + "kubeconfig"
	s.Command = []string{"kubectl", "--kubeconfig", long, "-n", "web", "delete", "cm", "app-config", "--grace-period=0"}
	view := drive(newTestModel(s), tea.WindowSizeMsg{Width: 60, Height: 40}).View()
	var joined strings.Builder
	for _, l := range strings.Split(view, "\n") {
		joined.WriteString(strings.TrimSpace(l))
	}
	for _, want := range []string{long, "delete cm app-config --grace-period=0"} {
		if !strings.Contains(strings.ReplaceAll(joined.String(), " ", ""), strings.ReplaceAll(want, " ", "")) {
			t.Errorf("the command is not shown whole: %q missing from\n%s", want, view)
		}
	}
}
