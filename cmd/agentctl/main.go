// Command agentctl runs kubectl and terraform on behalf of AI agents:
// classified, policed, sandboxed, approved and audited.
package main

import (
	"os"

	// Before everything else initialises: see package boot.
	_ "github.com/agentctl/agentctl/pkg/boot/early"
	_ "github.com/agentctl/agentctl/pkg/boot/gc"
	"github.com/agentctl/agentctl/pkg/cli"
)

func main() { os.Exit(cli.Main()) }
