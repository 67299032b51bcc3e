// Package policies holds the policy files shipped inside agentctl: the
// default policy (default.yaml) and the terraform privilege types
// (terraform-privilege-types.yaml). The examples/ directory holds example
// policies with their tests; it is not embedded.
package policies

import _ "embed"

//go:embed default.yaml
var defaultPolicy []byte

// DefaultName is how rules of the embedded default policy are named in
// decisions: "builtin:default.yaml:LINE".
const DefaultName = "builtin:default.yaml"

// Default returns the default policy, policies/default.yaml, as embedded
// in the binary.
func Default() []byte { return defaultPolicy }
