package terraform

import (
	"reflect"
	"testing"
)

func TestShellwords(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []string
		bad  bool
	}{
		{name: "spaces and tabs split", in: " -a\t-b  -c ", want: []string{"-a", "-b", "-c"}},
		{name: "single quotes keep spaces", in: `-var 'x=a b'`, want: []string{"-var", "x=a b"}},
		{name: "double quotes keep spaces", in: `-var "x=a b"`, want: []string{"-var", "x=a b"}},
		{name: "backslash escapes a space", in: `-var x=a\ b`, want: []string{"-var", "x=a b"}},
		{name: "backslash is literal in single quotes", in: `'a\b'`, want: []string{`a\b`}},
		{name: "dollar is literal", in: `-var x=$HOME`, want: []string{"-var", "x=$HOME"}},
		{name: "operators inside quotes are literal", in: `-var 'x=a;b'`, want: []string{"-var", "x=a;b"}},
		{name: "semicolon is refused", in: `-a; -b`, bad: true},
		{name: "pipe is refused", in: `-a | x`, bad: true},
		{name: "redirect is refused", in: `-a >x`, bad: true},
		{name: "backquote is refused", in: "-var x=`id`", bad: true},
		{name: "command substitution is refused", in: `-var x=$(id)`, bad: true},
		{name: "unterminated quote is refused", in: `'a`, bad: true},
		{name: "trailing backslash is refused", in: `a\`, bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := shellwords(tc.in)
			if tc.bad {
				if err == nil {
					t.Fatalf("accepted %q as %q", tc.in, got)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("shellwords(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}
