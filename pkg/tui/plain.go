package tui

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/agentctl/agentctl/pkg/approve"
)

// Plain is the line-based approval prompt for terminals that cannot draw
// a screen (TERM=dumb) and for when bubbletea cannot start. It prints the
// same facts as the screen, the whole diff, and reads one line:
//
//   - "y" or "yes" approves; when the change needs confirmation, only the
//     target's name approves;
//   - "n: REASON" denies with a reason; anything else, or end of input,
//     denies.
//
// It returns ctx.Err() when ctx ends before a line arrives.
func Plain(ctx context.Context, in io.Reader, out io.Writer, s *approve.Screen, o Options) (approve.Verdict, error) {
	fmt.Fprint(out, PlainReport(s)+plainQuestion(s))
	type line struct {
		s   string
		err error
	}
	got := make(chan line, 1)
	go func() {
		l, err := bufio.NewReader(in).ReadString('\n')
		got <- line{l, err}
	}()
	var l line
	select {
	case <-ctx.Done():
		fmt.Fprintln(out)
		return approve.Verdict{}, ctx.Err()
	case l = <-got:
	}
	text := strings.TrimSpace(l.s)
	if l.err != nil && text == "" {
		fmt.Fprintln(out)
		return approve.Verdict{Reason: "no answer (end of input)"}, nil
	}
	v := plainVerdict(text, s)
	if v.Approved {
		fmt.Fprintln(out, "approved")
	} else {
		fmt.Fprintln(out, "denied")
	}
	return v, nil
}

// plainQuestion asks for the line that answers s.
func plainQuestion(s *approve.Screen) string {
	if s.Confirm {
		return fmt.Sprintf("This change needs confirmation. Type %q to approve, anything else denies: ", s.ConfirmWord)
	}
	return "Approve? [y/N] (\"n: reason\" to deny with a reason): "
}

func plainVerdict(text string, s *approve.Screen) approve.Verdict {
	if s.Confirm {
		if text == s.ConfirmWord {
			return approve.Verdict{Approved: true}
		}
	} else if t := strings.ToLower(text); t == "y" || t == "yes" {
		return approve.Verdict{Approved: true}
	}
	for _, p := range []string{"n:", "no:"} {
		if len(text) >= len(p) && strings.EqualFold(text[:len(p)], p) {
			return approve.Verdict{Reason: strings.TrimSpace(text[len(p):])}
		}
	}
	return approve.Verdict{}
}

// PlainReport is the approval screen as plain text, diff included.
func PlainReport(s *approve.Screen) string {
	var b strings.Builder
	w := func(label, v string) { fmt.Fprintf(&b, "%-10s%s\n", label, v) }
	fmt.Fprintf(&b, "agentctl: approval needed  [%s]\n", strings.ToUpper(s.Class.String()))
	agent := s.Agent
	if agent == "" {
		agent = "(unnamed agent)"
	}
	w("Agent", agent)
	if s.Intent != "" {
		w("Intent", s.Intent)
	}
	w("Command", s.CommandLine())
	target := s.TargetLine()
	if s.EnvKnown() {
		target += "  env " + s.EnvName()
	}
	w("Target", target)
	risk := "rule " + s.Rule
	if s.Message != "" {
		risk += ": " + s.Message
	}
	w("Risk", "["+strings.ToUpper(s.Class.String())+"] "+risk)
	for _, r := range s.Reasons {
		w("", "- "+r)
	}
	for i, c := range s.Resources {
		label := ""
		if i == 0 {
			label = "Changes"
		}
		if s.Terraform() {
			w(label, strings.TrimSpace(fmt.Sprintf("%s %s %s", c.Action, c.Name, c.Provider)))
			continue
		}
		w(label, strings.TrimSpace(fmt.Sprintf("%s %s %s %s", c.Action, c.Kind, c.Namespace, c.Name)))
	}
	if l := s.Live; l != nil {
		switch {
		case l.Error != "":
			w("Deletes", l.Error)
		default:
			line := fmt.Sprintf("matches %d object(s) now", len(l.Objects))
			if l.Selector != "" {
				line += " (" + l.Selector + ")"
			}
			if l.Open {
				line += "; it deletes what matches when it runs"
			}
			w("Deletes", line)
			for _, o := range l.Objects {
				name := o.Name
				if o.Namespace != "" {
					name = o.Namespace + "/" + o.Name
				}
				w("", strings.TrimSpace(o.Kind+" "+name+"  "+o.Summary))
			}
		}
	}
	if s.NoOp {
		line := "the cluster already matches: applying changes nothing"
		if !s.Confirm {
			line += ", so no typed confirmation"
		}
		w("Dry run", line)
	}
	if s.PlanSummary != "" {
		w("Plan", s.PlanSummary)
	}
	if d := strings.TrimRight(s.Diff, "\n"); d != "" {
		fmt.Fprintf(&b, "Diff:\n%s\n", d)
	}
	if !s.Expires.IsZero() {
		fmt.Fprintf(&b, "Denied at %s if unanswered.\n", s.Expires.Local().Format("15:04:05"))
	}
	return b.String()
}
