package terraform

import (
	"bytes"
	"io"
	"strconv"
	"strings"
)

// adviceFilter passes terraform's plan output on, except the advice
// terraform ends it with when it saves a plan that agentctl owns:
//
//	Saved the plan to: PATH
//
//	To perform exactly these actions, run the following command to apply:
//	    terraform apply "PATH"
//
// An agent that follows it would apply agentctl's plan file itself (as a
// plan it did not make, so only with a human's approval again). terraform
// wraps the first line at its output width ("Saved the plan to:" and PATH
// on two lines) and may print the last one without a newline. Only this
// exact block, naming exactly this plan file, is dropped; lines that
// start it and then differ are passed on unchanged.
type adviceFilter struct {
	w    io.Writer
	path string
	part []byte   // the current line, before its newline
	held [][]byte // lines that may be the advice, each with its newline
	step int
	err  error
}

func newAdviceFilter(w io.Writer, path string) *adviceFilter {
	return &adviceFilter{w: w, path: path}
}

func (f *adviceFilter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			f.part = append(f.part, p...)
			break
		}
		f.part = append(f.part, p[:i+1]...)
		f.line(f.part)
		f.part = nil
		p = p[i+1:]
	}
	return n, f.err
}

// Close passes on what is held: an unterminated last line (the advice's
// own last line is one) and a block that did not complete.
func (f *adviceFilter) Close() error {
	if len(f.part) > 0 {
		f.line(f.part)
		f.part = nil
	}
	f.release()
	return f.err
}

const (
	stepNone    = iota
	stepSaved   // "Saved the plan to:" seen, PATH on the next line
	stepBlank   // the blank line after the path
	stepPerform // "To perform exactly these actions…"
	stepWrapped // its continuation, when wrapped
	stepCommand // "    terraform apply \"PATH\""
)

func (f *adviceFilter) line(l []byte) {
	t := strings.TrimRight(string(l), "\r\n")
	next := -1
	switch f.step {
	case stepNone:
		switch t {
		case "Saved the plan to: " + f.path:
			next = stepBlank
		case "Saved the plan to:":
			next = stepSaved
		}
	case stepSaved:
		if t == f.path {
			next = stepBlank
		}
	case stepBlank:
		if t == "" {
			next = stepPerform
		}
	case stepPerform, stepWrapped:
		switch {
		case f.step == stepPerform && strings.HasPrefix(t, "To perform exactly these actions"),
			f.step == stepWrapped && len(f.held) < 8 && t != "":
			next = stepWrapped
			if strings.HasSuffix(t, "to apply:") {
				next = stepCommand
			}
		}
	case stepCommand:
		cmd := strings.TrimSpace(t)
		for _, tool := range []string{"terraform", "tofu"} {
			if cmd == tool+" apply "+strconv.Quote(f.path) {
				f.held, f.step = nil, stepNone // the advice: dropped
				return
			}
		}
	}
	if next < 0 {
		if f.step != stepNone {
			f.release()
			f.line(l)
			return
		}
		f.write(l)
		return
	}
	f.held = append(f.held, append([]byte(nil), l...))
	f.step = next
}

func (f *adviceFilter) release() {
	for _, h := range f.held {
		f.write(h)
	}
	f.held, f.step = nil, stepNone
}

func (f *adviceFilter) write(b []byte) {
	if f.err == nil {
		_, f.err = f.w.Write(b)
	}
}
