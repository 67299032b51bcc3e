package tui

import (
	"bytes"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/agentctl/agentctl/pkg/approve"
)

// runFlow runs the screen in a real bubbletea program (teatest, 100×30),
// waits for the help line, sends keys, and returns the final model.
func runFlow(t *testing.T, s *approve.Screen, keys ...tea.Msg) Model {
	t.Helper()
	m := newTestModel(s)
	m.quitOnDone = true
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(100, 30))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		return bytes.Contains(b, []byte("q quit (deny)"))
	}, teatest.WithDuration(10*time.Second))
	for _, k := range keys {
		tm.Send(k)
	}
	return tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(Model)
}

func TestFlowApproveDelete(t *testing.T) {
	fm := runFlow(t, deleteScreen(), press("a"))
	if v := fm.Verdict(); !v.Approved {
		t.Fatalf("verdict %+v, want approved", v)
	}
	golden.RequireEqual(t, []byte(fm.View()))
}

func TestFlowDenyWithReason(t *testing.T) {
	keys := append(append([]tea.Msg{press("r")}, typeText("not in business hours")...), press("enter"))
	fm := runFlow(t, deleteScreen(), keys...)
	if v := fm.Verdict(); v.Approved || v.Reason != "not in business hours" {
		t.Fatalf("verdict %+v, want denied with the typed reason", v)
	}
	golden.RequireEqual(t, []byte(fm.View()))
}

func TestFlowPrivilegeWrongThenRightName(t *testing.T) {
	keys := []tea.Msg{press("a")}
	keys = append(append(keys, typeText("prod")...), press("enter"))
	keys = append(append(keys, typeText("kind-test")...), press("enter"))
	fm := runFlow(t, privilegeScreen(), keys...)
	if v := fm.Verdict(); !v.Approved {
		t.Fatalf("verdict %+v, want approved after the right name", v)
	}
}

// Golden screens: what a human sees, without colour, at 100×30.
func TestGoldenScreens(t *testing.T) {
	for _, tc := range []struct {
		name   string
		screen *approve.Screen
		msgs   []tea.Msg
	}{
		{"delete", deleteScreen(), nil},
		{"privilege_mismatch", privilegeScreen(), append(append([]tea.Msg{press("a")}, typeText("prod")...), press("enter"))},
		{"full_diff", deleteScreen(), []tea.Msg{press("f")}},
		{"narrow", deleteScreen(), []tea.Msg{tea.WindowSizeMsg{Width: 50, Height: 16}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			golden.RequireEqual(t, []byte(drive(newTestModel(tc.screen), tc.msgs...).View()))
		})
	}
}
