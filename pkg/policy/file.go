package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/cel-go/cel"
	"go.yaml.in/yaml/v3"

	"github.com/agentctl/agentctl/pkg/classify"
)

// File is one parsed policy file: one layer.
type File struct {
	// Name is how the file is named in rule ids and errors.
	Name         string
	Version      int
	Environments []*Environment
	Rules        []*Rule
	Limits       Limits
	// Flags maps behavioural flags to what they do (see [FlagAction]).
	Flags map[string]FlagAction
	// Convergence is the file's convergence setting; nil is unset.
	Convergence *Convergence
}

// Convergence says how long agentctl waits, after a change ran, for what
// it changed to converge (see package converge). Timeout 0 is off: the
// change is not checked.
type Convergence struct {
	Timeout time.Duration
	// Where is file:line of the setting.
	Where string
}

// Environment maps targets to an environment name. An entry matches when
// every matcher it sets matches.
//
// Context, cluster, workspace and dir are names the agent writes (its
// kubeconfig, TF_WORKSPACE, its working tree): an entry that matches on
// them alone is name-only ([Environment.NameOnly]) and can only make a
// decision stricter. Servers binds an entry to an API server's identity,
// which the agent cannot rename.
type Environment struct {
	Name       string
	Line       int
	Servers    []ServerID
	Contexts   patterns
	Clusters   patterns
	Namespaces patterns
	Workspaces patterns
	Dirs       patterns
}

// ServerID is an API server's identity: the canonical URL kubectl dials
// (see classify.ParseServer) and, when set, the SHA-256 of the DER of the
// certificate authority kubectl checks its certificate against.
type ServerID struct {
	URL      string
	CASHA256 string
}

// NameOnly says whether the entry selects targets by names the agent
// writes only: it sets no servers, and sets context, cluster, workspace
// or dir. Namespaces are names on the server (the namespace the command
// touches), not in the agent's files.
func (e *Environment) NameOnly() bool {
	return len(e.Servers) == 0 && (e.Contexts != nil || e.Clusters != nil || e.Workspaces != nil || e.Dirs != nil)
}

// matchServer reports whether the target is one of the servers.
func matchServer(ids []ServerID, t *classify.Target) bool {
	if t.Server == "" {
		return false
	}
	srv, err := classify.ParseServer(t.Server)
	if err != nil {
		return false
	}
	for _, id := range ids {
		if id.URL == srv.URL && (id.CASHA256 == "" || id.CASHA256 == t.CASHA256) {
			return true
		}
	}
	return false
}

// Limits are the rate limit and the lockout of one layer; nil is unset.
type Limits struct {
	// Mutations: at most Max commands other than reads run per Window.
	Mutations *Window
	// Lockout: after Max denials within Window the agent is locked.
	Lockout *Window
}

// Window is a count over a sliding time window. Max 0 disables the limit.
type Window struct {
	Max    int
	Window time.Duration
	// Where is file:line of the setting.
	Where string
}

// decoder turns YAML nodes into a [File], collecting every issue with its
// position instead of stopping at the first.
type decoder struct {
	file   string
	cel    *cel.Env
	issues []Issue
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.issues = append(d.issues, Issue{File: d.file, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf(format, args...)})
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Parse reads one policy file. name is used in rule ids and errors. Every
// problem is reported, each at its file:line:col, in a *[LoadError].
func Parse(name string, src []byte) (*File, error) {
	env, err := newCELEnv()
	if err != nil {
		return nil, fmt.Errorf("cannot build the CEL environment: %w", err)
	}
	return parse(name, src, env)
}

func parse(name string, src []byte, env *cel.Env) (*File, error) {
	d := &decoder{file: name, cel: env}
	f := &File{Name: name, Version: 1}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return f, nil // an empty file is an empty layer
		}
		d.yamlError(err, src)
		return nil, &LoadError{Issues: d.issues}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.errorf(&extra, "a policy file holds one YAML document")
	} else if !errors.Is(err, io.EOF) {
		d.yamlError(err, src)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	d.top(root, f)
	if len(d.issues) > 0 {
		return nil, &LoadError{Issues: d.issues}
	}
	return f, nil
}

func (d *decoder) yamlError(err error, src []byte) {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		for _, e := range te.Errors {
			d.yamlMsg(e, 0)
		}
		return
	}
	d.yamlMsg(err.Error(), syntaxLine(err.Error(), src))
}

