package cli

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"
	gossh "golang.org/x/crypto/ssh"

	"github.com/paydesk/paydesk/internal/config"
	"github.com/paydesk/paydesk/internal/sshconsole"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/ui"
)

func newSSHCmd(a *app) *cobra.Command {
	var listen string
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "ssh",
		Short: "Serve the console over SSH to the people in [[ssh.users]]",
		Long: `Serve the console over SSH: each person in [[ssh.users]] connects with
` + "`ssh -t -p 2222 HOST`" + ` from their own laptop, is known by their public key, and gets
the console under their own name and role (` + "`ssh -t -p 2222 HOST mouse`" + ` turns the mouse
on). Nobody gets a shell or a key file. Only public-key logins are offered; an
unknown key is refused and logged. ` + "`paydesk serve`" + ` runs the same listener beside the
notification endpoint when [ssh] listen is set. Logs are JSON on stderr.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			if listen == "" {
				listen = cfg.SSH.Listen
			}
			if listen == "" {
				return usagef("no SSH address: set [ssh] listen in %s, or pass --listen", configName(cfg))
			}
			logger := slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelInfo}))
			a.logger = logger
			svc, err := a.service()
			if err != nil {
				return err
			}
			srv, err := sshConsole(cfg, listen, svc, logger)
			if err != nil {
				return err
			}
			return srv.ListenAndServe(cmd.Context(), grace, nil)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "address to listen on (default [ssh] listen)")
	cmd.Flags().DurationVar(&grace, "grace", 10*time.Second, "how long open sessions may take to end on shutdown")
	return cmd
}

// sshConsole builds the SSH console from [ssh]: the checked user list, the
// host key (made on first start), and the console settings every session
// starts from.
func sshConsole(cfg *config.Config, listen string, svc *ops.Service, logger *slog.Logger) (*sshconsole.Server, error) {
	users, err := sshconsole.ParseUsers(cfg.SSH.Users)
	if err != nil {
		return nil, fmt.Errorf("%s:\n%w\n(run `paydesk ssh-users check` after fixing)", configName(cfg), err)
	}
	hostKey, created, err := sshconsole.HostKey(cfg.SSH.HostKeyFile)
	if err != nil {
		return nil, err
	}
	if created {
		logger.Info("ssh host key created", "file", cfg.SSH.HostKeyFile, "fingerprint", gossh.FingerprintSHA256(hostKey.PublicKey()))
	}
	threshold := cfg.Refund.Threshold
	return sshconsole.New(svc, sshconsole.Config{
		Listen: listen, HostKey: hostKey, Users: users, IdleTimeout: cfg.SSH.Idle, Logger: logger,
		Console: ui.Options{RefundConfirmAbove: &threshold, QueryQPS: cfg.Query.QPS, QueryConcurrency: cfg.Query.Concurrency},
	})
}

// configName names the config file in a message.
func configName(cfg *config.Config) string {
	if cfg.File == "" {
		return "paydesk.toml (none found)"
	}
	return cfg.File
}
