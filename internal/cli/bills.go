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
		Short: "Keep a day's trade or fund bill without reconciling it",
		Long: `A bill is kept only once it has proven itself: it belongs to this merchant
([wechat] mchid, [alipay] pid, else the account of the workspace's first bill),
covers the date asked for row by row, adds up to its own totals (and, in an Alipay
zip, to its summary file's), repeats no row, and stays within the size limits.
Otherwise the command fails naming the file and line, and nothing is kept.

--kind funds keeps the account's fund bill instead of the trade bill (Alipay's
账务明细, WeChat Pay's 资金账单 of the BASIC account), checked as "recon funds"
checks it (WeChat Pay's states no merchant: a download vouches for whose it is).`,
	}
	cmd.AddCommand(newBillsKeepCmd(a, "fetch"), newBillsKeepCmd(a, "import"))
	return cmd
}

// newBillsKeepCmd makes `bills fetch` (download through the platform's API)
// and `bills import FILE` (a file from the platform's web console).
func newBillsKeepCmd(a *app, verb string) *cobra.Command {
	var channel, date, kind string
	var asJSON bool
	use, short, args := "fetch --channel alipay|wechat [--kind trade|funds] [--date YYYY-MM-DD]", "Download a day's bill and keep it", cobra.NoArgs
	if verb == "import" {
		use, short, args = "import --channel alipay|wechat [--kind trade|funds] [--date YYYY-MM-DD] FILE",
			"Keep a bill file downloaded from the platform's web console", exactArgs(1, "FILE")
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short + " (default yesterday's trade bill)",
		Args:  args,
		RunE: func(cmd *cobra.Command, args []string) error {
			if kind != store.BillTrade && kind != store.BillFunds {
				return usageError{fmt.Errorf("--kind %q: want trade or funds", kind)}
			}
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
				b, err = svc.ImportBill(cmd.Context(), ch, day, kind, args[0])
			} else {
				b, err = svc.FetchBill(cmd.Context(), ch, day, kind)
			}
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), b)
			}
			out := cmd.OutOrStdout()
			what := "bill"
			if b.Kind == store.BillFunds {
				what = "fund bill"
			}
			fmt.Fprintf(out, "%s %d  %s %s  %s (%s, %s, %s)\nsha256 %s\nkept at %s\n", what, b.ID, b.Channel, b.Day, b.FileName, b.Source,
				plural(b.Lines, "line", "lines"), plural(int(b.Size), "byte", "bytes"), b.SHA256, b.Path)
			if st := b.FundStated; st != nil {
				fmt.Fprintf(out, "stated %d in %s, %d out %s\n", st.Income, st.IncomeAmount, st.Expense, st.ExpenseAmount)
				return nil
			}
			fmt.Fprintf(out, "stated %d payments, %d refunds, net %s\n", b.Stated.Payments, b.Stated.Refunds, b.Stated.Net)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&channel, "channel", "", "alipay or wechat (required)")
	fl.StringVar(&date, "date", "", "business date, YYYY-MM-DD (default yesterday)")
	fl.StringVar(&kind, "kind", store.BillTrade, "trade (the trade bill) or funds (the account's fund bill)")
	fl.BoolVar(&asJSON, "json", false, "print the kept bill as JSON")
	_ = cmd.MarkFlagRequired("channel")
	return cmd
}
