package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/paydesk/paydesk/store"
)

func newBillsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bills",
		Short: "Keep a day's trade bill without reconciling it",
		Long: `A bill is kept only once it has proven itself: it belongs to this merchant
([wechat] mchid, [alipay] pid, else the account of the workspace's first bill),
covers the date asked for row by row, adds up to its own totals (and, in an Alipay
zip, to its summary file's), repeats no row, and stays within the size limits.
Otherwise the command fails naming the file and line, and nothing is kept.`,
	}
	cmd.AddCommand(newBillsKeepCmd(a, "fetch"), newBillsKeepCmd(a, "import"))
	return cmd
}

// newBillsKeepCmd makes `bills fetch` (download through the platform's API)
// and `bills import FILE` (a file from the platform's web console).
func newBillsKeepCmd(a *app, verb string) *cobra.Command {
	var channel, date string
	var asJSON bool
	use, short, args := "fetch --channel alipay|wechat [--date YYYY-MM-DD]", "Download a day's trade bill and keep it", cobra.NoArgs
	if verb == "import" {
		use, short, args = "import --channel alipay|wechat [--date YYYY-MM-DD] FILE",
			"Keep a trade bill file downloaded from the platform's web console", exactArgs(1, "FILE")
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short + " (default yesterday)",
		Args:  args,
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := a.service()
			if err != nil {
				return err
			}
			ch, day, err := channelAndDay(channel, date, svc.Zone(), time.Now())
			if err != nil {
				return err
			}
			var b store.Bill
			if verb == "import" {
				b, err = svc.ImportBill(cmd.Context(), ch, day, args[0])
			} else {
				b, err = svc.FetchBill(cmd.Context(), ch, day)
			}
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), b)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "bill %d  %s %s  %s (%s, %s, %s)\nsha256 %s\nkept at %s\n", b.ID, b.Channel, b.Day, b.FileName, b.Source,
				plural(b.Lines, "line", "lines"), plural(int(b.Size), "byte", "bytes"), b.SHA256, b.Path)
			fmt.Fprintf(cmd.OutOrStdout(), "stated %d payments, %d refunds, net %s\n", b.Stated.Payments, b.Stated.Refunds, b.Stated.Net)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&channel, "channel", "", "alipay or wechat (required)")
	fl.StringVar(&date, "date", "", "business date, YYYY-MM-DD (default yesterday)")
	fl.BoolVar(&asJSON, "json", false, "print the kept bill as JSON")
	_ = cmd.MarkFlagRequired("channel")
	return cmd
}
