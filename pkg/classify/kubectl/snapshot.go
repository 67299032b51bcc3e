package kubectl

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/agentctl/agentctl/pkg/classify"
)

// snapshotFlags are the flags of `kubectl create secret …` and
// `kubectl create configmap` whose files kubectl reads when it runs.
var snapshotFlags = map[string]bool{"--from-file": true, "--from-env-file": true, "--cert": true, "--key": true}

// maxSnapshot caps what one command's file inputs may copy.
const maxSnapshot = 64 << 20

// snapshotFiles copies the files a create secret/configmap command names
// into a private directory (Exec.Scratch) and points the arguments there,
// so that files changed after the assessment change nothing: kubectl reads
// the copies. Keys stay what kubectl would derive (the base name). A file
// that cannot be read refuses the command: it could appear, with any
// content, after approval.
func (s *state) snapshotFiles() {
	a := s.a
	if !strings.HasPrefix(a.Subcommand, "create secret") && a.Subcommand != "create configmap" {
		return
	}
	var total int64
	copyOne := func(n int, value string) (string, bool) {
		key, path, keyed := strings.Cut(value, "=")
		if !keyed {
			path, key = value, ""
		}
		if path == "" {
			return value, true // kubectl rejects it itself
		}
		if !filepath.IsAbs(path) {
			path = filepath.Join(s.req.Cwd, path)
		}
		if a.Exec.Scratch == "" {
			dir, err := os.MkdirTemp("", "agentctl-files-")
			if err != nil {
				a.Refuse(classify.Unknown, "cannot snapshot the command's input files: %v", err)
				return value, false
			}
			a.Exec.Scratch = dir
		}
		dst := filepath.Join(a.Exec.Scratch, strconv.Itoa(n))
		if err := os.Mkdir(dst, 0o700); err != nil {
			a.Refuse(classify.Unknown, "cannot snapshot %q: %v", value, err)
			return value, false
		}
		dst = filepath.Join(dst, filepath.Base(path))
		size, err := copyInput(path, dst)
		total += size
		if err != nil || total > maxSnapshot {
			if err == nil {
				err = fmt.Errorf("more than %d bytes", maxSnapshot)
			}
			a.Refuse(classify.Unknown, "input file %q refused: %v", value, err)
			return value, false
		}
		if keyed {
			return key + "=" + dst, true
		}
		return dst, true
	}
	args := a.Exec.Args
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			out = append(out, args[i:]...)
			break
		}
		name, value, inline := strings.Cut(arg, "=")
		if !snapshotFlags[name] {
			out = append(out, arg)
			continue
		}
		if !inline {
			if i+1 >= len(args) {
				out = append(out, arg)
				continue
			}
			i++
			value = args[i]
		}
		v, ok := copyOne(i, value)
		if !ok {
			return
		}
		out = append(out, name+"="+v)
	}
	a.Exec.Args = out
}

// copyInput copies a file, or the regular files of a directory (kubectl
// reads a directory's files, not its subdirectories), to dst.
func copyInput(src, dst string) (int64, error) {
	fi, err := os.Stat(src)
	if err != nil {
		return 0, err
	}
	if !fi.IsDir() {
		b, err := os.ReadFile(src)
		if err != nil {
			return 0, err
		}
		return int64(len(b)), os.WriteFile(dst, b, 0o600)
	}
	if err := os.Mkdir(dst, 0o700); err != nil {
		return 0, err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, e := range entries {
		p := filepath.Join(src, e.Name())
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		m, err := copyInput(p, filepath.Join(dst, e.Name()))
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