// syntaxLine finds the line of a YAML syntax error. The parser reports the
// line where the enclosing construct started, or none; the first prefix of
// the file, in whole lines, that fails with the same message ends on the
// line at fault.
func syntaxLine(msg string, src []byte) int {
	_, want, _ := strings.Cut(strings.TrimPrefix(msg, "yaml: "), ": ")
	if want == "" || !strings.HasPrefix(msg, "yaml: line ") {
		want = strings.TrimPrefix(msg, "yaml: ")
	}
	lines := bytes.SplitAfter(src, []byte("\n"))
	for k := 1; k <= len(lines); k++ {
		var n yaml.Node
		err := yaml.Unmarshal(bytes.Join(lines[:k], nil), &n)
		if err != nil && strings.HasSuffix(err.Error(), want) {
			return k
		}
	}
	return 0
}

func (d *decoder) yamlMsg(msg string, line int) {
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		if line == 0 {
			line, _ = strconv.Atoi(m[1])
		}
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	if line == 0 {
		line = 1
	}
	d.issues = append(d.issues, Issue{File: d.file, Line: line, Col: 1, Msg: "invalid YAML: " + msg})
}

// fields walks a mapping, calling fn for every key; a key fn does not know
// (fn returns false) is an "unknown field" error, a repeated key another.
func (d *decoder) fields(n *yaml.Node, what string, fn func(key string, k, v *yaml.Node) bool) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s must be a mapping", what)
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if seen[k.Value] {
			d.errorf(k, "field %q repeated", k.Value)
			continue
		}
		seen[k.Value] = true
		if !fn(k.Value, k, v) {
			d.errorf(k, "unknown field %q", k.Value)
		}
	}
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func (d *decoder) str(n *yaml.Node, what string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errorf(n, "%s must be a string", what)
		return ""
	}
	return n.Value
}

func (d *decoder) boolean(n *yaml.Node, what string) bool {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		d.errorf(n, "%s must be true or false", what)
		return false
	}
	b, _ := strconv.ParseBool(n.Value)
	return b
}

func (d *decoder) integer(n *yaml.Node, what string) int {
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil || v < 0 {
		d.errorf(n, "%s must be a non-negative integer, not %q", what, n.Value)
		return 0
	}
	return v
}

func (d *decoder) duration(n *yaml.Node, what string) time.Duration {
	v, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil || v <= 0 {
		d.errorf(n, "%s must be a positive duration like 10m or 1h, not %q", what, n.Value)
		return 0
	}
	return v
}

// list reads a string or a list of strings.
func (d *decoder) list(n *yaml.Node, what string) []string {
	switch n.Kind {
	case yaml.ScalarNode:
		if s := d.str(n, what); s != "" {
			return []string{s}
		}
		d.errorf(n, "%s must not be empty", what)
		return nil
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			d.errorf(n, "%s must not be empty: leave it out to match anything", what)
		}
		var out []string
		for _, c := range n.Content {
			c = deref(c)
			if s := d.str(c, what); s != "" {
				out = append(out, s)
			} else if c.Kind == yaml.ScalarNode && c.Tag != "!!null" {
				d.errorf(c, "%s must not be empty", what)
			}
		}
		return out
	}
	d.errorf(n, "%s must be a string or a list of strings", what)
	return nil
}

func (d *decoder) patterns(n *yaml.Node, what string, fold bool) patterns {
	var ps patterns
	for _, s := range d.list(n, what) {
		ps = append(ps, newPattern(s, fold))
	}
	return ps
}

func (d *decoder) top(n *yaml.Node, f *File) {
	d.fields(n, "a policy file", func(key string, k, v *yaml.Node) bool {
		switch key {
		case "version":
			if f.Version = d.integer(v, "version"); f.Version != 1 {
				d.errorf(v, "unsupported policy version %q (want 1)", v.Value)
			}
		case "description":
			d.str(v, "description")
		case "environments":
			d.environments(v, f)
		case "rules":
			if v.Kind != yaml.SequenceNode {
				d.errorf(v, "rules must be a list")
				return true
			}
			for _, r := range v.Content {
				if rule := d.rule(deref(r)); rule != nil {
					f.Rules = append(f.Rules, rule)
				}
			}
		case "limits":
			d.limits(v, f)
		case "flags":
			d.flags(v, f)
		case "convergence":
			d.convergence(v, f)
		default:
			return false
		}
		return true
	})
}

