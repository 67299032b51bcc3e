package approve

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/agentctl/agentctl/pkg/classify"
)

// Live is what a delete matches now: the objects a live read under the
// read identity found when the screen was built. The read changes nothing
// that runs; the delete runs the argv that was approved, so when the
// selection is open (a selector, --all, a type without names) it deletes
// what matches when it runs, and the screen says so.
type Live struct {
	Objects []LiveObject `json:"objects,omitempty"`
	// Selector is the selection as the command gives it ("-l app=web",
	// "--all"); "" when it names its objects.
	Selector string `json:"selector,omitempty"`
	// Open: objects created or relabelled before the run are deleted too.
	Open bool `json:"open,omitempty"`
	// Error says why the objects could not be read; Objects is then empty
	// and says nothing.
	Error string `json:"error,omitempty"`
}

// LiveObject is one matched object and its one-line summary.
type LiveObject struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Summary is "replicas 3, image nginx:1.27, age 4d" (what is known).
	Summary string `json:"summary,omitempty"`
}

// LiveColumns are the kubectl get -o custom-columns that [ParseLive]
// reads: metadata and the fields a summary shows, never an object's data
// (a Secret's values stay on the server).
const LiveColumns = "KIND:.kind,NAMESPACE:.metadata.namespace,NAME:.metadata.name," +
	"CREATED:.metadata.creationTimestamp,REPLICAS:.spec.replicas," +
	"IMAGES:.spec.template.spec.containers[*].image,PODIMAGES:.spec.containers[*].image"

// ParseLive reads kubectl get -o custom-columns=[LiveColumns]
// --no-headers output; ages are relative to now.
func ParseLive(out string, now time.Time) ([]LiveObject, error) {
	var objs []LiveObject
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 7 {
			return nil, fmt.Errorf("unexpected kubectl get line %q", line)
		}
		none := func(s string) string {
			if s == "<none>" {
				return ""
			}
			return s
		}
		o := LiveObject{Kind: f[0], Namespace: none(f[1]), Name: f[2]}
		var sum []string
		if r := none(f[4]); r != "" {
			sum = append(sum, "replicas "+r)
		}
		img := none(f[5])
		if img == "" {
			img = none(f[6])
		}
		if img != "" {
			word := "image "
			if strings.Contains(img, ",") {
				word = "images "
			}
			sum = append(sum, word+img)
		}
		if t, err := time.Parse(time.RFC3339, f[3]); err == nil {
			sum = append(sum, "age "+duration.HumanDuration(now.Sub(t)))
		}
		o.Summary = strings.Join(sum, ", ")
		objs = append(objs, o)
	}
	return objs, nil
}

// liveNeedsConfirm says whether a delete needs its target typed: it
// matches more than one object, its selection is open, or what it matches
// could not be read (fail towards asking).
func deleteNeedsConfirm(a *classify.Assessment, l *Live) bool {
	if a.Matches == nil {
		return false
	}
	if l == nil || l.Error != "" || l.Open {
		return true
	}
	return len(l.Objects) > 1
}

// terraformNeedsConfirm: terraform destroy, and plans that delete more
// than one object.
func terraformNeedsConfirm(a *classify.Assessment) bool {
	if a.Tool != "terraform" && a.Tool != "tofu" {
		return false
	}
	if a.Subcommand == "destroy" {
		return true
	}
	n := 0
	for _, r := range a.Resources {
		if r.Action == "delete" || r.Action == "replace" {
			n++
		}
	}
	return n > 1
}
