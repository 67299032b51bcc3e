package audit

import (
	"io"
	"slices"
	"sort"
	"time"
)

// AgentReport summarises one agent's decision records (`agentctl audit
// report`): its commands by class, its denials, the flags they raised
// and the targets they touched ([TargetKeys]; denied commands' too,
// since the report is what the agent tried).
type AgentReport struct {
	Agent    string         `json:"agent"`
	Commands int            `json:"commands"`
	Classes  map[string]int `json:"classes"`
	Denials  int            `json:"denials"`
	Flags    map[string]int `json:"flags"`
	Targets  []string       `json:"targets"`
}

// Summarize reads the log in r and summarises, per agent (sorted by name;
// no name is "anonymous"), the decision records at or after since.
func Summarize(r io.Reader, since time.Time) ([]AgentReport, error) {
	by := map[string]*AgentReport{}
	err := Scan(r, func(rec *Record, _ []byte) error {
		if rec.Kind != KindDecision || rec.Time.Before(since) {
			return nil
		}
		name := rec.Agent
		if name == "" {
			name = "anonymous"
		}
		a := by[name]
		if a == nil {
			a = &AgentReport{Agent: name, Classes: map[string]int{}, Flags: map[string]int{}, Targets: []string{}}
			by[name] = a
		}
		a.Commands++
		cls := "-"
		if rec.Class != nil {
			cls = rec.Class.String()
		}
		a.Classes[cls]++
		if rec.Decision == "deny" {
			a.Denials++
		}
		for _, f := range rec.Flags {
			a.Flags[f.Name]++
		}
		if rec.Target != nil {
			for _, k := range TargetKeys(rec.Tool, rec.Target, rec.Resources) {
				if !slices.Contains(a.Targets, k) {
					a.Targets = append(a.Targets, k)
				}
			}
		}
		return nil
	})
	out := make([]AgentReport, 0, len(by))
	for _, a := range by {
		sort.Strings(a.Targets)
		out = append(out, *a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Agent < out[j].Agent })
	return out, err
}
