package tui

import (
	"context"
	"errors"
	"io"
	"os"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/agentctl/agentctl/pkg/approve"
)

// Run shows the approval screen for s on the terminal (in, out) and
// returns the verdict. It returns ctx.Err() when ctx ends first (the
// pipeline's approval deadline), which the caller treats as a denial.
// With TERM=dumb, or when bubbletea cannot start on the terminal, it
// falls back to [Plain].
func Run(ctx context.Context, in io.Reader, out io.Writer, s *approve.Screen, o Options) (approve.Verdict, error) {
	if o.Term == "dumb" {
		return Plain(ctx, in, out, s, o)
	}
	if o.Out == nil {
		o.Out = out
	}
	m := NewModel(s, o)
	m.quitOnDone = true
	p := tea.NewProgram(m,
		tea.WithInput(in), tea.WithOutput(out), tea.WithContext(ctx),
		tea.WithAltScreen(), tea.WithoutSignalHandler())
	fm, err := p.Run()
	if ctx.Err() != nil {
		return approve.Verdict{}, ctx.Err()
	}
	if err != nil {
		if errors.Is(err, tea.ErrProgramKilled) || errors.Is(err, tea.ErrInterrupted) {
			return approve.Verdict{Reason: "approval interrupted"}, nil
		}
		// bubbletea could not take the terminal: ask line by line.
		return Plain(ctx, in, out, s, o)
	}
	final, ok := fm.(Model)
	if !ok || !final.Done() {
		return approve.Verdict{}, nil
	}
	return final.Verdict(), nil
}

// Prompt adapts [Run] to the terminal approver.
func Prompt(o Options) approve.Prompt {
	return func(ctx context.Context, tty *os.File, s *approve.Screen) (approve.Verdict, error) {
		return Run(ctx, tty, tty, s, o)
	}
}
