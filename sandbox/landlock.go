package sandbox

import (
	"fmt"
	"os"

	"github.com/landlock-lsm/go-landlock/landlock"
)

var landlockConfigs = []landlock.Config{
	landlock.V1, landlock.V2, landlock.V3, landlock.V4, landlock.V5, landlock.V6,
	landlock.V7, landlock.V8, landlock.V9, landlock.V10, landlock.V11,
}

// applyLandlock restricts the calling process (all threads) to r. ports
// are the in-namespace ports the command may connect to and the child
// has bound. With r.Strict the exact ABI is demanded; otherwise
// go-landlock downgrades to what the kernel has.
func applyLandlock(r Rules, ports []uint16) error {
	if r.ABI < 1 {
		if r.Strict {
			return fmt.Errorf("sandbox: landlock unavailable")
		}
		return nil
	}
	cfg := landlockConfigs[min(r.ABI, len(landlockConfigs))-1]
	if !r.Strict {
		cfg = cfg.BestEffort()
	}
	var rules []landlock.Rule
	rules = append(rules, pathRules(r.SystemReadOnly, false, true, false)...)
	rules = append(rules, pathRules(r.SystemReadWrite, true, true, false)...)
	rules = append(rules, pathRules(r.ReadOnly, false, false, false)...)
	rules = append(rules, pathRules(r.ReadWrite, true, false, r.ABI >= 2)...)
	if r.Proc {
		rules = append(rules, pathRules([]string{"/proc"}, false, true, false)...)
	}
	if r.PrivateTmp {
		rules = append(rules, pathRules([]string{"/tmp"}, true, true, r.ABI >= 2)...)
	}
	for _, b := range r.Binds {
		br := pathRules([]string{b.Dst}, b.Write, true, false)
		if r.ABI >= 9 {
			for i := range br {
				br[i] = br[i].(landlock.FSRule).WithResolveUnix()
			}
		}
		rules = append(rules, br...)
	}
	if r.ABI >= 4 {
		if r.Namespaces {
			for _, p := range ports {
				rules = append(rules, landlock.ConnectTCP(p), landlock.BindTCP(p))
			}
		} else {
			// Without a network namespace nothing is in between: allow
			// connecting to the destination ports directly.
			for _, d := range r.Destinations {
				rules = append(rules, landlock.ConnectTCP(d.Port))
			}
		}
	}
	if err := cfg.Restrict(rules...); err != nil {
		return fmt.Errorf("sandbox: apply landlock ABI %d: %w", r.ABI, err)
	}
	return nil
}

// pathRules makes one rule per path, as a dir or a file rule according to
// what the path is. Optional paths that do not exist are skipped. refer
// lets writable dirs receive renames and links from one another (ABI 2).
func pathRules(paths []string, write, optional, refer bool) []landlock.Rule {
	var out []landlock.Rule
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil && optional {
			continue
		}
		var r landlock.FSRule
		switch {
		case err == nil && fi.IsDir() && write && refer:
			r = landlock.RWDirs(p).WithRefer()
		case err == nil && fi.IsDir() && write:
			r = landlock.RWDirs(p)
		case err == nil && fi.IsDir():
			r = landlock.RODirs(p)
		case write:
			r = landlock.RWFiles(p)
		default:
			r = landlock.ROFiles(p)
		}
		out = append(out, r)
	}
	return out
}
