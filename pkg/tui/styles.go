package tui

import (
	"io"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/agentctl/agentctl/pkg/classify"
)

// styles are the screen's lipgloss styles, bound to one renderer.
type styles struct {
	noColor bool
	title   lipgloss.Style
	label   lipgloss.Style
	env     lipgloss.Style
	dim     lipgloss.Style
	add     lipgloss.Style
	del     lipgloss.Style
	hunk    lipgloss.Style
	err     lipgloss.Style
	ok      lipgloss.Style
	badge   func(classify.Class) string
}

func newStyles(out io.Writer, noColor bool) styles {
	r := lipgloss.NewRenderer(out)
	if noColor {
		r.SetColorProfile(termenv.Ascii)
	}
	noColor = noColor || r.ColorProfile() == termenv.Ascii
	s := styles{
		noColor: noColor,
		title:   r.NewStyle().Bold(true),
		label:   r.NewStyle().Bold(true).Width(labelWidth),
		env:     r.NewStyle().Bold(true).Foreground(lipgloss.Color("11")),
		dim:     r.NewStyle().Foreground(lipgloss.Color("8")),
		add:     r.NewStyle().Foreground(lipgloss.Color("2")),
		del:     r.NewStyle().Foreground(lipgloss.Color("1")),
		hunk:    r.NewStyle().Foreground(lipgloss.Color("6")),
		err:     r.NewStyle().Bold(true).Foreground(lipgloss.Color("9")),
		ok:      r.NewStyle().Bold(true).Foreground(lipgloss.Color("10")),
	}
	s.badge = func(c classify.Class) string {
		name := strings.ToUpper(c.String())
		if noColor {
			return "[" + name + "]"
		}
		bg := map[classify.Class]string{
			classify.Read: "2", classify.Write: "3", classify.Destructive: "1",
			classify.Exec: "5", classify.Secret: "5", classify.Privilege: "9", classify.Unknown: "9",
		}[c]
		return r.NewStyle().Bold(true).Padding(0, 1).Foreground(lipgloss.Color("0")).Background(lipgloss.Color(bg)).Render(name)
	}
	return s
}

// diffLine colours one line of a unified diff or terraform plan.
func (s styles) diffLine(l string) string {
	t := strings.TrimLeft(l, " ")
	switch {
	case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"), strings.HasPrefix(l, "==="):
		return s.title.Render(l)
	case strings.HasPrefix(l, "@@"):
		return s.hunk.Render(l)
	case strings.HasPrefix(t, "+"):
		return s.add.Render(l)
	case strings.HasPrefix(t, "-"):
		return s.del.Render(l)
	case strings.HasPrefix(t, "~"):
		return s.env.Render(l)
	}
	return l
}
