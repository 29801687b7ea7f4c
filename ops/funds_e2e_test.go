package ops_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/testenv"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/recon"
	"github.com/paydesk/paydesk/store"
)

// TestFundDayFindsEveryInjectedFault is a whole sandbox day on both
// platforms: orders paid through the sandbox with callbacks to the real
// endpoint, refunds, a withdrawal — and three injected fund faults on each
// platform: a payment whose money never reached the account, a deduction
// nothing explains, a fee charged off the contracted rate. Both bills are
// downloaded from the sandbox through the real clients (the trade bill by
// `recon run`, the fund bill by `recon funds`). Each fault is found in its
// category and nothing else is flagged: the wrong fee only as FEE_MISMATCH
// in the trade run (the account took what the bill says), the missing
// money only as FUND_MISSING, the deduction only as FUND_UNEXPECTED.
func TestFundDayFindsEveryInjectedFault(t *testing.T) {
	rate, _ := gateway.ParseFeeRate("0.006")
	env := testenv.New(t, testenv.Options{Serve: true, FeeRates: map[gateway.Channel]gateway.FeeRate{gateway.Alipay: rate, gateway.WeChat: rate}})
	ctx := context.Background()
	d := yesterday()
	at := func(h, m int) time.Time { return d.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }

	for _, ch := range []gateway.Channel{gateway.Alipay, gateway.WeChat} {
		p := string(ch[:1])
		var orders []testenv.Order
		for i := range 8 {
			orders = append(orders, testenv.Order{OutTradeNo: fmt.Sprintf("PDFD%s%03d", p, i), Channel: ch, Amount: gateway.Money(1500 + 731*i), CreatedAt: at(8, 0)})
		}
		missing := testenv.Order{OutTradeNo: "PDFDMISS" + p, Channel: ch, Amount: 4200, CreatedAt: at(8, 0)}
		wrongFee := testenv.Order{OutTradeNo: "PDFDFEE" + p, Channel: ch, Amount: 10000, CreatedAt: at(8, 0)}
		env.ImportOrders(t, append(orders, missing, wrongFee)...)
		for i, o := range orders {
			env.Pay(t, o, at(9, i))
		}
		env.Sandbox.SetFault(ch, missing.OutTradeNo, sandbox.Fault{NoFundMovement: true})
		env.Pay(t, missing, at(10, 0))
		fee := gateway.Money(95) // the rate gives 0.60
		env.Sandbox.SetFault(ch, wrongFee.OutTradeNo, sandbox.Fault{Fee: &fee})
		env.Pay(t, wrongFee, at(10, 30))
		env.WaitDelivered(t, time.Minute)
		// A refund made in the platform's console that afternoon; its
		// notification tells paydesk.
		if _, err := env.Sandbox.ConsoleRefund(sandbox.RefundSpec{Channel: ch, OutTradeNo: orders[2].OutTradeNo, Amount: 1000, At: at(15, 0)}); err != nil {
			t.Fatal(err)
		}
		for _, m := range []sandbox.FundMovement{
			{Time: at(16, 0), Amount: -1234, Remark: "保证金扣款"},
			{Time: at(18, 0), Amount: -20000, Kind: gateway.FundWithdrawal, Remark: "提现"},
		} {
			if err := env.Sandbox.AddFundMovement(ch, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	env.WaitDelivered(t, time.Minute)

	for _, ch := range []gateway.Channel{gateway.Alipay, gateway.WeChat} {
		t.Run(string(ch), func(t *testing.T) {
			p := string(ch[:1])
			trade, err := env.Service.RunRecon(ctx, ops.ReconRequest{Channel: ch, Day: d}, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := findingsByOrder(t, env.Service, trade)
			if len(got) != 1 || len(got["PDFDFEE"+p]) != 1 || got["PDFDFEE"+p][0] != string(recon.FeeMismatch) {
				t.Errorf("trade run: %v, want FEE_MISMATCH on PDFDFEE%s only", got, p)
			}
			if trade.ExpectedFees == nil || trade.Fees-*trade.ExpectedFees != 95-60 {
				t.Errorf("trade fees: charged %s expected %v", trade.Fees, trade.ExpectedFees)
			}

			funds, err := env.Service.RunFundRecon(ctx, ops.ReconRequest{Channel: ch, Day: d}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if funds.Bill.Source != "download" || funds.Bill.Kind != store.BillFunds {
				t.Errorf("fund bill %+v", funds.Bill)
			}
			fs, err := env.Service.Findings(ctx, store.FindingFilter{RunID: funds.ID})
			if err != nil {
				t.Fatal(err)
			}
			var missing, unexpected, withdrawals, other []store.Finding
			for _, f := range fs {
				switch f.Category {
				case string(recon.FundMissing):
					missing = append(missing, f)
				case string(recon.FundUnexpected):
					unexpected = append(unexpected, f)
				case string(recon.Withdrawal):
					withdrawals = append(withdrawals, f)
				default:
					other = append(other, f)
				}
			}
			if len(missing) != 1 || missing[0].OutTradeNo != "PDFDMISS"+p || missing[0].Severity != "critical" || missing[0].LocalAmount != 4200-25 {
				t.Errorf("FUND_MISSING: %+v", missing)
			}
			if len(unexpected) != 1 || unexpected[0].PlatformAmount != -1234 {
				t.Errorf("FUND_UNEXPECTED: %+v", unexpected)
			}
			if len(withdrawals) != 1 || funds.Counts[string(recon.Withdrawal)].Amount != -20000 {
				t.Errorf("WITHDRAWAL: %+v %+v", withdrawals, funds.Counts[string(recon.Withdrawal)])
			}
			if len(other) != 0 {
				t.Errorf("flagged besides the faults: %+v", other)
			}
			// Nine payments and the refund moved as booked — the wrong fee
			// included: the account took what the trade bill says.
			if m := funds.Counts[string(recon.FundMatched)]; m.Count != 10 {
				t.Errorf("FUND_MATCHED %+v, want 10", m)
			}
		})
	}
}
