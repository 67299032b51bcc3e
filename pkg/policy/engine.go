package policy

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/policies"
)

// LayerKind says where a policy layer comes from. Layers are listed from
// the least to the most specific: default, admin, user, project, flag.
type LayerKind string

// The layer kinds.
const (
	// LayerDefault is policies/default.yaml, embedded in the binary.
	LayerDefault LayerKind = "default"
	// LayerAdmin is /etc/agentctl/policy.yaml, which must be owned by
	// root and writable by nobody else.
	LayerAdmin LayerKind = "admin"
	// LayerUser is $XDG_CONFIG_HOME/agentctl/policy.yaml.
	LayerUser LayerKind = "user"
	// LayerProject is .agentctl/policy.yaml in the working tree. The
	// agent can write the working tree, so this layer may only tighten.
	LayerProject LayerKind = "project"
	// LayerFlag is a --policy file (or AGENTCTL_POLICY).
	LayerFlag LayerKind = "flag"
)

// Layer is one policy file in the stack.
type Layer struct {
	Kind LayerKind
	File *File
	// TightenOnly makes the layer count only where it is stricter than
	// the others, as the project layer always does: a user or --policy
	// file the agent could have written (see [Trusted]).
	TightenOnly bool
}

// tightenOnly says whether the layer may only make decisions stricter.
func (l Layer) tightenOnly() bool { return l.TightenOnly || l.Kind == LayerProject }

// Engine decides commands with a stack of policy layers. It is safe for
// concurrent use; its lockout state is shared with other processes
// through a locked file.
type Engine struct {
	layers  []Layer // least specific first
	trusted []Layer // the layers that decide, most specific first
	tighten []Layer // the layers that can only make that stricter
	envs    []*Environment
	limits  Limits
	// convergence is the effective convergence setting, nil when unset.
	convergence *Convergence
	flags       map[string]FlagAction
	state       *State
	now         func() time.Time
	warns       []string
}

// Options configure an [Engine] beyond its layers.
type Options struct {
	// StateDir holds the rate-limit and lockout state
	// ($XDG_STATE_HOME/agentctl). Empty disables limits and lockout.
	StateDir string
	// Warn receives loud warnings (a rule with allowPrivilege: true).
	Warn func(string)
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// LoadOptions say where the layers come from.
type LoadOptions struct {
	Options
	// Files are --policy files, in the order given: later ones win.
	Files []string
	// Cwd is where the project file is looked for: .agentctl/policy.yaml
	// in Cwd or a parent, up to the repository root (the first directory
	// holding .git). Empty skips the project layer.
	Cwd string
	// ConfigDir is agentctl's user configuration directory
	// ($XDG_CONFIG_HOME/agentctl); policy.yaml there is the user layer.
	// Empty skips it.
	ConfigDir string
	// AdminFile is the admin layer (/etc/agentctl/policy.yaml), read when
	// it exists. Empty skips it.
	AdminFile string
	// AsInstalled takes every --policy file as [Trusted]: what `policy
	// check FILE` and `policy test` look at is a file's content, as it
	// would decide once installed where it may.
	AsInstalled bool
}

// Load reads every layer and builds the engine. A layer that cannot be
// read or parsed is a *[LoadError] (exit 78): nothing runs with a broken
// policy.
func Load(opts LoadOptions) (*Engine, error) {
	layers, err := LoadLayers(opts)
	if err != nil {
		return nil, err
	}
	return New(layers, opts.Options)
}

// LoadLayers reads the layers Load would use, least specific first.
func LoadLayers(opts LoadOptions) ([]Layer, error) {
	def, err := Default()
	if err != nil {
		return nil, err
	}
	layers := []Layer{{Kind: LayerDefault, File: def}}
	var issues []Issue
	add := func(kind LayerKind, path string, optional bool) {
		f, trusted, err := parseFile(path)
		if optional && errors.Is(err, os.ErrNotExist) {
			return
		}
		var le *LoadError
		if errors.As(err, &le) {
			issues = append(issues, le.Issues...)
			return
		}
		if err != nil {
			issues = append(issues, Issue{File: path, Msg: err.Error()})
			return
		}
		if kind == LayerAdmin && !trusted {
			issues = append(issues, Issue{File: path, Msg: "the admin policy must be owned by root and writable by nobody else\nhint: sudo chown root: " + path + " && sudo chmod go-w " + path})
			return
		}
		if kind == LayerFlag && opts.AsInstalled {
			trusted = true
		}
		layers = append(layers, Layer{Kind: kind, File: f, TightenOnly: !trusted})
	}
	if opts.AdminFile != "" {
		add(LayerAdmin, opts.AdminFile, true)
	}
	if opts.ConfigDir != "" {
		add(LayerUser, filepath.Join(opts.ConfigDir, "policy.yaml"), true)
	}
	if p := FindProject(opts.Cwd); p != "" {
		add(LayerProject, p, false)
	}
	for _, p := range opts.Files {
		add(LayerFlag, p, false)
	}
	if len(issues) > 0 {
		return nil, &LoadError{Issues: issues}
	}
	return layers, nil
}

// FindProject returns the project policy for a working directory:
// .agentctl/policy.yaml in dir or the nearest parent, not looking above
// the repository root (the first directory with a .git entry). Outside a
// repository only dir itself is looked at. It returns "" when there is
// none.
func FindProject(dir string) string {
	if dir == "" {
		return ""
	}
	dir = filepath.Clean(dir)
	inRepo := false
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			inRepo = true
			break
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, ".agentctl", "policy.yaml")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		_, err := os.Stat(filepath.Join(d, ".git"))
		if !inRepo || err == nil || filepath.Dir(d) == d {
			return ""
		}
	}
}

