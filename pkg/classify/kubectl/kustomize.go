package kubectl

import (
	"os"
	"path/filepath"

	"github.com/agentctl/agentctl/pkg/classify"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// kustomize renders a kustomization directory in-process, as kubectl -k
// does (krusty with legacy ordering). Remote bases and generators that run
// programs are refused before rendering: what is assessed must come from
// local files only.
func (s *state) kustomize(dir string) ([]byte, bool) {
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(s.req.Cwd, dir)
	}
	if why := localOnly(dir, map[string]bool{}); why != "" {
		s.a.Refuse(classify.Unknown, "kustomization %q refused: %s", dir, why)
		return nil, false
	}
	opts := krusty.MakeDefaultOptions()
	opts.Reorder = krusty.ReorderOptionLegacy
	m, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		s.a.Raise(classify.Unknown, "kubectl would reject kustomization %q: %v", dir, err)
		return nil, false
	}
	b, err := m.AsYaml()
	if err != nil {
		s.a.Raise(classify.Unknown, "kustomization %q: %v", dir, err)
		return nil, false
	}
	return b, true
}

// localOnly checks a kustomization and the bases it names, recursively:
// every resource, base and component must be a local path, and no helm
// chart or plugin generator may run.
func localOnly(dir string, seen map[string]bool) string {
	if seen[dir] {
		return ""
	}
	seen[dir] = true
	var data []byte
	for _, n := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		if b, err := os.ReadFile(filepath.Join(dir, n)); err == nil {
			data = b
			break
		}
	}
	if data == nil {
		return "" // krusty reports the missing file itself
	}
	var k types.Kustomization
	if err := yaml.Unmarshal(data, &k); err != nil {
		return "" // krusty reports the error itself
	}
	if len(k.HelmCharts) > 0 || k.HelmGlobals != nil || len(k.HelmChartInflationGenerator) > 0 {
		return "helm charts would run the helm program"
	}
	if len(k.Generators) > 0 || len(k.Transformers) > 0 || len(k.Validators) > 0 {
		return "generator, transformer and validator plugins are not assessed"
	}
	refs := append(append(append([]string{}, k.Resources...), k.Bases...), k.Components...) //nolint:staticcheck // Bases is deprecated but still read
	for _, r := range refs {
		p := r
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, r)
		}
		fi, err := os.Stat(p)
		if err != nil {
			return "resource " + r + " is not a local path (remote bases are not assessed)"
		}
		if fi.IsDir() {
			if why := localOnly(p, seen); why != "" {
				return why
			}
		}
	}
	return ""
}
