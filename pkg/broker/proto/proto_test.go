package proto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	req := &Request{Argv: []string{"agentctl", "kubectl", "get", "pods"}, Cwd: "/w", Env: []string{"TERM=xterm"}, FDs: 3}
	if err := Write(&buf, TRequest, req); err != nil {
		t.Fatal(err)
	}
	if err := Write(&buf, TSignal, &Signal{Signal: 2}); err != nil {
		t.Fatal(err)
	}
	var got Request
	if err := ReadAs(&buf, TRequest, &got); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.Argv, " ") != "agentctl kubectl get pods" || got.Cwd != "/w" || got.FDs != 3 {
		t.Errorf("request came back as %+v", got)
	}
	var sig Signal
	if err := ReadAs(&buf, TSignal, &sig); err != nil || sig.Signal != 2 {
		t.Errorf("signal came back as %+v, %v", sig, err)
	}
	if _, _, err := Read(&buf); err != io.EOF {
		t.Errorf("after the last frame: %v, want io.EOF", err)
	}
}

func frame(n uint32, rest string) []byte {
	return append(binary.BigEndian.AppendUint32(nil, n), rest...)
}

// countingReader counts what was read from it, to show that a frame
// refused by its header was not read further.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestBadFrames(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"header cut short", []byte{0, 0}, ErrTruncated},
		{"payload cut short", frame(10, "Hab"), ErrTruncated},
		{"zero length", frame(0, ""), ErrEmptyFrame},
		{"one byte over the limit", frame(MaxFrame+1, "H"), ErrFrameTooLarge},
		{"a 1 GB frame", frame(1<<30, "H"), ErrFrameTooLarge},
		{"http request", []byte("GET / HTTP/1.1\r\n\r\n"), ErrFrameTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &countingReader{r: io.MultiReader(bytes.NewReader(tc.in), strings.NewReader(strings.Repeat("x", 64)))}
			if tc.want == ErrTruncated {
				r.r = bytes.NewReader(tc.in)
			}
			_, _, err := Read(r)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Read: %v, want %v", err, tc.want)
			}
			if tc.want == ErrFrameTooLarge && r.n > 4 {
				t.Errorf("read %d bytes of an oversize frame, want only its 4-byte header", r.n)
			}
		})
	}
}

func TestFrameTypesAndPayloads(t *testing.T) {
	var w Welcome
	if err := Decode(TExit, []byte(`{"code":1}`), TWelcome, &w); !errors.As(err, new(*UnexpectedError)) {
		t.Errorf("exit frame where a welcome is due: %v", err)
	}
	if err := Decode(TWelcome, []byte(`{"version":`), TWelcome, &w); err == nil {
		t.Error("broken JSON decoded")
	}
	var e *Error
	err := Decode(TError, []byte(`{"code":"version","message":"m","hint":"h"}`), TWelcome, &w)
	if !errors.As(err, &e) || e.Code != CodeVersion || e.Hint != "h" || e.ExitCode() != 70 {
		t.Errorf("error frame where a welcome is due: %v", err)
	}
	if _, err := AppendFrame(nil, TRequest, make([]byte, MaxFrame)); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("writing an oversize frame: %v", err)
	}
}

func TestNegotiate(t *testing.T) {
	for _, tc := range []struct {
		name     string
		hello    Hello
		min, max int
		want     int    // version, or 0
		code     string // error code
	}{
		{"same version", Hello{Magic: Magic, Min: 1, Max: 1}, 1, 1, 1, ""},
		{"newer client that still speaks ours", Hello{Magic: Magic, Min: 1, Max: 3}, 1, 2, 2, ""},
		{"newer client only", Hello{Magic: Magic, Min: 2, Max: 2}, 1, 1, 0, CodeVersion},
		{"older client only", Hello{Magic: Magic, Min: 1, Max: 1}, 2, 3, 0, CodeVersion},
		{"nonsense range", Hello{Magic: Magic, Min: 3, Max: 1}, 1, 3, 0, CodeVersion},
		{"wrong magic", Hello{Magic: "ssh", Min: 1, Max: 1}, 1, 1, 0, CodeProtocol},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, e := Negotiate(&tc.hello, tc.min, tc.max, "test")
			if tc.code != "" {
				if e == nil || e.Code != tc.code {
					t.Fatalf("Negotiate: %+v, %+v; want error %q", w, e, tc.code)
				}
				return
			}
			if e != nil || w.Version != tc.want {
				t.Fatalf("Negotiate: %+v, %+v; want version %d", w, e, tc.want)
			}
		})
	}
}

// FuzzRead feeds arbitrary bytes to the frame reader: it never panics,
// never returns a frame longer than MaxFrame, and what it returns
// re-encodes to the bytes it consumed.
func FuzzRead(f *testing.F) {
	hello, _ := Marshal(THello, NewHello("v"))
	f.Add(hello)
	f.Add([]byte{0, 0, 0, 1, 'H'})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		for {
			before := r.Len()
			typ, p, err := Read(r)
			if err != nil {
				return
			}
			if len(p)+1 > MaxFrame {
				t.Fatalf("frame of %d bytes", len(p)+1)
			}
			b, err := AppendFrame(nil, typ, p)
			if err != nil {
				t.Fatal(err)
			}
			consumed := in[len(in)-before : len(in)-r.Len()]
			if !bytes.Equal(b, consumed) {
				t.Fatalf("re-encoded %x, read %x", b, consumed)
			}
			var h Hello
			_ = Decode(typ, p, THello, &h)
		}
	})
}
