package converge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Result is where one intent's object stands.
type Result struct {
	Ref     Ref    `json:"ref"`
	Op      Op     `json:"op"`
	State   State  `json:"state"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	Diffs   []Diff `json:"diffs,omitempty"`
}

// Source reads live objects (see [Dynamic]).
type Source interface {
	// Get returns the live object, or nil and no error when it does not
	// exist.
	Get(ctx context.Context, r Ref) (*unstructured.Unstructured, error)
	// Owned returns the objects of namespace (pods, ReplicaSets, Jobs,
	// ControllerRevisions) that name one of uids in an ownerReference,
	// directly or through another owned object.
	Owned(ctx context.Context, namespace string, uids []string) ([]*unstructured.Unstructured, error)
}

// Check judges one intent against what src holds now. For a delete, the
// intent's UIDs are the object's and its dependents' before the delete
// (see [Snapshot]).
func Check(ctx context.Context, src Source, in Intent) (Result, error) {
	res := Result{Ref: in.Ref, Op: in.Op}
	live, err := src.Get(ctx, in.Ref)
	if err != nil {
		return res, err
	}
	if in.Op == OpDelete {
		var left []*unstructured.Unstructured
		if live != nil && (len(in.UIDs) == 0 || string(live.GetUID()) == in.UIDs[0]) {
			left = append(left, live)
		}
		if len(in.UIDs) > 0 {
			owned, err := src.Owned(ctx, in.Ref.Namespace, in.UIDs)
			if err != nil {
				return res, err
			}
			left = append(left, stillThere(owned, in.UIDs)...)
		}
		return Deleted(res, left), nil
	}
	if live == nil {
		res.State, res.Message = Gone, "the object does not exist"
		return res, nil
	}
	var pods []*unstructured.Unstructured
	if workload(in.Ref.Kind) {
		owned, err := src.Owned(ctx, in.Ref.Namespace, []string{string(live.GetUID())})
		if err != nil {
			return res, err
		}
		for _, o := range owned {
			if o.GetKind() == "Pod" && o.GetDeletionTimestamp() == nil {
				pods = append(pods, o)
			}
		}
	}
	return Judged(res, in, live, pods), nil
}

// Judged is the result of a set intent given the live object and its pods.
// The fields come first: a field someone else changed is a divergence
// whatever the object's health.
func Judged(res Result, in Intent, live *unstructured.Unstructured, pods []*unstructured.Unstructured) Result {
	if d := Compare(in.Fields, live.Object); len(d) > 0 {
		res.State, res.Diffs = Diverged, d
		res.Message = fmt.Sprintf("%s is %s, wanted %s", d[0].Field, d[0].Got, d[0].Wanted)
		if len(d) > 1 {
			res.Message += fmt.Sprintf(" (and %d more)", len(d)-1)
		}
		return res
	}
	if live.GetDeletionTimestamp() != nil {
		res.State, res.Reason, res.Message = Progressing, "Terminating", "the object is being deleted"
		return res
	}
	st := Judge(live, pods)
	res.State, res.Reason, res.Message = st.State, st.Reason, st.Message
	return res
}

// Deleted is the result of a delete given what of it is left.
func Deleted(res Result, left []*unstructured.Unstructured) Result {
	if len(left) == 0 {
		res.State, res.Message = Converged, "the object and its dependents are gone"
		return res
	}
	res.State, res.Reason = Progressing, "Terminating"
	res.Message = fmt.Sprintf("%d left: %s/%s", len(left), left[0].GetKind(), left[0].GetName())
	if len(left) > 1 {
		res.Message += fmt.Sprintf(" and %d more", len(left)-1)
	}
	return res
}

func stillThere(objs []*unstructured.Unstructured, uids []string) []*unstructured.Unstructured {
	want := map[string]bool{}
	for _, u := range uids {
		want[u] = true
	}
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if want[string(o.GetUID())] {
			out = append(out, o)
		}
	}
	return out
}

// workload reports whether a kind runs pods whose health is its own.
func workload(kind string) bool {
	switch kind {
	case "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job":
		return true
	}
	return false
}

// Snapshot fills a delete intent's UIDs before the delete runs: the
// object's, then its dependents'. An object that does not exist leaves
// the intent as it is (the delete will fail or find nothing).
func Snapshot(ctx context.Context, src Source, in *Intent) error {
	live, err := src.Get(ctx, in.Ref)
	if err != nil || live == nil {
		return err
	}
	in.UIDs = []string{string(live.GetUID())}
	owned, err := src.Owned(ctx, in.Ref.Namespace, in.UIDs)
	if err != nil {
		return err
	}
	for _, o := range owned {
		in.UIDs = append(in.UIDs, string(o.GetUID()))
	}
	return nil
}

// Waiter polls until every intent's result is final or the timeout
// passes.
type Waiter struct {
	Source  Source
	Timeout time.Duration
	// Interval between polls (0: one second).
	Interval time.Duration
	// Progress, when set, is told the results after each poll.
	Progress func(results []Result, elapsed time.Duration)
	// Failures is how many polls in a row may fail to read the cluster
	// before the wait gives up (0: 3).
	Failures int
}

// ErrTimeout says that the wait ended with objects still progressing.
var ErrTimeout = errors.New("timed out")

// UnreachableError says the cluster could not be read during the wait;
// the results hold the last answer that could be read.
type UnreachableError struct{ Err error }

func (e *UnreachableError) Error() string {
	return "cannot read the cluster to check convergence: " + e.Err.Error()
}
func (e *UnreachableError) Unwrap() error { return e.Err }

// Wait checks the intents until all are final. It returns the last
// results, with ErrTimeout when some were still progressing at the
// timeout, an *UnreachableError when the cluster could not be read
// (results not read are in state Error), or ctx's error.
func (w *Waiter) Wait(ctx context.Context, intents []Intent) ([]Result, error) {
	interval := w.Interval
	if interval == 0 {
		interval = time.Second
	}
	failures := w.Failures
	if failures == 0 {
		failures = 3
	}
	start := time.Now()
	deadline := start.Add(w.Timeout)
	results := make([]Result, len(intents))
	for i, in := range intents {
		results[i] = Result{Ref: in.Ref, Op: in.Op, State: Progressing, Message: "not checked yet"}
	}
	failed := 0
	for {
		var lastErr error
		done := true
		for i, in := range intents {
			if results[i].State.Final() && results[i].State != Error {
				continue
			}
			cctx, cancel := context.WithDeadline(ctx, maxTime(deadline, time.Now().Add(5*time.Second)))
			r, err := Check(cctx, src(w), in)
			cancel()
			if err != nil {
				if ctx.Err() != nil {
					return results, ctx.Err()
				}
				lastErr = err
				results[i] = Result{Ref: in.Ref, Op: in.Op, State: Error, Reason: "Unreachable", Message: err.Error()}
				done = false
				continue
			}
			results[i] = r
			if !r.State.Final() {
				done = false
			}
		}
		if lastErr != nil {
			failed++
		} else {
			failed = 0
		}
		if w.Progress != nil {
			w.Progress(results, time.Since(start))
		}
		if failed >= failures {
			return results, &UnreachableError{Err: lastErr}
		}
		if done {
			return results, nil
		}
		if !time.Now().Add(interval).Before(deadline) {
			if lastErr != nil {
				return results, &UnreachableError{Err: lastErr}
			}
			return results, ErrTimeout
		}
		select {
		case <-ctx.Done():
			return results, ctx.Err()
		case <-time.After(interval):
		}
	}
}

func src(w *Waiter) Source { return w.Source }

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
