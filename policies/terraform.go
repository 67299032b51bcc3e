package policies

import (
	_ "embed"
	"fmt"
	"path"
	"sort"

	"sigs.k8s.io/yaml"
)

//go:embed terraform-privilege-types.yaml
var terraformPrivilegeTypes []byte

// TerraformPrivilegeTypes returns the shipped glob patterns of terraform
// resource types whose changes are privilege changes, all providers
// together, sorted. See terraform-privilege-types.yaml.
func TerraformPrivilegeTypes() ([]string, error) {
	return ParseTerraformPrivilegeTypes(terraformPrivilegeTypes)
}

// ParseTerraformPrivilegeTypes reads a privilege-types file: a map from
// provider name to a list of path.Match patterns. Every pattern must be
// well formed.
func ParseTerraformPrivilegeTypes(b []byte) ([]string, error) {
	var byProvider map[string][]string
	if err := yaml.UnmarshalStrict(b, &byProvider); err != nil {
		return nil, fmt.Errorf("terraform privilege types: %w", err)
	}
	var out []string
	for provider, patterns := range byProvider {
		for _, p := range patterns {
			if _, err := path.Match(p, ""); err != nil {
				return nil, fmt.Errorf("terraform privilege types: provider %q: pattern %q: %w", provider, p, err)
			}
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out, nil
}
