package ui

import (
	"io"
	"time"

	"github.com/charmbracelet/lipgloss"

	"github.com/paydesk/paydesk/gateway"
)

// Options configure the console. The zero value is usable.
type Options struct {
	// Mouse turns on wheel scrolling and tab clicks. Off by default: mouse
	// reporting stops the terminal's own text selection, which support
	// staff use to copy order numbers.
	Mouse bool
	// FirstRunHint shows a dismissable card pointing at the three usual
	// jobs (the demo and a fresh workspace set it).
	FirstRunHint bool
	// RefundConfirmAbove: a refund above this amount must be confirmed by
	// typing the order number, not just y; zero means every refund. Nil
	// means ¥1,000.00 (the default of [refund] confirm_above).
	RefundConfirmAbove *gateway.Money
	// QueryQPS and QueryConcurrency bound bulk live queries ([query] in
	// paydesk.toml); zero means ops' defaults.
	QueryQPS         float64
	QueryConcurrency int
	// Input and Output are the terminal the console runs on; nil means the
	// process's own stdin and stdout.
	Input  io.Reader
	Output io.Writer
	// Renderer draws the console's styles; nil is the process's terminal
	// (lipgloss's default). The SSH console gives each session its own,
	// made from the session's TERM, NO_COLOR and background.
	Renderer *lipgloss.Renderer
	// Title is shown in the header beside the name, e.g. "demo workspace".
	Title string
	// Workspace is shown in the header instead of the store path (the demo
	// passes its folder); empty shows svc.StorePath().
	Workspace string
	// ExportDir is where reconciliation exports are written; empty is the
	// working directory.
	ExportDir string
	// Clock replaces time.Now for the header clock, ages and the default
	// reconciliation day (tests pin it).
	Clock func() time.Time

	// noTicks stops the clock, spinner and toast timers from scheduling
	// ticks, so tests that run every command synchronously never sleep and
	// golden frames never depend on timing.
	noTicks bool
}

// defaultConfirmAbove is [refund] confirm_above's default, ¥1,000.00.
const defaultConfirmAbove gateway.Money = 100000

func (o Options) withDefaults() Options {
	if o.RefundConfirmAbove == nil {
		limit := defaultConfirmAbove
		o.RefundConfirmAbove = &limit
	}
	if o.Renderer == nil {
		o.Renderer = lipgloss.DefaultRenderer()
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.ExportDir == "" {
		o.ExportDir = "."
	}
	return o
}
