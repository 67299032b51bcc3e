package tui

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// What the screen shows of a kubectl diff is cleaned for reading, and only
// for reading: the approval hash covers the diff as kubectl printed it.
//
//   - "diff -u -N /tmp/LIVE-1/apps.v1.Deployment.web.api /tmp/MERGED-2/…"
//     and the "---"/"+++" lines naming temporary files become one line
//     naming the object: "Deployment web/api (apps/v1)";
//   - fields the server sets on every write (metadata.uid, generation,
//     resourceVersion, creationTimestamp, managedFields and the
//     last-applied-configuration annotation) are hidden, and the screen says
//     which were; a hunk left with no change is dropped.

// volatile are the object paths hidden from the shown diff.
var volatile = map[string]string{
	"metadata.uid":               "uid",
	"metadata.generation":        "generation",
	"metadata.resourceVersion":   "resourceVersion",
	"metadata.creationTimestamp": "creationTimestamp",
	"metadata.managedFields":     "managedFields",
	"metadata.annotations.kubectl.kubernetes.io/last-applied-configuration": "last-applied-configuration",
}

// cleanDiff returns the diff to show and the names of the fields hidden.
func cleanDiff(diff string) (string, []string) {
	lines := strings.Split(strings.TrimRight(diff, "\n"), "\n")
	var out []string
	hidden := map[string]bool{}
	var hunk []string // the current hunk, flushed when it holds a change
	flush := func() {
		if len(hunk) > 0 {
			out = append(out, trimContext(hunk)...)
		}
		hunk = nil
	}
	type entry struct {
		indent int
		key    string
	}
	var stack []entry
	drop := -1 // indentation of the field being hidden, -1 for none
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "diff -u"):
			flush()
			stack, drop = nil, -1
			out = append(out, objectHeader(l))
			continue
		case strings.HasPrefix(l, "--- /") || strings.HasPrefix(l, "+++ /"):
			continue
		case strings.HasPrefix(l, "@@"):
			flush()
			stack, drop = nil, -1
			hunk = []string{l}
			continue
		}
		if hunk == nil {
			out = append(out, l)
			continue
		}
		body := l
		if len(body) > 0 && strings.ContainsRune(" +-", rune(body[0])) {
			body = body[1:]
		}
		text := strings.TrimLeft(body, " ")
		indent := len(body) - len(text)
		item := strings.HasPrefix(text, "- ")
		if drop >= 0 {
			if text == "" || indent > drop || (item && indent == drop) {
				continue
			}
			drop = -1
		}
		key := ""
		if item {
			text = strings.TrimPrefix(text, "- ")
			for len(stack) > 0 && stack[len(stack)-1].indent >= indent+1 {
				stack = stack[:len(stack)-1]
			}
			indent += 2
		} else {
			for len(stack) > 0 && stack[len(stack)-1].indent >= indent {
				stack = stack[:len(stack)-1]
			}
		}
		if k, _, ok := strings.Cut(text, ":"); ok && !strings.ContainsAny(k, " \"'") {
			key = k
		}
		if key != "" {
			path := key
			for i := len(stack) - 1; i >= 0; i-- {
				path = stack[i].key + "." + path
			}
			name, ok := volatile[path]
			if !ok && (len(stack) == 0 || stack[0].indent > 0) {
				// The hunk began below the top level: the object's
				// path is not in it. Go by the field and its value.
				name, ok = unrooted(indent, key, strings.TrimSpace(text[len(key)+1:]), path)
			}
			if ok && !item {
				hidden[name] = true
				drop = indent
				continue
			}
			stack = append(stack, entry{indent, key})
		}
		hunk = append(hunk, l)
	}
	flush()
	var names []string
	for n := range hidden {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(out, "\n"), names
}

