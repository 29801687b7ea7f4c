package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/paydesk/paydesk/internal/demo"
	"github.com/paydesk/paydesk/ui"
)

func newDemoCmd(a *app) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "demo [--dir DIR]",
		Short: "Open the console on a fresh demo workspace (simulated platforms, seeded faults)",
		Long: `demo makes a fresh workspace (a SQLite file and keys in DIR, or a new folder in
your cache folder), starts simulated Alipay and WeChat Pay platforms and the
notification endpoint in-process on loopback, seeds three business days of orders
paid through them (with lost, forged and mismatched callbacks, a duplicate payment,
a payment just before midnight, refunds made in a platform console...), and opens
the console on it. Yesterday's reconciliation is ready to run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.openDemo(cmd, dir)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "workspace folder (default a new folder under the user cache folder)")
	addConsoleFlags(cmd)
	return cmd
}

// openDemo bootstraps a demo workspace and runs the console on it.
func (a *app) openDemo(cmd *cobra.Command, dir string) error {
	errOut := cmd.ErrOrStderr()
	d, err := demo.Start(cmd.Context(), demo.Options{
		Dir: dir,
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
