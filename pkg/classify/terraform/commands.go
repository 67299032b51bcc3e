package terraform

import (
	"fmt"

	"github.com/agentctl/agentctl/pkg/classify"
)

// mode says whether a command's class comes from a plan.
type mode int

const (
	noPlan      mode = iota
	planApply        // apply: plan (or the agent's plan file) decides
	planDestroy      // destroy: a destroy plan decides
)

// verdict is what the argument rules make of one command line.
type verdict struct {
	Class  classify.Class
	Reason string
	Mode   mode
	Parsed *parsed
	// Refuse says no policy or approver can make the command useful: it
	// would do nothing but print help (see [classify.Assessment.Refuse]).
	Refuse bool
}

// command is one terraform subcommand: its flags, how many positional
// arguments it takes (max -1: any), and the rule that classifies it.
type command struct {
	flags    flagSet
	view     bool // arguments.ParseView drops -compact-warnings anywhere
	min, max int
	rule     func(p *parsed) verdict
}

func fixed(c classify.Class, reason string) func(*parsed) verdict {
	return func(*parsed) verdict { return verdict{Class: c, Reason: reason} }
}

// unless returns c, or the lower class alt when flag (a bool) is true.
func unless(flag string, alt classify.Class, altReason string, c classify.Class, reason string) func(*parsed) verdict {
	return func(p *parsed) verdict {
		if p.isTrue(flag) {
			return verdict{Class: alt, Reason: altReason}
		}
		return verdict{Class: c, Reason: reason}
	}
}

var (
	applyFlags = flagSet{"auto-approve": boolFlag}.with(stateFlags, operationFlags, varFlags, viewFlags)
	planFlags  = flagSet{"detailed-exitcode": boolFlag, "out": stringFlag,
		"generate-config-out": stringFlag}.with(stateFlags, operationFlags, varFlags, viewFlags)
	stateRW       = flagSet{"backup": stringFlag, "state": stringFlag}.with(lockFlags, remoteVer)
	taintSet      = flagSet{"allow-missing": boolFlag, "state-out": stringFlag}.with(stateRW)
	workspaceCmds = map[string]command{
		"":      {max: -1, rule: noNested("workspace")},
		" list": {max: 1, rule: fixed(classify.Read, "lists workspaces")},
		" show": {flags: metaExtended, rule: fixed(classify.Read, "shows the current workspace")},
		" select": {flags: flagSet{"or-create": boolFlag}, min: 1, max: 2,
			rule: fixed(classify.Write, "switches the working directory to another workspace")},
		" new": {flags: flagSet{"state": stringFlag}.with(lockFlags), min: 1, max: 2,
			rule: fixed(classify.Write, "creates a workspace")},
		" delete": {flags: flagSet{"force": boolFlag}.with(lockFlags), min: 1, max: 2,
			rule: fixed(classify.Destructive, "deletes a workspace and its state")},
	}
)

