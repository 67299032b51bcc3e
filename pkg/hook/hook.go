// Package hook finds kubectl, terraform and tofu in the shell commands an
// agent is about to run, for the pre-tool-use hooks of agents such as
// Claude Code (`agentctl hook claude`).
//
// # What it finds
//
// [Scan] splits a command line into simple commands (at ;, &, &&, ||, |
// and newlines), skips what only prefixes a command (VAR=x assignments,
// env and its options, command, exec, nohup, time, nice), and looks at the
// word in command position. A wrapped tool found there directly can be
// rewritten to go through agentctl ([Scan] returns where). One found
// behind sudo, xargs, a shell's -c or eval cannot be rewritten safely: the scan reports it, and the caller denies.
//
// # Failing closed
//
// A command this lexer cannot split (an unclosed quote), or one that names
// a wrapped tool where it cannot tell whether it runs (a variable in
// command position, a heredoc), is [Result.Unsure]: the caller denies.
// The shims on the agent's PATH remain the guard for what runs indirectly.
package hook

import (
	"path/filepath"
	"strings"
)

// Tools are the commands agentctl wraps.
var Tools = []string{"kubectl", "terraform", "tofu"}

// Found is one wrapped tool in command position.
type Found struct {
	Tool string
	// Start and End are the byte offsets of the tool's word in the
	// command line (its path included: /usr/bin/kubectl).
	Start, End int
	// Behind names what hides it from a rewrite (sudo, xargs, bash -c,
	// eval); "" when it can be rewritten in place.
	Behind string
}

// Result is what [Scan] found in a command line.
type Result struct {
	Found []Found
	// Commands is how many simple commands the line has.
	Commands int
	// Unsure says why the line could not be read for certain; "" when it
	// could.
	Unsure string
	// Scripts are the files the line runs as scripts, as written: a
	// command word with a slash (./deploy.sh), a shell's file argument
	// (bash deploy.sh) and what source or . reads. The caller looks
	// into them (a script written a moment earlier can hold kubectl).
	Scripts []string
	// Chdir says the line changes directory (cd, pushd, env -C), so a
	// relative script path is not known from the starting directory.
	Chdir bool
}

// Rewrite returns line with every rewritable tool going through agentctl
// ("kubectl get pods" → "agentctl kubectl get pods").
func (r *Result) Rewrite(line string) string {
	var b strings.Builder
	last := 0
	for _, f := range r.Found {
		b.WriteString(line[last:f.Start])
		b.WriteString("agentctl " + f.Tool)
		last = f.End
	}
	b.WriteString(line[last:])
	return b.String()
}

// Hidden is the first tool found where it cannot be rewritten, if any.
func (r *Result) Hidden() *Found {
	for i := range r.Found {
		if r.Found[i].Behind != "" {
			return &r.Found[i]
		}
	}
	return nil
}

type word struct {
	text       string // unquoted
	start, end int
	quoted     bool
}

