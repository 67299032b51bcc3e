package proposal

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// TerraformPins reads, from data, the bytes of planFile, the state lineage and serial a saved terraform plan
// was made against. A plan file (terraform 1.x, internal/plans/planfile)
// is a zip archive whose "tfstate" entry is the prior state snapshot, a
// state file in the JSON format `terraform state pull` prints.
func TerraformPins(planFile string, data []byte) (Pins, error) {
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return Pins{}, fmt.Errorf("terraform plan file %q: %w", planFile, err)
	}
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

// TerraformBackend is the backend type terraform init recorded in the
// data directory (dataDir relative to dir; "" is .terraform), or "local"
// when none is recorded.
func TerraformBackend(dir, dataDir string) string {
	if dataDir == "" {
		dataDir = ".terraform"
	}
	if !filepath.IsAbs(dataDir) {
		dataDir = filepath.Join(dir, dataDir)
	}
	b, err := os.ReadFile(filepath.Join(dataDir, "terraform.tfstate"))
	if err != nil {
		return "local"
	}
	var st struct {
		Backend struct {
			Type string `json:"type"`
		} `json:"backend"`
	}
	if json.Unmarshal(b, &st) != nil || st.Backend.Type == "" {
		return "local"
	}
	return st.Backend.Type
}

// LocalStatePins reads lineage and serial from the local backend's state
// file of workspace in dir (terraform.tfstate, or
// terraform.tfstate.d/WORKSPACE/terraform.tfstate). A state that does not
// exist yet is lineage "" and serial 0, as a plan made without one holds.
func LocalStatePins(dir, workspace string) (Pins, error) {
	path := filepath.Join(dir, "terraform.tfstate")
	if workspace != "" && workspace != "default" {
		path = filepath.Join(dir, "terraform.tfstate.d", workspace, "terraform.tfstate")
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		zero := uint64(0)
		return Pins{StateSerial: &zero}, nil
	}
	if err != nil {
		return Pins{}, fmt.Errorf("terraform state: %w", err)
	}
	defer f.Close()
	return StatePins(io.LimitReader(f, 256<<20))
}
