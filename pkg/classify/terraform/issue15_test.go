package terraform_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/classify/terraform"
	"github.com/agentctl/agentctl/pkg/request"
)

// classifyIn classifies a terraform command that needs no plan in cwd.
func classifyIn(t *testing.T, cwd string, args ...string) *classify.Assessment {
	t.Helper()
	a, err := terraform.New(terraform.Options{}).Classify(context.Background(),
		&request.Request{Tool: "terraform", Args: args, Cwd: cwd})
	if err != nil {
		t.Fatalf("classify terraform %q: %v", args, err)
	}
	return a
}

// What terraform 1.5.7 does with each command line; the classes of the
// commands that rewrite state or write files.
func TestStateRewritesAndFileWritesAreClassed(t *testing.T) {
	cwd := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want classify.Class
	}{
		{"state mv renames an address", argv("state", "mv", "aws_instance.a", "aws_instance.b"), classify.Destructive},
		{"state mv into another state file", argv("state", "mv", "-state-out=other.tfstate", "aws_instance.a", "aws_instance.a"), classify.Destructive},
		{"state mv -dry-run changes nothing", argv("state", "mv", "-dry-run", "aws_instance.a", "aws_instance.b"), classify.Read},
		{"state replace-provider", argv("state", "replace-provider", "hashicorp/aws", "example.com/acme/aws"), classify.Destructive},
		{"state replace-provider -auto-approve", argv("state", "replace-provider", "-auto-approve", "hashicorp/aws", "example.com/acme/aws"), classify.Destructive},
		{"state push replaces the state", argv("state", "push", "x.tfstate"), classify.Destructive},
		{"state push -force", argv("state", "push", "-force", "x.tfstate"), classify.Destructive},
		{"state rm", argv("state", "rm", "aws_instance.a"), classify.Destructive},
		{"taint forces a replacement", argv("taint", "aws_instance.a"), classify.Destructive},
		{"untaint", argv("untaint", "aws_instance.a"), classify.Write},
		{"import adds to the state", argv("import", "aws_instance.a", "i-1"), classify.Write},
		{"force-unlock", argv("force-unlock", "-force", "abc"), classify.Destructive},
		{"workspace delete", argv("workspace", "delete", "dev"), classify.Destructive},
		{"workspace new", argv("workspace", "new", "dev"), classify.Write},
		{"workspace select", argv("workspace", "select", "dev"), classify.Write},
		{"plan -generate-config-out writes configuration", argv("plan", "-generate-config-out=generated.tf"), classify.Write},
		{"plan -generate-config-out with a separate value", argv("plan", "-generate-config-out", "generated.tf"), classify.Write},
		{"plan -out writes only a plan file", argv("plan", "-out=tf.plan"), classify.Read},
		{"fmt rewrites files", argv("fmt", "-recursive"), classify.Write},
		{"fmt -check only reports", argv("fmt", "-check", "-diff"), classify.Read},
		{"fmt -diff still rewrites", argv("fmt", "-diff"), classify.Write},
		{"providers lock writes the lock file", argv("providers", "lock"), classify.Write},
		{"providers mirror writes a directory", argv("providers", "mirror", "mirror"), classify.Write},
		{"get downloads modules", argv("get"), classify.Write},
		{"init -upgrade", argv("init", "-upgrade"), classify.Write},
		{"graph prints", argv("graph"), classify.Read},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := classifyIn(t, cwd, tc.args...); got.Class != tc.want {
				t.Errorf("terraform %q: class %s, want %s; reasons %v", tc.args, got.Class, tc.want, got.Reasons)
			}
		})
	}
}

