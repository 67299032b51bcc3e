package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/agentctl/agentctl/pkg/grant"
	"github.com/agentctl/agentctl/pkg/pipeline"
)

// standing is the pipeline's pipeline.Standing: the grants of the state
// directory, then an active break-glass. It reads the state on every
// request, so a grant made or revoked while a broker runs counts at once.
type standing struct {
	f     *Factory
	store grant.Store
	admin *adminConfig
	warn  io.Writer
	now   func() time.Time
}

var _ pipeline.Standing = standing{}

// Cover implements pipeline.Standing.
func (s standing) Cover(ev *pipeline.Event) (*pipeline.Cover, error) {
	a := ev.Assessment
	if a == nil {
		return nil, nil
	}
	now := s.now()
	// Checked at use too: a class root no longer allows is not covered
	// by a grant made before.
	if grantable(a.Class, s.admin) == nil {
		g, err := s.store.Use(a, ev.Req.Agent, now)
		if err != nil {
			fmt.Fprintf(s.warn, "agentctl: warning: %v: asking a human instead\n", err)
		} else if g != nil {
			used := fmt.Sprintf("%d", g.Used)
			if g.Max > 0 {
				used += fmt.Sprintf(" of %d", g.Max)
			}
			fmt.Fprintf(s.warn, "agentctl: approved by grant %s (use %s, until %s)\n", g.ID, used, g.Expires.Local().Format("15:04:05"))
			return &pipeline.Cover{Grant: g.ID, Approver: g.Approver, Reason: "grant " + g.ID + ": " + g.Scope()}, nil
		}
	}
	allowed, err := breakGlassSigners(s.f)
	if err != nil || allowed == nil {
		return nil, err
	}
	b, err := s.store.ActiveBreakGlass(allowed, now)
	if err != nil || b == nil {
		return nil, err
	}
	signers, _ := b.Signers(allowed)
	var names []string
	for _, sg := range signers {
		names = append(names, sg.Principals[0])
	}
	fmt.Fprintf(s.warn, "agentctl: BREAK-GLASS %s: runs without approval (until %s): %s\n", b.ID, b.Expires.Local().Format("15:04:05"), b.Reason)
	return &pipeline.Cover{BreakGlass: b.ID, Approver: strings.Join(names, ","), Reason: b.Reason}, nil
}

// wireStanding lets the pipeline's approve decisions be answered by
// grants and break-glass.
func wireStanding(f *Factory, p *pipeline.Pipeline, admin *adminConfig) {
	store, err := grantStore(f)
	if err != nil {
		return // no state directory: no grants; a human is asked
	}
	p.Standing = standing{f: f, store: store, admin: admin, warn: f.IO.ErrOut, now: time.Now}
}
