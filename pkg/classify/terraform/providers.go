package terraform

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/agentctl/agentctl/pkg/request"
)

// DataDir is terraform's data directory for a working directory dir:
// TF_DATA_DIR (relative to dir) or dir/.terraform.
func DataDir(dir string, env []string) string {
	d := request.Getenv(env, "TF_DATA_DIR")
	if d == "" {
		return filepath.Join(dir, ".terraform")
	}
	if !filepath.IsAbs(d) {
		d = filepath.Join(dir, d)
	}
	return d
}

// ProvidersSHA256 hashes what a plan's apply runs besides terraform: the
// dependency lock file of dir and every file of the installed providers
// (DataDir/providers, symlinks into a mirror or the plugin cache
// followed). Each file is a line "<sha256>  <path>" in path order; a
// missing lock file or providers directory hashes as absent. The apply
// compares it with the one taken at plan time.
func ProvidersSHA256(dir string, env []string) (string, error) {
	var lines []string
	file := func(p, name string) error {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		lines = append(lines, fmt.Sprintf("%x  %s", h.Sum(nil), name))
		return nil
	}
	lock := filepath.Join(dir, ".terraform.lock.hcl")
	if err := file(lock, ".terraform.lock.hcl"); err != nil && !os.IsNotExist(err) {
		return "", fmt.Errorf("hash the dependency lock file: %w", err)
	}
	root := filepath.Join(DataDir(dir, env), "providers")
	var walk func(p, name string, depth int) error
	walk = func(p, name string, depth int) error {
		if depth > 16 {
			return fmt.Errorf("%q: too many levels of symlinks", p)
		}
		fi, err := os.Stat(p) // follows symlinks
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			if !fi.Mode().IsRegular() {
				return fmt.Errorf("%q is not a regular file", p)
			}
			return file(p, name)
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := walk(filepath.Join(p, e.Name()), name+"/"+e.Name(), depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if _, err := os.Lstat(root); err == nil {
		if err := walk(root, "providers", 0); err != nil {
			return "", fmt.Errorf("hash the installed providers: %w", err)
		}
	} else if !os.IsNotExist(err) {
		return "", fmt.Errorf("hash the installed providers: %w", err)
	}
	sort.Strings(lines)
	h := sha256.New()
	for _, l := range lines {
		fmt.Fprintln(h, l)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