// commands is every subcommand of terraform ≥ 1.5 and OpenTofu.
var commands = map[string]command{
	"apply":   {flags: applyFlags, view: true, max: -1, rule: applyRule},
	"destroy": {flags: applyFlags, view: true, max: -1, rule: destroyRule},
	"plan":    {flags: planFlags, view: true, rule: planRule},
	"console": {flags: flagSet{"state": stringFlag}.with(metaExtended),
		rule: fixed(classify.Secret, "console evaluates any expression, sensitive values included")},
	"fmt": {flags: flagSet{"list": boolFlag, "write": boolFlag, "diff": boolFlag,
		"check": boolFlag, "recursive": boolFlag}, max: -1, rule: fmtRule},
	"force-unlock": {flags: flagSet{"force": boolFlag}, min: 1, max: 2,
		rule: fixed(classify.Destructive, "removes a state lock another run may hold")},
	"get": {flags: flagSet{"update": boolFlag, "test-directory": stringFlag},
		rule: fixed(classify.Write, "downloads modules into the working directory")},
	"graph": {flags: flagSet{"draw-cycles": boolFlag, "type": stringFlag,
		"module-depth": intFlag, "verbose": boolFlag, "plan": stringFlag}, max: 1,
		rule: fixed(classify.Read, "prints the dependency graph")},
	"import": {flags: flagSet{"parallelism": intFlag, "state-out": stringFlag, "config": stringFlag,
		"allow-missing-config": boolFlag}.with(metaExtended, stateRW), min: 2, max: 2,
		rule: fixed(classify.Write, "imports an existing object into the state")},
	"init": {flags: flagSet{"backend": boolFlag, "cloud": boolFlag, "backend-config": stringFlag,
		"from-module": stringFlag, "get": boolFlag, "force-copy": boolFlag, "reconfigure": boolFlag,
		"migrate-state": boolFlag, "upgrade": boolFlag, "plugin-dir": stringFlag, "lockfile": stringFlag,
		"test-directory": stringFlag, "json": boolFlag}.with(metaExtended, lockFlags, remoteVer),
		max: 1, rule: initRule},
	"login": {flags: metaExtended, max: 1,
		rule: fixed(classify.Privilege, "obtains an API token and stores it in the credentials file")},
	"logout":   {max: 1, rule: fixed(classify.Write, "removes a stored API token")},
	"metadata": {max: -1, rule: noNested("metadata")},
	"metadata functions": {flags: flagSet{"json": boolFlag},
		rule: fixed(classify.Read, "lists function signatures")},
	"modules": {flags: flagSet{"json": boolFlag}, rule: fixed(classify.Read, "lists modules")},
	"output": {flags: flagSet{"json": boolFlag, "raw": boolFlag, "state": stringFlag,
		"show-sensitive": boolFlag}, view: true, max: 1,
		rule: fixed(classify.Secret, "output prints root module outputs, sensitive ones included with -json or -raw")},
	"providers": {flags: flagSet{"test-directory": stringFlag}, max: 1,
		rule: fixed(classify.Read, "lists required providers")},
	"providers lock": {flags: flagSet{"platform": stringFlag, "fs-mirror": stringFlag,
		"net-mirror": stringFlag, "enable-plugin-cache": boolFlag}, max: -1,
		rule: fixed(classify.Write, "rewrites the dependency lock file")},
	"providers mirror": {flags: flagSet{"platform": stringFlag, "lock-file": boolFlag}, min: 1, max: 1,
		rule: fixed(classify.Write, "downloads providers into a directory")},
	"providers schema": {flags: flagSet{"json": boolFlag},
		rule: fixed(classify.Read, "prints provider schemas")},
	"refresh": {flags: flagSet{}.with(stateFlags, operationFlags, varFlags, viewFlags), view: true,
		rule: fixed(classify.Write, "refresh writes what it reads into the state")},
	"show": {flags: flagSet{"json": boolFlag, "show-sensitive": boolFlag, "state": boolFlag,
		"plan": stringFlag, "config": boolFlag, "module": stringFlag}, view: true, max: 1, rule: showRule},
	"state": {max: -1, rule: noNested("state")},
	"state list": {flags: flagSet{"state": stringFlag, "id": stringFlag}, max: -1,
		rule: fixed(classify.Read, "lists resources in the state")},
	"state identities": {flags: flagSet{"state": stringFlag, "id": stringFlag, "json": boolFlag}, max: -1,
		rule: fixed(classify.Read, "lists resource identities in the state")},
	"state mv": {flags: flagSet{"dry-run": boolFlag, "backup-out": stringFlag,
		"state-out": stringFlag}.with(stateRW), min: 2, max: 2,
		rule: unless("dry-run", classify.Read, "dry run",
			classify.Destructive, "moves objects to other state addresses (or another state file): the configuration no longer manages them where it did, and the next apply may destroy or recreate them")},
	"state pull": {rule: fixed(classify.Secret, "prints the raw state, sensitive values included")},
	"state push": {flags: flagSet{"force": boolFlag}.with(lockFlags, remoteVer), min: 1, max: 1,
		rule: fixed(classify.Destructive, "replaces the whole remote state")},
	"state replace-provider": {flags: flagSet{"auto-approve": boolFlag}.with(stateRW), min: 2, max: 2,
		rule: fixed(classify.Destructive, "rewrites provider addresses in the state: objects move to another provider, which the next apply may destroy or recreate them with")},
	"state rm": {flags: flagSet{"dry-run": boolFlag}.with(stateRW), min: 1, max: -1,
		rule: unless("dry-run", classify.Read, "dry run", classify.Destructive, "removes objects from the state")},
	"state show": {flags: flagSet{"state": stringFlag, "show-sensitive": boolFlag}, min: 1, max: 1,
		rule: unless("show-sensitive", classify.Secret, "shows sensitive values", classify.Read, "shows one object, sensitive values redacted")},
	"taint": {flags: taintSet, min: 1, max: 1,
		rule: fixed(classify.Destructive, "marks an object for replacement by the next apply")},
	"untaint": {flags: taintSet, min: 1, max: 1,
		rule: fixed(classify.Write, "clears an object's replacement mark")},
	"test": {flags: flagSet{"junit-xml": stringFlag, "filter": stringFlag, "verbose": boolFlag,
		"json": boolFlag, "test-directory": stringFlag, "cloud-run": stringFlag,
		"parallelism": intFlag}.with(varFlags), view: true,
		rule: fixed(classify.Exec, "test creates and destroys real infrastructure and runs assertions")},
	"validate": {flags: flagSet{"json": boolFlag, "no-tests": boolFlag, "test-directory": stringFlag},
		view: true, max: 1, rule: fixed(classify.Read, "validates the configuration")},
	"version": {flags: flagSet{"json": boolFlag, "v": boolFlag, "version": boolFlag}, max: -1,
		rule: fixed(classify.Read, "prints the version")},
	// push and internal-plugin are hidden or removed; terraform refuses them.
}

