package audit

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"time"
)

// ErrNotRecorded matches (with errors.Is) every error that means a record
// did not reach the log or a required sink. A caller that gets it for a
// decision record must not run the command.
var ErrNotRecorded = errors.New("audit record not written")

// WriteError is returned when the log file cannot be opened, locked,
// written or synced. The command it describes must not run.
type WriteError struct {
	Path string
	Err  error
}

func (e *WriteError) Error() string {
	err := e.Err
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the path is already in the message
	}
	return fmt.Sprintf("cannot write audit record to %q: %v", e.Path, err)
}

func (e *WriteError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotRecorded) true.
func (e *WriteError) Is(target error) bool { return target == ErrNotRecorded }

// Hint tells the user what to do about the error.
func (e *WriteError) Hint() string {
	var lt *LockTimeoutError
	switch {
	case errors.As(e.Err, &lt):
		return "another agentctl process holds the audit log lock; retry, or look for a hung agentctl process (fuser " + e.Path + ")"
	case errors.Is(e.Err, syscall.ENOSPC), errors.Is(e.Err, syscall.EDQUOT):
		return "free space on that file system, or point " + EnvPath + " at another location"
	case errors.Is(e.Err, syscall.EROFS), errors.Is(e.Err, fs.ErrPermission):
		return "make the audit log's directory writable by this user, or point " + EnvPath + " at a writable location"
	}
	return "agentctl refuses to run commands it cannot audit; fix the audit log or point " + EnvPath + " at another location"
}

// LockTimeoutError says the log's lock was not obtained in time.
type LockTimeoutError struct{ After time.Duration }

func (e *LockTimeoutError) Error() string {
	return fmt.Sprintf("timed out after %v waiting for the lock", e.After)
}

// SinkError is returned when a required sink could not take a record. The
// record is in the file, but the command it describes must not run.
type SinkError struct {
	Sink string // e.g. "syslog tcp 127.0.0.1:514"
	Err  error
}

func (e *SinkError) Error() string {
	return fmt.Sprintf("cannot send audit record to %s: %v", e.Sink, e.Err)
}

func (e *SinkError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotRecorded) true.
func (e *SinkError) Is(target error) bool { return target == ErrNotRecorded }

// Hint tells the user what to do about the error.
func (e *SinkError) Hint() string {
	return "the sink is configured as required; start it, or make it optional to run without it"
}
