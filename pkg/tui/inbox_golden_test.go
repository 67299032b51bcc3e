package tui

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
)

// lockedBuffer is a bytes.Buffer commands may write from their goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]byte(nil), l.b.Bytes()...)
}

// TestInboxRingsAndTitles runs the inbox in a bubbletea program: a new
// request rings the bell and sets the window title to how many wait.
func TestInboxRingsAndTitles(t *testing.T) {
	bell := &lockedBuffer{}
	m := NewInboxModel(Options{NoColor: true, Location: time.UTC, Out: bell, Now: func() time.Time { return t0 }}, nil)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(100, 30))
	tm.Send(Arrived(newFakeItem(deleteSelectorScreen())))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		return bytes.Contains(b, []byte("\x1b]2;agentctl inbox: 1 waiting\a"))
	}, teatest.WithDuration(10*time.Second))
	teatest.WaitFor(t, readerOf(bell), func(b []byte) bool { return bytes.Equal(b, []byte("\a")) }, teatest.WithDuration(10*time.Second))
	tm.Send(press("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
}

// readerOf reads what b holds each time it is read.
type bufReader struct {
	b    *lockedBuffer
	done int
}

func readerOf(b *lockedBuffer) *bufReader { return &bufReader{b: b} }

func (r *bufReader) Read(p []byte) (int, error) {
	all := r.b.Bytes()
	n := copy(p, all[r.done:])
	r.done += n
	if n == 0 {
		return 0, io.EOF // teatest.WaitFor reads to the end each try
	}
	return n, nil
}

// TestGoldenInbox: the list with the request id, intent and aligned
// columns, and its history naming the command, at 80×24 and 200×50.
func TestGoldenInbox(t *testing.T) {
	for _, sz := range sizes {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			del, tf, priv := newFakeItem(deleteSelectorScreen()), newFakeItem(terraformApplyScreen()), newFakeItem(privilegeBindingScreen(false))
			tf.s.ID, priv.s.ID = "c41d0e9a2b7f6e5d4c3b2a19", "9e8d7c6b5a4f3e2d1c0b9a88"
			tf.s.Agent, tf.s.Intent = "ci-bot", "roll the fleet to debian 13"
			m := NewInboxModel(Options{NoColor: true, Width: sz[0], Height: sz[1], Location: time.UTC, Now: func() time.Time { return t0.Add(90 * time.Second) }}, nil)
			// The privilege request is denied with a reason; two wait.
			m = driveInbox(t, m, Arrived(priv), Arrived(del), Arrived(tf), press("enter"), press("r"))
			m = driveInbox(t, m, append(typeText("not via apply"), press("enter"))...)
			view := m.View()
			checkFits(t, view, sz[0], sz[1])
			golden.RequireEqual(t, []byte(view))
		})
	}
}
