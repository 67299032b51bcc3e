package approve

import (
	"net"

	"golang.org/x/sys/unix"
)

// peerCred returns the process id (LOCAL_PEERPID) and user id
// (LOCAL_PEERCRED) of the process at the other end of c.
func peerCred(c *net.UnixConn) (pid, uid int, err error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, 0, err
	}
	var cred *unix.Xucred
	var cerr error
	err = raw.Control(func(fd uintptr) {
		if cred, cerr = unix.GetsockoptXucred(int(fd), unix.SOL_LOCAL, unix.LOCAL_PEERCRED); cerr != nil {
			return
		}
		pid, cerr = unix.GetsockoptInt(int(fd), unix.SOL_LOCAL, unix.LOCAL_PEERPID)
	})
	if err == nil {
		err = cerr
	}
	if err != nil {
		return 0, 0, err
	}
	return pid, int(cred.Uid), nil
}
