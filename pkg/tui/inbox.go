package tui

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

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
}

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
		return m, tea.Batch(m.listen, gone)
	case noticeMsg:
		m.notice = string(msg)
		return m, m.listen
	case goneMsg:
		m.remove(msg.item)
		if m.open == msg.item {
			m.detail, m.open = nil, nil
			m.notice = fmt.Sprintf("request %.12s withdrawn: its agentctl stopped waiting", msg.item.Screen().Hash)
		}
		return m, nil
	case answeredMsg:
		m.notice = fmt.Sprintf("%s request %.12s", verdictWord(msg.v), msg.item.Screen().Hash)
		if msg.err != nil {
			m.notice = fmt.Sprintf("cannot answer request %.12s: %v", msg.item.Screen().Hash, msg.err)
		}
		return m, nil
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
	for i, it := range m.items {
		s := it.Screen()
		cur := "  "
		if i == m.cursor {
			cur = "> "
		}
		agent := s.Agent
		if agent == "" {
			agent = "agent"
		}
		fmt.Fprintf(&b, "%s%s  pid %d  %s  %s  env %s  %s\n", cur, s.Time.In(m.loc()).Format("15:04:05"),
			s.PID, agent, m.st.badge(s.Class), s.EnvName(), s.CommandLine())
	}
	if m.notice != "" {
		b.WriteString("\n" + m.notice + "\n")
	}
	b.WriteString("\n" + m.st.dim.Render("↑/↓ select • enter open • q quit (waiting requests are denied)"))
	return fit(b.String(), m.width)
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
