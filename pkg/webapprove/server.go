// Package webapprove is the web approval page a broker serves
// (`agentctl serve --web ADDR`): it lists the requests waiting for a
// human with what the terminal screen shows, and answers them.
//
// # Answers
//
// The page is an inbox: it receives requests as [approve.Pending] from an
// [approve.InboxServer] (which checked each one's content against its
// hash) and answers them with the inbox key's signature, which the
// requester verifies. It signs an answer only for a WebAuthn assertion by
// an enrolled passkey over a challenge that names the request: the
// challenge is the SHA-256 of the request's approval hash, the verdict,
// the typed confirmation and a fresh salt ([challengeFor]). A challenge
// is issued for one request and one verdict, is used once, and expires
// with the request; an answer without an assertion, with one for another
// request or verdict, or a replayed one, changes nothing.
//
// # Enrollment
//
// A passkey is enrolled with a one-time code that `agentctl approvers
// enroll` prints on the human's terminal ([Store.NewCode]); the page asks
// for it before it registers a passkey. Passkeys and the code's hash are
// kept in the human's config directory, which the jail hides.
package webapprove

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/agentctl/agentctl/pkg/approve"
)

// Options configure [New].
type Options struct {
	// Origin is the page's origin as the browser sees it, such as
	// http://localhost:8844: the passkeys' relying party is its host.
	Origin string
	// Store keeps passkeys and the enrollment code.
	Store *Store
	// User is the OS user the broker runs as: the one WebAuthn user.
	User string
	// Requests delivers the requests to show.
	Requests <-chan *approve.Pending
	// Notify, when set, is called for each request as it arrives, with
	// the link to its page.
	Notify func(Notice)
	// Now returns the time; nil means time.Now.
	Now func() time.Time
}

// Notice tells that a request waits: no secret is in it.
type Notice struct {
	ID    string // the request id
	Class string
	Link  string
}

// ChallengeTTL bounds how long an issued challenge stays valid when the
// request expires later.
const ChallengeTTL = 5 * time.Minute

// Server is the web approval page.
type Server struct {
	o      Options
	wa     *webauthn.WebAuthn
	origin *url.URL

	mu         sync.Mutex
	pending    map[string]*entry // by approval hash
	done       map[string]outcome
	challenges map[string]*challenge // by the challenge, base64url
	regs       map[string]*registration
}

type entry struct {
	p        *approve.Pending
	received time.Time
}

type outcome struct {
	Screen *approve.Screen
	What   string // "approved in the web page", "answered elsewhere: …"
	At     time.Time
}

type challenge struct {
	hash    string
	approve bool
	typed   string
	salt    []byte
	expires time.Time
	session webauthn.SessionData
}

type registration struct {
	session webauthn.SessionData
	expires time.Time
}

// New returns the page's server.
func New(o Options) (*Server, error) {
	u, err := url.Parse(o.Origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("web origin %q is not an http(s)://HOST[:PORT] origin", o.Origin)
	}
	u.Path = ""
	o.Origin = u.String()
	if net.ParseIP(u.Hostname()) != nil {
		return nil, fmt.Errorf("web origin %q names an IP address: passkeys need a host name (localhost for this machine)", o.Origin)
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          u.Hostname(),
		RPDisplayName: "agentctl",
		RPOrigins:     []string{o.Origin},
	})
	if err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Store == nil {
		return nil, errors.New("webapprove: no passkey store")
	}
	return &Server{o: o, wa: wa, origin: u, pending: map[string]*entry{}, done: map[string]outcome{},
		challenges: map[string]*challenge{}, regs: map[string]*registration{}}, nil
}

// Origin is the page's origin.
func (s *Server) Origin() string { return s.o.Origin }

// Link is the address of the page of the request with hash.
func (s *Server) Link(hash string) string { return s.o.Origin + "/r/" + hash }

// Run takes requests until ctx ends or Requests closes.
func (s *Server) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case p, ok := <-s.o.Requests:
			if !ok {
				return
			}
			s.add(p)
		}
	}
}

func (s *Server) add(p *approve.Pending) {
	h := p.Screen.Hash
	s.mu.Lock()
	s.pending[h] = &entry{p: p, received: s.o.Now()}
	s.mu.Unlock()
	go func() {
		<-p.Gone()
		what := "withdrawn: its agentctl stopped waiting"
		if e := p.Elsewhere(); e != "" {
			what = "answered elsewhere: " + e
		}
		s.finish(h, what)
	}()
	if s.o.Notify != nil {
		go s.o.Notify(Notice{ID: p.Screen.ID, Class: p.Screen.Class.String(), Link: s.Link(h)})
	}
}

