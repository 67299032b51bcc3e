package approve

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"time"
)

// Inbox is the approver that hands a request to `agentctl inbox`, a TUI
// running in another terminal, and waits for its signed answer.
//
// The request sent is the whole [Content] the approval hash covers, so the
// inbox can check that what it shows is what runs. The answer counts only
// if it carries a valid ed25519 signature, by the trusted key
// (Paths.Trusted, else the public key at Paths.Pub), over this request's
// hash, the
// fresh nonce this process sent with it, and an expiry that has not
// passed. Anything else — no signature, a signature for another request or
// by another key, an expired one, a dropped connection — is a denial.
type Inbox struct {
	Paths Paths
	// Status receives the "waiting for the inbox" line (stderr).
	Status io.Writer
	// Now returns the time; nil means time.Now.
	Now func() time.Time
}

var _ Approver = (*Inbox)(nil)

// Approve implements [Approver].
func (in *Inbox) Approve(ctx context.Context, r *Request) (Answer, error) {
	now := in.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	deny := func(why string) (Answer, error) {
		return Answer{Approved: false, Channel: "inbox", Reason: why, Latency: now().Sub(start)}, nil
	}
	pub := in.Paths.Trusted
	if pub == nil {
		var err error
		if pub, err = ReadPublicKey(in.Paths.Pub); err != nil {
			return deny(fmt.Sprintf("cannot verify inbox answers: %v", err))
		}
	}
	content := ContentOf(r)
	if content.Sum() != r.Hash {
		return deny("the request's hash does not cover what it shows (approve.HashOf was not called)")
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", in.Paths.Socket)
	if err != nil {
		return deny(errNoInbox.Error())
	}
	defer conn.Close()
	var nb [32]byte
	if _, err := rand.Read(nb[:]); err != nil {
		return Answer{}, err
	}
	nonce := hex.EncodeToString(nb[:])
	if err := writeMessage(conn, &message{Type: "request", Nonce: nonce, Request: content}); err != nil {
		return deny(fmt.Sprintf("cannot reach the inbox: %v", err))
	}
	if in.Status != nil {
		// The id the inbox lists, the refusal's requestId and the audit
		// record's id begin alike.
		id := r.Hash
		if r.Req != nil && r.Req.ID != "" {
			id = r.Req.ID
		}
		fmt.Fprintf(in.Status, "agentctl: waiting for approval in agentctl inbox (request %.12s, denied at %s if unanswered)\n",
			id, r.Expires.Local().Format("15:04:05"))
	}

	type result struct {
		m   *message
		err error
	}
	got := make(chan result, 1)
	go func() {
		m, err := readMessage(bufio.NewReader(conn))
		got <- result{m, err}
	}()
	var res result
	select {
	case <-ctx.Done():
		conn.Close()
		a, _ := deny("approval timed out")
		return a, ctx.Err()
	case res = <-got:
	}
	if res.err != nil {
		return deny(fmt.Sprintf("the inbox closed without an answer: %v", res.err))
	}
	sa := res.m.Answer
	if res.m.Type != "answer" || sa == nil {
		return deny("the inbox sent no answer")
	}
	if err := sa.Verify(pub, r.Hash, nonce, now()); err != nil {
		return deny("inbox answer rejected: " + err.Error())
	}
	approver := sa.Approver
	if approver == "" {
		approver = "inbox key " + KeyID(pub)
	}
	return Answer{Approved: sa.Approved, Approver: approver, Channel: "inbox", Reason: sa.Reason, Latency: now().Sub(start)}, nil
}
