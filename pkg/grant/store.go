package grant

import (
	"errors"
	"fmt"
	"time"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/statefile"
)

// Store is the grants and break-glass records of one state directory.
type Store struct{ Dir string }

type doc struct {
	Version    int           `json:"version"`
	Grants     []*Grant      `json:"grants,omitempty"`
	BreakGlass []*BreakGlass `json:"breakGlass,omitempty"`
}

// keep is how long an ended grant stays listed.
const keep = 24 * time.Hour

// Add stores a new grant.
func (s Store) Add(g *Grant) error {
	return s.locked(true, func(d *doc) (bool, error) {
		d.Grants = append(d.Grants, g)
		return true, nil
	})
}

// List returns every grant and break-glass record, ended ones of the
// last day included, oldest first.
func (s Store) List() ([]*Grant, []*BreakGlass, error) {
	var (
		gs []*Grant
		bs []*BreakGlass
	)
	err := s.locked(false, func(d *doc) (bool, error) {
		gs, bs = d.Grants, d.BreakGlass
		return false, nil
	})
	return gs, bs, err
}

// ErrNotFound is returned for an id that names no grant or break-glass.
var ErrNotFound = errors.New("no such grant")

// Revoke ends the grant or break-glass id now. Revoking an ended one is
// no error; the time of its end stays.
func (s Store) Revoke(id string, now time.Time) error {
	return s.locked(true, func(d *doc) (bool, error) {
		for _, g := range d.Grants {
			if g.ID == id {
				if g.Revoked == nil {
					g.Revoked = &now
				}
				return true, nil
			}
		}
		for _, b := range d.BreakGlass {
			if b.ID == id {
				if b.Ended == nil {
					b.Ended = &now
				}
				return true, nil
			}
		}
		return false, fmt.Errorf("%w %q", ErrNotFound, id)
	})
}

// Use finds the first active grant that covers a request of agent with
// assessment a, counts the use and returns the grant as it is after it;
// nil when none covers it. Counting and checking happen under one lock:
// two requests never both take a grant's last use.
func (s Store) Use(a *classify.Assessment, agent string, now time.Time) (*Grant, error) {
	var used *Grant
	err := s.locked(true, func(d *doc) (bool, error) {
		for _, g := range d.Grants {
			if ok, _ := g.Covers(a, agent, now); ok {
				g.Used++
				c := *g
				used = &c
				return true, nil
			}
		}
		return false, nil
	})
	return used, err
}

// updateBreakGlass runs fn on the break-glass record id under the lock
// and writes it back.
func (s Store) updateBreakGlass(id string, fn func(b *BreakGlass) error) error {
	return s.locked(true, func(d *doc) (bool, error) {
		for _, b := range d.BreakGlass {
			if b.ID == id {
				return true, fn(b)
			}
		}
		return false, fmt.Errorf("%w %q", ErrNotFound, id)
	})
}

// locked runs fn on the document under a shared or exclusive flock; when
// fn returns true with no error (exclusive only), the document is written
// back atomically. Records that ended more than a day ago are dropped then.
func (s Store) locked(exclusive bool, fn func(d *doc) (bool, error)) error {
	if s.Dir == "" {
		return errors.New("grants: no state directory (neither XDG_STATE_HOME nor HOME is set)")
	}
	d := &doc{Version: 1}
	var fnErr error // fn's own, returned as it is
	err := statefile.Locked(s.Dir, "grants", exclusive, d, func() (bool, error) {
		write, err := fn(d)
		if err != nil {
			fnErr = err
			return false, err
		}
		if write {
			d.prune(time.Now())
		}
		return write, nil
	})
	var ce *statefile.CorruptError
	switch {
	case fnErr != nil:
		return fnErr
	case errors.As(err, &ce):
		return fmt.Errorf("grants: %q is corrupt: %w", ce.Path, ce.Err)
	case err != nil:
		return fmt.Errorf("grants: %w", err)
	}
	return nil
}

// prune drops what ended more than keep ago.
func (d *doc) prune(now time.Time) {
	gs := d.Grants[:0]
	for _, g := range d.Grants {
		end := g.Expires
		if g.Revoked != nil && g.Revoked.Before(end) {
			end = *g.Revoked
		}
		if now.Sub(end) < keep {
			gs = append(gs, g)
		}
	}
	d.Grants = gs
	bs := d.BreakGlass[:0]
	for _, b := range d.BreakGlass {
		end := b.Expires
		if b.Ended != nil && b.Ended.Before(end) {
			end = *b.Ended
		}
		if now.Sub(end) < keep {
			bs = append(bs, b)
		}
	}
	d.BreakGlass = bs
}
