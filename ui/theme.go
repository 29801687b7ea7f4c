package ui

import (
	"strconv"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// theme is the console's one set of styles. Colours carry meaning only
// together with a text marker ('>' selection, '≠' disagreement, '!' bad
// event, '*' marked, "error:" toasts), because under NO_COLOR lipgloss
// drops colour, bold and reverse alike.
type theme struct {
	// r draws every style of one console: the process's terminal locally,
	// the session's own (its TERM, NO_COLOR and background) over SSH, so
	// one person's terminal never decides another's colours.
	r *lipgloss.Renderer

	App        lipgloss.Style
	Brand      lipgloss.Style
	HeaderInfo lipgloss.Style
	Tab        lipgloss.Style
	TabActive  lipgloss.Style
	Dim        lipgloss.Style
	Title      lipgloss.Style
	ColHeader  lipgloss.Style
	Selected   lipgloss.Style
	Marked     lipgloss.Style
	Disagree   lipgloss.Style
	Bad        lipgloss.Style
	Good       lipgloss.Style
	Warn       lipgloss.Style
	Info       lipgloss.Style
	Status     lipgloss.Style
	ToastInfo  lipgloss.Style
	ToastOK    lipgloss.Style
	ToastErr   lipgloss.Style
	Dialog     lipgloss.Style
	Card       lipgloss.Style
	Key        lipgloss.Style
	Input      lipgloss.Style
}

func newTheme(r *lipgloss.Renderer) *theme {
	accent := settledColour(r, lipgloss.AdaptiveColor{Light: "#1F6FEB", Dark: "#58A6FF"})
	red := settledColour(r, lipgloss.AdaptiveColor{Light: "#CF222E", Dark: "#FF7B72"})
	yellow := settledColour(r, lipgloss.AdaptiveColor{Light: "#9A6700", Dark: "#E3B341"})
	green := settledColour(r, lipgloss.AdaptiveColor{Light: "#1A7F37", Dark: "#3FB950"})
	grey := settledColour(r, lipgloss.AdaptiveColor{Light: "#6E7781", Dark: "#8B949E"})
	style := r.NewStyle
	return &theme{
		r:          r,
		App:        style(),
		Brand:      style().Bold(true).Foreground(accent),
		HeaderInfo: style().Foreground(grey),
		Tab:        style().Foreground(grey),
		TabActive:  style().Bold(true).Foreground(accent).Underline(true),
		Dim:        style().Foreground(grey),
		Title:      style().Bold(true),
		ColHeader:  style().Bold(true).Foreground(grey),
		Selected:   style().Reverse(true),
		Marked:     style().Foreground(accent),
		Disagree:   style().Foreground(red).Bold(true),
		Bad:        style().Foreground(red),
		Good:       style().Foreground(green),
		Warn:       style().Foreground(yellow),
		Info:       style().Foreground(accent),
		Status:     style().Foreground(grey),
		ToastInfo:  style().Foreground(accent),
		ToastOK:    style().Foreground(green),
		ToastErr:   style().Foreground(red).Bold(true),
		Dialog:     style().Border(lipgloss.RoundedBorder()).BorderForeground(accent).Padding(0, 1),
		Card:       style().Border(lipgloss.NormalBorder()).Padding(0, 1),
		Key:        style().Bold(true),
		Input:      style(),
	}
}

// severityStyle colours a reconciliation severity.
func (t *theme) severityStyle(sev string) lipgloss.Style {
	switch sev {
	case "critical":
		return t.Bad
	case "warning":
		return t.Warn
	case "ok", "matched":
		return t.Good
	}
	return t.Info
}

// input is a text input whose styles (placeholder, cursor) this theme's
// renderer draws.
func (t *theme) input(ti textinput.Model) textinput.Model {
	ti.PromptStyle = ti.PromptStyle.Renderer(t.r)
	ti.TextStyle = ti.TextStyle.Renderer(t.r)
	ti.PlaceholderStyle = ti.PlaceholderStyle.Renderer(t.r)
	ti.CompletionStyle = ti.CompletionStyle.Renderer(t.r)
	ti.Cursor.Style = ti.Cursor.Style.Renderer(t.r)
	ti.Cursor.TextStyle = ti.Cursor.TextStyle.Renderer(t.r)
	return ti
}

// help is the help bubble's own look, drawn by this theme's renderer.
func (t *theme) help(s help.Styles) help.Styles {
	for _, st := range []*lipgloss.Style{&s.Ellipsis, &s.ShortKey, &s.ShortDesc, &s.ShortSeparator, &s.FullKey, &s.FullDesc, &s.FullSeparator} {
		*st = st.Renderer(t.r)
		if c, ok := st.GetForeground().(lipgloss.AdaptiveColor); ok {
			*st = st.Foreground(settledColour(t.r, c))
		}
	}
	return s
}

// settledColour picks an adaptive colour for the renderer's background and
// converts it to the renderer's colour profile, once. lipgloss would do
// both on every render, and for a 256- or 16-colour terminal (what SSH
// clients announce: COLORTERM is not sent) the conversion is a
// nearest-colour search through the palette: about a fifth of a console
// session's CPU over SSH (bench/README.md).
func settledColour(r *lipgloss.Renderer, c lipgloss.AdaptiveColor) lipgloss.TerminalColor {
	hex := c.Light
	if r.HasDarkBackground() {
		hex = c.Dark
	}
	switch v := r.ColorProfile().Color(hex).(type) {
	case termenv.ANSI256Color:
		return lipgloss.Color(strconv.Itoa(int(v)))
	case termenv.ANSIColor:
		return lipgloss.Color(strconv.Itoa(int(v)))
	case termenv.NoColor:
		return lipgloss.NoColor{}
	}
	return lipgloss.Color(hex)
}
