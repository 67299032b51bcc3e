package tui

import (
	"io"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/agentctl/agentctl/pkg/approve"
)

// Options configure the approval screen.
type Options struct {
	// NoColor draws without colour (NO_COLOR).
	NoColor bool
	// Term is $TERM; "dumb" selects the line-based prompt.
	Term string
	// Now returns the time; nil means time.Now.
	Now func() time.Time
	// Width and Height are the initial size until the terminal reports
	// its own (0: 80×24).
	Width, Height int
	// Out is where colours are detected for; nil means no colour.
	Out io.Writer
	// Location is the time zone deadlines are shown in (nil: local).
	Location *time.Location
}

type mode int

const (
	modeMain mode = iota
	modeConfirm
	modeReason
	modeDone
)

// tickMsg is the clock: it lets the screen time out.
type tickMsg time.Time

func tick() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// Model is the approval screen of one request.
type Model struct {
	s     *approve.Screen
	keys  KeyMap
	st    styles
	help  help.Model
	vp    viewport.Model
	input textinput.Model

	mode          mode
	full          bool
	width, height int
	now           time.Time
	loc           *time.Location
	mismatch      bool
	diffLen       int
	verdict       approve.Verdict
	quitOnDone    bool
}

// NewModel returns the approval screen for s.
func NewModel(s *approve.Screen, o Options) Model {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	m := Model{s: s, keys: DefaultKeyMap(), st: newStyles(out, o.NoColor), help: help.New(),
		input: textinput.New(), now: now(), width: o.Width, height: o.Height}
	if m.width <= 0 {
		m.width = 80
	}
	if m.height <= 0 {
		m.height = 24
	}
	m.loc = o.Location
	if m.loc == nil {
		m.loc = time.Local
	}
	m.help.Styles.ShortKey = m.st.title
	m.help.Styles.ShortDesc = m.st.dim
	m.help.Styles.ShortSeparator = m.st.dim
	m.input.CharLimit = 256
	m.vp = viewport.New(m.width, 1)
	m.layout()
	return m
}

// Done says whether the human has decided (or the screen timed out).
func (m Model) Done() bool { return m.mode == modeDone }

// Verdict is the decision; it denies until Done.
func (m Model) Verdict() approve.Verdict { return m.verdict }

// Screen is the request shown.
func (m Model) Screen() *approve.Screen { return m.s }

// Init implements tea.Model.
func (m Model) Init() tea.Cmd { return tick() }

// Update implements tea.Model. It does no I/O.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if m.mode == modeDone {
		return m, nil
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return m, nil
	case tickMsg:
		m.now = time.Time(msg)
		if !m.s.Expires.IsZero() && !m.now.Before(m.s.Expires) {
			return m.finish(false, "approval timed out")
		}
		return m, tick()
	case tea.KeyMsg:
		switch m.mode {
		case modeConfirm, modeReason:
			return m.updateInput(msg)
		}
		return m.updateMain(msg)
	}
	return m, nil
}

func (m Model) updateMain(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	k := m.keys
	switch {
	case key.Matches(msg, k.Approve):
		if !m.s.Confirm {
			return m.finish(true, "")
		}
		m.mode, m.mismatch = modeConfirm, false
		m.input.Reset()
		m.input.Placeholder = "" // a placeholder would look typed without colour
		m.input.Prompt = "type " + m.s.ConfirmWord + " to approve: "
		m.layout()
		return m, m.input.Focus()
	case key.Matches(msg, k.Deny):
		return m.finish(false, "")
	case key.Matches(msg, k.Reason):
		m.mode = modeReason
		m.input.Reset()
		m.input.Placeholder = ""
		m.input.Prompt = "reason for denying: "
		m.layout()
		return m, m.input.Focus()
	case key.Matches(msg, k.ToggleDiff):
		m.full = !m.full
		m.layout()
		return m, nil
	case key.Matches(msg, k.Quit):
		return m.finish(false, "")
	case key.Matches(msg, k.Up):
		m.vp.LineUp(1)
	case key.Matches(msg, k.Down):
		m.vp.LineDown(1)
	case key.Matches(msg, k.PageUp):
		m.vp.HalfViewUp()
	case key.Matches(msg, k.PageDown):
		m.vp.HalfViewDown()
	}
	return m, nil
}

func (m Model) updateInput(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	switch {
	case key.Matches(msg, m.keys.Interrupt):
		return m.finish(false, "")
	case key.Matches(msg, m.keys.Back):
		m.mode = modeMain
		m.input.Blur()
		m.layout()
		return m, nil
	case key.Matches(msg, m.keys.Submit):
		v := strings.TrimSpace(m.input.Value())
		if m.mode == modeReason {
			return m.finish(false, v)
		}
		if v == m.s.ConfirmWord {
			return m.finish(true, "")
		}
		m.mismatch = true
		m.input.Reset()
		return m, nil
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	return m, cmd
}

func (m Model) finish(approved bool, reason string) (tea.Model, tea.Cmd) {
	m.mode = modeDone
	m.verdict = approve.Verdict{Approved: approved, Reason: reason}
	m.input.Blur()
	if m.quitOnDone {
		return m, tea.Quit
	}
	return m, nil
}
