package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/internal/config"
	"github.com/paydesk/paydesk/internal/workspace"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

// globalFlags are the flags every command takes (README "Command line").
type globalFlags struct {
	config   string
	db       string
	operator string
}

// app is what a command works with, opened on first use.
type app struct {
	flags globalFlags
	cfg   *config.Config
	st    *store.Store
	svc   *ops.Service
	// logger is where ops logs; commands that log (serve) set it first.
	logger *slog.Logger
	// stderr is Run's error stream: where the default logger writes.
	stderr io.Writer
}

func newRootCmd(stderr io.Writer) *cobra.Command {
	a := &app{stderr: stderr}
	root := &cobra.Command{
		Use:   "paydesk",
		Short: "Payment operations console for Alipay and WeChat Pay",
		Long: `paydesk reconciles each day's orders against the Alipay and WeChat Pay bills
and the callback log, looks orders up and refunds them, and receives and replays
payment callbacks. Run it without a command for the console.

` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := a.loadConfig(); err != nil {
				return err
			}
			if a.noWorkspace() {
				// A newcomer's `go run .`: nothing is configured, so open
				// the demo instead of an error.
				return a.openDemo(cmd, "", "v3")
			}
			return a.runConsole(cmd)
		},
		PersistentPostRunE: func(cmd *cobra.Command, args []string) error {
			return a.close()
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.flags.config, "config", "", "config file (default ./paydesk.toml, or $PAYDESK_CONFIG)")
	pf.StringVar(&a.flags.db, "db", "", "database: an SQLite file or a postgres:// URL (overrides [store] path/url and $PAYDESK_DB)")
	pf.StringVar(&a.flags.operator, "operator", "", "operator name for the audit log (default [operator] name, $PAYDESK_OPERATOR or $USER)")
	addConsoleFlags(root)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newOrdersCmd(a), newServeCmd(a), newNotifyCmd(a), newQueryCmd(a), newRefundCmd(a), newRefundsCmd(a), newSandboxCmd(), newReconCmd(a), newBillsCmd(a), newDemoCmd(a), newExportCmd(a),
		newSSHCmd(a), newSSHUsersCmd(a), newStoreCmd(a))
	return root
}

// loadConfig finds and loads the config; with none, an empty one.
func (a *app) loadConfig() (*config.Config, error) {
	if a.cfg != nil {
		return a.cfg, nil
	}
	path, err := config.Find(a.flags.config)
	switch {
	case errors.Is(err, config.ErrNoConfig):
		a.cfg = config.Empty()
	case err != nil:
		return nil, err
	default:
		if a.cfg, err = config.Load(path); err != nil {
			return nil, err
		}
		for _, w := range a.cfg.Warnings {
			fmt.Fprintln(a.stderr, "paydesk: warning:", w)
		}
	}
	return a.cfg, nil
}

// service opens the workspace: platform clients, store and service.
func (a *app) service() (*ops.Service, error) {
	if a.svc != nil {
		return a.svc, nil
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	if a.logger == nil {
		a.logger = slog.New(gateway.MaskLogs(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	}
	ws, err := workspace.Open(cfg, workspace.Options{DBPath: a.flags.db, Operator: a.flags.operator, Logger: a.logger})
	if errors.Is(err, workspace.ErrNoStore) && cfg.File == "" {
		return nil, usageError{err}
	}
	if err != nil {
		return nil, err
	}
	a.st, a.svc = ws.Store, ws.Service
	return a.svc, nil
}

func (a *app) close() error {
	if a.st != nil {
		err := a.st.Close()
		a.st, a.svc = nil, nil
		return err
	}
	return nil
}
