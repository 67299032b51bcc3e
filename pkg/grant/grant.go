// Package grant keeps time-boxed grants: a human's one approval that
// lets the requests of one class, on one target, of one agent through
// without asking again, until the grant expires, is used up or is
// revoked.
//
// # What a grant covers
//
// A grant only replaces the human's answer to an `approve` decision: a
// policy `deny`, the lockout and every other refusal still win. A
// [Grant] covers a request when all of these hold ([Grant.Covers]):
//
//   - the request's class is the grant's class, exactly;
//   - the agent is the grant's agent ([policy.AgentName] of both), or the
//     grant names none (any agent);
//   - for a namespace grant: the tool is kubectl, the target namespace is
//     the grant's, every object the command names is in that namespace
//     (a cluster-scoped object, `--all-namespaces` or a command that
//     names no object is not covered), and
//     the kubeconfig context is the grant's when it names one;
//   - for a workspace grant: the tool is terraform or tofu, the workspace
//     is the grant's and so is the directory when it names one.
//
// # Where grants live
//
// A [Store] is one JSON file (grants.json) in agentctl's state
// directory, read and written under an flock (grants.lock): the same
// directory as the lockout state, which agentctl's jail does not contain.
// So a jailed agent can neither read nor write it; the broker's workers
// read it on each request, so a grant made while the broker runs is
// honoured at once.
package grant

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/policy"
)

// Grant is one time-boxed grant.
type Grant struct {
	ID    string         `json:"id"`
	Class classify.Class `json:"class"`
	// Agent is the agent the grant is for; "" is any agent.
	Agent string `json:"agent,omitempty"`
	// Kubernetes: Namespace is required, Context optional.
	Namespace string `json:"namespace,omitempty"`
	Context   string `json:"context,omitempty"`
	// Terraform: Workspace is required, Dir optional.
	Workspace string `json:"workspace,omitempty"`
	Dir       string `json:"dir,omitempty"`

	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	// Max is how many requests the grant may let through; 0 is no limit.
	Max  int `json:"max,omitempty"`
	Used int `json:"used"`
	// Revoked is when `agentctl grant revoke` ended it.
	Revoked *time.Time `json:"revoked,omitempty"`

	// Who approved the grant, how, and the hash of what was approved.
	Approver     string `json:"approver,omitempty"`
	Channel      string `json:"channel,omitempty"`
	ApprovalHash string `json:"approvalHash,omitempty"`
	// Reason is what the grant was asked for (the --intent).
	Reason string `json:"reason,omitempty"`
}

// NewID returns a fresh grant id: "g-" and 10 random hex digits.
func NewID() string {
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return "g-" + hex.EncodeToString(b[:])
}

// Validate checks that g says what it covers: a namespace or a
// workspace (not both), a class that can be granted at all, a positive
// duration and a non-negative --max.
func (g *Grant) Validate() error {
	switch {
	case g.Namespace == "" && g.Workspace == "":
		return errors.New("a grant needs --namespace (kubectl) or --workspace (terraform)")
	case g.Namespace != "" && g.Workspace != "":
		return errors.New("cannot set --namespace and --workspace at the same time")
	case g.Context != "" && g.Namespace == "":
		return errors.New("--context needs --namespace")
	case g.Dir != "" && g.Workspace == "":
		return errors.New("--dir needs --workspace")
	case g.Max < 0:
		return fmt.Errorf("--max %d is negative", g.Max)
	case !g.Expires.After(g.Created):
		return errors.New("a grant needs a positive --for")
	case g.Class == classify.Unknown:
		return errors.New("class unknown cannot be granted: approve such commands one at a time")
	}
	return nil
}

// Status is what a grant is now: active, expired, used up or revoked.
func (g *Grant) Status(now time.Time) string {
	switch {
	case g.Revoked != nil:
		return "revoked"
	case !now.Before(g.Expires):
		return "expired"
	case g.Max > 0 && g.Used >= g.Max:
		return "used up"
	}
	return "active"
}

// Scope describes what the grant covers on one line.
func (g *Grant) Scope() string {
	s := "class=" + g.Class.String()
	if g.Namespace != "" {
		s += " namespace=" + g.Namespace
		if g.Context != "" {
			s += " context=" + g.Context
		}
	} else {
		s += " workspace=" + g.Workspace
		if g.Dir != "" {
			s += " dir=" + g.Dir
		}
	}
	agent := g.Agent
	if agent == "" {
		agent = "any"
	}
	return s + " agent=" + agent
}

// Covers says whether g lets a request of agent with assessment a through
// at now; when not, the reason says why not.
func (g *Grant) Covers(a *classify.Assessment, agent string, now time.Time) (bool, string) {
	if st := g.Status(now); st != "active" {
		return false, "grant is " + st
	}
	if a == nil {
		return false, "not assessed"
	}
	if a.Class != g.Class {
		return false, fmt.Sprintf("class %s, the grant is for %s", a.Class, g.Class)
	}
	if g.Agent != "" && policy.AgentName(agent) != policy.AgentName(g.Agent) {
		return false, fmt.Sprintf("agent %q, the grant is for %q", policy.AgentName(agent), g.Agent)
	}
	t := a.Target
	if g.Namespace != "" {
		if a.Tool != "kubectl" {
			return false, "a namespace grant covers kubectl only"
		}
		if t.Namespace != g.Namespace {
			return false, fmt.Sprintf("namespace %q, the grant is for %q", t.Namespace, g.Namespace)
		}
		if g.Context != "" && t.Context != g.Context {
			return false, fmt.Sprintf("context %q, the grant is for %q", t.Context, g.Context)
		}
		if len(a.Resources) == 0 {
			// Nothing says where it acts (a --raw path): not covered.
			return false, "the command names no object in the namespace"
		}
		for _, r := range a.Resources {
			if r.Namespace != g.Namespace {
				what := r.Kind
				if r.Name != "" {
					what += " " + r.Name
				}
				if r.Namespace == "" {
					return false, fmt.Sprintf("%s is not in namespace %q (cluster-scoped or every namespace)", what, g.Namespace)
				}
				return false, fmt.Sprintf("%s is in namespace %q, the grant is for %q", what, r.Namespace, g.Namespace)
			}
		}
		return true, ""
	}
	if a.Tool != "terraform" && a.Tool != "tofu" {
		return false, "a workspace grant covers terraform and tofu only"
	}
	if t.Workspace != g.Workspace {
		return false, fmt.Sprintf("workspace %q, the grant is for %q", t.Workspace, g.Workspace)
	}
	if g.Dir != "" && t.Dir != g.Dir {
		return false, fmt.Sprintf("directory %q, the grant is for %q", t.Dir, g.Dir)
	}
	return true, ""
}
