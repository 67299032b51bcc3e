package audit

import "golang.org/x/sys/unix"

// datasync flushes the file's data (not every metadata change) to disk.
func datasync(fd int) error { return unix.Fdatasync(fd) }
