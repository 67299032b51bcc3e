package classify

import "strings"

// ShellSyntax reports the first piece of arg that only a shell would have
// interpreted, or "" when there is none. agentctl receives argv as the
// agent's process handed it over: no shell runs between agentctl and the
// tool, so a "$NS" that reaches it was never expanded and a "|" is a
// literal word. What is reported:
//
//   - a whole argument that is a shell operator ("|", "&&", ";", ">", …),
//     or one that starts or ends with one ("pods;", "|grep");
//   - a parameter expansion "$NAME", "${…}", a positional or special
//     parameter ("$1", "$?", "$$"), a command substitution "$(…)" or
//     backquotes;
//   - a tilde at the start of the argument ("~", "~/x", "~user/x").
//
// A "$" that no shell expands is not reported: "$" at the end or before a
// space, "$." and "$[" (a JSONPath root). Callers exempt values whose own
// language uses "$NAME" (go-templates, strategic-merge-patch directives).
func ShellSyntax(arg string) string {
	if op := ShellOperator(arg); op != "" {
		return op
	}
	if i := strings.IndexByte(arg, '`'); i >= 0 {
		return "`"
	}
	if t := tilde(arg); t != "" {
		return t
	}
	return expansion(arg)
}

// ShellOperator reports a shell operator that is the whole of arg or
// stands at one of its edges, or "".
func ShellOperator(arg string) string {
	switch arg {
	case "|", "||", "&&", "&", ";", ";;", ">", ">>", "<", "<<", "2>&1", "2>", "&>":
		return arg
	}
	for _, op := range []string{";", "|", "&&", ">"} {
		if strings.HasPrefix(arg, op) || strings.HasSuffix(arg, op) {
			return op
		}
	}
	return ""
}

// expansion reports the first parameter expansion or command substitution
// a shell would have made in arg.
func expansion(arg string) string {
	for i := 0; i < len(arg); i++ {
		if arg[i] != '$' || i+1 >= len(arg) {
			continue
		}
		switch c := arg[i+1]; {
		case c == '(' || c == '{':
			return arg[i : i+2]
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i + 1
			for j < len(arg) && (arg[j] == '_' || arg[j] >= 'a' && arg[j] <= 'z' || arg[j] >= 'A' && arg[j] <= 'Z' || arg[j] >= '0' && arg[j] <= '9') {
				j++
			}
			return arg[i:j]
		case c >= '0' && c <= '9' || c == '?' || c == '$' || c == '#' || c == '!':
			return arg[i : i+2]
		}
	}
	return ""
}

// tilde returns the tilde prefix a shell would expand at the start of an
// unquoted word: "~", "~/…", "~user" or "~user/…".
func tilde(arg string) string {
	if !strings.HasPrefix(arg, "~") {
		return ""
	}
	end := strings.IndexByte(arg, '/')
	if end < 0 {
		end = len(arg)
	}
	user := arg[1:end]
	for i := 0; i < len(user); i++ {
		c := user[i]
		if !(c == '_' || c == '-' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return ""
		}
	}
	return arg[:end]
}

// ShellHint is the hint to give with a [ShellSyntax] finding.
const ShellHint = "no shell runs between agentctl and the tool: expand variables, globs and ~ yourself and pass the values, or run a pipeline's other stages separately"