// finish moves the request with hash from pending to done, unless it
// went already.
func (s *Server) finish(hash, what string) {
	s.mu.Lock()
	e, ok := s.pending[hash]
	delete(s.pending, hash)
	s.mu.Unlock()
	if ok {
		s.record(e.p.Screen, what)
	}
}

// record notes what became of the request of scr, and forgets expired
// challenges and what was done an hour ago.
func (s *Server) record(scr *approve.Screen, what string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.o.Now()
	// A challenge of a request that went stays until it expires, so an
	// answer signed for it is refused for what it is (expired, or too
	// late: answered elsewhere) rather than as unknown, for ten
	// minutes.
	for c, ch := range s.challenges {
		if now.Sub(ch.expires) > 10*time.Minute {
			delete(s.challenges, c)
		}
	}
	s.done[scr.Hash] = outcome{Screen: scr, What: what, At: now}
	for h, o := range s.done {
		if now.Sub(o.At) > time.Hour {
			delete(s.done, h)
		}
	}
}

// Handler serves the page.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.list)
	mux.HandleFunc("GET /r/{hash}", s.request)
	mux.HandleFunc("GET /enroll", s.enrollPage)
	mux.HandleFunc("GET /api/state/{hash}", s.state)
	mux.HandleFunc("POST /api/enroll/begin", s.enrollBegin)
	mux.HandleFunc("POST /api/enroll/finish", s.enrollFinish)
	mux.HandleFunc("POST /api/challenge", s.challenge)
	mux.HandleFunc("POST /api/answer", s.answer)
	return s.guard(mux)
}

// guard refuses a request for another host (DNS rebinding) and a POST
// from another origin or not of JSON (a form on another site), and sets
// the headers every page carries.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if r.Host != s.origin.Host {
			http.Error(w, fmt.Sprintf("this page answers at %s, not at host %q", s.o.Origin, r.Host), http.StatusMisdirectedRequest)
			return
		}
		if r.Method == http.MethodPost {
			if o := r.Header.Get("Origin"); o != s.o.Origin {
				jsonError(w, http.StatusForbidden, fmt.Sprintf("refused: a request from origin %q, not from this page", o))
				return
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				jsonError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("refused: content type %q, want application/json", ct))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		}
		next.ServeHTTP(w, r)
	})
}

func jsonError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]any{"ok": false, "error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// challengeFor is the challenge a passkey signs to answer the request
// with hash: the verdict and the typed confirmation are in it, and a
// fresh salt makes each one new.
func challengeFor(hash string, approved bool, typed string, salt []byte) []byte {
	h := sha256.New()
	for _, f := range []string{"agentctl-web-answer-v1", hash, strconv.FormatBool(approved), typed, hex.EncodeToString(salt)} {
		h.Write(strconv.AppendInt(nil, int64(len(f)), 10))
		h.Write([]byte{':'})
		h.Write([]byte(f))
		h.Write([]byte{'\n'})
	}
	return h.Sum(nil)
}

type answerBody struct {
	Hash       string          `json:"hash"`
	Approve    bool            `json:"approve"`
	Typed      string          `json:"typed"`
	Credential json.RawMessage `json:"credential"`
}

// challenge issues the challenge for one answer to one request.
func (s *Server) challenge(w http.ResponseWriter, r *http.Request) {
	var b answerBody
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		jsonError(w, http.StatusBadRequest, "malformed request: "+err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.pending[b.Hash]
	if !ok {
		s.gone(w, b.Hash)
		return
	}
	if msg := confirmError(e.p.Screen, b.Approve, b.Typed); msg != "" {
		jsonError(w, http.StatusForbidden, msg)
		return
	}
	u, err := s.o.Store.load(s.o.User)
	if err != nil {
		jsonError(w, http.StatusInternalServerError, "cannot read the passkeys: "+err.Error())
		return
	}
	if len(u.Credentials) == 0 {
		jsonError(w, http.StatusConflict, "no passkey is enrolled: run `agentctl approvers enroll` on the broker's machine, then open "+s.o.Origin+"/enroll")
		return
	}
	salt := make([]byte, 16)
	rand.Read(salt)
	c := challengeFor(b.Hash, b.Approve, b.Typed, salt)
	opts, session, err := s.wa.BeginLogin(u, webauthn.WithChallenge(c), webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		jsonError(w, http.StatusInternalServerError, err.Error())
		return
	}
	exp := s.o.Now().Add(ChallengeTTL)
	if x := e.p.Screen.Expires; !x.IsZero() && x.Before(exp) {
		exp = x
	}
	s.challenges[session.Challenge] = &challenge{hash: b.Hash, approve: b.Approve, typed: b.Typed, salt: salt, expires: exp, session: *session}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "options": opts})
}

