package audit

import (
	"os/user"
	"path/filepath"
	"strconv"
)

// EnvPath is the environment variable that overrides the log's location.
const EnvPath = "AGENTCTL_AUDIT_LOG"

// DefaultPath returns where the audit log lives, looking variables up with
// env (os.Getenv in production):
//
//  1. $AGENTCTL_AUDIT_LOG, when set;
//  2. $XDG_STATE_HOME/agentctl/audit.jsonl, when XDG_STATE_HOME is an
//     absolute path (the XDG spec says to ignore relative ones);
//  3. $HOME/.local/state/agentctl/audit.jsonl.
//
// It returns "" when none of these is available; the caller must then
// refuse to run rather than guess.
func DefaultPath(env func(string) string) string {
	if p := env(EnvPath); p != "" {
		return p
	}
	if s := env("XDG_STATE_HOME"); filepath.IsAbs(s) {
		return filepath.Join(s, "agentctl", "audit.jsonl")
	}
	if h := env("HOME"); h != "" {
		return filepath.Join(h, ".local", "state", "agentctl", "audit.jsonl")
	}
	return ""
}

func itoa(i int) string { return strconv.Itoa(i) }

func userName(uid int) string {
	if u, err := user.LookupId(itoa(uid)); err == nil {
		return u.Username
	}
	return ""
}
