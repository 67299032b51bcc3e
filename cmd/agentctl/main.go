// Command agentctl runs kubectl and terraform on behalf of AI agents:
// classified, policed, sandboxed, approved and audited.
package main

import (
	"os"
	"runtime"

	// Before everything else initialises: see package boot.
	_ "github.com/agentctl/agentctl/pkg/boot/early"
	_ "github.com/agentctl/agentctl/pkg/boot/gc"
	"github.com/agentctl/agentctl/pkg/broker/worker"
	"github.com/agentctl/agentctl/pkg/cli"
)

func main() {
	// A broker's warm worker waits here, initialised, for its request.
	w, code, exit := worker.Become()
	if exit {
		os.Exit(code)
	}
	code = cli.Main()
	runtime.KeepAlive(w)
	os.Exit(code)
}
