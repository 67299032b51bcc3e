package terraform

import (
	"errors"
	"fmt"
)

// shellwords splits a TF_CLI_ARGS value the way terraform does (with
// github.com/mattn/go-shellwords and its defaults: quotes and backslashes,
// no variables, no command substitution).
//
// Where go-shellwords silently stops at a shell operator (; & | < >) or
// keeps a backquote or $( literally, the value is refused instead: what
// terraform would run is then not what a reader of the variable expects.
func shellwords(line string) ([]string, error) {
	var args []string
	buf, got := "", false
	var escaped, dq, sq bool
	for _, r := range line {
		if escaped {
			buf += string(r)
			escaped = false // go-shellwords does not count it as a word
			continue
		}
		if r == '\\' {
			if sq {
				buf += string(r)
			} else {
				escaped = true
			}
			continue
		}
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			if sq || dq {
				buf += string(r)
			} else if got {
				args = append(args, buf)
				buf, got = "", false
			}
			continue
		}
		switch r {
		case '"':
			if !sq {
				dq = !dq
				continue
			}
		case '\'':
			if !dq {
				sq = !sq
				continue
			}
		case '`', '(', ')', ';', '&', '|', '<', '>':
			if !sq && !dq {
				return nil, fmt.Errorf("shell syntax %q is ambiguous here", string(r))
			}
			if r == '`' && dq {
				return nil, fmt.Errorf("shell syntax %q is ambiguous here", string(r))
			}
		}
		got = true
		buf += string(r)
	}
	if escaped || sq || dq {
		return nil, errors.New("invalid command line string")
	}
	if got {
		args = append(args, buf)
	}
	return args, nil
}
