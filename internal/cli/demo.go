package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/paydesk/paydesk/internal/demo"
	"github.com/paydesk/paydesk/ui"
)

func newDemoCmd(a *app) *cobra.Command {
	var dir, wechatAPI string
	cmd := &cobra.Command{
		Use:   "demo [--dir DIR] [--wechat-api v2]",
		Short: "Open the console on a fresh demo workspace (simulated platforms, seeded faults)",
		Long: `demo makes a fresh workspace (a SQLite file and keys in DIR, or a new folder in
your cache folder), starts simulated Alipay and WeChat Pay platforms and the
notification endpoint in-process on loopback, seeds three business days of orders
paid through them (with lost, forged and mismatched callbacks, a duplicate payment,
a payment just before midnight, refunds made in a platform console...), and opens
the console on it. Yesterday's reconciliation is ready to run.

--wechat-api v2 makes the WeChat merchant one that never moved to APIv3: its
callbacks are v2 XML, and queries, refunds (over mutual TLS with the merchant
certificate) and bills go through the v2 API.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if wechatAPI != "v2" && wechatAPI != "v3" {
				return usagef("--wechat-api %q: want v2 or v3", wechatAPI)
			}
			return a.openDemo(cmd, dir, wechatAPI)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "workspace folder (default a new folder under the user cache folder)")
	cmd.Flags().StringVar(&wechatAPI, "wechat-api", "v3", "the WeChat merchant's API: v3, or v2 (XML, MD5 sign, mutual-TLS refunds)")
	addConsoleFlags(cmd)
	return cmd
}

// openDemo bootstraps a demo workspace and runs the console on it.
func (a *app) openDemo(cmd *cobra.Command, dir, wechatAPI string) error {
	errOut := cmd.ErrOrStderr()
	d, err := demo.Start(cmd.Context(), demo.Options{
		Dir:       dir,
		WeChatAPI: wechatAPI,
		Progress: func(step string) {
			fmt.Fprintf(errOut, "\r\033[Kpaydesk demo: %s…", step)
		},
	})
	fmt.Fprint(errOut, "\r\033[K")
	if err != nil {
		return err
	}
	defer d.Close()
	mouse, _ := cmd.Flags().GetBool("mouse")
	cfg := d.Workspace.Config
	err = ui.Run(cmd.Context(), d.Service(), ui.Options{
		Input:            cmd.InOrStdin(),
		Output:           cmd.OutOrStdout(),
		Mouse:            mouse,
		FirstRunHint:     true,
		Title:            "demo workspace",
		Workspace:        d.Dir,
		ExportDir:        d.Dir,
		QueryQPS:         cfg.Query.QPS,
		QueryConcurrency: cfg.Query.Concurrency,
	})
	fmt.Fprintf(errOut, "demo data kept in %s (logs in paydesk.log); its simulated platforms stopped with the console\n", d.Dir)
	return err
}
