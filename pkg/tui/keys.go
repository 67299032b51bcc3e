package tui

import "github.com/charmbracelet/bubbles/key"

// KeyMap holds the approval screen's key bindings.
type KeyMap struct {
	Approve    key.Binding
	Deny       key.Binding
	Reason     key.Binding
	Up, Down   key.Binding
	PageUp     key.Binding
	PageDown   key.Binding
	ToggleDiff key.Binding
	Quit       key.Binding
	Submit     key.Binding
	Back       key.Binding
	Interrupt  key.Binding
}

// DefaultKeyMap returns the bindings the help line shows.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Approve:    key.NewBinding(key.WithKeys("a", "y"), key.WithHelp("a", "approve")),
		Deny:       key.NewBinding(key.WithKeys("d", "n"), key.WithHelp("d", "deny")),
		Reason:     key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "deny+reason")),
		Up:         key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/↓", "scroll")),
		Down:       key.NewBinding(key.WithKeys("down", "j")),
		PageUp:     key.NewBinding(key.WithKeys("pgup", "b")),
		PageDown:   key.NewBinding(key.WithKeys("pgdown", " ")),
		ToggleDiff: key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "full diff")),
		Quit:       key.NewBinding(key.WithKeys("q", "esc", "enter", "ctrl+c"), key.WithHelp("q", "quit (deny)")),
		Submit:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "submit")),
		Back:       key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Interrupt:  key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "deny")),
	}
}

// ShortHelp implements help.KeyMap for the main screen.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Approve, k.Deny, k.Reason, k.Up, k.ToggleDiff, k.Quit}
}

// FullHelp implements help.KeyMap.
func (k KeyMap) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// inputHelp is the help of the typed-input modes.
type inputHelp struct{ k KeyMap }

func (h inputHelp) ShortHelp() []key.Binding {
	return []key.Binding{h.k.Submit, h.k.Back, h.k.Interrupt}
}
func (h inputHelp) FullHelp() [][]key.Binding { return [][]key.Binding{h.ShortHelp()} }
