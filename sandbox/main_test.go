package sandbox

import (
	"os"
	"testing"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// TestMain lets the test binary serve as the sandbox child: Run re-executes
// it, and MaybeChild runs one of testEntries inside the sandbox. Otherwise
// it runs the tests with the shared test cluster (pkg/testenv).
func TestMain(m *testing.M) {
	if isChild, code := MaybeChild(testEntries); isChild {
		os.Exit(code)
	}
	testenv.RunMain(m)
}
