package cli

import "testing"

func TestJSONRefusalFromTheBrokersStderr(t *testing.T) {
	refusal := `{"class":"destructive","decision":"deny","error":"denied: destructive","exitCode":77,"hint":"use the inbox","reason":"no approver","requestId":"abc","rule":"r1"}`
	for _, tc := range []struct {
		name, stderr string
		code         int
		ok           bool
		rest         string
	}{
		{"a refusal", "warning: x\n" + refusal + "\n", 77, true, "warning: x\n"},
		{"the refusal alone", refusal + "\n", 77, true, ""},
		{"the tool's own exit code", refusal + "\n", 1, false, refusal + "\n"},
		{"another exit code in the object", refusal + "\n", 78, false, refusal + "\n"},
		{"not the last line", refusal + "\nmore\n", 77, false, refusal + "\nmore\n"},
		{"not JSON", "error: forbidden\n", 77, false, "error: forbidden\n"},
		{"JSON without an error", `{"exitCode":77}` + "\n", 77, false, `{"exitCode":77}` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, rest, ok := jsonRefusal(tc.stderr, tc.code)
			if ok != tc.ok || rest != tc.rest {
				t.Fatalf("ok %v rest %q, want %v %q", ok, rest, tc.ok, tc.rest)
			}
			if ok && (r.Decision != "deny" || r.Rule != "r1" || r.Class != "destructive" || r.Hint != "use the inbox" || r.RequestID != "abc") {
				t.Errorf("refusal %+v", r)
			}
		})
	}
}
