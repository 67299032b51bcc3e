package tui

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/approve"
)

func TestPlainPrompt(t *testing.T) {
	for _, tc := range []struct {
		name   string
		screen *approve.Screen
		input  string
		want   approve.Verdict
	}{
		{"y approves", deleteScreen(), "y\n", approve.Verdict{Approved: true}},
		{"yes approves", deleteScreen(), "YES\n", approve.Verdict{Approved: true}},
		{"empty line denies: deny is the default", deleteScreen(), "\n", approve.Verdict{}},
		{"n: reason denies with the reason", deleteScreen(), "n: wrong cluster\n", approve.Verdict{Reason: "wrong cluster"}},
		{"end of input denies", deleteScreen(), "", approve.Verdict{Reason: "no answer (end of input)"}},
		{"confirmation: y is not enough", privilegeScreen(), "y\n", approve.Verdict{}},
		{"confirmation: the wrong name denies", privilegeScreen(), "kind-prod\n", approve.Verdict{}},
		{"confirmation: the target's name approves", privilegeScreen(), "kind-test\n", approve.Verdict{Approved: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			v, err := Plain(context.Background(), strings.NewReader(tc.input), &out, tc.screen, Options{})
			if err != nil || v != tc.want {
				t.Errorf("verdict %+v err %v, want %+v", v, err, tc.want)
			}
			for _, want := range []string{"[" + strings.ToUpper(tc.screen.Class.String()) + "]", tc.screen.CommandLine(), "Diff:"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("plain output lacks %q:\n%s", want, out.String())
				}
			}
			if strings.Contains(out.String(), "\x1b[") {
				t.Error("plain output has escape sequences")
			}
		})
	}
}

func TestPlainPromptTimesOut(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	v, err := Plain(ctx, pr, io.Discard, deleteScreen(), Options{})
	if err == nil || v.Approved {
		t.Errorf("verdict %+v err %v, want the deadline's error and no approval", v, err)
	}
}

func TestRunWithDumbTerminalUsesPlainPrompt(t *testing.T) {
	var out strings.Builder
	v, err := Run(context.Background(), strings.NewReader("y\n"), &out, deleteScreen(), Options{Term: "dumb"})
	if err != nil || !v.Approved || !strings.Contains(out.String(), "Approve? [y/N]") {
		t.Errorf("verdict %+v err %v output:\n%s", v, err, out.String())
	}
}
