package webapprove

import (
	"crypto/rand"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/classify"
)

//go:embed templates/*.html
var templateFS embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"short":   func(s string) string { return shortID(s) },
	"clock":   func(t time.Time) string { return t.Local().Format("15:04:05") },
	"summary": summary,
	"lines":   func(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") },
	"diffClass": func(l string) string {
		switch {
		case strings.HasPrefix(l, "+"):
			return "add"
		case strings.HasPrefix(l, "-"):
			return "del"
		}
		return ""
	},
}).ParseFS(templateFS, "templates/*.html"))

// shortID is the id the terminal screens show: its first 12 characters.
func shortID(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// summary says in plain words what happens if the request is approved.
func summary(s *approve.Screen) string {
	var what string
	switch s.Class {
	case classify.Read:
		what = "It reads state and changes nothing."
	case classify.Write:
		what = "It creates or changes objects."
	case classify.Destructive:
		what = "It deletes or replaces objects: what it deletes is gone."
	case classify.Privilege:
		what = "It changes who can do what (roles, bindings, accounts, policies)."
	case classify.Secret:
		what = "It reveals secret values to the agent."
	case classify.Exec:
		what = "It runs code inside a workload or opens a tunnel to it."
	default:
		what = "agentctl could not tell what it does: treat it as a privilege change."
	}
	if l := s.Live; l != nil && l.Error == "" && len(l.Objects) > 0 {
		n := len(l.Objects)
		if l.Open {
			what += fmt.Sprintf(" It matches %d object(s) now, and deletes what matches when it runs.", n)
		} else {
			what += fmt.Sprintf(" It deletes %d object(s).", n)
		}
	}
	return fmt.Sprintf("If you approve, agentctl runs exactly this command against %s, once. %s If you deny it or do nothing by %s, nothing runs.",
		s.TargetLine(), what, s.Expires.Local().Format("15:04:05"))
}

type pageData struct {
	Nonce    string
	Origin   string
	User     string
	Passkeys int
	Pending  []*approve.Screen
	Done     []outcome
	Screen   *approve.Screen
	Outcome  string
}

func (s *Server) render(w http.ResponseWriter, name string, d *pageData) {
	var nb [16]byte
	rand.Read(nb[:])
	d.Nonce = hex.EncodeToString(nb[:])
	d.Origin, d.User, d.Passkeys = s.o.Origin, s.o.User, s.o.Store.Count()
	w.Header().Set("Content-Security-Policy", fmt.Sprintf("default-src 'none'; script-src 'nonce-%s'; style-src 'nonce-%s'; connect-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'", d.Nonce, d.Nonce))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pages.ExecuteTemplate(w, name, d); err != nil {
		fmt.Fprintf(w, "<p>cannot render the page: %s</p>", template.HTMLEscapeString(err.Error()))
	}
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	p, d := s.snapshot()
	s.render(w, "list.html", &pageData{Pending: p, Done: d})
}

func (s *Server) request(w http.ResponseWriter, r *http.Request) {
	h := r.PathValue("hash")
	s.mu.Lock()
	d := &pageData{}
	if e, ok := s.pending[h]; ok {
		d.Screen = e.p.Screen
	} else if o, ok := s.done[h]; ok {
		d.Screen, d.Outcome = o.Screen, o.What
	}
	s.mu.Unlock()
	if d.Screen == nil {
		w.WriteHeader(http.StatusNotFound)
		d.Outcome = fmt.Sprintf("no request %.12s waits here: it may have been answered or have expired", h)
	}
	s.render(w, "request.html", d)
}

func (s *Server) enrollPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, "enroll.html", &pageData{})
}
