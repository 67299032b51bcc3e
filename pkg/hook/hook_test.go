package hook

import "testing"

func TestScan(t *testing.T) {
	for _, tc := range []struct {
		line, rewrite, hidden, unsure string
		found                         int
	}{
		{line: "ls -la", rewrite: "ls -la"},
		{line: "kubectl get pods", found: 1, rewrite: "agentctl kubectl get pods"},
		{line: "/usr/local/bin/kubectl -n x delete pod a", found: 1, rewrite: "agentctl kubectl -n x delete pod a"},
		{line: "KUBECONFIG=/tmp/k env -u X A=b terraform apply", found: 1, rewrite: "KUBECONFIG=/tmp/k env -u X A=b agentctl terraform apply"},
		{line: "cd infra && tofu plan; kubectl get ns | grep x", found: 2, rewrite: "cd infra && agentctl tofu plan; agentctl kubectl get ns | grep x"},
		{line: "echo $(kubectl get pods -o name)", found: 1, rewrite: "echo $(agentctl kubectl get pods -o name)"},
		{line: "agentctl kubectl get pods", rewrite: "agentctl kubectl get pods"},
		{line: "echo 'kubectl delete ns prod'", rewrite: "echo 'kubectl delete ns prod'"},
		{line: "sudo -E kubectl delete ns prod", found: 1, hidden: "sudo"},
		{line: `bash -c "kubectl delete ns prod"`, found: 1, hidden: "bash -c"},
		{line: `sh -lc 'cd x && terraform destroy -auto-approve'`, found: 1, hidden: "sh -c"},
		{line: "kubectl get pods -o name | xargs kubectl delete", found: 2, hidden: "xargs"},
		{line: "eval kubectl delete ns prod", found: 1, hidden: "eval"},
		{line: "echo 'kubectl", unsure: "an unclosed single quote"},
		{line: "K=kubectl; $K delete ns prod", unsure: "a variable in command position, in a line that names a wrapped tool"},
		{line: "cat <<EOF | sh\nkubectl delete ns prod\nEOF", found: 1, unsure: "a heredoc that names a wrapped tool"},
	} {
		r := Scan(tc.line)
		if r.Unsure != tc.unsure {
			t.Errorf("%q: unsure %q, want %q", tc.line, r.Unsure, tc.unsure)
			continue
		}
		if tc.unsure != "" {
			continue
		}
		if len(r.Found) != tc.found {
			t.Errorf("%q: found %+v, want %d", tc.line, r.Found, tc.found)
		}
		h := r.Hidden()
		switch {
		case tc.hidden == "" && h != nil:
			t.Errorf("%q: hidden behind %q, want rewritable", tc.line, h.Behind)
		case tc.hidden != "" && (h == nil || h.Behind != tc.hidden):
			t.Errorf("%q: hidden %+v, want behind %q", tc.line, h, tc.hidden)
		case tc.hidden == "":
			if got := r.Rewrite(tc.line); got != tc.rewrite {
				t.Errorf("%q: rewritten %q, want %q", tc.line, got, tc.rewrite)
			}
		}
	}
}
