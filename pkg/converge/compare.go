package converge

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Diff is one field the live object does not hold as the intent wanted.
// Wanted and Got are JSON; Got is empty when the field is missing.
type Diff struct {
	Field  string `json:"field"`
	Wanted string `json:"wanted"`
	Got    string `json:"got"`
}

// Compare returns the intent's fields the live object does not hold, in
// the intent's order. Fields the intent did not set are not looked at.
func Compare(fields []Field, live map[string]any) []Diff {
	var out []Diff
	for _, f := range fields {
		got, ok := lookup(live, f.Path)
		switch {
		case f.Absent && !ok:
		case f.Absent:
			out = append(out, Diff{Field: f.Path.String(), Wanted: "(absent)", Got: render(got)})
		case !ok:
			if isEmpty(f.Value) {
				// An empty map or list the server dropped ("labels: {}").
				continue
			}
			out = append(out, Diff{Field: f.Path.String(), Wanted: render(f.Value), Got: "(absent)"})
		case !same(f.Path, f.Value, got):
			out = append(out, Diff{Field: f.Path.String(), Wanted: render(f.Value), Got: render(got)})
		}
	}
	return out
}

func lookup(v any, p Path) (any, bool) {
	for _, s := range p {
		switch {
		case strings.HasPrefix(s, "[name=") && strings.HasSuffix(s, "]"):
			l, ok := v.([]any)
			if !ok {
				return nil, false
			}
			name := s[len("[name=") : len(s)-1]
			found := false
			for _, e := range l {
				if m, ok := e.(map[string]any); ok && m["name"] == name {
					v, found = m, true
					break
				}
			}
			if !found {
				return nil, false
			}
		case isListSeg(s):
			l, ok := v.([]any)
			if !ok {
				return nil, false
			}
			i, err := strconv.Atoi(s[1 : len(s)-1])
			if err != nil || i < 0 || i >= len(l) {
				return nil, false
			}
			v = l[i]
		default:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[s]; !ok {
				return nil, false
			}
		}
	}
	return v, true
}

// same compares a wanted value with a live one: by JSON value, numbers by
// value, quantities (resources, storage) by amount.
func same(p Path, want, got any) bool {
	w, g := normalize(want), normalize(got)
	if reflect.DeepEqual(w, g) {
		return true
	}
	if isEmpty(w) && isEmpty(g) {
		return true
	}
	// A number or string where the API server keeps the other: ports
	// ("8080" as an IntOrString), quantities (1 vs "1", "0.5" vs "500m").
	ws, wok := scalarString(w)
	gs, gok := scalarString(g)
	if !wok || !gok {
		return false
	}
	if ws == gs {
		return true
	}
	if quantityPath(p) {
		wq, err1 := resource.ParseQuantity(ws)
		gq, err2 := resource.ParseQuantity(gs)
		return err1 == nil && err2 == nil && wq.Cmp(gq) == 0
	}
	return false
}

// quantityPath reports whether a path holds resource quantities.
func quantityPath(p Path) bool {
	for _, s := range p {
		switch s {
		case "resources", "capacity", "limits", "requests", "hard", "overhead", "storage":
			return true
		}
	}
	return false
}

func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

func render(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return string(b)
}
