package ui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// textPage is a scrollable page of prepared lines (a notification's
// payload, an audit entry).
type textPage struct {
	lines  []string
	scroll int
}

func (p *textPage) update(k *keyMap, msg tea.KeyMsg, h int) {
	maxScroll := max(len(p.lines)-h, 0)
	switch {
	case key.Matches(msg, k.Down):
		p.scroll++
	case key.Matches(msg, k.Up):
		p.scroll--
	case key.Matches(msg, k.PageDown):
		p.scroll += h
	case key.Matches(msg, k.PageUp):
		p.scroll -= h
	case key.Matches(msg, k.Top):
		p.scroll = 0
	case key.Matches(msg, k.Bottom):
		p.scroll = maxScroll
	}
	p.scroll = min(max(p.scroll, 0), maxScroll)
}

func (p *textPage) view(w, h int) string {
	start := min(p.scroll, len(p.lines))
	end := min(start+h, len(p.lines))
	return padLines(truncateLines(strings.Join(p.lines[start:end], "\n"), w), h)
}
