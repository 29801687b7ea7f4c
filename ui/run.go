package ui

import (
	"context"
	"errors"
	"os"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/paydesk/paydesk/ops"
)

// Run opens the console on the terminal and returns when the operator
// quits or ctx ends.
func Run(ctx context.Context, svc *ops.Service, opts Options) error {
	// Ask the terminal for its background before Bubble Tea owns stdin:
	// asked later (on the first adaptive colour), the answer races the
	// program's input reader and swallows the operator's first keys.
	lipgloss.SetHasDarkBackground(lipgloss.HasDarkBackground())
	_, err := NewProgram(ctx, svc, opts).Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil // the context ended it: a normal way out (SIGINT in main)
	}
	return err
}

// NewProgram builds the console's program on opts' terminal: the full
// screen, mouse reporting when asked, ended by ctx. The SSH console makes
// one per session and adds its own options (the session's input and
// output, an idle watch) as extra.
func NewProgram(ctx context.Context, svc *ops.Service, opts Options, extra ...tea.ProgramOption) *tea.Program {
	popts := []tea.ProgramOption{tea.WithAltScreen(), tea.WithContext(ctx)}
	// Bubble Tea's default input falls back to /dev/tty when stdin is piped;
	// naming os.Stdin explicitly would lose that.
	if opts.Input != nil && opts.Input != os.Stdin {
		popts = append(popts, tea.WithInput(opts.Input))
	}
	if opts.Output != nil {
		popts = append(popts, tea.WithOutput(opts.Output))
	}
	if opts.Mouse {
		popts = append(popts, tea.WithMouseCellMotion())
	}
	return tea.NewProgram(New(ctx, svc, opts), append(popts, extra...)...)
}
