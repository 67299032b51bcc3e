package converge

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// Op is what a change does to an object.
type Op string

// The operations.
const (
	// OpSet creates or changes the object: it must exist, be Current and
	// hold the intent's fields.
	OpSet Op = "set"
	// OpDelete deletes the object: it converges when the object and its
	// dependents are gone.
	OpDelete Op = "delete"
)

// Ref names one object.
type Ref struct {
	Group     string `json:"group,omitempty"`
	Version   string `json:"version"`
	Kind      string `json:"kind"`
	Resource  string `json:"resource,omitempty"` // plural, e.g. "deployments"; resolved by the caller when empty
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// APIVersion is the object's group/version.
func (r Ref) APIVersion() string {
	if r.Group == "" {
		return r.Version
	}
	return r.Group + "/" + r.Version
}

// String is "kind/name" or "kind/name -n namespace".
func (r Ref) String() string {
	s := strings.ToLower(r.Kind) + "/" + r.Name
	if r.Group != "" && r.Group != "apps" && r.Group != "batch" {
		s = strings.ToLower(r.Kind) + "." + r.Group + "/" + r.Name
	}
	if r.Namespace != "" {
		s += " -n " + r.Namespace
	}
	return s
}

// Field is one leaf the change set: its path and the value wanted there.
// Absent says the change removed the field (`label k-`).
type Field struct {
	Path   Path `json:"path"`
	Value  any  `json:"value,omitempty"`
	Absent bool `json:"absent,omitempty"`
}

// Path addresses a field: map keys, "[name=x]" for the element of a list
// of named objects, "[3]" for a list element by index.
type Path []string

// String renders a path as "spec.template.spec.containers[name=app].image";
// a key holding a dot or a bracket is quoted: metadata.labels["app.kubernetes.io/name"].
func (p Path) String() string {
	var b strings.Builder
	for i, s := range p {
		switch {
		case isListSeg(s):
			b.WriteString(s)
		case strings.ContainsAny(s, ".[]\"") || s == "":
			b.WriteString("[" + strconv.Quote(s) + "]")
		default:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s)
		}
	}
	return b.String()
}

func isListSeg(s string) bool { return len(s) > 1 && s[0] == '[' && s[1] != '"' }

// Intent is what one change meant for one object.
type Intent struct {
	Ref    Ref     `json:"ref"`
	Op     Op      `json:"op"`
	Fields []Field `json:"fields,omitempty"`
	// UIDs, for a delete, are the object's and its dependents' before
	// the delete ran (see [Snapshot]).
	UIDs []string `json:"uids,omitempty"`
}

// skipped are the manifest fields that are not the object's wanted state:
// identity, status, and what the server or kubectl writes.
var skipped = map[string]bool{
	"apiVersion": true, "kind": true, "status": true,
	"metadata.name": true, "metadata.namespace": true, "metadata.creationTimestamp": true,
	"metadata.resourceVersion": true, "metadata.uid": true, "metadata.generation": true,
	"metadata.managedFields": true, "metadata.selfLink": true,
}

// lastApplied is the annotation kubectl apply writes: it is kubectl's
// bookkeeping, not the object's state.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// FromManifests reads the intents of `kubectl apply` or `create` from the
// exact manifest documents that ran (YAML or JSON, List kinds expanded).
// namespace is the command's namespace, used for namespaced objects that
// name none; namespaced reports whether a kind is namespaced (nil: any
// object without a namespace gets it).
func FromManifests(docs []string, namespace string, namespaced func(apiVersion, kind string) bool) ([]Intent, error) {
	var out []Intent
	for _, d := range docs {
		for _, doc := range splitYAML(d) {
			var m map[string]any
			if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
				return nil, fmt.Errorf("cannot read manifest: %w", err)
			}
			if m == nil {
				continue
			}
			objs := []map[string]any{m}
			if items, ok := m["items"].([]any); ok && strings.HasSuffix(fmt.Sprint(m["kind"]), "List") {
				objs = objs[:0]
				for _, it := range items {
					if o, ok := it.(map[string]any); ok {
						objs = append(objs, o)
					}
				}
			}
			for _, o := range objs {
				in, err := fromObject(o, namespace, namespaced)
				if err != nil {
					return nil, err
				}
				out = append(out, in)
			}
		}
	}
	return out, nil
}

func fromObject(o map[string]any, namespace string, namespaced func(string, string) bool) (Intent, error) {
	u := unstructured.Unstructured{Object: o}
	gvk := u.GroupVersionKind()
	if gvk.Kind == "" || gvk.Version == "" {
		return Intent{}, fmt.Errorf("manifest object %q has no apiVersion or kind", u.GetName())
	}
	name := u.GetName()
	if name == "" {
		// generateName: the server picks the name; nothing to look up.
		return Intent{}, fmt.Errorf("manifest %s has no metadata.name (generateName cannot be checked)", gvk.Kind)
	}
	ns := u.GetNamespace()
	if ns == "" && (namespaced == nil || namespaced(u.GetAPIVersion(), gvk.Kind)) {
		ns = namespace
	}
	in := Intent{Ref: Ref{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: ns, Name: name}, Op: OpSet}
	flatten(nil, o, &in.Fields)
	sort.SliceStable(in.Fields, func(i, j int) bool { return in.Fields[i].Path.String() < in.Fields[j].Path.String() })
	return in, nil
}

