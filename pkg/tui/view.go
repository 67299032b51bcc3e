package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// maxRows is how many resources the table shows before summarising.
const maxRows = 6

// labelWidth is the width of the header's label column.
const labelWidth = 10

func (m Model) diffContent() string {
	if strings.TrimSpace(m.s.Diff) == "" {
		return m.st.dim.Render("(no diff available)")
	}
	lines := strings.Split(strings.TrimRight(m.s.Diff, "\n"), "\n")
	for i, l := range lines {
		lines[i] = m.st.diffLine(l)
	}
	return strings.Join(lines, "\n")
}

// layout sizes the diff viewport to what the header and footer leave.
func (m *Model) layout() {
	h := m.height - lineCount(m.footerView()) - 2 // title and diff label
	if !m.full {
		h -= lineCount(m.fittedHeader())
	}
	m.vp.Width, m.vp.Height = m.width, max(h, 1)
}

func lineCount(s string) int { return strings.Count(s, "\n") + 1 }

func (m Model) headerView() string {
	s, st := m.s, m.st
	var b strings.Builder
	// Rows wrap rather than cut: what is approved must be seen whole.
	row := func(label, value string) {
		lines := strings.Split(ansi.Wrap(value, max(m.width-labelWidth, 10), " /,="), "\n")
		fmt.Fprintf(&b, "%s%s\n", st.label.Render(label), lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(&b, "%s%s\n", strings.Repeat(" ", labelWidth), l)
		}
	}
	agent := s.Agent
	if agent == "" {
		agent = "(unnamed agent)"
	}
	if s.PID != 0 {
		agent += fmt.Sprintf(" (pid %d", s.PID)
		if s.User != "" {
			agent += ", user " + s.User
		}
		agent += ")"
	}
	row("Agent", agent)
	intent := s.Intent
	if intent == "" {
		intent = st.dim.Render("(no intent given)")
	}
	row("Intent", intent)
	row("Command", s.CommandLine())
	row("Target", s.TargetLine()+"  env "+st.env.Render(s.EnvName()))
	risk := st.badge(s.Class) + " rule " + s.Rule
	if s.Message != "" {
		risk += ": " + s.Message
	}
	row("Risk", risk)
	for _, r := range s.Reasons {
		row("", "• "+r)
	}
	if len(s.Resources) > 0 {
		wa, wk, wn := len("ACTION"), len("KIND"), len("NAMESPACE")
		for _, c := range s.Resources {
			wa, wk, wn = max(wa, len(c.Action)), max(wk, len(c.Kind)), max(wn, len(c.Namespace))
		}
		f := fmt.Sprintf("%%-%ds  %%-%ds  %%-%ds  %%s", wa, wk, wn)
		row("Changes", st.dim.Render(fmt.Sprintf(f, "ACTION", "KIND", "NAMESPACE", "NAME")))
		for i, c := range s.Resources {
			if i == maxRows {
				row("", fmt.Sprintf("… and %d more", len(s.Resources)-maxRows))
				break
			}
			ns := c.Namespace
			if ns == "" {
				ns = "-"
			}
			row("", fmt.Sprintf(f, c.Action, c.Kind, ns, c.Name))
		}
	}
	if s.PlanSummary != "" {
		row("Plan", s.PlanSummary)
	}
	return strings.TrimRight(b.String(), "\n")
}

// fittedHeader is the header cut to leave room for the title, one diff
// line and the footer on a small terminal.
func (m Model) fittedHeader() string {
	room := m.height - lineCount(m.footerView()) - 3
	lines := strings.Split(m.headerView(), "\n")
	if len(lines) <= room {
		return strings.Join(lines, "\n")
	}
	if room < 1 {
		room = 1
	}
	lines = lines[:room]
	lines[room-1] = "… (enlarge the terminal to see more)"
	return strings.Join(lines, "\n")
}

func (m Model) footerView() string {
	var lines []string
	if !m.s.Expires.IsZero() {
		lines = append(lines, m.st.dim.Render(fmt.Sprintf("Denied at %s if unanswered.", m.s.Expires.In(m.loc).Format("15:04:05"))))
	}
	switch m.mode {
	case modeConfirm:
		if m.mismatch {
			lines = append(lines, m.st.err.Render(fmt.Sprintf("does not match: type %q exactly to approve", m.s.ConfirmWord)))
		} else {
			lines = append(lines, fmt.Sprintf("This change needs confirmation: type the target's name %q.", m.s.ConfirmWord))
		}
		lines = append(lines, m.input.View(), m.help.View(inputHelp{m.keys}))
	case modeReason:
		lines = append(lines, m.input.View(), m.help.View(inputHelp{m.keys}))
	default:
		lines = append(lines, m.help.View(m.keys))
	}
	return strings.Join(lines, "\n")
}

// View implements tea.Model.
func (m Model) View() string {
	if m.mode == modeDone {
		return m.verdictLine() + "\n"
	}
	var parts []string
	title := m.st.title.Render("agentctl: approval needed") + "  " + m.st.badge(m.s.Class)
	if m.full {
		parts = append(parts, title+"  "+m.s.CommandLine())
	} else {
		parts = append(parts, title, m.fittedHeader())
	}
	label := "Diff"
	if n := lineCount(m.s.Diff); m.s.Diff != "" && n > m.vp.Height {
		label = fmt.Sprintf("Diff (%d lines; ↑/↓ scroll, f full screen)", n)
	}
	parts = append(parts, m.st.title.Render(label), m.vp.View(), m.footerView())
	return fit(strings.Join(parts, "\n"), m.width)
}

func (m Model) verdictLine() string {
	if m.verdict.Approved {
		return m.st.ok.Render("approved")
	}
	if m.verdict.Reason != "" {
		return m.st.err.Render("denied: " + m.verdict.Reason)
	}
	return m.st.err.Render("denied")
}

// fit truncates every line to width cells.
func fit(s string, width int) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, width, "…")
	}
	return strings.Join(lines, "\n")
}
