package kubectl

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/agentctl/agentctl/pkg/request"
)

// pluginOnPath reports whether kubectl could find a plugin for an argv
// that names no kubectl command, looking as kubectl's HandlePluginCommand
// does: kubectl-ARG1-ARG2-… for the leading non-flag arguments (dashes
// in them become underscores), longest first, in the agent's PATH (an
// empty or relative entry is taken from the working directory, as
// kubectl does not skip exec.ErrDot). sure is false when a lookup could
// not be answered (a directory that cannot be read): a plugin may exist.
func (s *state) pluginOnPath() (found, sure bool) {
	var words []string
	for _, arg := range s.req.Args {
		if strings.HasPrefix(arg, "-") {
			break
		}
		words = append(words, strings.ReplaceAll(arg, "-", "_"))
	}
	if len(words) == 0 || words[0] == "__complete" || words[0] == "__completeNoDesc" {
		// Cobra's completion commands: kubectl runs no plugin lookup.
		return false, false
	}
	path, _ := request.LookupEnv(s.req.Env, "PATH")
	sure = true
	for n := len(words); n >= 1; n-- {
		name := "kubectl-" + strings.Join(words[:n], "-")
		for _, dir := range filepath.SplitList(path) {
			if dir == "" {
				dir = "."
			}
			if !filepath.IsAbs(dir) {
				dir = filepath.Join(s.req.Cwd, dir)
			}
			fi, err := os.Stat(filepath.Join(dir, name))
			switch {
			case err == nil && !fi.IsDir():
				return true, true
			case err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
				sure = false
			}
		}
	}
	return false, sure
}
