//go:build linux

package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The child runs in its own mount namespace and, before anything else,
// replaces its root with a minimal one: an empty read-only tmpfs into
// which exactly the granted paths (system paths, ReadOnly, ReadWrite,
// scratch) are bind-mounted, read-only where Landlock grants reading
// only. What is not granted does not exist inside: no /tmp, /run,
// $XDG_RUNTIME_DIR or /proc, so no Unix socket outside the grants can be
// connected to, whatever the Landlock ABI and whether or not the config
// allows Unix sockets. Abstract sockets are per network namespace.
//
// The new root is built detached (fsopen/fsmount, open_tree clones of
// the grants, move_mount into it), attached over the scratch dir, made
// the root with pivot_root(".", ".") and the old root detached. It needs
// CAP_SYS_ADMIN in the child's user namespace, which [dropCapabilities]
// gives up right after; Landlock then forbids changing mounts at all.

// mountGrant is one path of the new root.
type mountGrant struct {
	path  string
	write bool
	// src, when set, is mounted at path instead of path itself (a
	// [Bind], the private /tmp); such a grant is always grafted.
	src string
}

// mountGrants lists what the new root holds: every granted path that
// exists, each once, writable when any grant of it is; a path inside a
// grant that gives at least its access is already there and is left
// out. Parents come before children.
func mountGrants(r Rules) []mountGrant {
	access := map[string]bool{}
	add := func(paths []string, write, optional bool) {
		for _, p := range paths {
			if optional {
				if _, err := os.Lstat(p); err != nil {
					continue
				}
			}
			access[p] = access[p] || write
		}
	}
	add(r.SystemReadOnly, false, true)
	add(r.SystemReadWrite, true, true)
	add(r.ReadOnly, false, false)
	add(r.ReadWrite, true, false)
	paths := make([]string, 0, len(access))
	for p := range access {
		paths = append(paths, p)
	}
	var binds []mountGrant
	if r.PrivateTmp {
		binds = append(binds, mountGrant{path: "/tmp", write: true, src: r.Scratch})
	}
	for _, b := range r.Binds {
		binds = append(binds, mountGrant{path: b.Dst, write: b.Write, src: b.Src})
	}
	for _, b := range binds {
		delete(access, b.path)
	}
	sort.Strings(paths)
	var out []mountGrant
	// Binds go in path order with the rest: a grant below /tmp is made
	// inside the private /tmp.
	next := func(p string) {
		for len(binds) > 0 && binds[0].path <= p {
			out = append(out, binds[0])
			binds = binds[1:]
		}
	}
	sort.Slice(binds, func(i, j int) bool { return binds[i].path < binds[j].path })
	for _, p := range paths {
		next(p)
		if _, ok := access[p]; !ok {
			continue
		}
		covered := false
		for _, g := range out {
			if g.src == "" && covers(g.path, p) && (g.write || !access[p]) {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, mountGrant{path: p, write: access[p]})
		}
	}
	out = append(out, binds...)
	return out
}

