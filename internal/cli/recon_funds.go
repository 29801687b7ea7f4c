package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

func newReconFundsCmd(a *app) *cobra.Command {
	return newReconDayCmd(a, "funds --channel alipay|wechat [--date YYYY-MM-DD] [--bill FILE]",
		"Reconcile the account's money movements of a day (fund bill) against its bookings",
		`Funds downloads the channel's fund bill for the date — Alipay's 账务明细
(bill_type signcustomer), WeChat Pay's 资金账单 of the BASIC account — or reads
--bill, checks it against its own totals, and matches every movement of the
account against the day's payments, refunds and fees: those of the day's trade
bill (run "recon run" for the day first) and paydesk's own.

  FUND_MATCHED          the money moved as booked
  FUND_MISSING          短款: a payment or refund booked, no money moved
  FUND_UNEXPECTED       长款 (money in no order explains), or a deduction or
                        chargeback (money out nothing explains)
  FUND_AMOUNT_MISMATCH  the account moved another amount (fees included)
  WITHDRAWAL            money sent to the bank: listed and totalled

Findings are not failures: exit 0 whenever the run completes, 1 when it could
not (a bad bill saves nothing).`,
		"reconcile from this fund bill file instead of downloading it",
		func(s *ops.Service, ctx context.Context, req ops.ReconRequest, progress func(ops.ReconProgress)) (store.Run, error) {
			batchGC()
			return s.RunFundRecon(ctx, req, progress)
		})
}