func (d *decoder) convergence(n *yaml.Node, f *File) {
	c := &Convergence{Where: fmt.Sprintf("%s:%d", d.file, n.Line)}
	var has bool
	d.fields(n, "convergence", func(key string, k, v *yaml.Node) bool {
		switch key {
		case "timeout":
			has = true
			if v.Kind == yaml.ScalarNode && (v.Value == "off" || v.Value == "0") {
				return true
			}
			c.Timeout = d.duration(v, "convergence.timeout")
		default:
			return false
		}
		return true
	})
	if n.Kind == yaml.MappingNode && !has {
		d.errorf(n, "convergence needs a timeout (a duration like 2m, or off)")
	}
	f.Convergence = c
}

func (d *decoder) environments(n *yaml.Node, f *File) {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "environments must be a list")
		return
	}
	for _, c := range n.Content {
		c = deref(c)
		e := &Environment{Line: c.Line}
		set := false
		d.fields(c, "an environment", func(key string, k, v *yaml.Node) bool {
			switch key {
			case "name":
				e.Name = d.str(v, "name")
			case "servers":
				e.Servers, set = d.servers(v), true
			case "context":
				e.Contexts, set = d.patterns(v, key, false), true
			case "cluster":
				e.Clusters, set = d.patterns(v, key, false), true
			case "namespace":
				e.Namespaces, set = d.patterns(v, key, false), true
			case "workspace":
				e.Workspaces, set = d.patterns(v, key, false), true
			case "dir":
				e.Dirs, set = d.patterns(v, key, false), true
			default:
				return false
			}
			return true
		})
		if c.Kind != yaml.MappingNode {
			continue
		}
		if e.Name == "" {
			d.errorf(c, "an environment needs a name")
		}
		if !set {
			d.errorf(c, "environment %q matches nothing: give servers, or context, cluster, namespace, workspace or dir patterns", e.Name)
		}
		f.Environments = append(f.Environments, e)
	}
}

// servers reads a list of {url, caSHA256} server identities.
func (d *decoder) servers(n *yaml.Node) []ServerID {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		d.errorf(n, "servers must be a non-empty list of {url: https://HOST:PORT, caSHA256: HEX}")
		return nil
	}
	var out []ServerID
	for _, c := range n.Content {
		c = deref(c)
		var id ServerID
		var hasURL bool
		d.fields(c, "a server", func(key string, k, v *yaml.Node) bool {
			switch key {
			case "url":
				hasURL = true
				raw := d.str(v, "url")
				srv, err := classify.ParseServer(raw)
				if err != nil {
					d.errorf(v, "%v\nhint: %s", err, classify.ServerHint)
					return true
				}
				id.URL = srv.URL
			case "caSHA256":
				raw := d.str(v, "caSHA256")
				h := strings.ToLower(strings.ReplaceAll(raw, ":", ""))
				if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
					d.errorf(v, "caSHA256 %q is not a SHA-256 in hex\nhint: openssl x509 -in ca.crt -outform der | sha256sum", raw)
					return true
				}
				id.CASHA256 = h
			default:
				return false
			}
			return true
		})
		if c.Kind == yaml.MappingNode && !hasURL {
			d.errorf(c, "a server needs a url")
		}
		out = append(out, id)
	}
	return out
}

func (d *decoder) limits(n *yaml.Node, f *File) {
	window := func(v *yaml.Node, what, count string) *Window {
		w := &Window{Where: fmt.Sprintf("%s:%d", d.file, v.Line)}
		var hasMax, hasWindow bool
		d.fields(v, what, func(key string, k, v *yaml.Node) bool {
			switch key {
			case count:
				w.Max, hasMax = d.integer(v, what+"."+count), true
			case "window":
				w.Window, hasWindow = d.duration(v, what+".window"), true
			default:
				return false
			}
			return true
		})
		if v.Kind == yaml.MappingNode && (!hasMax || !hasWindow && w.Max > 0) {
			d.errorf(v, "%s needs %s and window", what, count)
		}
		return w
	}
	d.fields(n, "limits", func(key string, k, v *yaml.Node) bool {
		switch key {
		case "mutations":
			f.Limits.Mutations = window(v, "mutations", "max")
		case "lockout":
			f.Limits.Lockout = window(v, "lockout", "denials")
		default:
			return false
		}
		return true
	})
}

func (d *decoder) classes(n *yaml.Node) uint32 {
	var mask uint32
	for _, s := range d.list(n, "class") {
		c, err := classify.ParseClass(s)
		if err != nil {
			d.errorf(n, "unknown class %q (want one of read, write, destructive, exec, secret, privilege, unknown)", s)
			continue
		}
		mask |= 1 << uint(c)
	}
	return mask
}