// isolateMounts builds the minimal root described above and enters it.
// scratch is where the new root is attached before pivoting.
func isolateMounts(r Rules, scratch string) error {
	fail := func(what string, err error) error {
		return fmt.Errorf("sandbox: mount namespace: %s: %w", what, err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fail("make mounts private", err)
	}
	fs, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return fail("fsopen tmpfs", err)
	}
	defer unix.Close(fs)
	for k, v := range map[string]string{"mode": "0755", "size": "1m"} {
		if err := unix.FsconfigSetString(fs, k, v); err != nil {
			return fail("configure tmpfs", err)
		}
	}
	if err := unix.FsconfigCreate(fs); err != nil {
		return fail("create tmpfs", err)
	}
	root, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV)
	if err != nil {
		return fail("fsmount tmpfs", err)
	}
	defer unix.Close(root)
	for _, g := range append(mountGrants(r), psxGrants()...) {
		if err := graft(root, g); err != nil {
			return fail(fmt.Sprintf("grant %q", g.path), err)
		}
	}
	if r.Proc {
		if err := mountProc(root); err != nil {
			return fail("proc of the pid namespace", err)
		}
	}
	if err := unix.MountSetattr(root, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}); err != nil {
		return fail("make the new root read-only", err)
	}
	if err := unix.MoveMount(root, "", unix.AT_FDCWD, scratch, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fail("attach the new root", err)
	}
	if err := unix.Chdir(scratch); err != nil {
		return fail("enter the new root", err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fail("pivot_root", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fail("detach the old root", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fail("chdir /", err)
	}
	return nil
}

// mountProc mounts at /proc of the new root a procfs of the child's PID
// namespace, processes only (subset=pid), so programs find
// /proc/self/exe; no process outside the namespace is in it.
func mountProc(root int) error {
	fs, err := unix.Fsopen("proc", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return fmt.Errorf("fsopen proc: %w", err)
	}
	defer unix.Close(fs)
	if err := unix.FsconfigSetString(fs, "subset", "pid"); err != nil {
		return fmt.Errorf("configure proc: %w", err)
	}
	if err := unix.FsconfigCreate(fs); err != nil {
		return fmt.Errorf("create proc: %w", err)
	}
	m, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return fmt.Errorf("fsmount proc: %w", err)
	}
	defer unix.Close(m)
	if err := ignoreExist(unix.Mkdirat(root, "proc", 0o555)); err != nil {
		return err
	}
	return unix.MoveMount(m, "", root, "proc", unix.MOVE_MOUNT_F_EMPTY_PATH)
}

// graft puts g into the new root (an fd of its mount): a symlink as the
// same symlink, anything else as a recursive bind mount of it, read-only
// unless g is writable. Missing parents are made as dirs of the tmpfs.
func graft(root int, g mountGrant) error {
	rel := strings.TrimPrefix(g.path, "/")
	if rel == "" {
		return errors.New("the root cannot be granted")
	}
	if err := mkdirs(root, filepath.Dir(rel)); err != nil {
		return err
	}
	src := g.path
	if g.src != "" {
		src = g.src
	}
	fi, err := os.Lstat(src)
	if err != nil {
		return err
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		return ignoreExist(unix.Symlinkat(target, root, rel))
	}
	tree, err := unix.OpenTree(unix.AT_FDCWD, src, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
	if err != nil {
		return fmt.Errorf("open_tree: %w", err)
	}
	defer unix.Close(tree)
	if !g.write {
		attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
		if err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
			return fmt.Errorf("make read-only: %w", err)
		}
	}
	if err := mountPoint(root, rel, fi.IsDir()); err != nil {
		return err
	}
	if err := unix.MoveMount(tree, "", root, rel, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount: %w", err)
	}
	return nil
}

// mkdirs makes rel and its parents under root, refusing to go through a
// symlink (one made for a system path such as /lib -> usr/lib).
func mkdirs(root int, rel string) error {
	if rel == "." || rel == "" {
		return nil
	}
	cur := ""
	for _, c := range strings.Split(rel, "/") {
		cur = filepath.Join(cur, c)
		var st unix.Stat_t
		err := unix.Fstatat(root, cur, &st, unix.AT_SYMLINK_NOFOLLOW)
		switch {
		case err == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR:
			continue
		case err == nil:
			return fmt.Errorf("%q is not a dir in the new root", "/"+cur)
		case errors.Is(err, unix.ENOENT):
			if err := unix.Mkdirat(root, cur, 0o755); err != nil {
				return fmt.Errorf("mkdir %q: %w", "/"+cur, err)
			}
		default:
			return err
		}
	}
	return nil
}

// mountPoint makes the dir or empty file a bind mount goes on, unless
// something is there already (inside an earlier grant: the real path).
func mountPoint(root int, rel string, dir bool) error {
	if dir {
		return ignoreExist(unix.Mkdirat(root, rel, 0o755))
	}
	fd, err := unix.Openat(root, rel, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o644)
	if errors.Is(err, unix.EEXIST) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create mount point: %w", err)
	}
	return unix.Close(fd)
}

func ignoreExist(err error) error {
	if errors.Is(err, unix.EEXIST) {
		return nil
	}
	return err
}

// dropCapabilities gives up every capability the child has in its user
// namespace (CAP_NET_ADMIN for lo, CAP_SYS_ADMIN for the mounts), on
// every thread, ambient ones included, so that nothing the command runs
// inherits them. When the runtime cannot reach every thread (a cgo
// build; agentctl is built without cgo), the calling thread drops them,
// and [supervise] drops them again on the thread that starts the command.
func dropCapabilities() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	_, _, errno := syscall.AllThreadsSyscall6(unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0, 0)
	if errno == 0 {
		_, _, errno = syscall.AllThreadsSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0)
	}
	if errno == syscall.ENOTSUP {
		return dropThreadCapabilities()
	}
	if errno != 0 {
		return fmt.Errorf("sandbox: drop capabilities: %w", errno)
	}
	return nil
}

// dropThreadCapabilities drops the calling thread's capabilities.
func dropThreadCapabilities() error {
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return fmt.Errorf("sandbox: drop ambient capabilities: %w", err)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("sandbox: drop capabilities: %w", err)
	}
	return nil
}
