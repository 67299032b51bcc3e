//go:build linux

package spawn

import (
	"runtime"
	"sync"
	"syscall"
)

// OnLastingThread runs start, which starts child processes, on an OS
// thread that lives as long as this process, and returns its error.
//
// Linux sends a child's parent-death signal (Pdeathsig) when the thread
// that forked it exits, not when the process does, and the Go runtime
// ends a thread when a goroutine that locked it returns without
// unlocking (go.dev/issue/27505). A child forked from whatever thread a
// goroutine happens to run on could thus be killed while agentctl still
// runs. Children forked from the main thread (which the runtime never
// ends; package boot starts one while main's goroutine is locked to it
// for initialisation) or from the one thread that this function keeps
// locked for good die with the process, and only then.
func OnLastingThread(start func() error) error {
	runtime.LockOSThread()
	if syscall.Gettid() == syscall.Getpid() {
		err := start()
		runtime.UnlockOSThread()
		return err
	}
	runtime.UnlockOSThread()
	errc := make(chan error, 1)
	lastingThread() <- func() { errc <- start() }
	return <-errc
}

// lasting is the goroutine locked to the lasting thread and its queue.
// It is global because the thread is the process's: one for all callers.
var lasting struct {
	once sync.Once
	work chan func()
}

func lastingThread() chan<- func() {
	lasting.once.Do(func() {
		lasting.work = make(chan func())
		go func() {
			runtime.LockOSThread() // never unlocked: the thread runs only this
			for f := range lasting.work {
				f()
			}
		}()
	})
	return lasting.work
}
