package kubectl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/agentctl/agentctl/pkg/classify"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/yaml"
)

// object is one manifest object, as kubectl's decoder yields it.
type object struct {
	raw json.RawMessage // the JSON kubectl's decoder produced
	obj map[string]any
}

func (o object) str(path ...string) string {
	var v any = o.obj
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[p]
	}
	s, _ := v.(string)
	return s
}

// fileExtensions are the extensions kubectl reads from a directory.
var fileExtensions = []string{".json", ".yaml", ".yml"}

// readManifests reads every -f/-k input once, decodes it, and replaces the
// inputs in the invocation by a single "-f -" fed with the assessed bytes.
func (s *state) readManifests() error {
	p := s.p
	if p.cmd.Flags().Lookup("filename") == nil {
		return nil
	}
	files, kust := p.flags["filename"], p.str("kustomize")
	if len(files) == 0 && kust == "" {
		return nil
	}
	if len(files) > 0 && kust != "" {
		s.a.Raise(classify.Unknown, "kubectl would reject this command: only one of -f or -k can be specified")
		return nil
	}
	recursive := p.str("recursive") == "true"
	if kust != "" && recursive {
		s.a.Raise(classify.Unknown, "kubectl would reject this command: the -k flag can't be used with -f or -R")
		return nil
	}
	raw := p.has("raw")
	var streams []stream
	for _, f := range files {
		switch {
		case f == "-":
			b, err := s.stdin()
			if err != nil {
				return err
			}
			streams = append(streams, stream{name: "-", data: b})
		case strings.HasPrefix(f, "http://") || strings.HasPrefix(f, "https://"):
			s.a.Refuse(classify.Unknown, "remote manifest %q refused: only local files and stdin are assessed", f)
			return nil
		default:
			got, err := s.readPath(f, recursive)
			if err != nil {
				return err
			}
			if got == nil {
				return nil
			}
			streams = append(streams, got...)
		}
	}
	if kust != "" {
		b, ok := s.kustomize(kust)
		if !ok {
			return nil
		}
		streams = append(streams, stream{name: kust, data: b})
	}
	s.a.Exec.Args = rewriteInputs(p, s.req.Args)
	s.a.Manifests = append([]string(nil), files...) // -f and -k exclude each other (above)
	if kust != "" {
		s.a.Manifests = []string{kust}
	}
	if raw {
		// --raw sends the body as it is: it is not a manifest stream.
		var body []byte
		for _, st := range streams {
			body = append(body, st.data...)
		}
		s.a.SetManifest(body)
		return nil
	}
	var docs [][]byte
	for _, st := range streams {
		objs, err := decode(st.data)
		if err != nil {
			s.a.Raise(classify.Unknown, "kubectl would reject manifest %q: %v", st.name, err)
			return nil
		}
		for _, o := range objs {
			s.objects = append(s.objects, o)
			docs = append(docs, o.raw)
		}
	}
	s.a.SetManifest(encodeStream(docs))
	return nil
}

type stream struct {
	name string
	data []byte
}

// stdin reads the agent's stdin once, capped.
func (s *state) stdin() ([]byte, error) {
	if s.req.Stdin == nil {
		return []byte{}, nil
	}
	b, err := io.ReadAll(io.LimitReader(s.req.Stdin, s.c.opts.MaxStdin+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read manifest \"-\" from stdin: %w", err)
	}
	if int64(len(b)) > s.c.opts.MaxStdin {
		return nil, &ManifestError{Msg: fmt.Sprintf("cannot read manifest \"-\": stdin is larger than %d bytes", s.c.opts.MaxStdin), hint: "pass the manifests as files with -f"}
	}
	return b, nil
}

// readPath reads a file, a glob, or a directory with kubectl's rules:
// explicit files whatever their extension; in a directory only .json, .yaml
// and .yml files, and subdirectories only with -R. It returns nil streams
// (and a reason) when kubectl would reject the path.
func (s *state) readPath(f string, recursive bool) ([]stream, error) {
	path := f
	if !filepath.IsAbs(path) {
		path = filepath.Join(s.req.Cwd, path)
	}
	matches := []string{path}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		m, gerr := filepath.Glob(path)
		if gerr != nil || len(m) == 0 {
			return nil, &ManifestError{Msg: fmt.Sprintf("cannot read manifest %q: the path does not exist", f)}
		}
		matches = m
	}
	var out []stream
	for _, root := range matches {
		err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			if fi.IsDir() {
				if p != root && !recursive {
					return filepath.SkipDir
				}
				return nil
			}
			if p != root && !hasExt(p) {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out = append(out, stream{name: p, data: b})
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("cannot read manifest %q: %w", f, err)
		}
	}
	return out, nil
}

func hasExt(p string) bool {
	ext := filepath.Ext(p)
	for _, e := range fileExtensions {
		if e == ext {
			return true
		}
	}
	return false
}

// decode splits a stream exactly as kubectl's StreamVisitor does (YAML or
// JSON, sniffed) and flattens List kinds.
func decode(data []byte) ([]object, error) {
	d := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []object
	for {
		var ext runtime.RawExtension
		if err := d.Decode(&ext); err != nil {
			if err == io.EOF {
				return out, nil
			}
			return nil, err
		}
		ext.Raw = bytes.TrimSpace(ext.Raw)
		if len(ext.Raw) == 0 || bytes.Equal(ext.Raw, []byte("null")) {
			continue
		}
		objs, err := flatten(ext.Raw)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
}

// flatten turns a List (any kind ending in "List" with items) into its
// items, as kubectl's FlattenListVisitor does.
func flatten(raw []byte) ([]object, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("not an object: %w", err)
	}
	k, _ := m["kind"].(string)
	items, isList := m["items"].([]any)
	if !strings.HasSuffix(k, "List") || !isList {
		if k == "" || m["apiVersion"] == nil {
			return nil, fmt.Errorf("object has no kind or apiVersion: %.80s", raw)
		}
		return []object{{raw: raw, obj: m}}, nil
	}
	var out []object
	for _, it := range items {
		b, err := json.Marshal(it)
		if err != nil {
			return nil, err
		}
		objs, err := flatten(b)
		if err != nil {
			return nil, err
		}
		if len(objs) != 1 || objs[0].str("kind") != kindOf(it) {
			// kubectl's builder fails on a List inside a List.
			return nil, fmt.Errorf("a %s inside a %s is not supported", kindOf(it), k)
		}
		out = append(out, objs...)
	}
	return out, nil
}

func kindOf(v any) string {
	m, _ := v.(map[string]any)
	k, _ := m["kind"].(string)
	return k
}

// encodeStream builds the stream fed to "kubectl -f -": a YAML stream that
// starts with "---" (so kubectl's decoder does not sniff it as JSON), one
// indented JSON document per object.
func encodeStream(docs [][]byte) []byte {
	var b bytes.Buffer
	b.WriteString("---\n")
	for i, d := range docs {
		if i > 0 {
			b.WriteString("\n---\n")
		}
		if err := json.Indent(&b, d, "", "  "); err != nil {
			b.Write(d)
		}
	}
	b.WriteString("\n")
	return b.Bytes()
}
