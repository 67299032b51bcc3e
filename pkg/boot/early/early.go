// Package early runs [boot.Start] while the binary initialises. Only
// agentctl's main imports it: Go initialises packages in import path
// order as far as their dependencies allow, and this one depends on
// nothing that initialises late, so it runs before kubectl's packages and
// the rest.
package early

import (
	"os"

	"github.com/agentctl/agentctl/pkg/boot"
)

func init() { boot.Start(os.Args) }