// parseFile reads and parses one policy file, and says whether the bytes
// it read are [Trusted].
func parseFile(path string) (*File, bool, error) {
	fail := func(err error) (*File, bool, error) {
		if errors.Is(err, os.ErrNotExist) {
			return nil, false, err
		}
		return nil, false, &LoadError{Issues: []Issue{{File: path, Msg: fmt.Sprintf("cannot read the policy: %v", err)}}}
	}
	fh, err := os.Open(path)
	if err != nil {
		return fail(err)
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return fail(err)
	}
	if fi.IsDir() {
		return fail(errors.New("is a directory"))
	}
	b, err := io.ReadAll(fh)
	if err != nil {
		return fail(err)
	}
	f, err := Parse(path, b)
	return f, Trusted(fi), err
}

// New builds an engine from layers, least specific first. It checks what
// a layer of its kind may hold: a project layer holds rules only and can
// only tighten; allowPrivilege is refused in the default and project
// layers and warned about everywhere else.
func New(layers []Layer, opts Options) (*Engine, error) {
	e := &Engine{layers: layers, now: opts.Now}
	if e.now == nil {
		e.now = time.Now
	}
	var issues []Issue
	for _, l := range layers {
		issues = append(issues, e.check(l)...)
	}
	if len(issues) > 0 {
		return nil, &LoadError{Issues: issues}
	}
	for i := len(layers) - 1; i >= 0; i-- {
		l := layers[i]
		if l.tightenOnly() {
			e.tighten = append(e.tighten, l)
			continue
		}
		e.trusted = append(e.trusted, l)
		e.envs = append(e.envs, l.File.Environments...)
		if e.limits.Mutations == nil {
			e.limits.Mutations = l.File.Limits.Mutations
		}
		if e.limits.Lockout == nil {
			e.limits.Lockout = l.File.Limits.Lockout
		}
		if e.convergence == nil {
			e.convergence = l.File.Convergence
		}
	}
	issues = append(issues, e.checkNames()...)
	e.flags = mergeFlags(layers)
	// A tighten-only layer may wait longer, never shorter: the agent
	// cannot turn the check off.
	for _, l := range e.tighten {
		if c := l.File.Convergence; c != nil {
			if e.convergence != nil && c.Timeout < e.convergence.Timeout {
				issues = append(issues, Issue{File: l.File.Name, Msg: fmt.Sprintf("convergence at %s: a %s can only make the convergence timeout longer than %s (%s)\nhint: %s",
					c.Where, l.name(), e.convergence.Timeout, l.whyTightenOnly(), trustHint)})
				continue
			}
			e.convergence = c
		}
	}
	// A tighten-only layer's limits count where they are stricter.
	for _, l := range e.tighten {
		for _, lim := range []struct {
			name string
			cur  **Window
			w    *Window
		}{{"mutations", &e.limits.Mutations, l.File.Limits.Mutations}, {"lockout", &e.limits.Lockout, l.File.Limits.Lockout}} {
			if lim.w == nil {
				continue
			}
			if !stricter(lim.w, *lim.cur) {
				issues = append(issues, Issue{File: l.File.Name, Msg: fmt.Sprintf("limits.%s at %s: a %s can only make limits stricter than %s (%s)\nhint: %s",
					lim.name, lim.w.Where, l.name(), describe(*lim.cur), l.whyTightenOnly(), trustHint)})
				continue
			}
			*lim.cur = lim.w
		}
	}
	if len(issues) > 0 {
		return nil, &LoadError{Issues: issues}
	}
	if opts.StateDir != "" {
		e.state = OpenState(opts.StateDir)
	}
	if opts.Warn != nil {
		for _, w := range e.warns {
			opts.Warn(w)
		}
	}
	return e, nil
}

