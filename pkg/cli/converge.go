package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/agentctl/agentctl/pkg/converge"
	"github.com/agentctl/agentctl/pkg/pipeline"
	"github.com/agentctl/agentctl/pkg/termsafe"
)

// wireConvergence shows the convergence check on stderr, never stdout
// (the tool's output stays byte for byte what it printed): on a terminal
// one line rewritten after each poll, and in any case one final line.
func wireConvergence(c *pipeline.Convergence, w io.Writer, tty bool) {
	if c == nil {
		return
	}
	if tty {
		c.Progress = func(results []converge.Result, elapsed time.Duration) {
			fmt.Fprintf(w, "\r\x1b[Kagentctl: %s", termsafe.Line(progressLine(results, elapsed, c.Timeout)))
		}
	}
	c.Done = func(rep *converge.Report) {
		if tty {
			fmt.Fprint(w, "\r\x1b[K")
		}
		fmt.Fprintf(w, "agentctl: %s (%s)\n", termsafe.Line(rep.Line()), (time.Duration(rep.DurationMS) * time.Millisecond).Round(100*time.Millisecond))
	}
}

// progressLine is "waiting for convergence 12s/2m0s: 1/2 converged;
// deployment/web -n shop: progressing: ...".
func progressLine(results []converge.Result, elapsed, timeout time.Duration) string {
	n := 0
	var first *converge.Result
	for i, r := range results {
		if r.State.Final() && r.State != converge.Error {
			n++
		} else if first == nil {
			first = &results[i]
		}
	}
	s := fmt.Sprintf("waiting for convergence %s/%s: %d/%d done", elapsed.Round(time.Second), timeout, n, len(results))
	if first != nil {
		s += "; " + first.Ref.String() + ": " + string(first.State)
		if first.Message != "" {
			s += ": " + first.Message
		}
	}
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}
