package approve

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/proposal"
)

// BundleScreen is the approval screen of a proposal bundle (agentctl
// approve BUNDLE): what the apply will run, where, and what the proposing
// job found, with the same typed confirmation as a privilege or unknown
// change on the terminal. planFile is what a terraform apply names (the
// bundle's name without its suffix), note what agentctl could check of
// the files beside the bundle. The screen waits until deadline, or the
// bundle's expiry when that comes first. The bundle is the agent's, so every text
// on the screen goes through [Screen.Clean].
func BundleScreen(b *proposal.Bundle, bundlePath, planFile, note string, deadline time.Time) *Screen {
	class, err := classify.ParseClass(b.Class)
	if err != nil {
		class = classify.Unknown // a class agentctl does not know asks as unknown does
	}
	t := b.Target
	s := &Screen{
		ID:      shortNonce(b.Nonce),
		Time:    b.Created,
		Expires: b.Expires,
		Agent:   "proposal " + filepath.Base(bundlePath),
		Tool:    b.Tool,
		Class:   class,
		Rule:    "signed-proposal",
		Message: note,
		Diff:    b.Summary,
		Target: classify.Target{Context: t.Context, Cluster: t.Cluster, Server: t.Server, Namespace: t.Namespace,
			Workspace: t.Workspace, Dir: t.Dir},
	}
	if deadline.Before(s.Expires) {
		s.Expires = deadline
	}
	switch b.Tool {
	case "kubectl":
		s.Command = []string{"kubectl", "apply", "-f", planFile}
	default:
		s.Command = []string{b.Tool, "apply", planFile}
	}
	s.Reasons = append(s.Reasons, b.Reasons...)
	// What the apply will hold the target to, besides the bytes' hash.
	s.Reasons = append(s.Reasons, "sha256 of what runs: "+b.SHA256)
	if b.Tool == "kubectl" {
		s.Reasons = append(s.Reasons, fmt.Sprintf("pinned: server %s (CA sha256 %s), kube-system UID %s", t.Server, t.CAFingerprint, b.Pins.ClusterUID))
	} else {
		state := fmt.Sprintf("pinned: backend %s, state lineage %q", t.Backend, b.Pins.StateLineage)
		if b.Pins.StateSerial != nil {
			state += fmt.Sprintf(" serial %d", *b.Pins.StateSerial)
		}
		s.Reasons = append(s.Reasons, state)
	}
	s.Reasons = append(s.Reasons, fmt.Sprintf("proposed %s, expires %s", b.Created.UTC().Format(time.RFC3339), b.Expires.UTC().Format(time.RFC3339)))
	s.Confirm = NeedsConfirm(class)
	s.Clean()
	return s
}

func shortNonce(n string) string {
	if len(n) > 12 {
		return n[:12]
	}
	return n
}