// objectHeader turns kubectl diff's "diff -u -N LIVE MERGED" line into
// the object it compares. Its file names are GROUP.VERSION.KIND.NS.NAME.
func objectHeader(l string) string {
	f := strings.Fields(l)
	file := f[len(f)-1]
	if i := strings.LastIndexByte(file, '/'); i >= 0 {
		file = file[i+1:]
	}
	parts := strings.Split(file, ".")
	for i, p := range parts {
		if p == "" || p[0] < 'A' || p[0] > 'Z' || i+1 >= len(parts) {
			continue
		}
		gv := strings.Join(parts[:i], ".")
		if j := strings.LastIndexByte(gv, '.'); j >= 0 {
			gv = gv[:j] + "/" + gv[j+1:]
		}
		ns, name := parts[i+1], strings.Join(parts[i+2:], ".")
		obj := name
		if ns != "" {
			obj = ns + "/" + name
		}
		return fmt.Sprintf("=== %s %s (%s)", p, obj, gv)
	}
	return "=== " + file
}

// wrapDiff wraps every line to width cells; continuation lines start
// with "↪" under the line's first column, so a wrapped line is not read
// as two.
func wrapDiff(lines []string, width int, style func(string) string) []string {
	var out []string
	for _, l := range lines {
		if width < 8 || ansi.StringWidth(l) <= width {
			out = append(out, style(l))
			continue
		}
		segs := strings.Split(ansi.Hardwrap(l, width-3, false), "\n")
		prefix := ""
		if len(l) > 0 && strings.ContainsRune("+-~", rune(l[0])) {
			prefix = l[:1]
		}
		out = append(out, style(segs[0]))
		for _, s := range segs[1:] {
			out = append(out, style(prefix+"↪ "+s))
		}
	}
	return out
}

var (
	uuidValue    = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	versionValue = regexp.MustCompile(`^"[0-9]+"$`)
	timeValue    = regexp.MustCompile(`^"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]+Z"$`)
	intValue     = regexp.MustCompile(`^[0-9]+$`)
)

// unrooted says whether a field whose path the hunk does not show is one
// the server sets: a metadata field (indented two spaces, as kubectl
// prints metadata) with the value the server gives it, or the
// last-applied annotation (four spaces, under annotations when known).
func unrooted(indent int, key, value, path string) (string, bool) {
	switch {
	case indent == 2 && key == "uid" && uuidValue.MatchString(value),
		indent == 2 && key == "resourceVersion" && versionValue.MatchString(value),
		indent == 2 && key == "creationTimestamp" && timeValue.MatchString(value),
		indent == 2 && key == "generation" && intValue.MatchString(value),
		indent == 2 && key == "managedFields" && value == "":
		return key, true
	case indent == 4 && key == "kubectl.kubernetes.io/last-applied-configuration" &&
		(path == key || path == "annotations."+key):
		return "last-applied-configuration", true
	}
	return "", false
}

// context is how many unchanged lines the shown diff keeps around a change.
const diffContext = 3

// trimContext keeps a hunk's header and the lines within [diffContext] of a
// change, with "⋯" where unchanged lines were left out; a hunk left with
// no change is dropped.
func trimContext(hunk []string) []string {
	body := hunk[1:]
	near := make([]bool, len(body))
	changed := false
	for i, l := range body {
		if strings.HasPrefix(l, "+") || strings.HasPrefix(l, "-") {
			changed = true
			for j := max(0, i-diffContext); j <= min(len(body)-1, i+diffContext); j++ {
				near[j] = true
			}
		}
	}
	if !changed {
		return nil
	}
	out := []string{hunk[0]}
	gap := false
	for i, l := range body {
		if !near[i] {
			gap = true
			continue
		}
		if gap && len(out) > 1 {
			out = append(out, " ⋯")
		}
		gap = false
		out = append(out, l)
	}
	return out
}

// refreshLine is a line terraform prints while it reads the state before
// planning: "aws_instance.web: Refreshing state... [id=i-1]".
var refreshLine = regexp.MustCompile(`^\S+: (Refreshing state\.\.\.|Reading\.\.\.|Read complete after )`)

// cleanPlan drops the lines of a rendered plan that only say terraform
// read the state, and the blank lines after them; it returns how many it
// dropped.
func cleanPlan(plan string) (string, int) {
	lines := strings.Split(plan, "\n")
	var out []string
	n := 0
	for _, l := range lines {
		if refreshLine.MatchString(l) {
			n++
			continue
		}
		if n > 0 && len(out) == 0 && strings.TrimSpace(l) == "" {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n"), n
}
