package cli

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/internal/serve"
)

func newServeCmd(a *app) *cobra.Command {
	var listen string
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the payment notification endpoint (POST /notify/alipay, /notify/wechat; GET /healthz)",
		Long: `Run the endpoint the platforms call after a payment or refund. Every callback is
stored raw before anything else, verified against the configured platform key,
applied exactly once, and answered in the platform's protocol. SIGINT or SIGTERM
stops accepting and lets in-flight callbacks finish. Logs are JSON on stderr.

Put it behind an HTTPS reverse proxy (both platforms require HTTPS); see README.
With [ssh] listen set, it also serves the console over SSH (see paydesk ssh).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			logger := slog.New(gateway.MaskLogs(slog.NewJSONHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelInfo})))
			a.logger = logger
			svc, err := a.service()
			if err != nil {
				return err
			}
			if len(svc.Channels()) == 0 {
				return usagef("no platform is configured: add [alipay] and/or [wechat] to %s", cfg.File)
			}
			if listen == "" {
				listen = cfg.Serve.Listen
			}
			srv := serve.New(svc, serve.Config{Listen: listen, AllowedCIDRs: cfg.Serve.Allowed, TrustedProxies: cfg.Serve.Proxies,
				MaxBodyBytes: cfg.Serve.MaxBodyBytes, Logger: logger})
			if cfg.SSH.Listen == "" {
				return srv.ListenAndServe(cmd.Context(), grace, nil)
			}
			console, err := sshConsole(cfg, cfg.SSH.Listen, svc, logger)
			if err != nil {
				return err
			}
			// One process, one store and one platform client for both;
			// when either stops, the other is shut down too.
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			errs := make(chan error, 2)
			go func() { errs <- srv.ListenAndServe(ctx, grace, nil) }()
			go func() { errs <- console.ListenAndServe(ctx, grace, nil) }()
			first := <-errs
			cancel()
			return errors.Join(first, <-errs)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "address to listen on (default [serve] listen, 127.0.0.1:8080)")
	cmd.Flags().DurationVar(&grace, "grace", 30*time.Second, "how long in-flight callbacks may take to finish on shutdown")
	return cmd
}