const privMask = 1<<uint(classify.Privilege) | 1<<uint(classify.Unknown)

func (e *Engine) check(l Layer) []Issue {
	f := l.File
	var issues []Issue
	bad := func(line int, format string, args ...any) {
		issues = append(issues, Issue{File: f.Name, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	why := l.whyTightenOnly()
	for _, r := range f.Rules {
		line := r.Line
		loose := r.Action == Allow || r.Action == Sandbox
		switch {
		case r.AllowPrivilege && l.Kind == LayerDefault:
			bad(line, "allowPrivilege is not allowed in a %s policy", l.Kind)
		case r.AllowPrivilege && why != "":
			bad(line, "allowPrivilege is not allowed in a %s: %s\nhint: %s", l.name(), why, trustHint)
		case r.AllowPrivilege:
			e.warns = append(e.warns, fmt.Sprintf("%s: allowPrivilege: true lets privilege and unknown commands run without a human", r.ID))
		case loose && r.Classes&privMask != 0:
			bad(line, "decision %s for class privilege or unknown needs allowPrivilege: true on the rule\nhint: privilege changes and commands agentctl cannot understand need a human by default", r.Action)
		}
	}
	return issues
}

// checkNames refuses trusted rules that would loosen the policy on names
// the agent writes: a context, cluster, workspace or dir matcher, or an
// env: that only name-only environments define. At run time such a
// match can only tighten, so the rule would never do what it says.
func (e *Engine) checkNames() []Issue {
	bound := map[string]bool{"unknown": true}
	var names []string
	for _, env := range e.envs {
		if !env.NameOnly() {
			bound[env.Name] = true
		}
		names = append(names, env.Name)
	}
	names = append(names, "unknown")
	var issues []Issue
	for _, l := range e.trusted {
		for _, r := range l.File.Rules {
			if !r.loosens() {
				continue
			}
			var by []string
			for _, m := range []struct {
				name string
				ps   patterns
			}{{"context", r.Contexts}, {"cluster", r.Clusters}, {"workspace", r.Workspaces}, {"dir", r.Dirs}} {
				if m.ps != nil {
					by = append(by, m.name)
				}
			}
			if len(r.whenNames) > 0 {
				by = append(by, "when: "+strings.Join(r.whenNames, ", "))
			}
			if len(by) > 0 {
				issues = append(issues, Issue{File: l.File.Name, Line: r.Line, Msg: fmt.Sprintf(
					"rule %q would %s by %s, a name the agent writes (its kubeconfig, TF_WORKSPACE, its working tree)\nhint: %s",
					r.label(), r.Action, strings.Join(by, " and "), nameHint)})
				continue
			}
			if r.Envs == nil {
				continue
			}
			matched, ok := []string{}, false
			for _, n := range names {
				if r.Envs.any(n) && !slices.Contains(matched, n) {
					matched = append(matched, n)
					ok = ok || bound[n]
				}
			}
			if len(matched) > 0 && !ok {
				issues = append(issues, Issue{File: l.File.Name, Line: r.Line, Msg: fmt.Sprintf(
					"rule %q would %s in environment %q, which only context, cluster, workspace or dir names select: the agent writes those names, so they can only tighten\nhint: %s",
					r.label(), r.Action, strings.Join(matched, ", "), nameHint)})
			}
		}
	}
	return issues
}

// nameHint says how to loosen the policy for one cluster.
const nameHint = "bind the environment to the API server: servers: [{url: https://HOST:PORT, caSHA256: SHA256-OF-THE-CA-DER}] (docs/policy.md)"

// loosens says whether the rule can let a command run without a human:
// allow, or sandbox for anything but reads.
func (r *Rule) loosens() bool {
	return r.Action == Allow || r.Action == Sandbox && r.Classes != 1<<uint(classify.Read)
}

// label names the rule in messages: its name, else its id.
func (r *Rule) label() string {
	if r.Name != "" {
		return r.Name
	}
	return r.ID
}

// Layers returns the engine's layers, least specific first.
func (e *Engine) Layers() []Layer { return e.layers }

// Flags returns what each behavioural flag does, as merged from every
// layer (the strictest entry of any layer).
func (e *Engine) Flags() map[string]FlagAction { return e.flags }

// Convergence returns the effective convergence setting (zero: off).
func (e *Engine) Convergence() Convergence {
	if e.convergence == nil {
		return Convergence{}
	}
	return *e.convergence
}

// Limits returns the effective limits.
func (e *Engine) Limits() Limits { return e.limits }

// Env maps the input's target to an environment name: the first matching
// entry of the most specific layer that has one, else "unknown". Entries
// that match on names the agent writes only ([Environment.NameOnly]) are
// left out here: they can only make a decision stricter (see
// [Engine.Decide]). A tighten-only layer's entries name environments for
// its own rules only.
func (e *Engine) Env(in *Input) string {
	if name, ok := envOf(e.envs, in, bound); ok {
		return name
	}
	return "unknown"
}

// nameEnv is the environment the first matching name-only entry names.
func (e *Engine) nameEnv(in *Input) (string, bool) {
	return envOf(e.envs, in, (*Environment).NameOnly)
}

func bound(env *Environment) bool { return !env.NameOnly() }
func anyEnv(*Environment) bool    { return true }

// envOf returns the name of the first of envs that use says to consider
// and that matches the input.
func envOf(envs []*Environment, in *Input, use func(*Environment) bool) (string, bool) {
	a := in.Assessment
	t := &a.Target
	for _, env := range envs {
		switch {
		case !use(env),
			env.Servers != nil && !matchServer(env.Servers, t),
			env.Contexts != nil && !matchSet(env.Contexts, t.Context),
			env.Clusters != nil && !matchSet(env.Clusters, t.Cluster),
			env.Workspaces != nil && !matchSet(env.Workspaces, t.Workspace),
			env.Dirs != nil && !matchSet(env.Dirs, dirOf(in)),
			env.Namespaces != nil && !matchNamespaces(env.Namespaces, a):
			continue
		}
		return env.Name, true
	}
	return "", false
}

// Default parses the embedded default policy.
func Default() (*File, error) {
	return Parse(policies.DefaultName, policies.Default())
}

// trustHint says where a loosening rule belongs.
const trustHint = "what loosens the policy belongs in /etc/agentctl/policy.yaml, or in a policy file owned by root and writable by nobody else"

// whyTightenOnly says why the layer may only tighten, "" when it may decide.
func (l Layer) whyTightenOnly() string {
	switch {
	case l.Kind == LayerProject:
		return "the agent can write the working tree"
	case l.TightenOnly:
		return "the file is not owned by root or is writable by others, so the agent could have written it"
	}
	return ""
}

// name is how messages call the layer.
func (l Layer) name() string {
	switch l.Kind {
	case LayerFlag:
		return "--policy file"
	case LayerProject:
		return "project policy"
	}
	return string(l.Kind) + " policy"
}

// stricter says whether limit w allows no more than cur: at most as many
// in at least as long a window. Max 0 is off, which any limit beats.
func stricter(w, cur *Window) bool {
	if cur == nil || cur.Max == 0 {
		return true
	}
	return w.Max > 0 && w.Max <= cur.Max && w.Window >= cur.Window
}

func describe(w *Window) string {
	if w == nil || w.Max == 0 {
		return "off"
	}
	return fmt.Sprintf("%d per %s, as %s sets", w.Max, w.Window, w.Where)
}