// confirmError is why approving scr with typed is refused, "" when it
// is not.
func confirmError(scr *approve.Screen, approved bool, typed string) string {
	if approved && scr.Confirm && typed != scr.ConfirmWord {
		return fmt.Sprintf("type %q to approve this change (you typed %q)", scr.ConfirmWord, typed)
	}
	return ""
}

// gone answers for a request that is not pending.
func (s *Server) gone(w http.ResponseWriter, hash string) {
	if o, ok := s.done[hash]; ok {
		jsonError(w, http.StatusConflict, "this request is no longer waiting: "+o.What)
		return
	}
	jsonError(w, http.StatusNotFound, fmt.Sprintf("no request %.12s waits for approval", hash))
}

// answer checks a signed answer and, if it holds, sends it.
func (s *Server) answer(w http.ResponseWriter, r *http.Request) {
	var b answerBody
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		jsonError(w, http.StatusBadRequest, "malformed request: "+err.Error())
		return
	}
	if len(bytes.TrimSpace(b.Credential)) == 0 || string(bytes.TrimSpace(b.Credential)) == "null" {
		jsonError(w, http.StatusForbidden, "refused: the answer is not signed with a passkey")
		return
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(b.Credential)
	if err != nil {
		jsonError(w, http.StatusForbidden, "refused: the passkey's signature does not parse: "+errText(err))
		return
	}
	s.mu.Lock()
	ch, ok := s.challenges[parsed.Response.CollectedClientData.Challenge]
	delete(s.challenges, parsed.Response.CollectedClientData.Challenge) // one use, whatever follows
	e, pending := s.pending[b.Hash]
	switch {
	case !ok:
		s.mu.Unlock()
		jsonError(w, http.StatusForbidden, "refused: the passkey signed no challenge this page has open (used already, expired, or never issued)")
		return
	case ch.hash != b.Hash:
		s.mu.Unlock()
		jsonError(w, http.StatusForbidden, fmt.Sprintf("refused: the passkey signed an answer to request %.12s, not to %.12s", ch.hash, b.Hash))
		return
	case ch.approve != b.Approve || ch.typed != b.Typed:
		s.mu.Unlock()
		jsonError(w, http.StatusForbidden, "refused: the answer is not the one the passkey signed")
		return
	case !bytes.Equal(challengeFor(b.Hash, b.Approve, b.Typed, ch.salt), mustB64(ch.session.Challenge)):
		s.mu.Unlock()
		jsonError(w, http.StatusForbidden, "refused: the signed challenge does not bind this answer")
		return
	case !s.o.Now().Before(ch.expires):
		s.mu.Unlock()
		jsonError(w, http.StatusGone, fmt.Sprintf("refused: the signed answer expired at %s", ch.expires.Local().Format("15:04:05")))
		return
	case !pending:
		defer s.mu.Unlock()
		s.gone(w, b.Hash)
		return
	}
	if msg := confirmError(e.p.Screen, b.Approve, b.Typed); msg != "" {
		s.mu.Unlock()
		jsonError(w, http.StatusForbidden, msg)
		return
	}
	u, err := s.o.Store.load(s.o.User)
	if err != nil {
		s.mu.Unlock()
		jsonError(w, http.StatusInternalServerError, "cannot read the passkeys: "+err.Error())
		return
	}
	cred, err := s.wa.ValidateLogin(u, ch.session, parsed)
	if err == nil && cred.Authenticator.CloneWarning {
		err = errors.New("the passkey's signature counter went back: it may have been cloned")
	}
	if err != nil {
		s.mu.Unlock()
		jsonError(w, http.StatusForbidden, "refused: the passkey's signature does not verify: "+errText(err))
		return
	}
	for i := range u.Credentials {
		if bytes.Equal(u.Credentials[i].ID, cred.ID) {
			u.Credentials[i].Authenticator = cred.Authenticator
		}
	}
	s.o.Store.save(u) // the counter: a failure only weakens the clone check
	delete(s.pending, b.Hash)
	s.mu.Unlock()

	v := approve.Verdict{Approved: b.Approve, Approver: fmt.Sprintf("%s (web page, passkey %s)", s.o.User, keyID(cred.ID))}
	what := "approved in the web page"
	if !b.Approve {
		v.Reason, what = "denied in the web page", "denied in the web page"
	}
	if err := e.p.Answer(v); err != nil {
		s.record(e.p.Screen, "withdrawn: "+err.Error())
		jsonError(w, http.StatusConflict, "the answer could not be sent: "+err.Error())
		return
	}
	s.record(e.p.Screen, what)
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "message": fmt.Sprintf("%s: %s", what, e.p.Screen.CommandLine())})
}

