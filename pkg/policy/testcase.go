package policy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/request"
)

// A policy test file (NAME_test.yaml) holds cases, like `opa test`: each
// case is a command line with its context and the decision it must get.
//
//	policy: prod-locked.yaml   # layered over the default, relative to this file
//	cases:
//	  - name: a delete in prod is refused
//	    command: kubectl --context prod-eu -n web delete deploy api
//	    kubeconfig: testdata/kubeconfig # optional: contexts to resolve, relative to this file
//	    target: {context: prod-eu}      # optional: overrides what the classifier found (context, cluster,
//	                                    # namespace, workspace, dir, server, caSHA256)
//	    want: {decision: deny, rule: no-prod-deletes, env: prod}
//
// Without policy:, the cases test the effective policy (every layer).
type testFile struct {
	path     string
	policies []string
	cases    []testCase
}

type testCase struct {
	line           int
	name           string
	command        []string
	target         map[string]string
	kubeconfig     string
	stdin          string
	agent, intent  string
	cwd            string
	nonInteractive bool
	environ        map[string]string
	want           map[string]string
}

// TestOptions configure [RunTests].
type TestOptions struct {
	// Classify assesses a case's command line with the real classifiers.
	Classify func(ctx context.Context, req *request.Request) (*classify.Assessment, error)
	// Base are the layers for test files that name no policy.
	Base []Layer
	// Out receives one line per failed case (every case when Verbose)
	// and a closing "N passed, M failed" line.
	Out     io.Writer
	Verbose bool
}

// TestResult counts cases.
type TestResult struct{ Passed, Failed int }

// TestFiles lists the *_test.yaml files of a directory, or the path itself
// when it is a file.
func TestFiles(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	var out []string
	err = filepath.WalkDir(path, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, "_test.yaml") {
			out = append(out, p)
		}
		return err
	})
	sort.Strings(out)
	return out, err
}

// RunTests runs the cases of the given test files. A test file or a
// policy that cannot be read or parsed is a *[LoadError] (exit 78).
func RunTests(ctx context.Context, files []string, opts TestOptions) (TestResult, error) {
	var res TestResult
	for _, path := range files {
		tf, err := parseTestFile(path)
		if err != nil {
			return res, err
		}
		layers := opts.Base
		if len(tf.policies) > 0 {
			if layers, err = LoadLayers(LoadOptions{Files: tf.policies, AsInstalled: true}); err != nil {
				return res, err
			}
		}
		e, err := New(layers, Options{})
		if err != nil {
			return res, err
		}
		for _, c := range tf.cases {
			problem := runCase(ctx, e, tf, c, opts)
			where := fmt.Sprintf("%s:%d: %s", path, c.line, c.name)
			if problem == "" {
				res.Passed++
				if opts.Verbose {
					fmt.Fprintf(opts.Out, "ok   %s\n", where)
				}
				continue
			}
			res.Failed++
			fmt.Fprintf(opts.Out, "FAIL %s\n     %s\n", where, problem)
		}
	}
	fmt.Fprintf(opts.Out, "%d passed, %d failed\n", res.Passed, res.Failed)
	return res, nil
}

func runCase(ctx context.Context, e *Engine, tf *testFile, c testCase, opts TestOptions) string {
	dir, err := filepath.Abs(filepath.Dir(tf.path))
	if err != nil {
		return err.Error()
	}
	cwd := c.cwd
	if cwd == "" {
		cwd = dir
	}
	env := []string{"HOME=" + filepath.Join(os.TempDir(), "agentctl-policy-test-home")}
	if c.kubeconfig != "" {
		kc := c.kubeconfig
		if !filepath.IsAbs(kc) {
			kc = filepath.Join(dir, kc)
		}
		env = append(env, "KUBECONFIG="+kc)
	}
	for k, v := range c.environ {
		env = append(env, k+"="+v)
	}
	req := &request.Request{ID: "policy-test", Tool: c.command[0], Args: c.command[1:], Stdin: strings.NewReader(c.stdin),
		Cwd: cwd, Env: env, Agent: c.agent, Intent: c.intent}
	a, err := opts.Classify(ctx, req)
	if err != nil {
		return fmt.Sprintf("cannot classify %q: %v", strings.Join(c.command, " "), err)
	}
	for k, v := range c.target {
		switch k {
		case "context":
			a.Target.Context = v
		case "cluster":
			a.Target.Cluster = v
		case "namespace":
			a.Target.Namespace = v
		case "workspace":
			a.Target.Workspace = v
		case "dir":
			a.Target.Dir = v
		case "server":
			a.Target.Server = v
		case "caSHA256":
			a.Target.CASHA256 = v
		}
	}
	d, err := e.Decide(ctx, &Input{Assessment: a, Agent: c.agent, Intent: c.intent, Cwd: cwd, NonInteractive: c.nonInteractive})
	if err != nil {
		return err.Error()
	}
	got := fmt.Sprintf("got %s by %s", d.Action, ruleLabel(d))
	var bad []string
	if w := c.want["decision"]; w != string(d.Action) {
		bad = append(bad, "decision "+w)
	}
	if w, ok := c.want["rule"]; ok && !ruleIs(d, w) {
		bad = append(bad, "rule "+w)
	}
	if w, ok := c.want["env"]; ok && w != d.Env {
		bad = append(bad, "env "+w)
		got += ", env " + d.Env
	}
	if w, ok := c.want["class"]; ok && w != a.Class.String() {
		bad = append(bad, "class "+w)
		got += ", class " + a.Class.String()
	}
	if w, ok := c.want["confirm"]; ok && w != fmt.Sprint(d.Confirm) {
		bad = append(bad, "confirm "+w)
		got += fmt.Sprintf(", confirm %v", d.Confirm)
	}
	if len(bad) == 0 {
		return ""
	}
	return fmt.Sprintf("%s (%s); want %s", got, d.Message, strings.Join(bad, ", "))
}

