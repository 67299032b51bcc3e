package kubectl

import (
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/classify"
)

// tc is one table case. args are split on spaces unless argv is set.
type tc struct {
	name  string
	args  string
	argv  []string
	stdin string
	want  classify.Class
	sub   string // expected Subcommand, when set
	check func(t *testing.T, a *classify.Assessment)
}

func (c tc) argList() []string {
	if c.argv != nil {
		return c.argv
	}
	return strings.Fields(c.args)
}

const (
	R = classify.Read
	W = classify.Write
	D = classify.Destructive
	X = classify.Exec
	S = classify.Secret
	P = classify.Privilege
	U = classify.Unknown
)

func runTable(t *testing.T, cases []tc) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := classifyArgs(t, c.argList(), c.stdin)
			if a.Class != c.want {
				t.Fatalf("class = %s, want %s\n%s", a.Class, c.want, dump(a))
			}
			if c.sub != "" && a.Subcommand != c.sub {
				t.Errorf("subcommand = %q, want %q", a.Subcommand, c.sub)
			}
			if c.check != nil {
				c.check(t, a)
			}
		})
	}
}

// toolError checks that kubectl itself would reject the command, with
// exactly this stderr and exit code.
func toolError(code int, stderr string) func(*testing.T, *classify.Assessment) {
	return func(t *testing.T, a *classify.Assessment) {
		t.Helper()
		if a.ToolError == nil || a.ToolError.Stderr != stderr || a.ToolError.ExitCode != code {
			t.Errorf("tool error = %+v, want exit %d and %q", a.ToolError, code, stderr)
		}
	}
}

func ns(want string) func(*testing.T, *classify.Assessment) {
	return func(t *testing.T, a *classify.Assessment) {
		t.Helper()
		if len(a.Resources) == 0 || a.Resources[0].Namespace != want {
			t.Errorf("resource namespace: want %q\n%s", want, dump(a))
		}
	}
}

func kinds(want ...string) func(*testing.T, *classify.Assessment) {
	return func(t *testing.T, a *classify.Assessment) {
		t.Helper()
		var got []string
		for _, r := range a.Resources {
			got = append(got, r.Kind)
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("kinds = %v, want %v", got, want)
		}
	}
}

func dry(t *testing.T, a *classify.Assessment) {
	t.Helper()
	if !a.DryRun {
		t.Errorf("DryRun = false, want true")
	}
}

func notDry(t *testing.T, a *classify.Assessment) {
	t.Helper()
	if a.DryRun {
		t.Errorf("DryRun = true, want false")
	}
}

