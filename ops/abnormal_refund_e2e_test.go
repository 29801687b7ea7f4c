package ops_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/dbtest"
	"github.com/paydesk/paydesk/internal/testenv"
	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/recon"
	"github.com/paydesk/paydesk/store"
)

// TestAbnormalRefundOnTheTradeAndFundRuns: a refund asked for through
// paydesk on the 22nd goes ABNORMAL at WeChat Pay (the sandbox takes the
// money from the merchant's account and the buyer's card refuses it; its
// REFUND.ABNORMAL callback reaches the real endpoint). The 22nd's trade
// bill, downloaded through the real client, prints the refund row ABNORMAL
// (the 退款状态 of the cut), and the trade run reports it as recon reports
// every ABNORMAL row: a critical REFUND_MISMATCH saying to handle it as an
// abnormal refund. The 22nd's fund bill has the refund going out (less the
// fee it gives back), and the fund run matches it: the money did leave the
// account, so an ABNORMAL refund is expected to move as a successful one
// does — from the trade bill's ABNORMAL line and paydesk's own record of
// the day it went ABNORMAL. Handled on the 23rd (paid out to another card:
// REFUND.SUCCESS), it moves nothing more: the 23rd's fund run expects
// nothing of it, and the 22nd's, run again, still matches it. Before, the
// sandbox moved no money for an ABNORMAL refund and the fund run expected
// none.
func TestAbnormalRefundOnTheTradeAndFundRuns(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, db string) {
		d := time.Date(2026, 11, 22, 0, 0, 0, 0, gateway.Shanghai)
		clk := testkit.NewClock(d.Add(10 * time.Hour))
		env := wechatOnClock(t, db, clk)
		ctx := context.Background()
		abn := testenv.Order{OutTradeNo: "W-ABNORMAL", Channel: gateway.WeChat, Amount: 10000, CreatedAt: d.Add(10 * time.Hour)}
		ok := testenv.Order{OutTradeNo: "W-PLAIN", Channel: gateway.WeChat, Amount: 3000, CreatedAt: d.Add(10 * time.Hour)}
		env.ImportOrders(t, abn, ok)
		env.Pay(t, abn, d.Add(10*time.Hour+time.Minute))
		env.Pay(t, ok, d.Add(10*time.Hour+2*time.Minute))
		env.WaitDelivered(t, time.Minute)

		clk.Set(d.Add(15 * time.Hour))
		env.Sandbox.SetFault(gateway.WeChat, abn.OutTradeNo, sandbox.Fault{RefundEnds: gateway.RefundAbnormal})
		out, err := env.Service.Refund(ctx, abn.OutTradeNo, 6000, "returned")
		if err != nil {
			t.Fatal(err)
		}
		no := out.Refund.OutRequestNo
		f := waitRefund(t, env, no, gateway.RefundAbnormal)
		env.WaitDelivered(t, time.Minute)
		if !f.AbnormalAt.Equal(clk.Now().UTC().Truncate(time.Millisecond)) {
			t.Fatalf("ABNORMAL recorded at %s, want %s", f.AbnormalAt, clk.Now())
		}

		clk.Set(d.Add(34 * time.Hour)) // after the 22nd's bills are cut (09:00 on the 23rd)
		trade, err := env.Service.RunRecon(ctx, ops.ReconRequest{Channel: gateway.WeChat, Day: d}, nil)
		if err != nil {
			t.Fatal(err)
		}
		kept, err := os.ReadFile(trade.Bill.Path)
		if err != nil || !bytes.Contains(kept, []byte(no+",`60.00,`0.00,`ORIGINAL,`ABNORMAL,")) {
			t.Fatalf("the 22nd's trade bill has no ABNORMAL row for %s (%v):\n%s", no, err, kept)
		}
		fs, err := env.Service.Findings(ctx, store.FindingFilter{RunID: trade.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != 1 || fs[0].Category != string(recon.RefundMismatch) || fs[0].Severity != string(recon.Critical) ||
			fs[0].OutRequestNo != no || fs[0].LocalStatus != "ABNORMAL" || fs[0].PlatformStatus != "ABNORMAL" ||
			!strings.Contains(fs[0].Detail, "Handle it as an abnormal refund") {
			t.Fatalf("the 22nd's trade findings: %+v", fs)
		}

		fundsOf := func(day time.Time) (store.Run, []store.Finding) {
			t.Helper()
			run, err := env.Service.RunFundRecon(ctx, ops.ReconRequest{Channel: gateway.WeChat, Day: day}, nil)
			if err != nil {
				t.Fatal(err)
			}
			fs, err := env.Service.Findings(ctx, store.FindingFilter{RunID: run.ID})
			if err != nil {
				t.Fatal(err)
			}
			return run, fs
		}
		refundOut := -6000 + sandbox.WeChatFee(6000) // the refund less the fee it gives back
		funds, fs := fundsOf(d)
		fundBill, err := os.ReadFile(funds.Bill.Path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(fundBill, []byte(",`退款,`退款,`支出,`"+(-refundOut).String()+",")) || !bytes.Contains(fundBill, []byte("`"+no+"\r\n")) {
			t.Fatalf("the 22nd's fund bill has no refund going out for %s:\n%s", no, fundBill)
		}
		if len(fs) != 0 {
			t.Fatalf("the 22nd's fund findings: %+v", fs)
		}
		payments := 10000 - sandbox.WeChatFee(10000) + 3000 - sandbox.WeChatFee(3000)
		if m := funds.Counts[string(recon.FundMatched)]; m.Count != 3 || m.Amount != payments+refundOut {
			t.Fatalf("FUND_MATCHED %+v, want the 2 payments and the ABNORMAL refund (%s)", m, payments+refundOut)
		}

		// 异常退款 handled on the 23rd: paid out to another card.
		next := testenv.Order{OutTradeNo: "W-NEXT", Channel: gateway.WeChat, Amount: 800, CreatedAt: d.Add(35 * time.Hour)}
		env.ImportOrders(t, next)
		env.Pay(t, next, d.Add(35*time.Hour+time.Minute))
		clk.Set(d.Add(40 * time.Hour))
		if err := env.Sandbox.SettleRefundAs(gateway.WeChat, abn.OutTradeNo, no, gateway.RefundSuccess, time.Time{}); err != nil {
			t.Fatal(err)
		}
		env.WaitDelivered(t, time.Minute)
		if f := waitRefund(t, env, no, gateway.RefundSuccess); !f.AbnormalAt.Equal(d.Add(15*time.Hour)) || !f.RefundedAt.Equal(d.Add(40*time.Hour)) {
			t.Fatalf("paid out: %+v", f)
		}
		clk.Set(d.Add(58 * time.Hour))
		next23, fs := fundsOf(d.AddDate(0, 0, 1))
		if len(fs) != 0 || next23.Counts[string(recon.FundMatched)].Count != 1 {
			t.Fatalf("the 23rd's fund run: %+v, findings %+v", next23.Counts, fs)
		}
		again, fs := fundsOf(d)
		if len(fs) != 0 || again.Counts[string(recon.FundMatched)].Count != 3 {
			t.Fatalf("the 22nd's fund run again: %+v, findings %+v", again.Counts, fs)
		}
	})
}
