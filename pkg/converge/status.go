package converge

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// State is where an object stands against its intent.
type State string

// The states. Converged, Failed, Diverged, Unknown and Gone are final for
// a wait; Progressing is not.
const (
	Converged   State = "converged"
	Progressing State = "progressing"
	Failed      State = "failed"
	Diverged    State = "diverged"
	Unknown     State = "unknown"
	// Gone is an object that should exist and does not.
	Gone State = "gone"
	// Error is a check that could not be made (the cluster is
	// unreachable, access is denied); Reason says why.
	Error State = "error"
)

// Final reports whether a wait can stop at s.
func (s State) Final() bool { return s != Progressing }

// Bad reports whether s is a state `agentctl status` fails on.
func (s State) Bad() bool { return s == Failed || s == Diverged || s == Gone }

// Status is an object's health, computed with kstatus.
type Status struct {
	State   State  `json:"state"`             // Converged, Progressing, Failed or Unknown
	Reason  string `json:"reason,omitempty"`  // the condition's reason
	Message string `json:"message,omitempty"` // the condition's message
}

// judgeable reports whether kstatus can judge u: it has rules for its
// kind, or u carries kstatus's standard conditions. For anything else
// kstatus answers Current, which says nothing.
func judgeable(u *unstructured.Unstructured) bool {
	if status.GetLegacyConditionsFn(u) != nil {
		return true
	}
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		switch m["type"] {
		case string(status.ConditionReconciling), string(status.ConditionStalled), "Ready":
			return true
		}
	}
	return false
}

// Judge computes the status of a live object and of its pods (for a
// workload: the pods it owns, directly or through a ReplicaSet).
func Judge(u *unstructured.Unstructured, pods []*unstructured.Unstructured) Status {
	if !judgeable(u) {
		return Status{State: Unknown, Reason: "UnknownStatus",
			Message: fmt.Sprintf("unknown status: kstatus has no rules for %s and the object carries no Ready, Reconciling or Stalled condition", kindOf(u))}
	}
	res, err := status.Compute(u)
	if err != nil {
		return Status{State: Unknown, Reason: "UnknownStatus", Message: "unknown status: " + err.Error()}
	}
	st := fromKstatus(res)
	if st.State == Failed {
		return st
	}
	// A pod that cannot be scheduled or crash loops fails its workload:
	// the Deployment itself says only "progressing" until its deadline.
	for _, p := range pods {
		pr, err := status.Compute(p)
		if err != nil || pr.Status != status.FailedStatus {
			continue
		}
		ps := fromKstatus(pr)
		if reason, msg := podWhy(p); reason != "" {
			ps.Reason, ps.Message = reason, msg
		}
		ps.Message = "pod " + p.GetName() + ": " + ps.Message
		return ps
	}
	return st
}

func fromKstatus(res *status.Result) Status {
	st := Status{Message: res.Message}
	for _, c := range res.Conditions {
		if c.Type == status.ConditionStalled || c.Type == status.ConditionReconciling {
			st.Reason = c.Reason
		}
	}
	switch res.Status {
	case status.CurrentStatus:
		st.State = Converged
	case status.InProgressStatus, status.TerminatingStatus:
		st.State = Progressing
	case status.FailedStatus:
		st.State = Failed
	default:
		st.State = Unknown
	}
	return st
}

// podWhy is the reason a pod gives for not running: its PodScheduled
// condition (the scheduler's message), else a container's waiting reason.
func podWhy(p *unstructured.Unstructured) (string, string) {
	conds, _, _ := unstructured.NestedSlice(p.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "PodScheduled" && m["status"] == "False" {
			r, _ := m["reason"].(string)
			msg, _ := m["message"].(string)
			return r, msg
		}
	}
	css, _, _ := unstructured.NestedSlice(p.Object, "status", "containerStatuses")
	for _, c := range css {
		m, _ := c.(map[string]any)
		w, _, _ := unstructured.NestedMap(m, "state", "waiting")
		if r, _ := w["reason"].(string); r != "" {
			msg, _ := w["message"].(string)
			return r, fmt.Sprintf("container %v: %s", m["name"], msg)
		}
	}
	return "", ""
}

func kindOf(u *unstructured.Unstructured) string {
	gvk := u.GroupVersionKind()
	if gvk.Group == "" {
		return gvk.Kind
	}
	return gvk.Kind + "." + gvk.Group
}
