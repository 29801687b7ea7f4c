package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/paydesk/paydesk/ops"
)

func newReconFundsCmd(a *app) *cobra.Command {
	var channel, date, bill string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "funds --channel alipay|wechat [--date YYYY-MM-DD] [--bill FILE]",
		Short: "Reconcile the account's money movements of a day (fund bill) against its bookings",
		Long: `Funds downloads the channel's fund bill for the date — Alipay's 账务明细
(bill_type signcustomer), WeChat Pay's 资金账单 of the BASIC account — or reads
--bill, checks it against its own totals, and matches every movement of the
account against the day's payments, refunds and fees: those of the day's trade
bill (run "recon run" for the day first, or "bills fetch") and paydesk's own.

  FUND_MATCHED          the money moved as booked
  FUND_MISSING          短款: a payment or refund booked, no money moved
  FUND_UNEXPECTED       长款 (money in no order explains), or a deduction or
                        chargeback (money out nothing explains)
  FUND_AMOUNT_MISMATCH  the account moved another amount (fees included)
  WITHDRAWAL            money sent to the bank: listed and totalled

Findings are not failures: exit 0 whenever the run completes, 1 when it could
not (a bad bill saves nothing).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := a.service()
			if err != nil {
				return err
			}
			ch, day, err := channelAndDay(channel, date, svc.Zone(), time.Now())
			if err != nil {
				return err
			}
			progress, done := progressLine(cmd, asJSON)
			defer done()
			run, err := svc.RunFundRecon(cmd.Context(), ops.ReconRequest{Channel: ch, Day: day, BillFile: bill}, progress)
			if err != nil {
				return err
			}
			return printRun(cmd, svc, run, asJSON)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&channel, "channel", "", "alipay or wechat (required)")
	fl.StringVar(&date, "date", "", "business date, YYYY-MM-DD (default yesterday)")
	fl.StringVar(&bill, "bill", "", "reconcile from this fund bill file instead of downloading it")
	fl.BoolVar(&asJSON, "json", false, "print the run and its findings as JSON")
	_ = cmd.MarkFlagRequired("channel")
	return cmd
}
