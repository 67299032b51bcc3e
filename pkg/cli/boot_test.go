package cli

import (
	"testing"

	"github.com/spf13/pflag"

	"github.com/agentctl/agentctl/pkg/boot"
)

// TestBootKnowsTheGlobalFlags keeps package boot's copy of agentctl's
// global flags (it finds the tool in argv before anything else has
// initialised) equal to the root command's: a flag boot does not know,
// or a value it does not skip, would make it miss or misname the tool.
func TestBootKnowsTheGlobalFlags(t *testing.T) {
	root := NewRootCmd(&Factory{})
	want := map[string]bool{}
	root.PersistentFlags().VisitAll(func(fl *pflag.Flag) {
		if fl.Name == "help" {
			return
		}
		takes := fl.NoOptDefVal == ""
		want[fl.Name] = takes
		if fl.Shorthand != "" {
			want[fl.Shorthand] = takes
		}
	})
	for name, takes := range want {
		if got, ok := boot.GlobalFlags[name]; !ok || got != takes {
			t.Errorf("boot.GlobalFlags[%q] = %v, %v; the root command's flag takes a value: %v", name, got, ok, takes)
		}
	}
	for name := range boot.GlobalFlags {
		if _, ok := want[name]; !ok {
			t.Errorf("boot.GlobalFlags has %q, which is not a global flag", name)
		}
	}
}
