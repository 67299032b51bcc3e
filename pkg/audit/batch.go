package audit

import (
	"errors"
	"sync"
)

// Batcher appends records for a long-running process (the approval inbox,
// the MCP server) that handles many requests at once. It is a group
// commit: records submitted while a write is in flight go out together
// under one lock and one fsync, so throughput grows with load while each
// record is still durable before its Append returns.
type Batcher struct {
	log  *Log
	max  int
	reqs chan batchReq
	done chan struct{}

	mu     sync.RWMutex
	closed bool
}

type batchReq struct {
	rec  *Record
	errc chan error
}

// ErrClosed is returned for records submitted after Close.
var ErrClosed = errors.New("audit batcher closed")

// NewBatcher starts a batcher writing to l, at most max records per write
// (0: 1024). Close it to stop its goroutine.
func NewBatcher(l *Log, max int) *Batcher {
	if max <= 0 {
		max = 1024
	}
	b := &Batcher{log: l, max: max, reqs: make(chan batchReq, max), done: make(chan struct{})}
	go b.loop()
	return b
}

// Submit queues rec and returns a channel that receives the outcome once
// the record is synced (nil) or could not be written. Like [Log.Append],
// a decision record's command must not run before a nil arrives.
func (b *Batcher) Submit(rec *Record) <-chan error {
	errc := make(chan error, 1)
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		errc <- &WriteError{Path: b.log.Path(), Err: ErrClosed}
		return errc
	}
	b.reqs <- batchReq{rec, errc}
	return errc
}

// Append submits rec and waits until it is synced.
func (b *Batcher) Append(rec *Record) error { return <-b.Submit(rec) }

// Close writes what is queued and stops the batcher. It does not close
// the log.
func (b *Batcher) Close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.reqs)
	}
	b.mu.Unlock()
	<-b.done
}

func (b *Batcher) loop() {
	defer close(b.done)
	batch := make([]batchReq, 0, b.max)
	recs := make([]*Record, 0, b.max)
	for first := range b.reqs {
		batch = append(batch[:0], first)
	drain:
		for len(batch) < b.max {
			select {
			case r, ok := <-b.reqs:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		recs = recs[:0]
		for _, r := range batch {
			recs = append(recs, r.rec)
		}
		err := b.log.AppendAll(recs)
		for _, r := range batch {
			r.errc <- err
		}
	}
}
