package converge

import (
	"fmt"
	"strings"
)

// Report is the convergence check of one change: what it meant (the
// intents), where each object stands (the results) or, for terraform,
// what drifted. It is what the audit log's convergence record holds.
type Report struct {
	Tool    string   `json:"tool"`
	State   State    `json:"state"`
	Timeout string   `json:"timeout,omitempty"`
	Intents []Intent `json:"intents,omitempty"`
	Results []Result `json:"results,omitempty"`
	// Drift is what a terraform refresh-only plan found changed outside
	// terraform.
	Drift []Drift `json:"drift,omitempty"`
	// Notes say what was not checked and why.
	Notes      []string `json:"notes,omitempty"`
	Error      string   `json:"error,omitempty"`
	DurationMS float64  `json:"durationMs,omitempty"`
}

// Drift is one terraform resource whose real state differs from the
// state terraform recorded. Attributes name what changed; a sensitive
// attribute's values are never recorded.
type Drift struct {
	Address    string   `json:"address"`
	Action     string   `json:"action"` // update | delete (gone outside terraform)
	Attributes []Diff   `json:"attributes,omitempty"`
	Sensitive  []string `json:"sensitive,omitempty"`
}

// rank orders states from best to worst for [Overall].
var rank = map[State]int{Converged: 0, Unknown: 1, Progressing: 2, Gone: 3, Diverged: 4, Failed: 5, Error: 6}

// Overall is the worst state of results (converged when there are none).
func Overall(results []Result) State {
	s := Converged
	for _, r := range results {
		if rank[r.State] > rank[s] {
			s = r.State
		}
	}
	return s
}

// Line is the one-line summary of a report, as printed on stderr after
// the change: "converged: deployment/web -n shop" or the first object
// that did not, with why.
func (r *Report) Line() string {
	if len(r.Drift) > 0 {
		var addrs []string
		for _, d := range r.Drift {
			addrs = append(addrs, d.Address)
		}
		return fmt.Sprintf("%s: %s", r.State, strings.Join(addrs, ", "))
	}
	var worst *Result
	for i := range r.Results {
		if worst == nil || rank[r.Results[i].State] > rank[worst.State] {
			worst = &r.Results[i]
		}
	}
	s := string(r.State)
	switch {
	case worst == nil && r.Error != "":
		return s + ": " + r.Error
	case worst == nil:
		return s
	case r.State == Converged:
		var refs []string
		for _, x := range r.Results {
			refs = append(refs, x.Ref.String())
		}
		s += ": " + strings.Join(refs, ", ")
	default:
		s += ": " + worst.Ref.String()
		if worst.Reason != "" {
			s += ": " + worst.Reason
		}
		if worst.Message != "" {
			s += ": " + worst.Message
		}
	}
	if r.Error != "" && r.Error != worst.Message {
		s += " (" + r.Error + ")"
	}
	return s
}
