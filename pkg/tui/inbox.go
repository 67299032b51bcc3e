package tui

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/agentctl/agentctl/pkg/approve"
)

// InboxItem is one request waiting in the inbox.
type InboxItem interface {
	Screen() *approve.Screen
	// Answer signs and sends the verdict (I/O: called from a tea.Cmd).
	Answer(approve.Verdict) error
	// Gone is closed when the requester stops waiting.
	Gone() <-chan struct{}
}

// PendingItem adapts an inbox server's request to [InboxItem].
func PendingItem(p *approve.Pending) InboxItem { return pendingItem{p} }

type pendingItem struct{ p *approve.Pending }

func (i pendingItem) Screen() *approve.Screen        { return i.p.Screen }
func (i pendingItem) Answer(v approve.Verdict) error { return i.p.Answer(v) }
func (i pendingItem) Gone() <-chan struct{}          { return i.p.Gone() }
func (i pendingItem) Elsewhere() string              { return i.p.Elsewhere() }

// elsewhere says where a gone item was answered instead, "" when its
// requester simply stopped waiting.
func elsewhere(i InboxItem) string {
	if e, ok := i.(interface{ Elsewhere() string }); ok {
		return e.Elsewhere()
	}
	return ""
}

type (
	arrivedMsg  struct{ item InboxItem }
	noticeMsg   string
	goneMsg     struct{ item InboxItem }
	answeredMsg struct {
		item InboxItem
		v    approve.Verdict
		err  error
	}
)

// InboxModel is `agentctl inbox`: a list of pending requests and, for the
// one opened, the same approval screen as the terminal prompt.
type InboxModel struct {
	o             Options
	st            styles
	keys          inboxKeys
	items         []InboxItem
	cursor        int
	detail        *Model
	open          InboxItem
	notice        string
	width, height int
	listen        tea.Cmd
	history       []answered
}

// answered is one line of the inbox's history.
type answered struct {
	at      time.Time
	verdict string
	id      string
	command string
}

// historyRows is how many answered requests the list shows.
const historyRows = 5

type inboxKeys struct{ Up, Down, Open, Quit key.Binding }

// NewInboxModel returns the inbox; listen, when set, waits for the next
// request and is re-issued after each.
func NewInboxModel(o Options, listen tea.Cmd) InboxModel {
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	w, h := o.Width, o.Height
	if w <= 0 {
		w = 80
	}
	if h <= 0 {
		h = 24
	}
	return InboxModel{o: o, st: newStyles(out, o.NoColor), listen: listen, width: w, height: h,
		keys: inboxKeys{
			Up:   key.NewBinding(key.WithKeys("up", "k")),
			Down: key.NewBinding(key.WithKeys("down", "j")),
			Open: key.NewBinding(key.WithKeys("enter")),
			Quit: key.NewBinding(key.WithKeys("q", "ctrl+c")),
		}}
}

// Listen turns a server's request channel into the inbox's listen command.
func Listen(ch <-chan *approve.Pending) tea.Cmd { return ListenNotices(ch, nil) }

// ListenNotices is [Listen] that also shows each of notices (requests the
// server refused unseen) as the inbox's notice line.
func ListenNotices(ch <-chan *approve.Pending, notices <-chan string) tea.Cmd {
	return func() tea.Msg {
		select {
		case p, ok := <-ch:
			if !ok {
				return nil
			}
			return arrivedMsg{PendingItem(p)}
		case n := <-notices:
			return noticeMsg(n)
		}
	}
}

// Arrived is the message that adds an item (for tests and callers that
// feed the inbox themselves).
func Arrived(it InboxItem) tea.Msg { return arrivedMsg{it} }

// Items are the requests waiting, oldest first.
func (m InboxModel) Items() []InboxItem { return m.items }

// Init implements tea.Model.
func (m InboxModel) Init() tea.Cmd { return tea.Batch(tick(), m.listen) }

