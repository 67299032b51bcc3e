// Command terraform-provider-testcloud is a tiny terraform provider used by
// agentctl's tests. Its "cloud" is a directory of JSON files: every
// resource is one file, <directory>/<type>/<name>.json, so a test can see
// exactly what an apply changed.
//
// The directory comes from the provider's "directory" argument or, when
// that is unset, from the TESTCLOUD_DIR environment variable.
//
// Resources (all attributes are strings; "name" is the id and forces a
// replacement when it changes):
//
//	testcloud_instance               name, size, image (image forces replacement)
//	testcloud_iam_role               name, policy
//	testcloud_iam_policy_attachment  name, role, policy_arn
//	testcloud_firewall_rule          name, cidr, port
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
)

// Address is the provider's source address in test configurations.
const Address = "agentctl.test/agentctl/testcloud"

func main() {
	debug := flag.Bool("debug", false, "run with support for debuggers")
	flag.Parse()
	err := providerserver.Serve(context.Background(), newProvider, providerserver.ServeOpts{
		Address: Address,
		Debug:   *debug,
	})
	if err != nil {
		log.Fatal(err)
	}
}
