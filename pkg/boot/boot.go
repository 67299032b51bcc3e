// Package boot is what agentctl does first when it starts, from the init
// function of package early, which only main imports. Package
// initialisation (kubectl's above all) is most of a command's start: a
// command that will probably run in the read sandbox gets its sandbox
// child at once ([Start], [spawn.SetEarly]), so that the child's start
// overlaps this process's initialisation, parsing, classification and
// policy instead of following them. What decides is still the pipeline:
// a child that is not used is killed, and one that is never adopted dies
// with this process. (Package gc, also imported by main, delays garbage
// collection during the start.)
package boot

import (
	"os"
	"strings"

	"github.com/agentctl/agentctl/sandbox/spawn"
)

// Start starts the sandbox child for a command that is probably a
// sandboxed read. It imports nothing that initialises late (not
// runtime/debug, not path/filepath): Go initialises packages in import
// path order as far as their dependencies allow, so one such dependency
// would hold it back most of the way through initialisation.
func Start(argv []string) {
	if os.Getenv(spawn.MarkerEnv) == spawn.MarkerProbe {
		answerProbe()
	}
	if tool, args, ok := ToolArgs(argv); ok && Prestartable(tool, args) && !isChild() {
		startChild()
	}
}

// answerProbe answers sandbox.Probe's child, which only has to show that
// it started in its new user and network namespaces, and exits. It exits
// here, from package initialisation, and not from main (where
// sandbox.MaybeChild would answer too) because by then the whole binary,
// kubectl's packages above all, would have initialised for nothing: that
// made `agentctl version` two full starts of agentctl.
func answerProbe() {
	os.NewFile(spawn.FDSpec, "sandbox-probe").WriteString("ok")
	os.Exit(0)
}

// entryEnv is run.EntryEnv: set in agentctl's own unsandboxed children.
const entryEnv = "AGENTCTL_ENTRY"

// isChild says whether this process is one of agentctl's children, which
// start nothing.
func isChild() bool {
	return IsSandboxChild() || isEntry()
}

// IsChild says whether this process is one of agentctl's own children
// (a sandbox child or an in-process entry), which neither start a
// sandbox child nor forward to a broker.
func IsChild() bool { return isChild() }

// IsSandboxChild says whether this process is a sandbox child.
func IsSandboxChild() bool {
	_, ok := os.LookupEnv(spawn.MarkerEnv)
	return ok
}

func isEntry() bool {
	_, ok := os.LookupEnv(entryEnv)
	return ok
}

// startChild starts a sandbox child whose standard streams are pipes to
// this process, and records it. Failing is not an error: the pipeline
// starts a child when it needs one.
func startChild() {
	if c, err := spawn.StartPiped(); err == nil {
		spawn.SetEarly(c)
	}
}

// Tools are the commands agentctl wraps, also the names of its shims.
var Tools = []string{"kubectl", "terraform", "tofu"}

// GlobalFlags are agentctl's own flags (those before the tool's name),
// long and short names, and whether each takes a value. pkg/cli's tests
// check this against the root command.
var GlobalFlags = map[string]bool{
	"output": true, "o": true,
	"intent":          true,
	"agent":           true,
	"policy":          true,
	"approver":        true,
	"non-interactive": false,
	"report-result":   false,
}

// ToolArgs finds the wrapped tool and its arguments in argv, as agentctl
// will run it: called through a shim (argv[0] is the tool's name), or
// `agentctl [global flags] TOOL ARGS…`. ok is false for anything else,
// including a flag it does not know.
func ToolArgs(argv []string) (tool string, args []string, ok bool) {
	if len(argv) == 0 {
		return "", nil, false
	}
	// Not path/filepath: it initialises late (see package early).
	if base := argv[0][strings.LastIndexByte(argv[0], '/')+1:]; isTool(base) {
		return base, argv[1:], true
	}
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			if isTool(a) {
				return a, argv[i+1:], true
			}
			return "", nil, false
		}
		if a == "--" {
			return "", nil, false
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "--") && len(name) > 1 {
			name, hasValue = name[:1], true // -ojson
		}
		takes, known := GlobalFlags[name]
		if !known {
			return "", nil, false
		}
		if takes && !hasValue {
			i++
		}
	}
	return "", nil, false
}

func isTool(s string) bool {
	for _, t := range Tools {
		if s == t {
			return true
		}
	}
	return false
}

// Prestartable says whether a command is likely a sandboxed read, worth
// starting the sandbox child for before the decision: every kubectl
// command (most are reads), and terraform's reads (an apply plans in a
// sandbox of its own first).
func Prestartable(tool string, args []string) bool {
	if tool == "kubectl" {
		return true
	}
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			continue
		}
		switch a {
		case "plan", "validate", "show", "init", "graph", "providers", "version", "fmt":
			return true
		}
		return false
	}
	return false
}