// Update implements tea.Model. It does no I/O: answers are sent by commands.
func (m InboxModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		if m.detail != nil {
			d, _ := m.detail.Update(msg)
			m.setDetail(d)
		}
		return m, nil
	case arrivedMsg:
		m.items = append(m.items, msg.item)
		gone := func() tea.Msg { <-msg.item.Gone(); return goneMsg{msg.item} }
		return m, tea.Batch(m.listen, gone, m.bell(), m.title())
	case noticeMsg:
		m.notice = string(msg)
		return m, m.listen
	case goneMsg:
		m.remove(msg.item)
		s := msg.item.Screen()
		if where := elsewhere(msg.item); where != "" {
			// Said whether or not it was open: the human may be about
			// to open it here.
			if m.open == msg.item {
				m.detail, m.open = nil, nil
			}
			m.notice = fmt.Sprintf("request %s was answered elsewhere: %s", shortID(s), where)
			m.record(s, "answered elsewhere")
			return m, m.title()
		}
		if m.open == msg.item {
			m.detail, m.open = nil, nil
			m.notice = fmt.Sprintf("request %s withdrawn: its agentctl stopped waiting", shortID(s))
		}
		m.record(s, "withdrawn")
		return m, m.title()
	case answeredMsg:
		s := msg.item.Screen()
		word := verdictWord(msg.v)
		m.notice = fmt.Sprintf("%s request %s: %s", word, shortID(s), s.CommandLine())
		if msg.err != nil {
			m.notice = fmt.Sprintf("cannot answer request %s: %v", shortID(s), msg.err)
			word = "unsent"
		}
		m.record(s, word)
		return m, m.title()
	case tickMsg:
		if m.detail != nil {
			d, _ := m.detail.Update(msg) // the inbox runs the only clock
			if cmd := m.setDetail(d); cmd != nil {
				return m, tea.Batch(cmd, tick())
			}
		}
		return m, tick()
	case tea.KeyMsg:
		if m.detail != nil {
			d, cmd := m.detail.Update(msg)
			if c := m.setDetail(d); c != nil {
				return m, c
			}
			return m, cmd
		}
		return m.updateList(msg)
	}
	return m, nil
}

func (m InboxModel) updateList(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	switch {
	case key.Matches(msg, m.keys.Quit):
		return m, tea.Quit
	case key.Matches(msg, m.keys.Up):
		m.cursor = max(m.cursor-1, 0)
	case key.Matches(msg, m.keys.Down):
		m.cursor = min(m.cursor+1, max(len(m.items)-1, 0))
	case key.Matches(msg, m.keys.Open):
		if m.cursor < len(m.items) {
			m.open = m.items[m.cursor]
			o := m.o
			o.Width, o.Height = m.width, m.height
			d := NewModel(m.open.Screen(), o)
			m.detail, m.notice = &d, ""
		}
	}
	return m, nil
}

// setDetail stores the detail model; when it has decided, it closes it
// and returns the command that sends the answer.
func (m *InboxModel) setDetail(tm tea.Model) tea.Cmd {
	d := tm.(Model)
	m.detail = &d
	if !d.Done() {
		return nil
	}
	it, v := m.open, d.Verdict()
	m.detail, m.open = nil, nil
	m.remove(it)
	return func() tea.Msg { return answeredMsg{it, v, it.Answer(v)} }
}

func (m *InboxModel) remove(it InboxItem) {
	for i, x := range m.items {
		if x == it {
			m.items = append(m.items[:i:i], m.items[i+1:]...)
			break
		}
	}
	m.cursor = min(m.cursor, max(len(m.items)-1, 0))
}

// record adds a line to the history.
func (m *InboxModel) record(s *approve.Screen, verdict string) {
	now := time.Now
	if m.o.Now != nil {
		now = m.o.Now
	}
	m.history = append(m.history, answered{at: now(), verdict: verdict, id: shortID(s), command: s.CommandLine()})
	if len(m.history) > historyRows {
		m.history = m.history[len(m.history)-historyRows:]
	}
}

// bell rings the terminal's bell, so that a request waiting in an inbox
// in another window is noticed. It writes one BEL to the program's output
// as bubbletea's own commands write their sequences (unsynchronised with
// the renderer): a BEL inside another sequence is executed and does not
// end it, so it cannot garble the screen.
func (m InboxModel) bell() tea.Cmd {
	out := m.o.Out
	if out == nil {
		return nil
	}
	return func() tea.Msg {
		io.WriteString(out, "\a")
		return nil
	}
}

// title sets the terminal's window title (OSC 2) to the number waiting.
func (m InboxModel) title() tea.Cmd {
	if len(m.items) == 0 {
		return tea.SetWindowTitle("agentctl inbox")
	}
	return tea.SetWindowTitle(fmt.Sprintf("agentctl inbox: %d waiting", len(m.items)))
}

// shortID is the request id as the inbox shows it: its first 12 characters,
// which the agent's refusal and the audit record begin with too.
func shortID(s *approve.Screen) string {
	id := s.ID
	if id == "" {
		id = s.Hash
	}
	if len(id) > 12 {
		id = id[:12]
	}
	return id
}

