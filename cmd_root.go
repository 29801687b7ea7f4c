package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"time"

	"github.com/spf13/cobra"

	"github.com/paydesk/paydesk/internal/config"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

// globalFlags are the flags every command takes (DESIGN §6).
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
}

func newRootCmd() *cobra.Command {
	a := &app{}
	root := &cobra.Command{
		Use:   "paydesk",
		Short: "Payment operations console for Alipay and WeChat Pay",
		Long: `paydesk reconciles each day's orders against the Alipay and WeChat Pay bills
and the callback log, looks orders up and refunds them, and receives and replays
payment callbacks. Run it without a command for the console.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runConsole(cmd)
		},
		PersistentPostRunE: func(cmd *cobra.Command, args []string) error {
			return a.close()
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.flags.config, "config", "", "config file (default ./paydesk.toml, or $PAYDESK_CONFIG)")
	pf.StringVar(&a.flags.db, "db", "", "database file (overrides [store] path and $PAYDESK_DB)")
	pf.StringVar(&a.flags.operator, "operator", "", "operator name for the audit log (default [operator] name, $PAYDESK_OPERATOR or $USER)")
	addConsoleFlags(root)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newOrdersCmd(a), newServeCmd(a), newNotifyCmd(a), newQueryCmd(a), newRefundCmd(a))
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
	}
	return a.cfg, nil
}

// service opens the store and builds the operations service.
func (a *app) service() (*ops.Service, error) {
	if a.svc != nil {
		return a.svc, nil
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	dbPath := cfg.Store.Path
	if a.flags.db != "" {
		dbPath = a.flags.db
	}
	if dbPath == "" {
		if cfg.File == "" {
			return nil, usagef("no %s found here: pass --config FILE or --db PATH (or run `paydesk demo`)", config.DefaultFile)
		}
		return nil, fmt.Errorf("config %s: [store] path is not set", cfg.File)
	}
	zone, err := time.LoadLocation(cfg.Zone)
	if err != nil {
		return nil, fmt.Errorf("config: zone %q: %w", cfg.Zone, err)
	}
	op, err := operatorFrom(cfg, a.flags.operator)
	if err != nil {
		return nil, err
	}
	if a.st, err = store.Open(dbPath); err != nil {
		return nil, err
	}
	if a.logger == nil {
		a.logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	a.svc, err = ops.New(ops.Options{Store: a.st, Operator: op, Zone: zone, Logger: a.logger})
	return a.svc, err
}

// operatorFrom settles who is acting: the flag, else the config (where
// $PAYDESK_OPERATOR already overrode the file), else $USER. The role comes
// only from the config, so a flag cannot raise it; without one it is viewer.
func operatorFrom(cfg *config.Config, flag string) (ops.Operator, error) {
	name := flag
	if name == "" {
		name = cfg.Operator.Name
	}
	if name == "" {
		name = os.Getenv("USER")
	}
	if name == "" {
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
	}
	if name == "" {
		return ops.Operator{}, usagef("no operator name: set [operator] name, --operator or $PAYDESK_OPERATOR")
	}
	role := ops.Viewer
	if cfg.Operator.Role != "" {
		var err error
		if role, err = ops.ParseRole(cfg.Operator.Role); err != nil {
			return ops.Operator{}, fmt.Errorf("config [operator] role: %w", err)
		}
	}
	return ops.Operator{Name: name, Role: role}, nil
}

func (a *app) close() error {
	if a.st != nil {
		err := a.st.Close()
		a.st, a.svc = nil, nil
		return err
	}
	return nil
}
