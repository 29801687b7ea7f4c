package cli

import (
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/internal/syncbuf"
	"github.com/paydesk/paydesk/ui"
)

// addConsoleFlags adds the flags of the console (the root command run
// without a subcommand).
func addConsoleFlags(root *cobra.Command) {
	root.Flags().Bool("mouse", false, "console: scroll with the wheel and click tabs (stops the terminal's own text selection)")
	root.Flags().Bool("hint", false, "console: show the first-run hint")
}

// runConsole opens the console on the configured workspace.
func (a *app) runConsole(cmd *cobra.Command) error {
	// ops logs (a failed audit write, a notification not stored) would
	// scribble over the full-screen console: keep them and print them
	// when it closes.
	logs := &syncbuf.Buffer{}
	if a.logger == nil {
		a.logger = slog.New(gateway.MaskLogs(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	}
	svc, err := a.service()
	if err != nil {
		// With no paydesk.toml and no --db the root opens the demo before
		// it gets here (a.noWorkspace); any error left is the workspace's.
		return err
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	threshold := cfg.Refund.Threshold
	mouse, _ := cmd.Flags().GetBool("mouse")
	hint, _ := cmd.Flags().GetBool("hint")
	err = ui.Run(cmd.Context(), svc, ui.Options{
		Input:              cmd.InOrStdin(),
		Output:             cmd.OutOrStdout(),
		Mouse:              mouse,
		FirstRunHint:       hint,
		RefundConfirmAbove: &threshold,
		QueryQPS:           cfg.Query.QPS,
		QueryConcurrency:   cfg.Query.Concurrency,
	})
	if logs.Len() > 0 {
		fmt.Fprint(cmd.ErrOrStderr(), logs.String())
	}
	return err
}

// noWorkspace: neither a config file nor --db says which database to open.
func (a *app) noWorkspace() bool {
	return a.flags.db == "" && (a.cfg == nil || a.cfg.File == "")
}