func ruleLabel(d Decision) string {
	if d.RuleName != "" {
		return d.RuleName + " (" + d.Rule + ")"
	}
	return d.Rule
}

// ruleIs matches an expected rule: its name, its id, or file:line with
// the file's base name.
func ruleIs(d Decision, want string) bool {
	if want == d.RuleName || want == d.Rule {
		return true
	}
	i := strings.LastIndexByte(d.Rule, ':')
	return i > 0 && strings.Contains(want, ":") && filepath.Base(d.Rule[:i])+d.Rule[i:] == want
}

func parseTestFile(path string) (*testFile, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, &LoadError{Issues: []Issue{{File: path, Msg: fmt.Sprintf("cannot read the test file: %v", err)}}}
	}
	d := &decoder{file: path}
	tf := &testFile{path: path}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(src)).Decode(&doc); err != nil {
		d.yamlError(err, src)
		return nil, &LoadError{Issues: d.issues}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	d.fields(root, "a policy test file", func(key string, k, v *yaml.Node) bool {
		switch key {
		case "policy":
			for _, p := range d.list(v, key) {
				if !filepath.IsAbs(p) {
					p = filepath.Join(filepath.Dir(path), p)
				}
				tf.policies = append(tf.policies, p)
			}
		case "cases":
			if v.Kind != yaml.SequenceNode {
				d.errorf(v, "cases must be a list")
				return true
			}
			for _, c := range v.Content {
				tf.cases = append(tf.cases, d.testCase(deref(c)))
			}
		default:
			return false
		}
		return true
	})
	if len(d.issues) > 0 {
		return nil, &LoadError{Issues: d.issues}
	}
	return tf, nil
}

func (d *decoder) testCase(n *yaml.Node) testCase {
	c := testCase{line: n.Line}
	d.fields(n, "a case", func(key string, k, v *yaml.Node) bool {
		switch key {
		case "name":
			c.name = d.str(v, key)
		case "command":
			words, err := shellWords(d.str(v, key))
			if err != nil || len(words) == 0 {
				d.errorf(v, "command: want a command line like \"kubectl get pods\"")
			}
			c.command = words
		case "target":
			c.target = d.stringMap(v, key, "context", "cluster", "namespace", "workspace", "dir", "server", "caSHA256")
		case "kubeconfig":
			c.kubeconfig = d.str(v, key)
		case "stdin":
			c.stdin = d.str(v, key)
		case "agent":
			c.agent = d.str(v, key)
		case "intent":
			c.intent = d.str(v, key)
		case "cwd":
			c.cwd = d.str(v, key)
		case "nonInteractive":
			c.nonInteractive = d.boolean(v, key)
		case "environ":
			c.environ = d.anyStringMap(v, key)
		case "want":
			c.want = d.stringMap(v, key, "decision", "rule", "env", "class", "confirm")
			if _, err := ParseAction(c.want["decision"]); err != nil {
				d.errorf(v, "want needs a decision: allow, sandbox, approve or deny")
			}
		default:
			return false
		}
		return true
	})
	if n.Kind == yaml.MappingNode && (c.name == "" || c.command == nil || c.want == nil) {
		d.errorf(n, "a case needs a name, a command and want")
	}
	return c
}

func (d *decoder) stringMap(n *yaml.Node, what string, keys ...string) map[string]string {
	out := map[string]string{}
	d.fields(n, what, func(key string, k, v *yaml.Node) bool {
		for _, want := range keys {
			if key == want {
				out[key] = d.str(v, what+"."+key)
				return true
			}
		}
		return false
	})
	return out
}

func (d *decoder) anyStringMap(n *yaml.Node, what string) map[string]string {
	out := map[string]string{}
	d.fields(n, what, func(key string, k, v *yaml.Node) bool {
		out[key] = d.str(v, what+"."+key)
		return true
	})
	return out
}
