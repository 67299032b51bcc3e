package terraform

import (
	"testing"

	"github.com/agentctl/agentctl/pkg/classify"
)

const (
	R = classify.Read
	W = classify.Write
	D = classify.Destructive
	E = classify.Exec
	S = classify.Secret
	P = classify.Privilege
	U = classify.Unknown
)

type argvCase struct {
	name string
	args []string
	env  []string
	want classify.Class
	plan bool // the class comes from a plan
}

func a(s ...string) []string { return s }

var argvCases = []argvCase{
	// global options
	{name: "no arguments: only help, refused", args: a(), want: U},
	{name: "-chdir before the subcommand", args: a("-chdir=infra", "plan"), want: R},
	{name: "-chdir before the subcommand with apply", args: a("-chdir=infra", "apply"), want: W, plan: true},
	{name: "-chdir without equals is rejected", args: a("-chdir", "infra", "plan"), want: U},
	{name: "-chdir= empty is rejected", args: a("-chdir=", "plan"), want: U},
	{name: "-chdir after the subcommand is a plan flag terraform rejects", args: a("plan", "-chdir=infra"), want: U},
	{name: "-chdir after apply is rejected, not applied", args: a("apply", "-chdir=infra"), want: U},
	{name: "unknown global option", args: a("-foo", "plan"), want: U},
	{name: "-help anywhere: help for destroy", args: a("destroy", "-help"), want: R},
	{name: "-h before subcommand", args: a("-h", "apply"), want: R},
	{name: "--help after flags", args: a("apply", "-auto-approve", "--help"), want: R},
	{name: "-help after -- is a plan file name", args: a("apply", "--", "-help"), want: W, plan: true},
	{name: "-version anywhere", args: a("apply", "-version"), want: R},
	{name: "-v before subcommand", args: a("-v"), want: R},
	{name: "--version", args: a("--version"), want: R},
	{name: "install-autocomplete edits the shell profile", args: a("-install-autocomplete"), want: W},
	{name: "-no-color is stripped anywhere", args: a("plan", "-no-color"), want: R},
	// unknown subcommands
	{name: "unknown subcommand", args: a("frobnicate"), want: U},
	{name: "removed push command", args: a("push"), want: U},
	{name: "hidden internal-plugin", args: a("internal-plugin"), want: U},
	{name: "misspelled nested command", args: a("statex", "list"), want: U},
	{name: "one word with a space is no command: only help, refused", args: a("state list"), want: U},
	// init, validate, plan
	{name: "init", args: a("init"), want: W},
	{name: "init -upgrade", args: a("init", "-upgrade"), want: W},
	{name: "init -backend-config=file", args: a("init", "-backend-config=prod.hcl", "-reconfigure"), want: W},
	{name: "init -migrate-state -force-copy", args: a("init", "-migrate-state", "-force-copy"), want: W},
	{name: "init with an unknown flag", args: a("init", "-yolo"), want: U},
	{name: "init of the pinned providers only is a read", args: a("init", "-lockfile=readonly", "-backend=false", "-get=false"), want: R},
	{name: "init read-only with -cloud=false, view and lock flags", args: a("init", "-input=false", "-no-color", "-json", "-get=false", "-cloud=false", "-lockfile", "readonly", "-lock-timeout=5s"), want: R},
	{name: "init read-only, -backend given twice, last false", args: a("init", "-backend=true", "-backend=false", "-lockfile=readonly", "-get=false"), want: R},
	{name: "init -lockfile=readonly alone configures the backend", args: a("init", "-lockfile=readonly"), want: W},
	{name: "init without -get=false fetches modules", args: a("init", "-lockfile=readonly", "-backend=false"), want: W},
	{name: "init -get=false, later -get=true", args: a("init", "-lockfile=readonly", "-backend=false", "-get=false", "-get=true"), want: W},
	{name: "init without -backend=false", args: a("init", "-lockfile=readonly", "-get=false"), want: W},
	{name: "init -backend=false -cloud=true", args: a("init", "-lockfile=readonly", "-backend=false", "-cloud", "-get=false"), want: W},
	{name: "init without a readonly lock file may change it", args: a("init", "-backend=false", "-get=false"), want: W},
	{name: "init -lockfile=readonly later overridden", args: a("init", "-lockfile=readonly", "-lockfile=other", "-backend=false", "-get=false"), want: W},
	{name: "init read-only form with -upgrade", args: a("init", "-lockfile=readonly", "-backend=false", "-get=false", "-upgrade"), want: W},
	{name: "init read-only form with -plugin-dir", args: a("init", "-lockfile=readonly", "-backend=false", "-get=false", "-plugin-dir=/opt/p"), want: W},
	{name: "init read-only form with -from-module", args: a("init", "-lockfile=readonly", "-backend=false", "-get=false", "-from-module=git::https://x/y"), want: W},
	{name: "init read-only form with -backend-config", args: a("init", "-lockfile=readonly", "-backend=false", "-get=false", "-backend-config=prod.hcl"), want: W},
	{name: "init read-only form with -var", args: a("init", "-lockfile=readonly", "-backend=false", "-get=false", "-var=x=1"), want: W},
	{name: "init read-only form with a directory argument", args: a("init", "-lockfile=readonly", "-backend=false", "-get=false", "infra"), want: W},
	{name: "validate", args: a("validate"), want: R},
	{name: "validate -json", args: a("validate", "-json"), want: R},
	{name: "plan", args: a("plan"), want: R},
	{name: "plan -destroy", args: a("plan", "-destroy"), want: R},
	{name: "plan -refresh-only", args: a("plan", "-refresh-only"), want: R},
	{name: "plan -out", args: a("plan", "-out=tf.plan"), want: R},
	{name: "plan -out separate value", args: a("plan", "-out", "tf.plan"), want: R},
	{name: "plan -var with separate value", args: a("plan", "-var", "x=1", "-var-file=a.tfvars"), want: R},
	{name: "plan with a directory argument is rejected", args: a("plan", "infra"), want: U},
	{name: "plan -destroy -refresh-only conflict", args: a("plan", "-destroy", "-refresh-only"), want: U},
	{name: "plan -parallelism not a number", args: a("plan", "-parallelism=many"), want: U},
	{name: "plan -lock-timeout duration", args: a("plan", "-lock-timeout=30s"), want: R},
	{name: "plan -lock-timeout bad duration", args: a("plan", "-lock-timeout=30"), want: U},
	{name: "plan -lock=maybe is not a bool", args: a("plan", "-lock=maybe"), want: U},
	{name: "plan --double-dash flag", args: a("plan", "--refresh=false"), want: R},
	// apply
	{name: "apply", args: a("apply"), want: W, plan: true},
	{name: "apply -auto-approve", args: a("apply", "-auto-approve"), want: W, plan: true},
	{name: "apply -destroy", args: a("apply", "-destroy"), want: W, plan: true},
	{name: "apply -replace=", args: a("apply", "-replace=aws_instance.a"), want: W, plan: true},
	{name: "apply -target=", args: a("apply", "-target=module.x"), want: W, plan: true},
	{name: "apply -refresh-only", args: a("apply", "-refresh-only", "-auto-approve"), want: W, plan: true},
	{name: "apply plan file", args: a("apply", "tf.plan"), want: W, plan: true},
	{name: "apply -auto-approve plan file", args: a("apply", "-auto-approve", "tf.plan"), want: W, plan: true},
	{name: "apply plan file then flag: too many arguments", args: a("apply", "plan.tfplan", "-auto-approve"), want: U},
	{name: "apply two plan files", args: a("apply", "a.tfplan", "b.tfplan"), want: U},
	{name: "apply plan file with -var", args: a("apply", "-var=x=1", "tf.plan"), want: U},
	{name: "apply plan file with -destroy", args: a("apply", "-destroy", "tf.plan"), want: U},
	{name: "apply -json without plan or auto-approve", args: a("apply", "-json"), want: U},
	{name: "apply -json -auto-approve", args: a("apply", "-json", "-auto-approve"), want: W, plan: true},
	{name: "apply -destroy -refresh-only conflict", args: a("apply", "-destroy", "-refresh-only"), want: U},
	{name: "apply -auto-approve=false is a bool value", args: a("apply", "-auto-approve=false"), want: W, plan: true},
	{name: "apply unknown flag", args: a("apply", "-force"), want: U},
	{name: "apply after --: plan file named like a flag", args: a("apply", "--", "-x.tfplan"), want: W, plan: true},
	// destroy
	{name: "destroy", args: a("destroy"), want: D, plan: true},
	{name: "destroy -auto-approve -target", args: a("destroy", "-auto-approve", "-target=a.b"), want: D, plan: true},
	{name: "destroy with a plan file is rejected", args: a("destroy", "tf.plan"), want: U},
	{name: "destroy -destroy is rejected", args: a("destroy", "-destroy"), want: U},
	// other commands
	{name: "console", args: a("console"), want: S},
	{name: "console with an argument is rejected", args: a("console", "dir"), want: U},
	{name: "fmt rewrites", args: a("fmt"), want: W},
	{name: "fmt -recursive dir", args: a("fmt", "-recursive", "modules"), want: W},
	{name: "fmt -check is a read", args: a("fmt", "-check"), want: R},
	{name: "fmt -write=false is a read", args: a("fmt", "-write=false", "-diff"), want: R},
	{name: "fmt - reads stdin", args: a("fmt", "-"), want: R},
	{name: "fmt -check=false rewrites", args: a("fmt", "-check=false"), want: W},
	{name: "force-unlock", args: a("force-unlock", "-force", "1234"), want: D},
	{name: "force-unlock without id", args: a("force-unlock"), want: U},
	{name: "get", args: a("get", "-update"), want: W},
	{name: "graph", args: a("graph", "-type=plan"), want: R},
	{name: "graph -module-depth bad int", args: a("graph", "-module-depth=x"), want: U},
	{name: "import", args: a("import", "aws_instance.a", "i-123"), want: W},
	{name: "import missing id", args: a("import", "aws_instance.a"), want: U},
	{name: "login", args: a("login"), want: P},
	{name: "logout", args: a("logout"), want: W},
	{name: "metadata alone: only help, refused", args: a("metadata"), want: U},
	{name: "metadata functions -json", args: a("metadata", "functions", "-json"), want: R},
	{name: "output", args: a("output"), want: S},
	{name: "output -raw name", args: a("output", "-raw", "password"), want: S},
	{name: "providers", args: a("providers"), want: R},
	{name: "providers lock", args: a("providers", "lock", "-platform=linux_amd64"), want: W},
	{name: "providers mirror", args: a("providers", "mirror", "/tmp/m"), want: W},
	{name: "providers schema -json", args: a("providers", "schema", "-json"), want: R},
	{name: "refresh", args: a("refresh"), want: W},
	{name: "show", args: a("show"), want: R},
	{name: "show plan file", args: a("show", "tf.plan"), want: R},
	{name: "show -json of state is secret", args: a("show", "-json"), want: S},
	{name: "show -json plan file is secret", args: a("show", "-json", "tf.plan"), want: S},
	{name: "state alone: only help, refused", args: a("state"), want: U},
	{name: "state list", args: a("state", "list"), want: R},
	{name: "state list -id", args: a("state", "list", "-id=i-1"), want: R},
	{name: "state mv", args: a("state", "mv", "a.b", "a.c"), want: D},
	{name: "state mv -dry-run", args: a("state", "mv", "-dry-run", "a.b", "a.c"), want: R},
	{name: "state pull", args: a("state", "pull"), want: S},
	{name: "state push", args: a("state", "push", "-force", "x.tfstate"), want: D},
	{name: "state replace-provider", args: a("state", "replace-provider", "-auto-approve", "a/b", "c/d"), want: D},
	{name: "state rm", args: a("state", "rm", "aws_instance.a"), want: D},
	{name: "state rm -dry-run", args: a("state", "rm", "-dry-run", "aws_instance.a"), want: R},
	{name: "state show", args: a("state", "show", "aws_instance.a"), want: R},
	{name: "state unknown nested command: only help, refused", args: a("state", "frob"), want: U},
	{name: "taint", args: a("taint", "aws_instance.a"), want: D},
	{name: "untaint", args: a("untaint", "aws_instance.a"), want: W},
	{name: "test runs infrastructure", args: a("test"), want: E},
	{name: "version", args: a("version", "-json"), want: R},
	{name: "workspace alone: only help, refused", args: a("workspace"), want: U},
	{name: "workspace list", args: a("workspace", "list"), want: R},
	{name: "workspace show", args: a("workspace", "show"), want: R},
	{name: "workspace select", args: a("workspace", "select", "prod"), want: W},
	{name: "workspace new", args: a("workspace", "new", "dev"), want: W},
	{name: "workspace delete", args: a("workspace", "delete", "-force", "dev"), want: D},
	{name: "env alias: env list", args: a("env", "list"), want: R},
	{name: "env alias: env delete", args: a("env", "delete", "dev"), want: D},
	// TF_CLI_ARGS
	{name: "TF_CLI_ARGS_apply=-auto-approve changes nothing", args: a("apply"), env: a("TF_CLI_ARGS_apply=-auto-approve"), want: W, plan: true},
	{name: "TF_CLI_ARGS_plan=-destroy keeps plan a read", args: a("plan"), env: a("TF_CLI_ARGS_plan=-destroy"), want: R},
	{name: "TF_CLI_ARGS makes apply of a plan file ambiguous", args: a("apply", "tf.plan"), env: a("TF_CLI_ARGS=-var=x=1"), want: U},
	{name: "TF_CLI_ARGS_init=-reconfigure makes the read-only init a write", args: a("init", "-lockfile=readonly", "-backend=false", "-get=false"), env: a("TF_CLI_ARGS_init=-reconfigure"), want: W},
	{name: "TF_CLI_ARGS_init=-backend=true is overridden by the argv's -backend=false", args: a("init", "-lockfile=readonly", "-backend=false", "-get=false"), env: a("TF_CLI_ARGS_init=-backend=true"), want: R},
	{name: "TF_CLI_ARGS_init can make init the read-only form", args: a("init"), env: a("TF_CLI_ARGS_init=-lockfile=readonly -backend=false -get=false"), want: R},
	{name: "TF_CLI_ARGS_show=-json makes show secret", args: a("show"), env: a("TF_CLI_ARGS_show=-json"), want: S},
	{name: "TF_CLI_ARGS_state_rm applies to state rm", args: a("state", "rm", "x.y"), env: a("TF_CLI_ARGS_state_rm=-dry-run"), want: R},
	{name: "TF_CLI_ARGS with -chdir is rejected by the subcommand", args: a("plan"), env: a("TF_CLI_ARGS=-chdir=/etc"), want: U},
	{name: "TF_CLI_ARGS with quotes", args: a("plan"), env: a(`TF_CLI_ARGS=-var 'name=a b'`), want: R},
	{name: "TF_CLI_ARGS with a shell operator is refused", args: a("plan"), env: a("TF_CLI_ARGS=-refresh=false; rm -rf /"), want: U},
	{name: "TF_CLI_ARGS unterminated quote", args: a("plan"), env: a(`TF_CLI_ARGS=-var 'x`), want: U},
	{name: "TF_CLI_ARGS -version turns any command into version", args: a("destroy"), env: a("TF_CLI_ARGS=-version"), want: R},
	{name: "TF_CLI_ARGS_plan does not reach apply", args: a("apply"), env: a("TF_CLI_ARGS_plan=-frob"), want: W, plan: true},
	{name: "empty TF_CLI_ARGS is ignored", args: a("output"), env: a("TF_CLI_ARGS="), want: S},
}

func TestClassifyArgs(t *testing.T) {
	if len(argvCases) < 80 {
		t.Fatalf("only %d cases", len(argvCases))
	}
	for _, tc := range argvCases {
		t.Run(tc.name, func(t *testing.T) {
			var v verdict
			cl, err := parseCmdline(tc.args, tc.env)
			if err != nil {
				v = verdict{Class: classify.Unknown, Reason: err.Error()}
			} else {
				v = classifyArgs(cl)
			}
			if v.Class != tc.want {
				t.Errorf("terraform %q: class %s (%s), want %s", tc.args, v.Class, v.Reason, tc.want)
			}
			if got := v.Mode != noPlan; got != tc.plan {
				t.Errorf("terraform %q: planned %v, want %v", tc.args, got, tc.plan)
			}
		})
	}
}
