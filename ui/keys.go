package ui

import (
	"github.com/charmbracelet/bubbles/key"
)

// keyMap is the console's one key map. The conventions are the ones users
// know from k9s, lazygit and gh-dash: enter opens and never starts work
// that writes, esc goes back, and a key that changes records — a refund, a
// replay, a settled refund, a resolution, a reconciliation run — is a
// capital letter, so no lowercase slip ever moves money or a record.
// Lowercase keys move, open, filter, export or ask the platform (a live
// query only records what the platform said). Views pick the bindings
// that apply to them for their help; a binding a role may not use is
// disabled, which also hides it from help.
type keyMap struct {
	Help     key.Binding
	Filter   key.Binding
	Command  key.Binding
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Top      key.Binding
	Bottom   key.Binding
	NextTab  key.Binding
	PrevTab  key.Binding
	Tabs     [tabCount]key.Binding
	Enter    key.Binding
	Back     key.Binding
	Quit     key.Binding

	Query     key.Binding // live query of the selected or marked orders
	Mark      key.Binding
	ClearMark key.Binding
	Refund    key.Binding
	Replay    key.Binding // one notification
	ReplayAll key.Binding // every failed one in the filter
	Settle    key.Binding // a PENDING refund: ask the platform, re-send if it never got it
	Run       key.Binding // a reconciliation
	OpenOrder key.Binding // a finding's order, in Orders
	Channel   key.Binding
	PrevDay   key.Binding
	NextDay   key.Binding
	BillFile  key.Binding
	Resolve   key.Binding
	Ignore    key.Binding
	Export    key.Binding
	Category  key.Binding
	Kind      key.Binding // the Reconcile view: trade bill or fund bill
}

func newKeyMap() *keyMap {
	k := &keyMap{
		Help:     key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Filter:   key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Command:  key.NewBinding(key.WithKeys(":"), key.WithHelp(":", "command")),
		Up:       key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("k/↑", "up")),
		Down:     key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("j/↓", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+b", "ctrl+u"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+f", "ctrl+d"), key.WithHelp("pgdn", "page down")),
		Top:      key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "top")),
		Bottom:   key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "bottom")),
		NextTab:  key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next view")),
		PrevTab:  key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous view")),
		Enter:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "details")),
		Back:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Quit:     key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),

		Query:     key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "query platform")),
		Mark:      key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "mark")),
		ClearMark: key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "unmark all")),
		Refund:    key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "refund")),
		Replay:    key.NewBinding(key.WithKeys("P"), key.WithHelp("P", "replay")),
		ReplayAll: key.NewBinding(key.WithKeys("A"), key.WithHelp("A", "replay all failed")),
		Settle:    key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "settle")),
		Run:       key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "new run")),
		OpenOrder: key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "open order")),
		Channel:   key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "channel")),
		PrevDay:   key.NewBinding(key.WithKeys("h", "left", "["), key.WithHelp("h/←", "day before")),
		NextDay:   key.NewBinding(key.WithKeys("l", "right", "]"), key.WithHelp("l/→", "day after")),
		BillFile:  key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "bill file")),
		Resolve:   key.NewBinding(key.WithKeys("D"), key.WithHelp("D", "resolve")),
		Ignore:    key.NewBinding(key.WithKeys("I"), key.WithHelp("I", "ignore")),
		Export:    key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "export")),
		Category:  key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "category")),
		Kind:      key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "trades/funds")),
	}
	for i := range k.Tabs {
		n := string(rune('1' + i))
		k.Tabs[i] = key.NewBinding(key.WithKeys(n), key.WithHelp(n, tabNames[i]))
	}
	return k
}

// globalHelp are the bindings every view shares, shown in full help.
func (k *keyMap) globalHelp() []key.Binding {
	return []key.Binding{k.NextTab, key.NewBinding(key.WithKeys("1"), key.WithHelp("1-5", "views")), k.Filter, k.Command, k.Help, k.Quit}
}

func (k *keyMap) navHelp() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}
}

// only returns b, disabled when the role may not use it: help hides a
// disabled binding and key.Matches never matches one.
func only(b key.Binding, allowed bool) key.Binding {
	b.SetEnabled(allowed)
	return b
}
