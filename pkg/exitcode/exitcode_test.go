package exitcode

import "testing"

// The codes are agentctl's contract with agents and CI scripts
// (docs/agents.md, docs/ci.md, README): they never change.
func TestCodesAreTheDocumentedOnes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want int
	}{
		{"OK", OK, 0}, {"Usage", Usage, 2}, {"Internal", Internal, 70},
		{"Audit", Audit, 74}, {"Denied", Denied, 77}, {"Config", Config, 78},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %d, documented as %d", tc.name, tc.got, tc.want)
		}
	}
}
