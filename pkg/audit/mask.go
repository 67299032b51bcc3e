package audit

import (
	"regexp"
	"strings"
)

// Masked replaces every secret value MaskArgs removes.
const Masked = "***"

// MaskArgs returns a copy of args with secret values replaced by "***".
// Masking is deliberately generous: a record that hides a harmless value
// is better than one that leaks a token. It is idempotent.
//
// For every tool:
//
//   - a flag whose name contains password, passwd, token, secret,
//     credential, apikey/api-key/api_key, private-key or access-key has
//     its value masked in both forms, --flag=v and --flag v;
//   - a KEY=VALUE word (positional or flag value) whose KEY has such a name
//     keeps KEY and masks VALUE (kubectl set env DB_PASSWORD=x, --env=...);
//   - URLs lose the password of their user info (https://u:***@host), query
//     parameters with secret names lose their value, and
//     "Bearer x"/"Basic x" lose x.
//
// kubectl: --from-literal=k=v, --auth-provider-arg=k=v and --exec-env=k=v
// keep k and mask v (the key says what was set, the value is the secret);
// `config set PATH VALUE` masks VALUE when PATH ends in a secret name or
// *-data (client-key-data). File paths (--client-key, --from-file) are
// kept: they are not secrets.
//
// terraform and tofu: -var NAME=VALUE always keeps NAME and masks VALUE,
// whatever the name: variables are the usual way secrets reach terraform's
// command line, and the plan hash already pins what was applied.
// -backend-config=KEY=VALUE masks VALUE; -backend-config=FILE is kept.
func MaskArgs(tool string, args []string) []string {
	out := make([]string, len(args))
	tf := tool == "terraform" || tool == "tofu"
	maskNext := flagNone
	for i, a := range args {
		switch {
		case maskNext != flagNone:
			out[i] = maskValue(maskNext, a)
			maskNext = flagNone
		case strings.HasPrefix(a, "-") && len(a) > 1 && a != "--":
			name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
			rule := flagRule(tf, name)
			if hasVal {
				out[i] = a[:len(a)-len(val)] + maskValue(rule, val)
			} else {
				out[i] = a
				maskNext = rule
			}
		default:
			out[i] = maskValue(flagNone, a)
		}
	}
	maskConfigSet(args, out)
	return out
}

type rule int

const (
	flagNone      rule = iota // not a secret flag; generic word masking only
	flagWhole                 // the whole value is secret
	flagKV                    // KEY=VALUE: VALUE is secret
	flagKVOrWhole             // KEY=VALUE: VALUE is secret; no '=': all of it
	flagKVOrKeep              // KEY=VALUE: VALUE is secret; no '=': a file, kept
)

func flagRule(tf bool, name string) rule {
	switch {
	case tf && name == "var":
		return flagKVOrWhole
	case tf && name == "backend-config":
		return flagKVOrKeep
	case name == "from-literal" || name == "auth-provider-arg" || name == "exec-env":
		return flagKV
	case secretName(name):
		return flagWhole
	}
	return flagNone
}

func maskValue(r rule, v string) string {
	switch r {
	case flagWhole:
		if v == "" {
			return v
		}
		return Masked
	case flagKV, flagKVOrWhole, flagKVOrKeep:
		if k, _, ok := strings.Cut(v, "="); ok {
			return k + "=" + Masked
		}
		if r == flagKVOrWhole {
			return Masked
		}
		if r == flagKV {
			return maskWord(v)
		}
		return v
	}
	return maskWord(v)
}

// maskWord masks secrets inside a word that is not known to be secret.
func maskWord(w string) string {
	if k, _, ok := strings.Cut(w, "="); ok && secretName(k) && !strings.ContainsAny(k, " /:?&") {
		return k + "=" + Masked
	}
	w = urlUserinfo.ReplaceAllString(w, "${1}:"+Masked+"@")
	w = urlQuery.ReplaceAllString(w, "${1}"+Masked)
	w = authScheme.ReplaceAllString(w, "${1}"+Masked)
	return w
}

var (
	urlUserinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*):[^@\s/]*@`)
	urlQuery    = regexp.MustCompile(`(?i)([?&;][a-z0-9_.-]*(?:token|password|passwd|secret|signature|sig|credential|api_?key)=)[^&;#\s]*`)
	authScheme  = regexp.MustCompile(`(?i)\b((?:bearer|basic)\s+)[^\s"']+`)
)

var secretWords = []string{
	"password", "passwd", "token", "secret", "credential",
	"apikey", "api-key", "api_key", "private-key", "private_key",
	"privatekey", "access-key", "access_key", "accesskey",
}

func secretName(name string) bool {
	n := strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// maskConfigSet masks the value of `kubectl config set PATH VALUE` when
// PATH names a credential (users.x.token, users.x.client-key-data).
func maskConfigSet(args, out []string) {
	var words []int // indexes of words that are not flags
	for i, a := range args {
		if !strings.HasPrefix(a, "-") {
			words = append(words, i)
		}
	}
	for j := 0; j+3 < len(words); j++ {
		if args[words[j]] != "config" || args[words[j+1]] != "set" {
			continue
		}
		path := args[words[j+2]]
		last := path[strings.LastIndex(path, ".")+1:]
		if secretName(last) || strings.HasSuffix(last, "-data") {
			out[words[j+3]] = Masked
		}
	}
}
