package cli

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// A cut output stays valid UTF-8 and its note names the stream, what was
// kept and what there was.
func TestCappedBufferCutsAtCharacters(t *testing.T) {
	for _, max := range []int{1, 2, 3, 4, 5, 6, 7} {
		c := &cappedBuffer{max: max}
		c.WriteString("a€b😀c") // 1+3+1+4+1 bytes
		got := c.String()
		if !utf8.ValidString(got) || !strings.HasPrefix("a€b😀c", got) {
			t.Errorf("max %d: kept %q, want a whole-character prefix", max, got)
		}
	}
	out, errOut := &cappedBuffer{max: 4}, &cappedBuffer{max: 4}
	out.WriteString("0123456789")
	errOut.WriteString("ok")
	note := cutNote(out, errOut)
	if !strings.Contains(note, "stdout cut to its first 4 of 10 bytes") || strings.Contains(note, "stderr") {
		t.Errorf("note %q", note)
	}
	if cutNote(errOut, errOut) != "" {
		t.Error("a note for output that was not cut")
	}
}
