package redact

import (
	"bytes"
	"io"
)

// Writer redacts what is written to it and writes the result to the
// underlying writer, line by line. A line is written once its newline
// arrives, so a secret split across two Write calls is still caught; a
// Secret's data lines are held until the Secret's kind is known (at most
// [Options.MaxHold] bytes). Close writes what is still held; it does not
// close the underlying writer. A Writer is not safe for concurrent use: give
// stdout and stderr a Writer each, from the same [Redactor].
type Writer struct {
	r    *Redactor
	w    io.Writer
	st   state
	part []byte // the current line, before its newline arrives
	err  error
}

var _ io.WriteCloser = (*Writer)(nil)

// Writer returns a [Writer] that redacts into w.
func (r *Redactor) Writer(w io.Writer) *Writer {
	return &Writer{r: r, w: w, st: state{r: r}}
}

// overlap is how much of an over-long line is kept back when it is cut, so
// a token near the cut is seen whole.
const overlap = 8 << 10

// Write redacts p. It returns len(p) unless the underlying writer failed.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n := len(p)
	// Which slow checks the lines of p can need; a line assembled from
	// an earlier Write gets all of them.
	chunk := hints{
		pem:       bytes.Contains(p, pemDash),
		secret:    bytes.Contains(p, []byte(`"Secret`)),
		sensitive: bytes.Contains(p, sensitiveTrue),
	}
	w.st.hints = chunk
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.part = append(w.part, p...)
			break
		}
		if len(w.part) > 0 {
			w.part = append(w.part, p[:i]...)
			w.st.hints = hints{true, true, true}
			w.st.line(w.part, true)
			w.st.hints = chunk
			w.part = w.part[:0]
		} else {
			w.st.line(p[:i], true)
		}
		p = p[i+1:]
	}
	if len(w.part) > w.r.maxHold {
		w.cutLong()
	}
	if w.st.held > w.r.maxHold {
		w.st.failClosed()
	}
	return n, w.flush()
}

// cutLong passes on the head of an over-long line, cut at a space so that
// tokens stay whole, keeping the last overlap bytes.
func (w *Writer) cutLong() {
	// Whole tokens are redacted first; the tail kept back is longer than
	// any exact secret, so none straddles the cut.
	w.part = w.r.tokens(w.part)
	end := len(w.part) - max(min(overlap, w.r.maxHold/4), w.r.maxExact+1)
	if end <= 0 {
		return
	}
	cut := bytes.LastIndexAny(w.part[:end], " \t,")
	if cut < end/2 {
		cut = end
	} else {
		cut++
	}
	w.st.emitRaw(w.part[:cut])
	w.part = append(w.part[:0], w.part[cut:]...)
}

// FlushPartial redacts and writes the current unterminated line now,
// instead of waiting for its newline: for interactive sessions, where a
// shell prompt has no newline and must show. A secret that arrives split
// across two flushes is not caught whole (its exact value still is when it
// arrives in one piece); lines held for a Secret's kind stay held.
func (w *Writer) FlushPartial() error {
	if w.err != nil {
		return w.err
	}
	w.linePart()
	return w.flush()
}

// linePart redacts the unterminated line as a line of its own.
func (w *Writer) linePart() {
	if len(w.part) > 0 {
		w.st.hints = hints{true, true, true}
		w.st.line(w.part, false)
		w.part = w.part[:0]
	}
}

// Close writes the last, unterminated line and any held lines (Secret data
// whose kind never showed is redacted), and reports a write error.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	w.linePart()
	w.st.failClosed()
	return w.flush()
}

func (w *Writer) flush() error {
	if len(w.st.out) == 0 {
		return nil
	}
	out := w.r.tokens(w.st.out)
	_, w.err = w.w.Write(out)
	w.st.out = w.st.out[:0]
	return w.err
}
