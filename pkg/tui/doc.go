// Package tui draws agentctl's approval screens: the terminal prompt that
// asks a human whether one command may run, and `agentctl inbox`, which
// lists the requests of every agentctl process of the user and answers
// them from a second terminal.
//
// # The approval screen
//
// [Model] is a bubbletea model in three parts: [Options], a [KeyMap], and
// Init/Update/View. Update does no I/O; the only command it issues is a
// one-second tick that lets the screen time out. [Run] wires the model to
// a terminal and returns the human's [approve.Verdict]; [Prompt] adapts it
// to [approve.Prompt] for the terminal approver.
//
// The screen shows, top to bottom: the agent, its stated intent, the
// command as the agent gave it (secrets masked), the target and its
// environment name; the risk class as a badge, the policy rule and
// message, and one line per reason; the resources with their action; and
// a scrollable diff (kubectl's server-side dry run, terraform's rendered
// plan). The help line lists the keys:
//
//	a / y        approve (asks to type the target's name when the change needs it)
//	d / n        deny
//	r            deny with a typed reason
//	↑ ↓ pgup pgdn scroll the diff
//	f            toggle the full-screen diff
//	q esc enter  quit, which denies
//
// Nothing approves by default: quitting, Ctrl+C and the timeout deny.
//
// # Without a capable terminal
//
// With TERM=dumb, or when bubbletea cannot start, [Run] falls back to
// [Plain], a line-based prompt that prints the same facts and reads one
// line. With NO_COLOR (Options.NoColor) nothing is coloured and badges are
// written as [CLASS].
package tui
