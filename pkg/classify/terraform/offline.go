package terraform

import (
	"github.com/agentctl/agentctl/pkg/classify"
)

// ClassifyOffline assesses an invocation from its words and, for an
// apply, the plan JSON it applies, without running anything: this is how
// the approval inbox checks the class a request claims (it has the argv
// and the plan JSON the request's hash covers, not the working directory
// or terraform). args are terraform's arguments as agentctl runs them
// (for an approved apply: apply … PLANFILE); TF_CLI_ARGS* were merged
// into them already. An apply or destroy without plan JSON is unknown.
func (c *Classifier) ClassifyOffline(args []string, planJSON []byte) (*classify.Assessment, error) {
	if c.err != nil {
		return nil, c.err
	}
	a := &classify.Assessment{Tool: "terraform", Class: classify.Read,
		Resources: []classify.Resource{}, Reasons: []classify.Reason{}}
	cl, err := parseCmdline(args, nil)
	if err != nil {
		a.Raise(classify.Unknown, "%v", err)
		return a, nil
	}
	for _, arg := range append(chdirArg(cl.Chdir), cl.Merged...) {
		if what := classify.ShellSyntax(arg); what != "" {
			a.Raise(classify.Unknown, "argument %q holds %q, which only a shell would interpret", arg, what)
		}
	}
	a.Subcommand = cl.Sub
	v := classifyArgs(cl)
	if v.Mode == noPlan || v.Class == classify.Unknown || v.Refuse {
		a.Raise(v.Class, "%s", v.Reason)
		return a, nil
	}
	if planJSON == nil {
		a.Raise(classify.Unknown, "%s, but the request holds no plan JSON to assess", v.Reason)
		return a, nil
	}
	pj, err := ParsePlanJSON(planJSON)
	if err != nil {
		a.Raise(classify.Unknown, "%v", err)
		return a, nil
	}
	res := AssessPlan(pj, c.priv)
	for _, r := range res.Reasons {
		a.Raise(r.Class, "%s", r.Message)
	}
	a.Raise(res.Class, "%s", res.Summary)
	if v.Parsed != nil && v.Parsed.isTrue("refresh-only") && len(pj.ResourceDrift) > 0 {
		a.Raise(classify.Write, "refresh-only: accepts %d changed objects into the state", len(pj.ResourceDrift))
	}
	a.Resources = append(a.Resources, res.Resources...)
	return a, nil
}
