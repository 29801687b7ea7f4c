package ui

import "github.com/charmbracelet/lipgloss"

// theme is the console's one set of styles. Colours carry meaning only
// together with a text marker ('>' selection, '≠' disagreement, '!' bad
// event, '*' marked, "error:" toasts), because under NO_COLOR lipgloss
// drops colour, bold and reverse alike.
type theme struct {
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

func newTheme() *theme {
	accent := lipgloss.AdaptiveColor{Light: "#1F6FEB", Dark: "#58A6FF"}
	red := lipgloss.AdaptiveColor{Light: "#CF222E", Dark: "#FF7B72"}
	yellow := lipgloss.AdaptiveColor{Light: "#9A6700", Dark: "#E3B341"}
	green := lipgloss.AdaptiveColor{Light: "#1A7F37", Dark: "#3FB950"}
	grey := lipgloss.AdaptiveColor{Light: "#6E7781", Dark: "#8B949E"}
	return &theme{
		App:        lipgloss.NewStyle(),
		Brand:      lipgloss.NewStyle().Bold(true).Foreground(accent),
		HeaderInfo: lipgloss.NewStyle().Foreground(grey),
		Tab:        lipgloss.NewStyle().Foreground(grey),
		TabActive:  lipgloss.NewStyle().Bold(true).Foreground(accent).Underline(true),
		Dim:        lipgloss.NewStyle().Foreground(grey),
		Title:      lipgloss.NewStyle().Bold(true),
		ColHeader:  lipgloss.NewStyle().Bold(true).Foreground(grey),
		Selected:   lipgloss.NewStyle().Reverse(true),
		Marked:     lipgloss.NewStyle().Foreground(accent),
		Disagree:   lipgloss.NewStyle().Foreground(red).Bold(true),
		Bad:        lipgloss.NewStyle().Foreground(red),
		Good:       lipgloss.NewStyle().Foreground(green),
		Warn:       lipgloss.NewStyle().Foreground(yellow),
		Info:       lipgloss.NewStyle().Foreground(accent),
		Status:     lipgloss.NewStyle().Foreground(grey),
		ToastInfo:  lipgloss.NewStyle().Foreground(accent),
		ToastOK:    lipgloss.NewStyle().Foreground(green),
		ToastErr:   lipgloss.NewStyle().Foreground(red).Bold(true),
		Dialog:     lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(accent).Padding(0, 1),
		Card:       lipgloss.NewStyle().Border(lipgloss.NormalBorder()).Padding(0, 1),
		Key:        lipgloss.NewStyle().Bold(true),
		Input:      lipgloss.NewStyle(),
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
