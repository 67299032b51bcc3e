package classify

import "testing"

func TestShellSyntax(t *testing.T) {
	for arg, want := range map[string]string{
		"$NS": "$NS", "--namespace=$NS": "$NS", "app=${APP}": "${", "$(id)": "$(", "`id`": "`",
		"$1": "$1", "$?": "$?", "$$": "$$", "x=$_y1-z": "$_y1", "~": "~", "~/a": "~", "~ops/a": "~ops",
		"|": "|", "pods;": ";", "&&": "&&", ">out": ">", "2>&1": "2>&1",
		// what no shell expands
		"5$": "", "$ 5": "", "{$.items[*]}": "", "a~b": "", "~a b": "", "{.items[*]}": "", "{{.a | printf}}": "",
		"plain": "", "": "",
	} {
		if got := ShellSyntax(arg); got != want {
			t.Errorf("ShellSyntax(%q) = %q, want %q", arg, got, want)
		}
	}
}