func init() {
	for _, prefix := range []string{"workspace", "env"} {
		for sub, c := range workspaceCmds {
			commands[prefix+sub] = c
		}
	}
}

func applyRule(p *parsed) verdict {
	switch {
	case len(p.Args) > 1:
		return bad("too many command line arguments: expected at most one plan file")
	case p.isTrue("destroy") && p.isTrue("refresh-only"):
		return bad("-destroy and -refresh-only are mutually exclusive")
	case p.isTrue("json") && len(p.Args) == 0 && !p.isTrue("auto-approve"):
		return bad("-json needs a plan file or -auto-approve")
	}
	if len(p.Args) == 1 {
		for _, f := range []string{"var", "var-file", "destroy", "refresh-only", "target", "replace", "exclude", "target-file", "exclude-file", "refresh"} {
			if p.has(f) {
				return bad(fmt.Sprintf("-%s cannot be used when applying a saved plan", f))
			}
		}
		return verdict{Class: classify.Write, Reason: "applies a saved plan", Mode: planApply}
	}
	return verdict{Class: classify.Write, Reason: "applies a new plan", Mode: planApply}
}

func destroyRule(p *parsed) verdict {
	switch {
	case len(p.Args) > 0:
		return bad("destroy cannot be called with a plan file")
	case p.has("destroy"), p.has("refresh-only"):
		return bad("-destroy and -refresh-only are not valid for destroy")
	}
	return verdict{Class: classify.Destructive, Reason: "destroys managed objects", Mode: planDestroy}
}

