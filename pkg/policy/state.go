package policy

import (
	"errors"
	"fmt"
	"time"

	"github.com/agentctl/agentctl/pkg/statefile"
)

// State is every agent's rate-limit and lockout state: one JSON file in a
// directory ($XDG_STATE_HOME/agentctl/policy-state.json), read and written
// under an flock on policy-state.lock, so that any number of agentctl
// processes may share it.
type State struct {
	dir string
}

// AgentState is what is remembered about one agent identity.
type AgentState struct {
	// Denials and Mutations are the times of recent denials and of
	// recent commands other than reads that ran; entries older than
	// their window are dropped on the next write.
	Denials   []time.Time `json:"denials,omitempty"`
	Mutations []time.Time `json:"mutations,omitempty"`
	// Locked is set while the agent is locked out.
	Locked *Lockout `json:"locked,omitempty"`
}

// Lockout says when and why an agent was locked.
type Lockout struct {
	At      time.Time `json:"at"`
	Denials int       `json:"denials"`
	Window  string    `json:"window"`
	// LastRule is the rule of the denial that locked the agent.
	LastRule string `json:"lastRule,omitempty"`
	// Flag is the behavioural flag whose flags: entry locked the agent
	// ("" for a lockout after denials).
	Flag string `json:"flag,omitempty"`
}

type stateDoc struct {
	Version int                    `json:"version"`
	Agents  map[string]*AgentState `json:"agents"`
	// User counts every agent of this OS user together: an agent's name
	// is what the agent says it is, and a new name must not be a way out
	// of the lockout or the rate limit.
	User *AgentState `json:"user,omitempty"`
}

// OpenState returns the state kept in dir. Nothing is created until the
// first write.
func OpenState(dir string) *State { return &State{dir: dir} }

// Dir returns the state directory.
func (s *State) Dir() string { return s.dir }

// AgentName is the state key of an agent identity; agents that give no
// identity share "anonymous".
func AgentName(agent string) string {
	if agent == "" {
		return "anonymous"
	}
	return agent
}

// Agent returns one agent's state.
func (s *State) Agent(agent string) (AgentState, error) {
	a, _, err := s.agentAndUser(agent)
	return a, err
}

// Lockout returns the lockout that holds agent: its own, else the one of
// every agent of this OS user together (denials spread over names lock
// them all); nil when neither is locked.
func (s *State) Lockout(agent string) (*Lockout, error) {
	a, user, err := s.agentAndUser(agent)
	switch {
	case err != nil:
		return nil, err
	case a.Locked != nil:
		return a.Locked, nil
	default:
		return user.Locked, nil
	}
}

// agentAndUser returns one agent's state and that of every agent of this
// OS user together.
func (s *State) agentAndUser(agent string) (a, user AgentState, err error) {
	err = s.locked(false, func(doc *stateDoc) bool {
		if p := doc.Agents[AgentName(agent)]; p != nil {
			a = *p
		}
		if doc.User != nil {
			user = *doc.User
		}
		return false
	})
	return a, user, err
}

// Unlock clears an agent's lockout and its recent denials, and the
// user-wide ones: a human has decided that work goes on. It reports
// whether the agent (or every agent of the user) was locked.
func (s *State) Unlock(agent string) (bool, error) {
	was := false
	err := s.locked(true, func(doc *stateDoc) bool {
		for _, a := range []*AgentState{doc.Agents[AgentName(agent)], doc.User} {
			if a != nil {
				was = was || a.Locked != nil
				a.Locked = nil
				a.Denials = nil
			}
		}
		return true
	})
	return was, err
}

// update applies fn to one agent's state and to the user-wide state,
// under the exclusive lock.
func (s *State) update(agent string, fn func(a *AgentState)) error {
	return s.locked(true, func(doc *stateDoc) bool {
		name := AgentName(agent)
		a := doc.Agents[name]
		if a == nil {
			a = &AgentState{}
			doc.Agents[name] = a
		}
		if doc.User == nil {
			doc.User = &AgentState{}
		}
		fn(a)
		fn(doc.User)
		return true
	})
}

// locked runs fn on the state document under a shared or exclusive flock;
// when fn returns true (exclusive only) the document is written back
// atomically (temporary file, fsync, rename).
func (s *State) locked(exclusive bool, fn func(doc *stateDoc) bool) error {
	doc := &stateDoc{Version: 1, Agents: map[string]*AgentState{}}
	err := statefile.Locked(s.dir, "policy-state", exclusive, doc, func() (bool, error) {
		if doc.Agents == nil {
			doc.Agents = map[string]*AgentState{}
		}
		return fn(doc), nil
	})
	var ce *statefile.CorruptError
	switch {
	case errors.As(err, &ce):
		return fmt.Errorf("policy state %q is corrupt: %w\nhint: a human may remove it to reset every agent's lockout", ce.Path, ce.Err)
	case err != nil:
		return fmt.Errorf("policy state: %w", err)
	}
	return nil
}

// since drops times before cutoff.
func since(ts []time.Time, cutoff time.Time) []time.Time {
	out := ts[:0]
	for _, t := range ts {
		if t.After(cutoff) {
			out = append(out, t)
		}
	}
	return out
}