func mustB64(s string) []byte {
	b, _ := base64.RawURLEncoding.DecodeString(s)
	return b
}

// keyID is a short name of a passkey's credential id.
func keyID(id []byte) string {
	sum := sha256.Sum256(id)
	return hex.EncodeToString(sum[:4])
}

func errText(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.DevInfo != "" {
		return pe.Details + ": " + pe.DevInfo
	}
	if errors.As(err, &pe) && pe.Details != "" {
		return pe.Details
	}
	return err.Error()
}

// state says whether the request with hash still waits.
func (s *Server) state(w http.ResponseWriter, r *http.Request) {
	h := r.PathValue("hash")
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.pending[h]; ok {
		writeJSON(w, http.StatusOK, map[string]any{"pending": true})
		return
	}
	what := "no such request"
	if o, ok := s.done[h]; ok {
		what = o.What
	}
	writeJSON(w, http.StatusOK, map[string]any{"pending": false, "outcome": what})
}

type enrollBody struct {
	Code  string `json:"code"`
	Token string `json:"token"`
}

func (s *Server) enrollBegin(w http.ResponseWriter, r *http.Request) {
	var b enrollBody
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		jsonError(w, http.StatusBadRequest, "malformed request: "+err.Error())
		return
	}
	s.o.Store.mu.Lock()
	err := s.o.Store.useCode(b.Code)
	s.o.Store.mu.Unlock()
	if err != nil {
		jsonError(w, http.StatusForbidden, "refused: "+err.Error())
		return
	}
	u, err := s.o.Store.load(s.o.User)
	if err != nil {
		jsonError(w, http.StatusInternalServerError, "cannot read the passkeys: "+err.Error())
		return
	}
	var exclude []protocol.CredentialDescriptor
	for _, c := range u.Credentials {
		exclude = append(exclude, c.Descriptor())
	}
	opts, session, err := s.wa.BeginRegistration(u,
		webauthn.WithExclusions(exclude),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementPreferred),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{UserVerification: protocol.VerificationRequired}))
	if err != nil {
		jsonError(w, http.StatusInternalServerError, err.Error())
		return
	}
	tok := make([]byte, 16)
	rand.Read(tok)
	t := hex.EncodeToString(tok)
	s.mu.Lock()
	s.regs[t] = &registration{session: *session, expires: s.o.Now().Add(ChallengeTTL)}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "token": t, "options": opts})
}

type enrollFinishBody struct {
	Token      string          `json:"token"`
	Name       string          `json:"name"`
	Credential json.RawMessage `json:"credential"`
}

func (s *Server) enrollFinish(w http.ResponseWriter, r *http.Request) {
	var b enrollFinishBody
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		jsonError(w, http.StatusBadRequest, "malformed request: "+err.Error())
		return
	}
	s.mu.Lock()
	reg, ok := s.regs[b.Token]
	delete(s.regs, b.Token)
	s.mu.Unlock()
	if !ok || !s.o.Now().Before(reg.expires) {
		jsonError(w, http.StatusForbidden, "refused: no enrollment is open for this page (enter the code again)")
		return
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(b.Credential)
	if err != nil {
		jsonError(w, http.StatusBadRequest, "the passkey's registration does not parse: "+errText(err))
		return
	}
	s.o.Store.mu.Lock()
	defer s.o.Store.mu.Unlock()
	u, err := s.o.Store.load(s.o.User)
	if err != nil {
		jsonError(w, http.StatusInternalServerError, "cannot read the passkeys: "+err.Error())
		return
	}
	cred, err := s.wa.CreateCredential(u, reg.session, parsed)
	if err != nil {
		jsonError(w, http.StatusForbidden, "refused: the passkey's registration does not verify: "+errText(err))
		return
	}
	u.Credentials = append(u.Credentials, *cred)
	if err := s.o.Store.save(u); err != nil {
		jsonError(w, http.StatusInternalServerError, "cannot save the passkey: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "message": fmt.Sprintf("passkey %s enrolled: it can answer approval requests now", keyID(cred.ID))})
}

// snapshot is what the list shows.
func (s *Server) snapshot() (pending []*approve.Screen, done []outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var es []*entry
	for _, e := range s.pending {
		es = append(es, e)
	}
	sort.Slice(es, func(i, j int) bool { return es[i].received.Before(es[j].received) })
	for _, e := range es {
		pending = append(pending, e.p.Screen)
	}
	for _, o := range s.done {
		done = append(done, o)
	}
	sort.Slice(done, func(i, j int) bool { return done[i].At.After(done[j].At) })
	if len(done) > 20 {
		done = done[:20]
	}
	return pending, done
}