// terraform with no subcommand prints help (exit 127), a command group
// without one of its commands prints the group's help (exit 1), and a
// command terraform no longer has is an error: none does anything, and
// none is a read an agent could take for a result.
func TestNoSubcommandIsRefused(t *testing.T) {
	cwd := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		why  string
	}{
		{"terraform alone", argv(), "no terraform subcommand"},
		{"terraform -chdir=. alone", argv("-chdir=."), "no terraform subcommand"},
		{"state alone", argv("state"), "no state subcommand"},
		{"state with a command it lacks", argv("state", "frob"), `"frob" is not a state subcommand`},
		{"workspace alone", argv("workspace"), "no workspace subcommand"},
		{"removed push", argv("push"), `unknown subcommand "push"`},
		{"removed 0.12upgrade", argv("0.12upgrade"), `unknown subcommand "0.12upgrade"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := classifyIn(t, cwd, tc.args...)
			if got.Class != classify.Unknown || got.Refused == "" || !strings.Contains(got.Refused, tc.why) {
				t.Errorf("terraform %q: class %s refused %q, want unknown refused for %q", tc.args, got.Class, got.Refused, tc.why)
			}
		})
	}
	if got := classifyIn(t, cwd, "env", "list"); got.Class != classify.Read {
		t.Errorf("terraform env list (deprecated, still in 1.5.7): class %s, want read", got.Class)
	}
}

func TestUnexpandedShellConstructsAreUnknownForTerraform(t *testing.T) {
	cwd := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want classify.Class
	}{
		{"$VAR in -var", argv("plan", "-var=region=$REGION"), classify.Unknown},
		{"${VAR} in -target", argv("plan", "-target=module.${M}"), classify.Unknown},
		{"$(cmd) as a value", argv("plan", "-var", "image=$(cat img)"), classify.Unknown},
		{"$VAR in -chdir", argv("-chdir=$DIR", "plan"), classify.Unknown},
		{"tilde in a -var-file path", argv("plan", "-var-file", "~/prod.tfvars"), classify.Unknown},
		{"pipe", argv("state", "list", "|", "grep", "x"), classify.Unknown},
		{"a lone dollar is no expansion", argv("plan", "-var=price=5$"), classify.Read},
		{"HCL brackets are no expansion", argv("plan", `-target=aws_instance.a["x"]`), classify.Read},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := classifyIn(t, cwd, tc.args...)
			if got.Class != tc.want {
				t.Errorf("terraform %q: class %s, want %s; reasons %v", tc.args, got.Class, tc.want, got.Reasons)
			}
			if tc.want == classify.Unknown && !strings.Contains(got.Reasons[0].Message, "no shell runs") {
				t.Errorf("reason %q does not say that no shell runs", got.Reasons[0].Message)
			}
		})
	}
}

// terraform 1.5.7 stops at a -chdir that is no directory, before anything
// else: "Error handling -chdir option: chdir DIR: no such file or
// directory", exit 1. agentctl lets it say so instead of refusing.
func TestChdirToAMissingDirectoryRunsOnlyTerraformsError(t *testing.T) {
	cwd := t.TempDir()
	if err := os.WriteFile(filepath.Join(cwd, "file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{argv("-chdir=nope", "apply", "-auto-approve"), argv("-chdir=nope", "init"), argv("-chdir=file", "destroy"), argv("-chdir=nope")} {
		got := classifyIn(t, cwd, args...)
		if got.Class != classify.Read || got.Plan != nil {
			t.Errorf("terraform %q: class %s plan %v, want read without a plan; reasons %v", args, got.Class, got.Plan, got.Reasons)
		}
		if want := []string{args[0], "version"}; !reflect.DeepEqual(got.Exec.Args, want) {
			t.Errorf("terraform %q: exec %q, want %q", args, got.Exec.Args, want)
		}
	}
}

// Kubernetes objects inside terraform resources: the type says nothing,
// the manifest does.
func TestKubernetesManifestsInPlansArePrivilege(t *testing.T) {
	change := func(typ string, before, after, unknown any, actions ...tfjson.Action) *tfjson.ResourceChange {
		return &tfjson.ResourceChange{Address: typ + ".x", Type: typ, Name: "x", Mode: tfjson.ManagedResourceMode,
			Change: &tfjson.Change{Actions: actions, Before: before, After: after, AfterUnknown: unknown}}
	}
	obj := func(kind string) map[string]any {
		return map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": map[string]any{"name": "n"}}
	}
	crb := "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: agent-admin\nroleRef: {kind: ClusterRole, name: cluster-admin}\n"
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
	create, del, update := tfjson.ActionCreate, tfjson.ActionDelete, tfjson.ActionUpdate
	for _, tc := range []struct {
		name string
		rc   *tfjson.ResourceChange
		want classify.Class
	}{
		{"kubernetes_manifest ClusterRoleBinding", change("kubernetes_manifest", nil, map[string]any{"manifest": obj("ClusterRoleBinding")}, map[string]any{"object": true}, create), classify.Privilege},
		{"kubernetes_manifest Role deleted", change("kubernetes_manifest", map[string]any{"manifest": obj("Role")}, nil, nil, del), classify.Privilege},
		{"kubernetes_manifest ValidatingWebhookConfiguration", change("kubernetes_manifest", nil, map[string]any{"manifest": obj("ValidatingWebhookConfiguration")}, nil, create), classify.Privilege},
		{"kubernetes_manifest CiliumNetworkPolicy", change("kubernetes_manifest", nil, map[string]any{"manifest": obj("CiliumNetworkPolicy")}, nil, create), classify.Privilege},
		{"kubernetes_manifest ConfigMap", change("kubernetes_manifest", nil, map[string]any{"manifest": obj("ConfigMap")}, map[string]any{"object": true}, create), classify.Write},
		{"kubernetes_manifest no-op on a Role", change("kubernetes_manifest", map[string]any{"manifest": obj("Role")}, map[string]any{"manifest": obj("Role")}, nil, tfjson.ActionNoop), classify.Read},
		{"kubernetes_manifest unknown until apply", change("kubernetes_manifest", nil, nil, map[string]any{"manifest": true}, create), classify.Unknown},
		{"kubernetes_manifest Namespace with pod-security labels", change("kubernetes_manifest", nil, map[string]any{"manifest": map[string]any{"apiVersion": "v1", "kind": "Namespace",
			"metadata": map[string]any{"name": "ns", "labels": map[string]any{"pod-security.kubernetes.io/enforce": "privileged"}}}}, nil, update), classify.Privilege},
		{"kubectl_manifest yaml_body ClusterRoleBinding", change("kubectl_manifest", nil, map[string]any{"yaml_body": crb}, nil, create), classify.Privilege},
		{"kubectl_manifest yaml_body ConfigMap", change("kubectl_manifest", nil, map[string]any{"yaml_body": cm}, nil, create), classify.Write},
		{"kubectl_manifest yaml_body unknown until apply", change("kubectl_manifest", nil, map[string]any{}, map[string]any{"yaml_body": true}, create), classify.Unknown},
		{"helm_release values with extraObjects", change("helm_release", nil, map[string]any{"values": []any{"replicas: 2\nextraObjects:\n- " + strings.ReplaceAll(crb, "\n", "\n  ")}}, nil, update), classify.Privilege},
		{"helm_release with a rendered manifest", change("helm_release", nil, map[string]any{"manifest": `{"rbac.authorization.k8s.io/v1/clusterrole/x":"{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"ClusterRole\",\"metadata\":{\"name\":\"x\"}}"}`}, nil, update), classify.Privilege},
		{"helm_release with plain values", change("helm_release", nil, map[string]any{"values": []any{"replicas: 2\n"}}, map[string]any{"manifest": true}, update), classify.Write},
		{"kubernetes_namespace_v1 with pod-security labels", change("kubernetes_namespace_v1", nil, map[string]any{"metadata": []any{map[string]any{"name": "ns", "labels": map[string]any{"pod-security.kubernetes.io/enforce": "privileged"}}}}, nil, create), classify.Privilege},
		{"kubernetes_labels on a Namespace", change("kubernetes_labels", nil, map[string]any{"kind": "Namespace", "labels": map[string]any{"pod-security.kubernetes.io/warn": "baseline"}}, nil, create), classify.Privilege},
		{"kubernetes_cluster_role_binding_v1 by type", change("kubernetes_cluster_role_binding_v1", nil, map[string]any{}, nil, create), classify.Privilege},
		{"kubernetes_default_service_account_v1 by type", change("kubernetes_default_service_account_v1", nil, map[string]any{}, nil, update), classify.Privilege},
		{"kubernetes_token_request_v1 by type", change("kubernetes_token_request_v1", nil, map[string]any{}, nil, create), classify.Privilege},
		{"local_file holding RBAC YAML is only a file", change("local_file", nil, map[string]any{"content": crb}, nil, create), classify.Write},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := terraform.AssessPlan(&tfjson.Plan{ResourceChanges: []*tfjson.ResourceChange{tc.rc}}, privilege(t))
			if r.Class != tc.want {
				t.Errorf("class %s, want %s; reasons %v", r.Class, tc.want, r.Reasons)
			}
		})
	}
}

// The plan JSON agentctl reads skips values, except those of the types
// whose manifests decide the class.
func TestParsePlanJSONReadsManifestValues(t *testing.T) {
	raw := `{"format_version":"1.2","terraform_version":"1.5.7","resource_changes":[
	{"address":"aws_instance.a","mode":"managed","type":"aws_instance","name":"a","change":{"actions":["create"],"after":{"ami":"x"}}},
	{"address":"kubectl_manifest.rbac","mode":"managed","type":"kubectl_manifest","name":"rbac","change":{"actions":["create"],
	 "after":{"yaml_body":"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: agent-admin\n"},"after_unknown":{"id":true}}}]}`
	p, err := terraform.ParsePlanJSON([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if p.ResourceChanges[0].Change.After != nil {
		t.Errorf("values of aws_instance were read: %v", p.ResourceChanges[0].Change.After)
	}
	r := terraform.AssessPlan(p, privilege(t))
	if r.Class != classify.Privilege {
		t.Fatalf("class %s, want privilege; reasons %v", r.Class, r.Reasons)
	}
	if !strings.Contains(r.Reasons[0].Message, "ClusterRoleBinding agent-admin") {
		t.Errorf("reason %q does not name the object", r.Reasons[0].Message)
	}
}

func argv(s ...string) []string { return s }
