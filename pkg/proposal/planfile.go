package proposal

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"io"
)

// TerraformPins reads the state lineage and serial a saved terraform plan
// was made against. A plan file (terraform 1.x, internal/plans/planfile)
// is a zip archive whose "tfstate" entry is the prior state snapshot, a
// state file in the JSON format `terraform state pull` prints.
func TerraformPins(planFile string) (Pins, error) {
	z, err := zip.OpenReader(planFile)
	if err != nil {
		return Pins{}, fmt.Errorf("terraform plan file %q: %w", planFile, err)
	}
	defer z.Close()
	for _, f := range z.File {
		if f.Name != "tfstate" {
			continue
		}
		r, err := f.Open()
		if err != nil {
			return Pins{}, fmt.Errorf("terraform plan file %q: %w", planFile, err)
		}
		defer r.Close()
		return StatePins(io.LimitReader(r, 256<<20))
	}
	return Pins{}, fmt.Errorf("terraform plan file %q has no prior state (no \"tfstate\" entry)", planFile)
}

// StatePins reads lineage and serial from a terraform state file. A plan
// made before the first apply holds lineage "" and serial 0.
func StatePins(r io.Reader) (Pins, error) {
	var st struct {
		Lineage string  `json:"lineage"`
		Serial  *uint64 `json:"serial"`
	}
	if err := json.NewDecoder(r).Decode(&st); err != nil {
		return Pins{}, fmt.Errorf("terraform state: %w", err)
	}
	if st.Serial == nil {
		return Pins{}, fmt.Errorf("terraform state has no serial")
	}
	return Pins{StateLineage: st.Lineage, StateSerial: st.Serial}, nil
}
