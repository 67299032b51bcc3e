package terraform

import (
	"bytes"
	"strings"
	"testing"
)

func TestAdviceFilter(t *testing.T) {
	const path = "/home/u/.local/state/agentctl/plans/plan-123.tfplan"
	long := "/home/u/.local/state/agentctl/plans/" + strings.Repeat("x", 60) + "/plan-123.tfplan"
	rule := "\x1b[90m\n" + strings.Repeat("─", 77) + "\x1b[0m\n"
	head := "Plan: 2 to add, 0 to change, 0 to destroy.\n" + rule + "\n"
	tests := []struct {
		name, path, in, want string
	}{
		{name: "terraform's advice after the plan, last line unterminated", path: path,
			in:   head + "Saved the plan to: " + path + "\n\nTo perform exactly these actions, run the following command to apply:\n    terraform apply \"" + path + "\"",
			want: head},
		{name: "a long path wraps the first line", path: long,
			in:   head + "Saved the plan to:\n" + long + "\n\nTo perform exactly these actions, run the following command to apply:\n    terraform apply \"" + long + "\"\n",
			want: head},
		{name: "tofu's", path: path,
			in:   head + "Saved the plan to: " + path + "\n\nTo perform exactly these actions, run the following command to apply:\n    tofu apply \"" + path + "\"\n",
			want: head},
		{name: "another plan file is kept", path: path,
			in:   head + "Saved the plan to: /tmp/other\n\nTo perform exactly these actions, run the following command to apply:\n    terraform apply \"/tmp/other\"\n",
			want: head + "Saved the plan to: /tmp/other\n\nTo perform exactly these actions, run the following command to apply:\n    terraform apply \"/tmp/other\"\n"},
		{name: "a block that differs is passed on whole", path: path,
			in:   head + "Saved the plan to: " + path + "\n\nSomething else\n",
			want: head + "Saved the plan to: " + path + "\n\nSomething else\n"},
		{name: "an unfinished block is passed on at the end", path: path,
			in:   head + "Saved the plan to: " + path + "\n",
			want: head + "Saved the plan to: " + path + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Every split of the input into two writes gives the same.
			for i := 0; i <= len(tt.in); i += 7 {
				var b bytes.Buffer
				f := newAdviceFilter(&b, tt.path)
				f.Write([]byte(tt.in[:i]))
				f.Write([]byte(tt.in[i:]))
				if err := f.Close(); err != nil {
					t.Fatal(err)
				}
				if b.String() != tt.want {
					t.Fatalf("split at %d:\n%q\nwant:\n%q", i, b.String(), tt.want)
				}
			}
		})
	}
}
