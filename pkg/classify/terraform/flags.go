package terraform

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// kind is the type of a command-line flag, as terraform declares it with
// Go's flag package.
type kind int

const (
	boolFlag kind = iota
	stringFlag
	intFlag
	durationFlag
)

// flagSet is the set of flags one terraform subcommand accepts.
type flagSet map[string]kind

// with returns a copy of s extended by the flag sets others.
func (s flagSet) with(others ...flagSet) flagSet {
	out := flagSet{}
	for _, m := range append([]flagSet{s}, others...) {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// flagArg is one flag as given, in order.
type flagArg struct {
	Name  string
	Value string // "true" for a bool flag given without a value
	Raw   []string
}

// parsed is a subcommand's arguments split as Go's flag package splits them.
type parsed struct {
	Flags []flagArg
	Args  []string // positional arguments after the flags
	// View is -no-color and -compact-warnings as given (terraform takes
	// them anywhere): how terraform prints, which the apply agentctl runs
	// in the command's place keeps.
	View []string
}

// has reports whether flag name was given.
func (p *parsed) has(name string) bool {
	_, ok := p.last(name)
	return ok
}

// last returns the last value of flag name, as flag.Parse would leave it.
func (p *parsed) last(name string) (string, bool) {
	v, ok := "", false
	for _, f := range p.Flags {
		if f.Name == name {
			v, ok = f.Value, true
		}
	}
	return v, ok
}

// isTrue reports whether bool flag name ends up true.
func (p *parsed) isTrue(name string) bool {
	v, ok := p.last(name)
	if !ok {
		return false
	}
	b, _ := strconv.ParseBool(v)
	return b
}

// parseFlags splits args exactly as Go's flag package (which terraform
// uses for every subcommand) would: flags until the first non-flag, "-"
// or "--"; -name, --name, -name=value; a non-bool flag without "=" takes
// the next argument whatever it looks like. It fails where flag.Parse
// fails, including on values an int or duration flag cannot hold.
func parseFlags(set flagSet, args []string) (*parsed, error) {
	p := &parsed{}
	for len(args) > 0 {
		s := args[0]
		if len(s) < 2 || s[0] != '-' {
			break
		}
		minuses := 1
		if s[1] == '-' {
			minuses++
			if len(s) == 2 { // "--" ends the flags
				args = args[1:]
				break
			}
		}
		name := s[minuses:]
		if len(name) == 0 || name[0] == '-' || name[0] == '=' {
			return nil, fmt.Errorf("bad flag syntax: %s", s)
		}
		args = args[1:]
		value, hasValue := "", false
		if i := strings.IndexByte(name, '='); i >= 0 {
			name, value, hasValue = name[:i], name[i+1:], true
		}
		k, ok := set[name]
		if !ok {
			return nil, fmt.Errorf("flag provided but not defined: -%s", name)
		}
		raw := []string{s}
		if k == boolFlag {
			if !hasValue {
				value = "true"
			} else if _, err := strconv.ParseBool(value); err != nil {
				return nil, fmt.Errorf("invalid boolean value %q for -%s", value, name)
			}
		} else if !hasValue {
			if len(args) == 0 {
				return nil, fmt.Errorf("flag needs an argument: -%s", name)
			}
			value, raw = args[0], append(raw, args[0])
			args = args[1:]
		}
		switch k {
		case intFlag:
			if _, err := strconv.ParseInt(value, 0, strconv.IntSize); err != nil {
				return nil, fmt.Errorf("invalid value %q for flag -%s", value, name)
			}
		case durationFlag:
			if _, err := time.ParseDuration(value); err != nil {
				return nil, fmt.Errorf("invalid value %q for flag -%s", value, name)
			}
		}
		p.Flags = append(p.Flags, flagArg{Name: name, Value: value, Raw: raw})
	}
	p.Args = args
	return p, nil
}

// The flag groups terraform's command package shares between subcommands
// (internal/command/meta.go and internal/command/arguments/extended.go).
// The tables are the union of terraform ≥ 1.5 and OpenTofu: a flag one
// version lacks makes that version fail, which runs nothing.
var (
	metaExtended = flagSet{"input": boolFlag, "target": stringFlag,
		"compact-warnings": boolFlag, "var": stringFlag, "var-file": stringFlag}
	stateFlags = flagSet{"lock": boolFlag, "lock-timeout": durationFlag,
		"state": stringFlag, "state-out": stringFlag, "backup": stringFlag}
	operationFlags = flagSet{"parallelism": intFlag, "refresh": boolFlag,
		"destroy": boolFlag, "refresh-only": boolFlag, "target": stringFlag,
		"replace": stringFlag, "exclude": stringFlag, "target-file": stringFlag,
		"exclude-file": stringFlag}
	varFlags  = flagSet{"var": stringFlag, "var-file": stringFlag}
	lockFlags = flagSet{"lock": boolFlag, "lock-timeout": durationFlag}
	remoteVer = flagSet{"ignore-remote-version": boolFlag}
	viewFlags = flagSet{"json": boolFlag, "input": boolFlag,
		"concise": boolFlag, "show-sensitive": boolFlag, "deprecation": stringFlag}
)
