package tui

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/agentctl/agentctl/pkg/approve"
)

type fakeItem struct {
	s       *approve.Screen
	gone    chan struct{}
	answers []approve.Verdict
}

func newFakeItem(s *approve.Screen) *fakeItem { return &fakeItem{s: s, gone: make(chan struct{})} }

func (f *fakeItem) Screen() *approve.Screen        { return f.s }
func (f *fakeItem) Gone() <-chan struct{}          { return f.gone }
func (f *fakeItem) Answer(v approve.Verdict) error { f.answers = append(f.answers, v); return nil }

// driveInbox sends msgs and runs the answer commands the inbox issues
// (but not the listeners, which block).
func driveInbox(t *testing.T, m InboxModel, msgs ...tea.Msg) InboxModel {
	t.Helper()
	var tm tea.Model = m
	for _, msg := range msgs {
		var cmd tea.Cmd
		wasOpen := tm.(InboxModel).detail != nil
		tm, cmd = tm.Update(msg)
		closed := wasOpen && tm.(InboxModel).detail == nil
		if _, isKey := msg.(tea.KeyMsg); isKey && closed && cmd != nil {
			if a, ok := cmd().(answeredMsg); ok {
				tm, _ = tm.Update(a)
			}
		}
	}
	return tm.(InboxModel)
}

func newTestInbox() InboxModel {
	return NewInboxModel(Options{NoColor: true, Width: 120, Height: 30, Location: time.UTC, Now: func() time.Time { return t0 }}, nil)
}

func TestInboxAnswersEachRequestItsOwnWay(t *testing.T) {
	del, priv := newFakeItem(deleteScreen()), newFakeItem(privilegeScreen())
	m := driveInbox(t, newTestInbox(), Arrived(del), Arrived(priv))
	list := m.View()
	if !strings.Contains(list, "2 pending") || !strings.Contains(list, "kubectl -n web delete cm app-config") ||
		!strings.Contains(list, "[PRIVILEGE]") {
		t.Fatalf("list:\n%s", list)
	}
	// Open the first, approve it.
	m = driveInbox(t, m, press("enter"))
	if !strings.Contains(m.View(), "remove the stale app config") {
		t.Fatalf("detail screen:\n%s", m.View())
	}
	m = driveInbox(t, m, press("a"))
	if len(del.answers) != 1 || !del.answers[0].Approved {
		t.Fatalf("delete answers %+v, want one approval", del.answers)
	}
	if !strings.Contains(m.View(), "1 pending") || !strings.Contains(m.View(), "approved request") {
		t.Errorf("after approving:\n%s", m.View())
	}
	// The privilege request needs the typed name in the inbox too.
	m = driveInbox(t, m, press("enter"), press("a"), press("enter"))
	if len(priv.answers) != 0 {
		t.Fatalf("privilege answered without the typed name: %+v", priv.answers)
	}
	m = driveInbox(t, m, append(typeText("kind-test"), press("enter"))...)
	if len(priv.answers) != 1 || !priv.answers[0].Approved {
		t.Fatalf("privilege answers %+v", priv.answers)
	}
	if len(m.Items()) != 0 || !strings.Contains(m.View(), "0 pending") {
		t.Errorf("after both:\n%s", m.View())
	}
}

func TestInboxWithdrawnRequestClosesItsScreen(t *testing.T) {
	it := newFakeItem(deleteScreen())
	m := driveInbox(t, newTestInbox(), Arrived(it), press("enter"))
	m = driveInbox(t, m, goneMsg{it})
	if len(m.Items()) != 0 || !strings.Contains(m.View(), "withdrawn") {
		t.Errorf("after the requester left:\n%s", m.View())
	}
	// A key meant for the closed screen answers nothing.
	m = driveInbox(t, m, press("a"))
	if len(it.answers) != 0 {
		t.Errorf("answered a withdrawn request: %+v", it.answers)
	}
}

// elsewhereItem is a request a broker also showed on its web page.
type elsewhereItem struct {
	*fakeItem
	where string
}

func (e *elsewhereItem) Elsewhere() string { return e.where }

func TestInboxRequestAnsweredElsewhere(t *testing.T) {
	it := &elsewhereItem{newFakeItem(deleteScreen()), "approved in the web page"}
	m := driveInbox(t, newTestInbox(), Arrived(it), press("enter"))
	m = driveInbox(t, m, goneMsg{it})
	if v := m.View(); len(m.Items()) != 0 || !strings.Contains(v, "was answered elsewhere: approved in the web page") || strings.Contains(v, "withdrawn") {
		t.Errorf("after the web page answered:\n%s", v)
	}
	m = driveInbox(t, m, press("a"))
	if len(it.answers) != 0 {
		t.Errorf("answered a request answered elsewhere: %+v", it.answers)
	}
}

func TestInboxDetailTimesOut(t *testing.T) {
	it := newFakeItem(deleteScreen())
	m := driveInbox(t, newTestInbox(), Arrived(it), press("enter"))
	var tm tea.Model = m
	tm, cmd := tm.Update(tickMsg(t0.Add(6 * time.Minute)))
	if cmd == nil {
		t.Fatal("no command after the deadline")
	}
	// The batch holds the answer command; run what it holds.
	for _, c := range cmd().(tea.BatchMsg) {
		if a, ok := c().(answeredMsg); ok {
			tm, _ = tm.Update(a)
			break
		}
	}
	if len(it.answers) != 1 || it.answers[0].Approved || it.answers[0].Reason != "approval timed out" {
		t.Errorf("answers %+v, want one timed-out denial", it.answers)
	}
}
