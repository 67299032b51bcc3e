package terraform_test

import (
	"testing"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/classify/terraform"
)

// Cases terraform v1.5.7 cannot produce (forget, deferred changes) or that
// need a cloud it cannot reach (imports of aws types), built as values.
func TestAssessPlanActions(t *testing.T) {
	rc := func(typ string, actions ...tfjson.Action) *tfjson.ResourceChange {
		return &tfjson.ResourceChange{Address: typ + ".x", Type: typ, Name: "x", Mode: tfjson.ManagedResourceMode,
			Change: &tfjson.Change{Actions: actions}}
	}
	imported := rc("aws_instance", tfjson.ActionNoop)
	imported.Change.Importing = &tfjson.Importing{ID: "i-1"}
	data := rc("aws_iam_policy_document", tfjson.ActionRead)
	data.Mode = tfjson.DataResourceMode
	priv := terraform.Privilege{"aws_iam_*", "aws_security_group*"}
	for _, tc := range []struct {
		name    string
		plan    tfjson.Plan
		class   classify.Class
		summary string
	}{
		{"empty plan", tfjson.Plan{}, classify.Read, "No changes."},
		{"forget is destructive", tfjson.Plan{ResourceChanges: []*tfjson.ResourceChange{rc("aws_instance", tfjson.ActionForget)}},
			classify.Destructive, "Plan: 0 to add, 0 to change, 0 to destroy, 1 to forget."},
		{"import of a no-op is a write", tfjson.Plan{ResourceChanges: []*tfjson.ResourceChange{imported}},
			classify.Write, "Plan: 1 to import, 0 to add, 0 to change, 0 to destroy."},
		{"reading an IAM data source is a read", tfjson.Plan{ResourceChanges: []*tfjson.ResourceChange{data}},
			classify.Read, "No changes."},
		{"no-op on an IAM role is a read", tfjson.Plan{ResourceChanges: []*tfjson.ResourceChange{rc("aws_iam_role", tfjson.ActionNoop)}},
			classify.Read, "No changes."},
		{"deleting a security group is privilege", tfjson.Plan{ResourceChanges: []*tfjson.ResourceChange{rc("aws_security_group_rule", tfjson.ActionDelete)}},
			classify.Privilege, "Plan: 0 to add, 0 to change, 1 to destroy."},
		{"create-before-destroy is a replace", tfjson.Plan{ResourceChanges: []*tfjson.ResourceChange{rc("aws_instance", tfjson.ActionCreate, tfjson.ActionDelete)}},
			classify.Destructive, "Plan: 1 to add, 0 to change, 1 to destroy."},
		{"unknown action combination is unknown", tfjson.Plan{ResourceChanges: []*tfjson.ResourceChange{rc("aws_instance", tfjson.ActionCreate, tfjson.ActionUpdate)}},
			classify.Unknown, "No changes."},
		{"a change without actions is unknown", tfjson.Plan{ResourceChanges: []*tfjson.ResourceChange{{Address: "a.b"}}},
			classify.Unknown, "No changes."},
		{"deferred changes are unknown", tfjson.Plan{DeferredChanges: []*tfjson.DeferredResourceChange{{}}},
			classify.Unknown, "No changes."},
		{"an output change alone is a write", tfjson.Plan{OutputChanges: map[string]*tfjson.Change{"o": {Actions: tfjson.Actions{tfjson.ActionUpdate}}}},
			classify.Write, "No changes."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := terraform.AssessPlan(&tc.plan, priv)
			if r.Class != tc.class || r.Summary != tc.summary {
				t.Errorf("class %s summary %q, want %s %q; reasons %v", r.Class, r.Summary, tc.class, tc.summary, r.Reasons)
			}
		})
	}
}

func TestPrivilegeMatchesShippedPatterns(t *testing.T) {
	priv := privilege(t)
	for typ, want := range map[string]bool{
		"aws_iam_role": true, "aws_security_group": true, "aws_vpc_security_group_ingress_rule": true,
		"aws_kms_key_policy": true, "aws_s3_bucket_policy": true, "aws_s3_bucket": false, "aws_instance": false,
		"google_project_iam_member": true, "google_storage_bucket_iam_binding": true, "google_compute_firewall": true,
		"google_service_account_key": true, "google_compute_instance": false,
		"azurerm_role_assignment": true, "azurerm_network_security_rule": true, "azurerm_virtual_machine": false,
		"kubernetes_cluster_role_binding_v1": true, "kubernetes_role": true, "kubernetes_service_account_v1": true,
		"kubernetes_network_policy_v1": true, "kubernetes_deployment": false,
		"testcloud_iam_role": true, "testcloud_iam_policy_attachment": true, "testcloud_firewall_rule": true,
		"testcloud_instance": false,
	} {
		if _, got := priv.Match(typ); got != want {
			t.Errorf("%s: privilege %v, want %v", typ, got, want)
		}
	}
}
