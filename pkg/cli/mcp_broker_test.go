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

func TestReportedResultEndsTheBrokersStderr(t *testing.T) {
	line := `{"agentctl":"result","exitCode":1,"class":"read","decision":"sandbox","rule":"reads","requestId":"r-1"}`
	for _, tc := range []struct {
		name, stderr string
		code         int
		ok           bool
		rest         string
	}{
		{"after the tool's last line", "Error from server (NotFound)\n" + line + "\n", 1, true, "Error from server (NotFound)\n"},
		{"after a line the tool did not end", "no newline" + line + "\n", 1, true, "no newline"},
		{"alone", line + "\n", 1, true, ""},
		{"another exit code", line + "\n", 0, false, line + "\n"},
		{"not at the end", line + "\nlater\n", 1, false, line + "\nlater\n"},
		{"broken JSON", `{"agentctl":"result",` + "\n", 1, false, `{"agentctl":"result",` + "\n"},
		{"none", "plain\n", 1, false, "plain\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, rest, ok := reportedResult(tc.stderr, tc.code)
			if ok != tc.ok || rest != tc.rest {
				t.Fatalf("ok %v rest %q, want %v %q", ok, rest, tc.ok, tc.rest)
			}
			if ok && (r.Class != "read" || r.Decision != "sandbox" || r.Rule != "reads" || r.RequestID != "r-1") {
				t.Errorf("result %+v", r)
			}
		})
	}
}