func verdictWord(v approve.Verdict) string {
	if v.Approved {
		return "approved"
	}
	return "denied"
}

// View implements tea.Model.
func (m InboxModel) View() string {
	if m.detail != nil {
		return m.detail.View()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %d pending\n\n", m.st.title.Render("agentctl inbox"), len(m.items))
	if len(m.items) == 0 {
		b.WriteString(m.st.dim.Render("No requests waiting. agentctl processes of this user that need approval appear here.") + "\n")
	}
	if len(m.items) > 0 {
		b.WriteString(m.table())
	}
	if len(m.history) > 0 {
		b.WriteString("\n" + m.st.title.Render("Answered") + "\n")
		for _, h := range m.history {
			fmt.Fprintf(&b, "  %s  %-9s  %-12s  %s\n", h.at.In(m.loc()).Format("15:04:05"), h.verdict, h.id, h.command)
		}
	}
	if m.notice != "" {
		b.WriteString("\n" + m.notice + "\n")
	}
	b.WriteString("\n" + m.st.dim.Render("↑/↓ select • enter open • q quit (waiting requests are denied)"))
	return fit(b.String(), m.width)
}

// table is the list of waiting requests in aligned columns, each with
// the agent's stated intent under it.
func (m InboxModel) table() string {
	type row struct{ id, at, agent, class, env, pid, command, intent string }
	rows := []row{{id: "ID", at: "TIME", agent: "AGENT", class: "CLASS", env: "ENV", pid: "PID", command: "COMMAND"}}
	for _, it := range m.items {
		s := it.Screen()
		r := row{id: shortID(s), at: s.Time.In(m.loc()).Format("15:04:05"), agent: s.Agent,
			class: strings.ToUpper(s.Class.String()), env: "-", pid: fmt.Sprint(s.PID), command: s.CommandLine(), intent: s.Intent}
		if r.agent == "" {
			r.agent = "(unnamed)"
		}
		if s.EnvKnown() {
			r.env = s.EnvName()
		}
		if r.intent == "" {
			r.intent = "(no intent given)"
		}
		rows = append(rows, r)
	}
	var w [6]int
	maxCommand := 0
	for _, r := range rows[1:] {
		maxCommand = max(maxCommand, ansi.StringWidth(r.command))
	}
	for _, r := range rows {
		for i, v := range []string{r.id, r.at, r.agent, r.class, r.env, r.pid} {
			w[i] = max(w[i], len(v))
		}
	}
	var b strings.Builder
	for i, r := range rows {
		cur := "  "
		if i > 0 && i-1 == m.cursor {
			cur = "> "
		}
		// A badge is two cells wider than its class: "[X]" or " X ".
		class := fmt.Sprintf("%-*s", w[3]+2, r.class)
		if i > 0 {
			class = m.st.badge(m.items[i-1].Screen().Class) + strings.Repeat(" ", w[3]-len(r.class))
		}
		line := fmt.Sprintf("%s%-*s  %-*s  %-*s  %s  %-*s  %-*s", cur, w[0], r.id, w[1], r.at, w[2], r.agent, class, w[4], r.env, w[5], r.pid)
		// The command goes on the row when it fits, else on a line of
		// its own: it is what is decided, it is not cut.
		own := ansi.StringWidth(line)+2+maxCommand > m.width
		if !own || i == 0 {
			line += "  " + r.command
		}
		if i == 0 {
			line = m.st.dim.Render(strings.TrimRight(line, " "))
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
		if i > 0 {
			indent := strings.Repeat(" ", 2+w[0]+2)
			if own {
				for _, l := range strings.Split(ansi.Wrap(r.command, max(m.width-len(indent), 10), " /,="), "\n") {
					b.WriteString(indent + l + "\n")
				}
			}
			b.WriteString(m.st.dim.Render(indent+"intent: "+r.intent) + "\n")
		}
	}
	return b.String()
}

func (m InboxModel) loc() *time.Location {
	if m.o.Location != nil {
		return m.o.Location
	}
	return time.Local
}

// RunInbox serves srv and shows the inbox on the terminal until the user
// quits or ctx ends.
func RunInbox(ctx context.Context, srv *approve.InboxServer, in io.Reader, out io.Writer, o Options) error {
	if o.Out == nil {
		o.Out = out
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(sctx) }()
	p := tea.NewProgram(NewInboxModel(o, ListenNotices(srv.Requests(), srv.Notices())),
		tea.WithInput(in), tea.WithOutput(out), tea.WithContext(ctx), tea.WithAltScreen())
	_, err := p.Run()
	cancel()
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return err
	}
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}