func planRule(p *parsed) verdict {
	if p.isTrue("destroy") && p.isTrue("refresh-only") {
		return bad("-destroy and -refresh-only are mutually exclusive")
	}
	if out, ok := p.last("generate-config-out"); ok {
		return verdict{Class: classify.Write, Reason: fmt.Sprintf("-generate-config-out writes generated configuration to %q in the working tree", out)}
	}
	if out, ok := p.last("out"); ok {
		return verdict{Class: classify.Read, Reason: fmt.Sprintf("plans and saves the plan to %q", out)}
	}
	return verdict{Class: classify.Read, Reason: "plans without changing anything"}
}

// initReadFlags are the flags a read-only init may have besides its
// three required ones: they change how terraform asks and prints, not
// what it installs.
var initReadFlags = map[string]bool{"lockfile": true, "backend": true, "cloud": true, "get": true,
	"input": true, "json": true, "lock": true, "lock-timeout": true}

// initRule classifies init. It is a write (providers, modules, the
// backend; see docs/terraform.md), except in the one form terraform holds
// to installing the providers the lock file pins, as it pins them:
// -lockfile=readonly (the lock file is not changed: a provider it does not
// pin, or pins with no matching hash, fails), -backend=false (or
// -cloud=false: no backend is configured, contacted or migrated) and
// -get=false (no module is fetched), with no positional argument and no
// flag but the view and locking ones. That form is a read: run in the
// read sandbox, which reaches no network, it installs only from the
// filesystem mirrors and the plugin cache the CLI configuration names
// into the working directory's .terraform.
func initRule(p *parsed) verdict {
	write := verdict{Class: classify.Write, Reason: "installs providers and modules and configures the backend"}
	if len(p.Args) > 0 {
		return write
	}
	for _, f := range p.Flags {
		if !initReadFlags[f.Name] {
			return write
		}
	}
	lock, _ := p.last("lockfile")
	noBackend := (p.has("backend") || p.has("cloud")) &&
		(!p.has("backend") || !p.isTrue("backend")) && (!p.has("cloud") || !p.isTrue("cloud"))
	if lock != "readonly" || !noBackend || !p.has("get") || p.isTrue("get") {
		return write
	}
	return verdict{Class: classify.Read, Reason: "installs only the providers the lock file pins, from local mirrors (-lockfile=readonly -backend=false -get=false: no module, no backend, the lock file unchanged)"}
}

func fmtRule(p *parsed) verdict {
	for _, a := range p.Args {
		if a == "-" {
			return verdict{Class: classify.Read, Reason: "formats standard input to standard output"}
		}
	}
	if p.isTrue("check") {
		return verdict{Class: classify.Read, Reason: "-check only reports unformatted files"}
	}
	if p.has("write") && !p.isTrue("write") {
		return verdict{Class: classify.Read, Reason: "-write=false only prints"}
	}
	return verdict{Class: classify.Write, Reason: "rewrites configuration files in place"}
}

func showRule(p *parsed) verdict {
	if p.isTrue("json") || p.isTrue("show-sensitive") {
		return verdict{Class: classify.Secret, Reason: "show -json prints state and plan values, sensitive ones included"}
	}
	return verdict{Class: classify.Read, Reason: "shows state or a plan, sensitive values redacted"}
}

// noNested is the rule of a command with subcommands given none it has
// (terraform state, terraform state frob): terraform prints the command's
// help and exits 1.
func noNested(cmd string) func(*parsed) verdict {
	return func(p *parsed) verdict {
		why := fmt.Sprintf("no %s subcommand given", cmd)
		if len(p.Args) > 0 {
			why = fmt.Sprintf("%q is not a %s subcommand", p.Args[0], cmd)
		}
		return verdict{Class: classify.Unknown, Refuse: true,
			Reason: why + fmt.Sprintf(": terraform would only print the help of %q and exit 1, doing nothing (see terraform %s -help)", cmd, cmd)}
	}
}

func bad(reason string) verdict {
	return verdict{Class: classify.Unknown, Reason: reason + " (terraform rejects this)"}
}
