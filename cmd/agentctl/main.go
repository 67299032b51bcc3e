// Command agentctl runs kubectl and terraform on behalf of AI agents:
// classified, policed, sandboxed, approved and audited.
package main

import (
	"os"

	"github.com/agentctl/agentctl/pkg/cli"
)

func main() { os.Exit(cli.Main()) }
