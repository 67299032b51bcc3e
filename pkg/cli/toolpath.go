package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// findTool finds the real terraform or tofu binary: tools.<name> in
// config.yaml when set (the agent controls the environment and PATH, and
// deploy credentials go to this binary), else $AGENTCTL_TERRAFORM or
// $AGENTCTL_TOFU, else the first match on PATH that is not agentctl itself
// (a shim or a symlink to it, resolved through links), so that a shim
// never calls itself.
func findTool(f *Factory, name string) (string, error) {
	if cfg, err := loadCredentials(f); err == nil && cfg != nil {
		if p := cfg.Tools.Path(name); p != "" {
			return p, nil
		}
		if cfg.HandsOutEnv() {
			// PATH and AGENTCTL_TERRAFORM are the agent's to set: a
			// binary found through them could be the agent's own, and
			// would get the credentials (and make the plan a human sees).
			return "", &ConfigError{Err: &hintError{
				msg:  fmt.Sprintf("%s hands credentials to commands, but tools.%s does not name the %s binary that would get them", cfg.Path(), name, name),
				hint: fmt.Sprintf("set tools.%s to the absolute path of the real %s in %s", name, name, cfg.Path()),
			}}
		}
	}
	if p := f.Getenv("AGENTCTL_" + strings.ToUpper(name)); p != "" {
		return p, nil
	}
	self, err := f.Executable()
	if err != nil {
		return "", err
	}
	selfReal, _ := filepath.EvalSymlinks(self)
	for _, dir := range filepath.SplitList(f.Getenv("PATH")) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p)
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			continue
		}
		if real, err := filepath.EvalSymlinks(p); err == nil && (real == selfReal || sameFile(real, selfReal)) {
			continue
		}
		return p, nil
	}
	return "", &hintError{
		msg:  fmt.Sprintf("cannot find %q on PATH", name),
		hint: fmt.Sprintf("install %s, or set AGENTCTL_%s to its path", name, strings.ToUpper(name)),
	}
}

func sameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}
