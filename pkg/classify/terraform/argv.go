package terraform

import (
	"errors"
	"fmt"
	"strings"

	"github.com/agentctl/agentctl/pkg/request"
)

// cmdline is a terraform command line after terraform's own global
// processing (main.go in terraform): -chdir removed, TF_CLI_ARGS and
// TF_CLI_ARGS_<cmd> merged, -version turned into the version command.
type cmdline struct {
	Chdir   string   // the -chdir value, "" without one
	Args    []string // effective arguments after -chdir, env args merged
	Merged  []string // Args before terraform's -version rewrite
	EnvVars []string // TF_CLI_ARGS variables that were merged, in order
	Sub     string   // the subcommand, "state list" for nested ones
	SubArgs []string // the subcommand's arguments
	TopFlag string   // a flag before the subcommand terraform rejects
	Help    bool     // -h, -help or --help before "--"
	Version bool     // -v, -version or --version anywhere
	AutoCmp bool     // -install-autocomplete or -uninstall-autocomplete
}

// EnvArgsVar is the environment variable terraform prefixes to every
// command's arguments; EnvArgsVar+"_"+cmd targets one subcommand.
const EnvArgsVar = "TF_CLI_ARGS"

// parseCmdline does what terraform's main does with args before handing
// them to a subcommand. Errors are those on which terraform stops.
func parseCmdline(args []string, env []string) (*cmdline, error) {
	cl := &cmdline{}
	chdir, rest, err := extractChdir(args)
	if err != nil {
		return nil, err
	}
	cl.Chdir = chdir
	first := scan(rest)
	suffix := strings.NewReplacer("-", "_", " ", "_").Replace(first.Sub)
	for _, name := range []string{EnvArgsVar, EnvArgsVar + "_" + suffix} {
		v := request.Getenv(env, name)
		if v == "" {
			continue
		}
		extra, err := shellwords(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		rest = mergeEnvArgs(rest, first.Sub, extra)
		cl.EnvVars = append(cl.EnvVars, name)
	}
	cl.Merged = rest
	for _, a := range rest {
		if a == "-v" || a == "-version" || a == "--version" {
			cl.Version = true
			rest = append([]string{"version"}, rest...)
			break
		}
	}
	final := scan(rest)
	cl.Args, cl.Sub, cl.SubArgs = rest, final.Sub, final.SubArgs
	cl.TopFlag, cl.Help, cl.AutoCmp = final.TopFlag, final.Help, final.AutoCmp
	return cl, nil
}

// extractChdir is terraform's extractChdirOption: -chdir=DIR is only
// recognised among the flags before the subcommand and only with "=".
func extractChdir(args []string) (string, []string, error) {
	value, pos := "", -1
	for i, a := range args {
		if !strings.HasPrefix(a, "-") {
			break
		}
		if a == "-chdir" || a == "-chdir=" {
			return "", nil, errors.New("invalid -chdir option: must include an equals sign followed by a directory path, like -chdir=example")
		}
		if strings.HasPrefix(a, "-chdir=") {
			value, pos = a[len("-chdir="):], i
		}
	}
	if pos < 0 {
		return "", args, nil
	}
	rest := append(append([]string{}, args[:pos]...), args[pos+1:]...)
	return value, rest, nil
}

// mergeEnvArgs inserts extra right after the first argument equal to the
// last word of sub, or at the front when there is none (terraform's
// mergeEnvArgs).
func mergeEnvArgs(args []string, sub string, extra []string) []string {
	search := sub
	if i := strings.LastIndex(search, " "); i >= 0 {
		search = sub[i+1:]
	}
	idx := 0
	for i, a := range args {
		if a == search {
			idx = i + 1
			break
		}
	}
	out := append([]string{}, args[:idx]...)
	out = append(out, extra...)
	return append(out, args[idx:]...)
}

type scanned struct {
	Sub, TopFlag       string
	SubArgs            []string
	Help, AutoCmp, Ver bool
}

// scan is mitchellh/cli's processArgs for terraform's nested command tree.
func scan(args []string) scanned {
	var s scanned
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		switch a {
		case "-h", "-help", "--help":
			s.Help = true
			continue
		case "-install-autocomplete", "--install-autocomplete",
			"-uninstall-autocomplete", "--uninstall-autocomplete":
			s.AutoCmp = true
			continue
		}
		if s.Sub != "" {
			continue
		}
		if a == "-v" || a == "-version" || a == "--version" {
			s.Ver = true
			continue
		}
		if a != "" && a[0] == '-' {
			if s.TopFlag == "" {
				s.TopFlag = a
			}
			continue
		}
		if a == "" {
			continue
		}
		s.Sub = a
		if strings.ContainsRune(a, ' ') {
			s.Sub = ""
			return s
		}
		j := i
		for _, v := range args[i:] {
			if strings.ContainsRune(v, ' ') || v == "" || v[0] == '-' {
				break
			}
			j++
		}
		if k := longestCommand(args[i:j]); k != "" {
			s.Sub = k
			i += strings.Count(k, " ")
		}
		s.SubArgs = args[i+1:]
	}
	return s
}

// longestCommand returns the longest known command made of a prefix of
// words, or "" when none is known.
func longestCommand(words []string) string {
	for n := len(words); n > 0; n-- {
		k := strings.Join(words[:n], " ")
		if _, ok := commands[k]; ok {
			return k
		}
	}
	return ""
}
