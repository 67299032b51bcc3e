package tui

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/agentctl/agentctl/pkg/approve"
)

// RunInboxPlain is `agentctl inbox` without a screen: for a terminal that
// cannot draw one, or for a program that answers for a human (a chat
// bridge) through a pipe. It serves srv and takes the requests one at a
// time: each is printed as [PlainReport] and answered by the next line of
// in, read as the line-based prompt reads it ([Plain]): "y" approves
// (the target's name, when the change needs confirmation), "n: REASON"
// denies with a reason, anything else denies. A requester that stops
// waiting withdraws its request. A request the server refused unseen (its
// content did not match its hash) is one line saying so. When in ends, the request on screen is
// denied and the inbox stops.
func RunInboxPlain(ctx context.Context, srv *approve.InboxServer, in io.Reader, out io.Writer) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(sctx) }()

	type line struct {
		s   string
		err error
	}
	lines := make(chan line)
	go func() {
		r := bufio.NewReader(in)
		for {
			s, err := r.ReadString('\n')
			select {
			case lines <- line{s, err}:
			case <-sctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()

	fmt.Fprintln(out, "agentctl inbox: waiting for requests (one answer per line)")
	for {
		var p *approve.Pending
		select {
		case <-ctx.Done():
			return nil
		case err := <-errc:
			return err
		case n := <-srv.Notices():
			fmt.Fprintln(out, n)
			continue
		case p = <-srv.Requests():
		}
		s := p.Screen
		fmt.Fprint(out, PlainReport(s)+plainQuestion(s))
		select {
		case <-ctx.Done():
			p.Answer(approve.Verdict{Reason: "the inbox was stopped"})
			fmt.Fprintln(out)
			return nil
		case <-p.Gone():
			if where := p.Elsewhere(); where != "" {
				fmt.Fprintln(out, "\nanswered elsewhere: "+where)
			} else {
				fmt.Fprintln(out, "\nwithdrawn: the requester stopped waiting")
			}
		case l := <-lines:
			text := strings.TrimSpace(l.s)
			if l.err != nil && text == "" {
				p.Answer(approve.Verdict{Reason: "the inbox's input ended"})
				fmt.Fprintln(out, "\ndenied (end of input)")
				return nil
			}
			v := plainVerdict(text, s)
			if err := p.Answer(v); err != nil {
				fmt.Fprintf(out, "could not answer: %v\n", err)
				continue
			}
			if v.Approved {
				fmt.Fprintln(out, "approved")
			} else {
				fmt.Fprintln(out, "denied")
			}
		}
	}
}
