package sandbox

import (
	"os"
	"testing"
)

// TestMain lets the test binary serve as the sandbox child: Run re-executes
// it, and MaybeChild runs one of testEntries inside the sandbox.
func TestMain(m *testing.M) {
	if isChild, code := MaybeChild(testEntries); isChild {
		os.Exit(code)
	}
	os.Exit(m.Run())
}
