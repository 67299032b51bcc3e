package audit

import "golang.org/x/sys/unix"

// datasync flushes the file to the disk itself: on macOS fsync only
// reaches the drive's cache, F_FULLFSYNC goes through it. Filesystems
// without F_FULLFSYNC fall back to fsync.
func datasync(fd int) error {
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_FULLFSYNC, 0); err == nil {
		return nil
	}
	return unix.Fsync(fd)
}
