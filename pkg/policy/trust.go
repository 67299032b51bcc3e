package policy

import (
	"io/fs"
	"syscall"
)

// Trusted says whether a policy file may loosen the policy: it is owned
// by root and writable by no one else. agentctl runs as the agent's OS
// user, so whatever that user can write (its home, the working tree, a
// file named by --policy or AGENTCTL_POLICY) the agent could have
// written; such a layer may only tighten. An agent running as root can
// write anything, root's files included: there is no boundary to keep.
func Trusted(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Uid == 0 && fi.Mode().Perm()&0o022 == 0
}
