package policy

import (
	"slices"

	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/operators"
)

// agentNames are the target keys whose values come from what the agent
// writes: its kubeconfig, TF_WORKSPACE, its working tree.
var agentNames = []string{"context", "cluster", "workspace", "dir", "kubeconfig", "user"}

// namesRead lists what a compiled condition reads of the names the agent
// writes, as it would be written: "target.context", "target['cluster']",
// "cwd". A use of target that is not a plain field selection or an index
// by a string literal (a comprehension over its keys, an index by a
// computed key, target passed whole to a function or compared) may read
// any key, so it is listed as "target" itself. The walk is over the
// checked syntax tree, so no spelling of the expression escapes it.
func namesRead(a *cel.Ast) []string {
	if a == nil {
		return nil
	}
	var out []string
	add := func(s string) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	isTarget := func(e celast.Expr) bool {
		return e.Kind() == celast.IdentKind && e.AsIdent() == "target"
	}
	uses, plain := 0, 0
	celast.PreOrderVisit(a.NativeRep().Expr(), celast.NewExprVisitor(func(e celast.Expr) {
		switch e.Kind() {
		case celast.IdentKind:
			switch e.AsIdent() {
			case "target":
				uses++
			case "cwd":
				add("cwd")
			}
		case celast.SelectKind:
			s := e.AsSelect()
			if !isTarget(s.Operand()) {
				return
			}
			plain++
			if slices.Contains(agentNames, s.FieldName()) {
				add("target." + s.FieldName())
			}
		case celast.CallKind:
			c := e.AsCall()
			if c.FunctionName() != operators.Index || len(c.Args()) != 2 || !isTarget(c.Args()[0]) {
				return
			}
			k := c.Args()[1]
			if k.Kind() != celast.LiteralKind {
				return // counted as a use of the whole target below
			}
			key, ok := k.AsLiteral().Value().(string)
			if !ok {
				return
			}
			plain++
			if slices.Contains(agentNames, key) {
				add("target['" + key + "']")
			}
		}
	}))
	if uses > plain {
		add("target")
	}
	return out
}
