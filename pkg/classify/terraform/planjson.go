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
	Provider   string              `json:"provider_name"`
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
			Name: rc.Name, DeposedKey: rc.DeposedKey, ProviderName: rc.Provider}
		if rc.Change != nil {
			r.Change = rc.Change.tfjson()
		}
		p.ResourceChanges = append(p.ResourceChanges, r)
	}
	if err := readValues(b, p); err != nil {
		return nil, err
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

// valuesPlan reads the values of resource changes, for the types whose
// values AssessPlan inspects (Kubernetes manifests, see manifests.go).
type valuesPlan struct {
	ResourceChanges []*struct {
		Type   string `json:"type"`
		Change *struct {
			Before       json.RawMessage `json:"before"`
			After        json.RawMessage `json:"after"`
			AfterUnknown json.RawMessage `json:"after_unknown"`
		} `json:"change"`
	} `json:"resource_changes"`
}

// readValues fills in Before, After and AfterUnknown of the changes whose
// type AssessPlan inspects; a plan without such types is not read again.
func readValues(b []byte, p *tfjson.Plan) error {
	need := false
	for _, rc := range p.ResourceChanges {
		if rc != nil && inspected(rc.Type) {
			need = true
		}
	}
	if !need {
		return nil
	}
	var vp valuesPlan
	if err := json.Unmarshal(b, &vp); err != nil {
		return fmt.Errorf("plan JSON: %w", err)
	}
	if len(vp.ResourceChanges) != len(p.ResourceChanges) {
		return fmt.Errorf("plan JSON: resource changes changed between reads")
	}
	for i, rc := range p.ResourceChanges {
		v := vp.ResourceChanges[i]
		if rc == nil || rc.Change == nil || v == nil || v.Change == nil || !inspected(rc.Type) {
			continue
		}
		for _, f := range []struct {
			raw json.RawMessage
			dst *any
		}{{v.Change.Before, &rc.Change.Before}, {v.Change.After, &rc.Change.After}, {v.Change.AfterUnknown, &rc.Change.AfterUnknown}} {
			if len(f.raw) == 0 {
				continue
			}
			if err := json.Unmarshal(f.raw, f.dst); err != nil {
				return fmt.Errorf("plan JSON: %s: %w", rc.Address, err)
			}
		}
	}
	return nil
}

// rootVariables reads which root module variables the plan's configuration
// declares and which of them it marks sensitive; nil when the JSON does
// not say.
func rootVariables(b []byte) map[string]bool {
	var p struct {
		Configuration struct {
			RootModule struct {
				Variables map[string]struct {
					Sensitive bool `json:"sensitive"`
				} `json:"variables"`
			} `json:"root_module"`
		} `json:"configuration"`
	}
	if json.Unmarshal(b, &p) != nil || p.Configuration.RootModule.Variables == nil {
		return nil
	}
	out := map[string]bool{}
	for name, v := range p.Configuration.RootModule.Variables {
		out[name] = v.Sensitive
	}
	return out
}
