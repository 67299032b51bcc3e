package kubectl

import (
	"strings"

	"github.com/spf13/pflag"
)

// inputFlags are the flags that name manifest inputs; they are replaced
// by a single "-f -" in the invocation.
var inputFlags = map[string]bool{"filename": true, "kustomize": true, "recursive": true}

// rewriteInputs returns args without the manifest input flags (in every
// form pflag accepts: -f X, -fX, -f=X, --filename X, --filename=X, and
// shorthand clusters such as -Rf X) and with "-f -" added before "--".
func rewriteInputs(p *parsed, args []string) []string {
	fs := p.cmd.Flags()
	out := make([]string, 0, len(args)+2)
	end := len(args)
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			end = i
		case strings.HasPrefix(a, "--"):
			name, _, hasVal := strings.Cut(a[2:], "=")
			f := fs.Lookup(name)
			if f == nil {
				out = append(out, a)
				continue
			}
			takes := !hasVal && f.NoOptDefVal == ""
			if inputFlags[f.Name] {
				if takes {
					i++
				}
				continue
			}
			out = append(out, a)
			if takes && i+1 < len(args) {
				i++
				out = append(out, args[i])
			}
			continue
		case strings.HasPrefix(a, "-") && len(a) > 1:
			kept, skipNext := shorthands(fs, a[1:])
			if kept != "" {
				out = append(out, "-"+kept)
			}
			if skipNext && i+1 < len(args) {
				i++
				if !dropped(fs, a[1:]) {
					out = append(out, args[i])
				}
			}
			continue
		default:
			out = append(out, a)
			continue
		}
		break
	}
	out = append(out, "-f", "-")
	return append(out, args[end:]...)
}

// shorthands walks a shorthand cluster ("Rf", "fdeploy.yaml", "nprod")
// and returns the part to keep and whether the next argument is the value
// of its last flag.
func shorthands(fs *pflag.FlagSet, s string) (kept string, skipNext bool) {
	for i := 0; i < len(s); i++ {
		f := fs.ShorthandLookup(s[i : i+1])
		if f == nil {
			return s, false // kubectl rejected unknown flags already
		}
		if f.NoOptDefVal != "" { // boolean-like
			if !inputFlags[f.Name] {
				kept += s[i : i+1]
			}
			continue
		}
		rest := s[i+1:]
		if inputFlags[f.Name] {
			return kept, rest == ""
		}
		return kept + s[i:], rest == ""
	}
	return kept, false
}

// dropped reports whether the value-taking flag ending a shorthand cluster
// is an input flag (so its separate value is dropped too).
func dropped(fs *pflag.FlagSet, s string) bool {
	for i := 0; i < len(s); i++ {
		f := fs.ShorthandLookup(s[i : i+1])
		if f == nil {
			return false
		}
		if f.NoOptDefVal == "" {
			return inputFlags[f.Name]
		}
	}
	return false
}
