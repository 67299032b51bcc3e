package policy

import (
	"fmt"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/ext"
	"github.com/google/cel-go/interpreter"
	"go.yaml.in/yaml/v3"
)

// newCELEnv declares the variables a `when:` condition may use. The
// schema is fixed: a condition that names anything else does not compile.
func newCELEnv() (*cel.Env, error) {
	str := cel.StringType
	return cel.NewEnv(
		cel.Variable("tool", str),
		cel.Variable("class", str),
		cel.Variable("subcommand", str),
		cel.Variable("dryRun", cel.BoolType),
		cel.Variable("resources", cel.ListType(cel.MapType(str, str))),
		cel.Variable("target", cel.MapType(str, str)),
		cel.Variable("env", str),
		cel.Variable("agent", str),
		cel.Variable("intent", str),
		cel.Variable("cwd", str),
		cel.Variable("nonInteractive", cel.BoolType),
		cel.Variable("reasons", cel.ListType(str)),
		cel.Variable("flags", cel.ListType(str)),
		ext.Strings(),
	)
}

// compileWhen compiles a rule's condition. Errors are reported at the
// position in the policy file, computed from the position of the YAML
// scalar and the position inside the expression.
func (d *decoder) compileWhen(n *yaml.Node) (cel.Program, *cel.Ast) {
	ast, iss := d.cel.Compile(n.Value)
	if iss != nil && iss.Err() != nil {
		for _, e := range iss.Errors() {
			line, col := n.Line, n.Column
			el, ec := e.Location.Line(), e.Location.Column()
			switch n.Style {
			case yaml.LiteralStyle, yaml.FoldedStyle:
				line += el // the expression starts on the line after | or >
				col = 0
			case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
				line += el - 1
				if el == 1 {
					col += 1 + ec
				} else {
					col = 0
				}
			default:
				line += el - 1
				if el == 1 {
					col += ec
				} else {
					col = 0
				}
			}
			d.issues = append(d.issues, Issue{File: d.file, Line: line, Col: col, Msg: "when: " + e.Message})
		}
		return nil, nil
	}
	if !ast.OutputType().IsExactType(cel.BoolType) {
		d.errorf(n, "when: condition must be a bool, not %s", ast.OutputType())
		return nil, nil
	}
	prg, err := d.cel.Program(ast, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		d.errorf(n, "when: %v", err)
		return nil, nil
	}
	return prg, ast
}

// activation is the value of every CEL variable for one input, converted
// to CEL values up front so that conditions do not convert on every
// access. It is built once per decision, on the first condition evaluated.
func activation(in *Input, env string) interpreter.Activation {
	a := in.Assessment
	ad := types.DefaultTypeAdapter
	res := make([]ref.Val, len(a.Resources))
	for i, r := range a.Resources {
		res[i] = types.NewStringStringMap(ad, map[string]string{
			"group": r.Group, "version": r.Version, "kind": r.Kind, "resource": r.Resource,
			"namespace": r.Namespace, "name": r.Name, "address": r.Address, "type": r.Type,
			"action": r.Action, "source": r.Source, "class": r.Class.String(),
		})
	}
	reasons := make([]ref.Val, len(a.Reasons))
	for i, r := range a.Reasons {
		reasons[i] = types.String(r.Message)
	}
	t := a.Target
	act, _ := interpreter.NewActivation(map[string]any{
		"tool":       types.String(a.Tool),
		"class":      types.String(a.Class.String()),
		"subcommand": types.String(a.Subcommand),
		"dryRun":     types.Bool(a.DryRun),
		"resources":  types.NewRefValList(ad, res),
		"target": types.NewStringStringMap(ad, map[string]string{
			"kubeconfig": t.Kubeconfig, "context": t.Context, "cluster": t.Cluster, "server": t.Server,
			"caSHA256": t.CASHA256, "user": t.User, "namespace": t.Namespace, "dir": t.Dir, "workspace": t.Workspace, "env": env,
		}),
		"env":            types.String(env),
		"agent":          types.String(in.Agent),
		"intent":         types.String(in.Intent),
		"cwd":            types.String(in.Cwd),
		"nonInteractive": types.Bool(in.NonInteractive),
		"reasons":        types.NewRefValList(ad, reasons),
		"flags":          types.NewStringList(ad, in.Flags),
	})
	return act
}

// evalWhen runs a compiled condition. Any error, or a result that is not
// a bool, is returned as an error: the caller denies.
func evalWhen(prg cel.Program, vars interpreter.Activation) (bool, error) {
	out, _, err := prg.Eval(vars)
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("condition returned %s, not a bool", out.Type().TypeName())
	}
	return b, nil
}
