package testenv

import (
	"path/filepath"
	"testing"
)

// TofuVersion is the OpenTofu version testdata/tofu pins and
// build-terraform.sh builds.
const TofuVersion = "v1.10.10"

// Tofu returns the path of the OpenTofu binary built by
// testdata/tools/build-terraform.sh ($AGENTCTL_TESTBIN/tofu-<version>/tofu),
// skipping or failing t as [Bin] does when it is missing.
func Tofu(t testing.TB) string {
	t.Helper()
	cache, err := CacheDir()
	if err == nil {
		path := filepath.Join(cache, "tofu-"+TofuVersion, "tofu")
		if err = executable(path); err == nil {
			return path
		}
	}
	missingTerraform(t, err)
	return ""
}