// lex splits line into words and command separators ("" text with
// sep=true). It reports an unclosed quote.
func lex(line string) (cmds [][]word, unsure string) {
	var cur []word
	var w strings.Builder
	inWord, quoted := false, false
	start := 0
	flush := func(end int) {
		if inWord {
			cur = append(cur, word{text: w.String(), start: start, end: end, quoted: quoted})
		}
		w.Reset()
		inWord, quoted = false, false
	}
	endCmd := func() {
		if len(cur) > 0 {
			cmds = append(cmds, cur)
		}
		cur = nil
	}
	begin := func(i int) {
		if !inWord {
			inWord, start = true, i
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'':
			begin(i)
			quoted = true
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, "an unclosed single quote"
			}
			w.WriteString(line[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			begin(i)
			quoted = true
			j := i + 1
			for ; j < len(line) && line[j] != '"'; j++ {
				if line[j] == '\\' && j+1 < len(line) {
					j++
				}
				w.WriteByte(line[j])
			}
			if j >= len(line) {
				return nil, "an unclosed double quote"
			}
			i = j
		case c == '\\' && i+1 < len(line):
			begin(i)
			if line[i+1] != '\n' {
				w.WriteByte(line[i+1])
			}
			i++
		case c == ' ' || c == '\t':
			flush(i)
		case c == ';' || c == '&' || c == '|' || c == '\n' || c == '(' || c == ')' || c == '`':
			flush(i)
			endCmd()
		case c == '#' && !inWord:
			j := strings.IndexByte(line[i:], '\n')
			if j < 0 {
				i = len(line)
			} else {
				i += j - 1
			}
		default:
			begin(i)
			w.WriteByte(c)
		}
	}
	flush(len(line))
	endCmd()
	return cmds, ""
}

// prefixes only set up the command after them.
var prefixes = map[string]bool{"command": true, "exec": true, "nohup": true, "time": true, "nice": true, "builtin": true}

// hiding run the command after them in a way a rewrite of the line
// cannot reach.
var hiding = map[string]bool{"sudo": true, "doas": true, "xargs": true, "eval": true, "su": true, "watch": true, "timeout": true, "flock": true}

var shells = map[string]bool{"sh": true, "bash": true, "zsh": true, "dash": true, "ksh": true}

// Scan reads line. depth bounds nested shells.
func Scan(line string) Result {
	return scan(line, 0, "")
}

func scan(line string, depth int, behind string) Result {
	var r Result
	if depth > 4 {
		r.Unsure = "shells nested too deep"
		return r
	}
	if strings.Contains(line, "<<") && mentions(line) {
		r.Unsure = "a heredoc that names a wrapped tool"
		return r
	}
	cmds, unsure := lex(line)
	if unsure != "" {
		if mentions(line) {
			r.Unsure = unsure
		}
		return r
	}
	r.Commands = len(cmds)
	for _, cmd := range cmds {
		hidden := behind
		i := 0
		for i < len(cmd) {
			w := cmd[i]
			name := filepath.Base(w.text)
			switch {
			case isAssignment(w.text):
				i++
			case name == "env":
				i++
				for i < len(cmd) && (strings.HasPrefix(cmd[i].text, "-") || isAssignment(cmd[i].text)) {
					switch cmd[i].text {
					case "-C", "--chdir":
						r.Chdir = true
						i++ // the option's value
					case "-u", "--unset":
						i++ // the option's value
					case "-S", "--split-string":
						hidden = "env -S"
					}
					i++
				}
			case prefixes[name]:
				i++
				for i < len(cmd) && strings.HasPrefix(cmd[i].text, "-") {
					i++
				}
			case hiding[name]:
				hidden = name
				i++
				for i < len(cmd) && strings.HasPrefix(cmd[i].text, "-") {
					i++
				}
				if name == "timeout" && i < len(cmd) {
					i++ // its duration
				}
			case shells[name]:
				// sh -c 'LINE': LINE is another command line; sh FILE
				// runs a script.
				for j := i + 1; j < len(cmd); j++ {
					if strings.HasPrefix(cmd[j].text, "-") && strings.Contains(cmd[j].text, "c") && j+1 < len(cmd) {
						inner := scan(cmd[j+1].text, depth+1, name+" -c")
						r.Found = append(r.Found, inner.Found...)
						r.Scripts = append(r.Scripts, inner.Scripts...)
						r.Chdir = r.Chdir || inner.Chdir
						if inner.Unsure != "" {
							r.Unsure = inner.Unsure
						}
						break
					}
					if !strings.HasPrefix(cmd[j].text, "-") {
						r.Scripts = append(r.Scripts, cmd[j].text)
						break
					}
				}
				i = len(cmd)
			case name == "cd" || name == "pushd" || name == "popd":
				r.Chdir = true
				i = len(cmd)
			case name == "source" || w.text == ".":
				if i+1 < len(cmd) {
					r.Scripts = append(r.Scripts, cmd[i+1].text)
				}
				i = len(cmd)
			default:
				if tool := toolName(name); tool != "" {
					r.Found = append(r.Found, Found{Tool: tool, Start: w.start, End: w.end, Behind: hidden})
				} else if strings.Contains(w.text, "/") {
					r.Scripts = append(r.Scripts, w.text)
				} else if strings.HasPrefix(w.text, "$") && mentions(line) {
					r.Unsure = "a variable in command position, in a line that names a wrapped tool"
				}
				i = len(cmd)
			}
		}
	}
	if behind != "" {
		for k := range r.Found {
			if r.Found[k].Behind == "" {
				r.Found[k].Behind = behind
			}
		}
	}
	return r
}

func toolName(name string) string {
	for _, t := range Tools {
		if name == t {
			return t
		}
	}
	return ""
}

// mentions says whether s names a wrapped tool anywhere.
func mentions(s string) bool {
	for _, t := range Tools {
		if strings.Contains(s, t) {
			return true
		}
	}
	return false
}

func isAssignment(s string) bool {
	name, _, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return false
	}
	for i, c := range name {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