func TestFlagsAndSubcommands(t *testing.T) {
	runTable(t, []tc{
		{name: "flags before verb: -n prod delete pod", args: "-n prod delete pod a", want: D, sub: "delete", check: ns("prod")},
		{name: "flags before verb: -n prod --context=x delete pod", args: "-n prod --context=prod delete pod a", want: D, check: func(t *testing.T, a *classify.Assessment) {
			if a.Target.Context != "prod" || a.Target.Server != "https://127.0.0.2:6443" || a.Target.User != "prod-admin" {
				t.Errorf("target = %+v", a.Target)
			}
		}},
		{name: "--context x with a separate value before the verb", args: "--context prod get pods", want: R, sub: "get"},
		{name: "-nprod attached shorthand value", args: "-nprod get pods", want: R, check: ns("prod")},
		{name: "--namespace=prod", args: "--namespace=prod get pods", want: R, check: ns("prod")},
		{name: "-n=prod shorthand with equals", args: "-n=prod get pods", want: R, check: ns("prod")},
		{name: "namespace from the kubeconfig context", args: "get pods", want: R, check: ns("team-a")},
		{name: "namespace defaults to default without a context namespace", args: "--context prod get pods", want: R, check: ns("default")},
		{name: "-A lists all namespaces", args: "get pods -A", want: R, check: ns("*")},
		{name: "-v 8 with a separate value before the verb", args: "-v 8 get pods", want: R, sub: "get"},
		{name: "--request-timeout 5s before delete", args: "--request-timeout 5s delete pod a", want: D, sub: "delete"},
		{name: "bool root flag before verb does not eat it", args: "--warnings-as-errors delete pod a", want: D, sub: "delete"},
		{name: "flag after the resource", args: "delete pod a -n prod", want: D, check: ns("prod")},
		{name: "word separator normalization --dry_run", args: "apply --dry_run=server -f manifests/deploy.yaml", want: R, check: dry},
		{name: "nested subcommand rollout restart", args: "rollout restart deploy/web", want: W, sub: "rollout restart"},
		{name: "nested subcommand create secret generic", args: "create secret generic db --from-literal=a=b", want: W, sub: "create secret generic"},
		{name: "command alias config use", args: "config use prod", want: W, sub: "config use-context"},
		{name: "create alias create cm", args: "create cm c --from-literal=a=b", want: W, sub: "create configmap"},
		{name: "kubectl alone does nothing: refused", args: "", want: U},
		{name: "help flag prints help only", args: "delete pod a -h", want: R},
		{name: "help command", args: "help delete", want: R, sub: "help"},
		{name: "unknown flag is rejected by kubectl", args: "get pods --frobnicate", want: U},
		{name: "bad flag value is rejected by kubectl", args: "scale deploy web --replicas=many", want: U},
		{name: "bad -v value is rejected", args: "-v=loud get pods", want: U},
		{name: "unknown verb is a plugin dispatch", args: "foo bar", want: X, sub: "foo"},
		{name: "kubectl foo plugin", args: "foo", want: X},
		{name: "unknown verb without a plugin on PATH: kubectl's own usage error", args: "gte pods", want: U,
			check: toolError(1, "error: unknown command \"gte\" for \"kubectl\"\n\nDid you mean this?\n\tget\n")},
		{name: "unknown verb, no suggestion, no plugin", args: "xyzzy", want: U,
			check: toolError(1, "error: unknown command \"xyzzy\" for \"kubectl\"\n")},
		{name: "dashes become underscores in plugin names: kubectl-foo is not kubectl-foo_x", args: "foo-x", want: U,
			check: toolError(1, "error: unknown command \"foo-x\" for \"kubectl\"\n")},
		{name: "unknown create subcommand is a plugin dispatch", args: "create foo x", want: X, sub: "create"},
		{name: "flag of a subcommand before the verb: kubectl refuses a plugin after a flag", args: "-A get pods", want: U},
		{name: "root flag before an unknown verb: kubectl refuses", args: "-n prod foo", want: U,
			check: toolError(1, "Error: flags cannot be placed before plugin name: -n\n")},
		{name: "pipe as an argument", args: "get pods | grep web", want: U},
		{name: "semicolon glued to an argument", args: "get pods; rm -rf /", want: U},
		{name: "&& as an argument", args: "get pods && kubectl delete ns prod", want: U},
		{name: "command substitution", argv: []string{"get", "secret", "$(cat name)"}, want: U},
		{name: "backticks", argv: []string{"get", "pods", "`id`"}, want: U},
		{name: "redirect", args: "get pods > out.txt", want: U},
		{name: "shell syntax after -- of exec is the container's business", argv: []string{"exec", "web", "--", "sh", "-c", "ls | wc -l; echo $(id)"}, want: X},
		{name: "shell syntax before -- of exec is still refused", argv: []string{"exec", "web;", "--", "sh"}, want: U},
		{name: "shell syntax after -- of a non-exec command is refused", argv: []string{"get", "pods", "--", "a|"}, want: U},
		{name: "go-template pipe inside braces is not shell syntax", argv: []string{"get", "pods", "-o", `go-template={{range .items}}{{.metadata.name | printf "%s"}}{{end}}`}, want: R},
		{name: "jsonpath filter is not shell syntax", argv: []string{"get", "pods", "-o", `jsonpath={.items[?(@.status.phase=="Running")].metadata.name}`}, want: R},
		{name: "kuberc flag is neutralised", args: "--kuberc /tmp/rc get pods", want: R, check: func(t *testing.T, a *classify.Assessment) {
			if len(a.Exec.Env) == 0 || a.Exec.Env[0] != "KUBECTL_KUBERC=false" {
				t.Errorf("Exec.Env = %v", a.Exec.Env)
			}
		}},
		{name: "missing --kubeconfig file is unknown", args: "--kubeconfig nope.yaml get pods", want: U},
		{name: "target never carries credentials", args: "--context prod get pods", want: R, check: func(t *testing.T, a *classify.Assessment) {
			if s := dump(a); strings.Contains(s, "must-never-leak") {
				t.Errorf("assessment leaks a token:\n%s", s)
			}
		}},
	})
}

func TestIdentityAndTarget(t *testing.T) {
	runTable(t, []tc{
		{name: "--as impersonates", args: "--as=admin get pods", want: P},
		{name: "--as-group impersonates", args: "get pods --as-group=system:masters", want: P},
		{name: "--as-uid impersonates", args: "--as-uid 42 get pods", want: P},
		{name: "--token replaces the identity", args: "--token abc get pods", want: P, check: func(t *testing.T, a *classify.Assessment) {
			for _, r := range a.Reasons {
				if strings.Contains(r.Message, "abc") {
					t.Errorf("reason repeats the token: %q", r.Message)
				}
			}
		}},
		{name: "--client-certificate replaces the identity", args: "--client-certificate c.pem get pods", want: P},
		{name: "--client-key replaces the identity", args: "--client-key k.pem get pods", want: P},
		{name: "--username/--password", args: "--username u --password p get pods", want: P},
		{name: "--server with TLS checks off", args: "--server https://10.9.9.9 --insecure-skip-tls-verify get pods", want: S, check: func(t *testing.T, a *classify.Assessment) {
			if a.Target.Server != "https://10.9.9.9" {
				t.Errorf("server = %q", a.Target.Server)
			}
		}},
		{name: "-s with its own CA", args: "-s https://10.9.9.9 --certificate-authority ca.pem get pods", want: S},
		{name: "--server alone keeps the kubeconfig CA", args: "--server https://127.0.0.1:7443 get pods", want: R},
		{name: "TLS checks off without --server", args: "--insecure-skip-tls-verify get pods", want: S},
		{name: "--insecure-skip-tls-verify=false is not off", args: "--insecure-skip-tls-verify=false --server https://x get pods", want: R},
		{name: "--user picks a kubeconfig entry: recorded, not raised", args: "--user prod-admin get pods", want: R, check: func(t *testing.T, a *classify.Assessment) {
			if a.Target.User != "prod-admin" {
				t.Errorf("user = %q", a.Target.User)
			}
		}},
		{name: "--cluster overrides the context's cluster", args: "--cluster prod-cluster get pods", want: R, check: func(t *testing.T, a *classify.Assessment) {
			if a.Target.Cluster != "prod-cluster" || a.Target.Server != "https://127.0.0.2:6443" {
				t.Errorf("target = %+v", a.Target)
			}
		}},
	})
}
