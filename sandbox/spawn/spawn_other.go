//go:build !linux

package spawn

import (
	"errors"
	"os"
)

// Start is Linux-only: elsewhere the sandbox starts no child ahead.
func Start(stdin, stdout, stderr *os.File, namespaces bool) (*Process, error) {
	return nil, errors.New("sandbox children are started ahead only on Linux")
}
