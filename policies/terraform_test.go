package policies_test

import (
	"slices"
	"testing"

	"github.com/agentctl/agentctl/policies"
)

func TestShippedTerraformPrivilegeTypesParse(t *testing.T) {
	types, err := policies.TerraformPrivilegeTypes()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"aws_iam_*", "google_*_iam_*", "azurerm_role_*", "kubernetes_*role*", "testcloud_iam_*"} {
		if !slices.Contains(types, want) {
			t.Errorf("shipped types lack %q", want)
		}
	}
}

func TestTerraformPrivilegeTypesRefuseBadFiles(t *testing.T) {
	for name, in := range map[string]string{
		"malformed pattern": "aws:\n  - 'aws_[iam'\n",
		"not a map":         "- aws_iam_*\n",
		"not a list":        "aws: aws_iam_*\n",
	} {
		if _, err := policies.ParseTerraformPrivilegeTypes([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
