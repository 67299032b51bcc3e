// Package terraform classifies terraform and OpenTofu command lines for
// agentctl, and turns an apply into "apply exactly this plan file".
//
// # Arguments
//
// A command line is read the way terraform's own main reads it (v1.5 and
// later, and OpenTofu):
//
//   - -chdir=DIR is taken from the flags before the subcommand, only with
//     "="; it sets the assessment's Target.Dir.
//   - TF_CLI_ARGS and then TF_CLI_ARGS_<cmd> (from the request's
//     environment) are split like a shell would, without variables or
//     substitution, and inserted right after the subcommand, exactly where
//     terraform inserts them. Shell operators, backquotes and $( ) in them
//     are refused (class unknown): go-shellwords would silently stop there.
//   - -v, -version or --version anywhere makes the command "version";
//     -h, -help or --help before "--" makes it help. Both are reads.
//   - The subcommand is the longest known command ("state list",
//     "providers lock", "workspace new", its alias "env new", ...).
//   - Its flags are parsed with Go's flag rules, from tables of every flag
//     each subcommand accepts. An unknown flag, a bad value, a conflicting
//     pair (-destroy with -refresh-only) or the wrong number of positional
//     arguments ("apply plan.tfplan -auto-approve": flags stop at the plan
//     file) make the command unknown, since terraform would refuse it.
//   - No subcommand, a command group without one of its commands (state,
//     workspace, metadata) and a command terraform does not have are
//     unknown and refused: terraform would only print help or an error.
//   - Shell syntax in any argument ([classify.ShellSyntax]) is unknown.
//   - A -chdir that is no directory is a read that runs only
//     "terraform -chdir=DIR version": terraform stops at -chdir with its
//     own error and exit code.
//
// The classes of the subcommands are listed in docs/terraform.md.
//
// # Plans
//
// apply and destroy are classified from a plan, never from their words.
// Without a plan file, [Classifier.Classify] runs
//
//	terraform plan -input=false -out=<file in Options.ScratchDir> [-destroy] <the agent's plan flags>
//
// in the target directory (the agent's -var, -var-file, -target, -replace,
// -refresh, -refresh-only, -parallelism, -lock, -lock-timeout and -state
// are carried in order), reads it with terraform show -json
// ([ParsePlanJSON]) and renders it with terraform show -no-color. With a plan file
// from the agent, that file is read instead. The assessment's Plan holds
// the file's path, its SHA-256, terraform's summary line and the rendered
// plan; its Exec is
//
//	terraform apply -input=false [-parallelism= -lock= -lock-timeout= -state= -state-out= -backup= -json] <plan file>
//
// which the executor runs only after checking the hash again
// (run.ApplyPlan). -auto-approve from the agent is never carried: a saved
// plan needs none, and agentctl's own gate decides.
//
// [AssessPlan] maps every resource change to create, update, delete,
// replace, read, no-op or forget: delete, replace and forget are
// destructive, create and update are writes, and a change to a type that
// matches a privilege pattern ([Privilege], policies/
// terraform-privilege-types.yaml plus Options.ExtraPrivilegeTypes) is a
// privilege change, as is a change of a resource that carries Kubernetes
// manifests (kubernetes_manifest, kubectl_manifest, helm_release, ...)
// holding a privilege kind (see manifests.go). A plan of only no-ops and
// reads is a read. Changed
// outputs are writes; sensitive ones are marked as such in the reasons.
//
// # Environment
//
// TF_CLI_ARGS* are applied while classifying and must not be applied
// again: [ChildEnv] removes them, and every Exec carries the merged
// arguments instead. The plan agentctl makes runs with the request's
// environment minus TF_CLI_ARGS*, plus TF_IN_AUTOMATION=1 and TF_INPUT=0.
//
// terraform's CLI configuration (TF_CLI_CONFIG_FILE, else ~/.terraformrc;
// for tofu ~/.tofurc first) is read once and parsed
// ([ReadToolCLIConfig]); dev_overrides, credentials helpers, and
// filesystem mirrors, plugin caches and implied local mirrors outside the
// project are refused unless Options.Allow says otherwise. The plan and
// show run with TF_CLI_CONFIG_FILE at a copy in Options.ScratchDir; the
// assessment's Plan keeps the bytes and their SHA-256, and the SHA-256 of
// the lock file and the installed providers ([ProvidersSHA256]), which the
// apply checks again and runs with (run.ApplyPlan).
//
// The plan and show commands run through Options.Run, so that the CLI can
// run them in the read sandbox: a plan runs the configuration's providers
// and data sources. terraform-exec is not used for them because it
// cannot: it drops TF_WORKSPACE (the plan would be of another workspace),
// refuses TF_VAR_* and TF_CLI_ARGS* in the environment it is given, and
// starts its own child processes, outside any sandbox. Plans are read
// with terraform-json's types ([tfjson.Plan], [tfjson.Actions]).
//
// [Classifier.ClassifyOffline] assesses an invocation from its argv and
// plan JSON alone, for the approval inbox.
package terraform