// flatten appends the leaves of v under path p.
func flatten(p Path, v any, out *[]Field) {
	key := strings.Join(p, ".")
	if skipped[key] || len(p) == 3 && p[0] == "metadata" && p[1] == "annotations" && p[2] == lastApplied {
		return
	}
	switch x := v.(type) {
	case nil:
		// null in a manifest means "unset": apply removes the field.
		if len(p) > 0 {
			*out = append(*out, Field{Path: clone(p), Absent: true})
		}
	case map[string]any:
		if len(x) == 0 && len(p) > 0 {
			*out = append(*out, Field{Path: clone(p), Value: map[string]any{}})
			return
		}
		for k, e := range x {
			flatten(append(clone(p), k), e, out)
		}
	case []any:
		if named(x) {
			for _, e := range x {
				m := e.(map[string]any)
				seg := "[name=" + m["name"].(string) + "]"
				for k, f := range m {
					if k == "name" {
						continue
					}
					flatten(append(clone(p), seg, k), f, out)
				}
			}
			return
		}
		if objects(x) {
			for i, e := range x {
				flatten(append(clone(p), "["+strconv.Itoa(i)+"]"), e, out)
			}
			return
		}
		*out = append(*out, Field{Path: clone(p), Value: x})
	default:
		*out = append(*out, Field{Path: clone(p), Value: x})
	}
}

// named reports whether every element is an object with a string name.
func named(l []any) bool {
	if len(l) == 0 {
		return false
	}
	for _, e := range l {
		m, ok := e.(map[string]any)
		if !ok {
			return false
		}
		if _, ok := m["name"].(string); !ok {
			return false
		}
	}
	return true
}

func objects(l []any) bool {
	if len(l) == 0 {
		return false
	}
	for _, e := range l {
		if _, ok := e.(map[string]any); !ok {
			return false
		}
	}
	return true
}

func clone(p Path) Path { return append(Path(nil), p...) }

// splitYAML splits a multi-document YAML stream on "---" lines.
func splitYAML(s string) []string {
	var docs []string
	var cur strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if t := strings.TrimRight(line, " \t\r\n"); t == "---" || strings.HasPrefix(t, "--- ") {
			docs = append(docs, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteString(line)
	}
	docs = append(docs, cur.String())
	out := docs[:0]
	for _, d := range docs {
		if strings.TrimSpace(d) != "" {
			out = append(out, d)
		}
	}
	return out
}

// Scale is the intent of `kubectl scale --replicas=n`.
func Scale(r Ref, replicas int64) Intent {
	return Intent{Ref: r, Op: OpSet, Fields: []Field{{Path: Path{"spec", "replicas"}, Value: replicas}}}
}

// SetImage is the intent of `kubectl set image`: container name to image.
// A "*" container sets every container, which the intent cannot name: it
// is left out (the object must still become Current).
func SetImage(r Ref, images map[string]string) Intent {
	base := Path{"spec", "template", "spec"}
	switch r.Kind {
	case "Pod":
		base = Path{"spec"}
	case "CronJob":
		base = Path{"spec", "jobTemplate", "spec", "template", "spec"}
	}
	in := Intent{Ref: r, Op: OpSet}
	for _, c := range sortedKeys(images) {
		if c == "*" {
			continue
		}
		in.Fields = append(in.Fields, Field{Path: append(clone(base), "containers", "[name="+c+"]", "image"), Value: images[c]})
	}
	return in
}

// Meta is the intent of `kubectl label` (field "labels") or `annotate`
// ("annotations"): key=value pairs, and "key-" for a removal.
func Meta(r Ref, field string, pairs []string) Intent {
	in := Intent{Ref: r, Op: OpSet}
	for _, kv := range pairs {
		if k, v, ok := strings.Cut(kv, "="); ok {
			in.Fields = append(in.Fields, Field{Path: Path{"metadata", field, k}, Value: v})
		} else if k, ok := strings.CutSuffix(kv, "-"); ok {
			in.Fields = append(in.Fields, Field{Path: Path{"metadata", field, k}, Absent: true})
		}
	}
	return in
}

// Patch is the intent of `kubectl patch` with a strategic-merge or merge
// patch: the patch's fields. A JSON patch (a list of operations) sets
// fields the intent cannot name without the object: identity only.
// Strategic-merge directives ($patch, $retainKeys, ...) are left out.
func Patch(r Ref, patch []byte, typ string) (Intent, error) {
	in := Intent{Ref: r, Op: OpSet}
	if typ == "json" {
		return in, nil
	}
	var m map[string]any
	if err := yaml.Unmarshal(patch, &m); err != nil {
		return in, fmt.Errorf("cannot read patch: %w", err)
	}
	var fs []Field
	flatten(nil, m, &fs)
	for _, f := range fs {
		if !directive(f.Path) {
			in.Fields = append(in.Fields, f)
		}
	}
	sort.SliceStable(in.Fields, func(i, j int) bool { return in.Fields[i].Path.String() < in.Fields[j].Path.String() })
	return in, nil
}

func directive(p Path) bool {
	for _, s := range p {
		if strings.HasPrefix(s, "$") || strings.HasPrefix(s, "[name=$") {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// normalize turns a JSON or YAML value into what encoding/json decodes:
// numbers as float64, so that 3 from YAML equals 3 from the API server.
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return v
	}
	return out
}
