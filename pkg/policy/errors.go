package policy

import (
	"fmt"
	"strings"

	"github.com/agentctl/agentctl/pkg/exitcode"
)

// ExitConfig is the exit code of a policy that cannot be used.
const ExitConfig = exitcode.Config

// Issue is one problem in a policy file, at a position.
type Issue struct {
	File string
	Line int
	Col  int
	Msg  string
}

func (i Issue) String() string {
	switch {
	case i.Line > 0 && i.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", i.File, i.Line, i.Col, i.Msg)
	case i.Line > 0:
		return fmt.Sprintf("%s:%d: %s", i.File, i.Line, i.Msg)
	}
	return fmt.Sprintf("%s: %s", i.File, i.Msg)
}

// LoadError is a policy that cannot be used: invalid YAML, an unknown
// field, a bad value, a CEL condition that does not compile. agentctl runs
// nothing with such a policy; it exits 78 ([ExitConfig]).
type LoadError struct {
	Issues []Issue
}

func (e *LoadError) Error() string {
	lines := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		lines[i] = is.String()
	}
	return strings.Join(lines, "\n")
}

// ExitCode makes agentctl exit 78 on a bad policy.
func (e *LoadError) ExitCode() int { return ExitConfig }

// Hint tells the user what to do.
func (e *LoadError) Hint() string {
	return "nothing runs while a policy is broken; fix it and check with `agentctl policy check`"
}
