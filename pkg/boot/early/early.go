// Package early runs [client.Main] and then [boot.Start] while the binary initialises. Only
// agentctl's main imports it: Go initialises packages in import path
// order as far as their dependencies allow, and this one depends on
// nothing that initialises late, so it runs before kubectl's packages and
// the rest.
package early

import (
	"os"

	"github.com/agentctl/agentctl/pkg/boot"
	"github.com/agentctl/agentctl/pkg/broker/client"
)

func init() {
	// A command a running broker takes is forwarded to it, and this
	// process exits here, before the rest of agentctl initialises.
	client.Main()
	boot.Start(os.Args)
}
