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

// minDiff is how many diff lines the screen keeps for the diff before it
// cuts the header.
const minDiff = 8

// diffLines is the diff as shown: a kubectl diff cleaned ([cleanDiff]),
// wrapped to the width, coloured.
func (m Model) diffLines() []string {
	if strings.TrimSpace(m.s.Diff) == "" {
		return []string{m.st.dim.Render("(no diff available)")}
	}
	diff := m.s.Diff
	var note []string
	if m.s.Terraform() {
		var n int
		if diff, n = cleanPlan(diff); n > 0 {
			note = append(note, m.st.dim.Render(fmt.Sprintf("(not shown: %d lines of terraform reading state)", n)))
		}
	} else {
		var hidden []string
		diff, hidden = cleanDiff(diff)
		if len(hidden) > 0 {
			text := ansi.Wrap("(not shown: "+strings.Join(hidden, ", ")+", set by the server)", max(m.width, 10), " ")
			for _, l := range strings.Split(text, "\n") {
				note = append(note, m.st.dim.Render(l))
			}
		}
	}
	diff = strings.TrimLeft(diff, "\n")
	return append(note, wrapDiff(strings.Split(diff, "\n"), m.width, m.st.diffLine)...)
}

// hasDiff says whether the screen has a diff section: a delete that lists
// what it matches shows none when there is no diff.
func (m Model) hasDiff() bool {
	return strings.TrimSpace(m.s.Diff) != "" || m.s.Live == nil
}

// layout sizes the diff viewport to what the header and footer leave.
func (m *Model) layout() {
	lines := m.diffLines()
	m.diffLen = len(lines)
	h := m.height - lineCount(m.footerView()) - 2 // title and diff label
	if !m.hasDiff() {
		h = 0
	}
	if !m.full {
		h -= lineCount(m.fittedHeader())
	}
	m.vp.Width, m.vp.Height = m.width, max(h, 1)
	m.vp.SetContent(strings.Join(lines, "\n"))
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
	target := s.TargetLine()
	if s.EnvKnown() {
		target += "  env " + st.env.Render(s.EnvName())
	}
	row("Target", target)
	risk := st.badge(s.Class) + " rule " + s.Rule
	if s.Message != "" {
		risk += ": " + s.Message
	}
	row("Risk", risk)
	for _, r := range s.Reasons {
		row("", "• "+r)
	}
	switch {
	case len(s.Resources) > 0 && s.Terraform():
		wa, wd := len("ACTION"), len("ADDRESS")
		for _, c := range s.Resources {
			wa, wd = max(wa, len(c.Action)), max(wd, len(c.Name))
		}
		f := fmt.Sprintf("%%-%ds  %%-%ds  %%s", wa, wd)
		row("Changes", st.dim.Render(strings.TrimRight(fmt.Sprintf(f, "ACTION", "ADDRESS", "PROVIDER"), " ")))
		for i, c := range s.Resources {
			if i == maxRows {
				row("", fmt.Sprintf("… and %d more", len(s.Resources)-maxRows))
				break
			}
			row("", strings.TrimRight(fmt.Sprintf(f, c.Action, c.Name, c.Provider), " "))
		}
	case len(s.Resources) > 0:
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
	if l := s.Live; l != nil {
		m.liveRows(row)
	}
	if s.NoOp {
		// The inbox asks for the name anyway (it cannot check the dry
		// run): say "no typed confirmation" only where none is asked.
		line := "the cluster already matches: applying changes nothing"
		if !s.Confirm {
			line += ", so no typed confirmation"
		}
		row("Dry run", line)
	}
	if s.PlanSummary != "" {
		row("Plan", s.PlanSummary)
	}
	return strings.TrimRight(b.String(), "\n")
}

// liveRows shows what a delete matches now.
func (m Model) liveRows(row func(label, value string)) {
	l := m.s.Live
	if l.Error != "" {
		row("Deletes", m.st.err.Render(l.Error))
		return
	}
	n := len(l.Objects)
	what := fmt.Sprintf("%d objects", n)
	if n == 1 {
		what = "1 object"
	}
	line := "matches " + what + " now"
	if l.Selector != "" {
		line += " (" + l.Selector + ")"
	}
	if l.Open {
		line += "; it deletes what matches when it runs"
	}
	row("Deletes", line)
	wk, wo := 0, 0
	for _, o := range l.Objects {
		wk, wo = max(wk, len(o.Kind)), max(wo, len(o.Namespace)+1+len(o.Name))
	}
	f := fmt.Sprintf("%%-%ds  %%-%ds  %%s", wk, wo)
	for i, o := range l.Objects {
		if i == maxRows {
			row("", fmt.Sprintf("… and %d more", n-maxRows))
			break
		}
		name := o.Name
		if o.Namespace != "" {
			name = o.Namespace + "/" + o.Name
		}
		row("", strings.TrimRight(fmt.Sprintf(f, o.Kind, name, o.Summary), " "))
	}
}

// fittedHeader is the header cut to leave room for the title, the diff
// (up to [minDiff] lines of it) and the footer on a small terminal.
func (m Model) fittedHeader() string {
	room := m.height - lineCount(m.footerView()) - 1
	if m.hasDiff() {
		room -= 1 + min(minDiff, m.height/3, max(m.diffLen, 1))
	}
	lines := strings.Split(m.headerView(), "\n")
	if len(lines) <= room {
		return strings.Join(lines, "\n")
	}
	if room < 1 {
		room = 1
	}
	more := len(lines) - room + 1
	lines = lines[:room]
	lines[room-1] = fmt.Sprintf("… %d more lines: enlarge the terminal to see them", more)
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
	if n := m.diffLen; n > m.vp.Height {
		first := m.vp.YOffset + 1
		last := min(m.vp.YOffset+m.vp.Height, n)
		label = fmt.Sprintf("Diff  lines %d-%d of %d (%d%%)  ↑/↓ scroll, f full screen", first, last, n, last*100/n)
	}
	if m.hasDiff() {
		parts = append(parts, m.st.title.Render(label), m.vp.View())
	}
	parts = append(parts, m.footerView())
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
