package terraform

import (
	"encoding/json"
	"fmt"

	tfjson "github.com/hashicorp/terraform-json"
)

// The subset of a plan's JSON the classifier reads, in terraform-json's
// types. Values (before, after, planned and prior state) are skipped, not
// decoded: they are most of a large plan and classification never needs
// them, which makes reading a 500-resource plan several times faster.
type leanPlan struct {
	FormatVersion    string                 `json:"format_version"`
	TerraformVersion string                 `json:"terraform_version"`
	ResourceChanges  []*leanResourceChange  `json:"resource_changes"`
	ResourceDrift    []json.RawMessage      `json:"resource_drift"`
	DeferredChanges  []json.RawMessage      `json:"deferred_changes"`
	OutputChanges    map[string]*leanChange `json:"output_changes"`
	Complete         *bool                  `json:"complete"`
	Errored          bool                   `json:"errored"`
}

type leanResourceChange struct {
	Address    string              `json:"address"`
	Mode       tfjson.ResourceMode `json:"mode"`
	Type       string              `json:"type"`
	Name       string              `json:"name"`
	DeposedKey string              `json:"deposed"`
	Change     *leanChange         `json:"change"`
}

type leanChange struct {
	Actions         tfjson.Actions    `json:"actions"`
	Importing       *tfjson.Importing `json:"importing"`
	BeforeSensitive any               `json:"before_sensitive"`
	AfterSensitive  any               `json:"after_sensitive"`
}

// ParsePlanJSON reads the JSON of terraform show -json PLANFILE into a
// [tfjson.Plan] holding what [AssessPlan] needs: the format version
// (checked as terraform-json checks it), every resource change with its
// address, mode, type, name, deposed key and actions, output changes with
// their sensitivity, and the drift and deferred changes (counted).
func ParsePlanJSON(b []byte) (*tfjson.Plan, error) {
	var lp leanPlan
	if err := json.Unmarshal(b, &lp); err != nil {
		return nil, fmt.Errorf("plan JSON: %w", err)
	}
	if lp.Errored {
		return nil, fmt.Errorf("plan JSON: the plan is marked as errored")
	}
	p := &tfjson.Plan{FormatVersion: lp.FormatVersion, TerraformVersion: lp.TerraformVersion,
		Complete: lp.Complete}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("plan JSON: %w", err)
	}
	for _, rc := range lp.ResourceChanges {
		if rc == nil {
			p.ResourceChanges = append(p.ResourceChanges, nil)
			continue
		}
		r := &tfjson.ResourceChange{Address: rc.Address, Mode: rc.Mode, Type: rc.Type,
			Name: rc.Name, DeposedKey: rc.DeposedKey}
		if rc.Change != nil {
			r.Change = rc.Change.tfjson()
		}
		p.ResourceChanges = append(p.ResourceChanges, r)
	}
	p.ResourceDrift = make([]*tfjson.ResourceChange, len(lp.ResourceDrift))
	p.DeferredChanges = make([]*tfjson.DeferredResourceChange, len(lp.DeferredChanges))
	if len(lp.OutputChanges) > 0 {
		p.OutputChanges = map[string]*tfjson.Change{}
		for name, ch := range lp.OutputChanges {
			if ch != nil {
				p.OutputChanges[name] = ch.tfjson()
			}
		}
	}
	return p, nil
}

func (c *leanChange) tfjson() *tfjson.Change {
	return &tfjson.Change{Actions: c.Actions, Importing: c.Importing,
		BeforeSensitive: c.BeforeSensitive, AfterSensitive: c.AfterSensitive}
}
