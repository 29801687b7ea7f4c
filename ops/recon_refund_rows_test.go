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

// TestWeChatRefundRowsThroughTheSandbox: refunds asked for late on the
// 22nd through paydesk, which WeChat Pay (the sandbox) settles the next
// morning before or after it cuts the 22nd's bill, or closes. The bill
// paydesk downloads dates every one of them on the 22nd, with the status of
// the cut (SUCCESS, PROCESSING, CLOSED) and a BOM before its header; each
// row pairs with its request by number, and a row is judged by its status:
// PROCESSING with a local success is MATCHED, CLOSED with a local PENDING
// (its REFUND.CLOSED notification lost) needs a query, and after the query it is MATCHED. The 23rd's run expects
// none of them although they succeeded on the 23rd.
func TestWeChatRefundRowsThroughTheSandbox(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, db string) {
		d := time.Date(2026, 11, 22, 0, 0, 0, 0, gateway.Shanghai)
		clk := testkit.NewClock(d.Add(10 * time.Hour))
		env := wechatOnClock(t, db, clk)
		ctx := context.Background()
		orders := []testenv.Order{
			{OutTradeNo: "W-QUICK", Channel: gateway.WeChat, Amount: 2000, CreatedAt: d.Add(10 * time.Hour)},
			{OutTradeNo: "W-SLOW", Channel: gateway.WeChat, Amount: 5000, CreatedAt: d.Add(10 * time.Hour)},
			{OutTradeNo: "W-CLOSED", Channel: gateway.WeChat, Amount: 3000, CreatedAt: d.Add(10 * time.Hour)},
		}
		env.ImportOrders(t, orders...)
		for _, o := range orders {
			env.Pay(t, o, d.Add(10*time.Hour+time.Minute))
		}
		env.WaitDelivered(t, time.Minute)

		clk.Set(d.Add(23*time.Hour + 40*time.Minute))
		req := map[string]string{}
		for _, o := range orders {
			// W-CLOSED's REFUND.CLOSED notification is lost, so paydesk still
			// has it PENDING when the bill says CLOSED.
			env.Sandbox.SetFault(gateway.WeChat, o.OutTradeNo, sandbox.Fault{RefundPending: true, DropNotify: o.OutTradeNo == "W-CLOSED"})
			out, err := env.Service.Refund(ctx, o.OutTradeNo, 1000, "customer changed their mind")
			if err != nil || out.Refund.Status != gateway.RefundPending {
				t.Fatalf("refund %s: %+v %v", o.OutTradeNo, out, err)
			}
			req[o.OutTradeNo] = out.Refund.OutRequestNo
		}
		// The 22nd's bill is made at 09:00 on the 23rd.
		for _, s := range []struct {
			out string
			ok  bool
			at  time.Duration
		}{{"W-QUICK", true, 32 * time.Hour}, {"W-SLOW", true, 34 * time.Hour}, {"W-CLOSED", false, 32*time.Hour + 30*time.Minute}} {
			clk.Set(d.Add(s.at))
			if err := env.Sandbox.SettleRefund(gateway.WeChat, s.out, req[s.out], s.ok, d.Add(s.at)); err != nil {
				t.Fatal(err)
			}
		}
		env.WaitDelivered(t, time.Minute)
		for out, want := range map[string]gateway.RefundStatus{"W-QUICK": gateway.RefundSuccess, "W-SLOW": gateway.RefundSuccess, "W-CLOSED": gateway.RefundPending} {
			if f, err := env.Store.GetRefund(ctx, req[out]); err != nil || f.Status != want {
				t.Fatalf("%s locally: %+v %v, want %s", out, f, err, want)
			}
		}

		clk.Set(d.Add(35 * time.Hour))
		run, err := env.Service.RunRecon(ctx, ops.ReconRequest{Channel: gateway.WeChat, Day: d}, nil)
		if err != nil {
			t.Fatal(err)
		}
		kept, err := os.ReadFile(run.Bill.Path)
		if err != nil || !bytes.HasPrefix(kept, []byte("\ufeff交易时间,")) || run.Bill.Source != "download" {
			t.Fatalf("kept bill %s: %v %.30q", run.Bill.Path, err, kept)
		}
		for out, status := range map[string]string{"W-QUICK": "SUCCESS", "W-SLOW": "PROCESSING", "W-CLOSED": "CLOSED"} {
			if !bytes.Contains(kept, []byte(req[out]+",`10.00,`0.00,`ORIGINAL,`"+status+",")) {
				t.Errorf("the 22nd's bill has no %s row for %s's refund:\n%s", status, out, kept)
			}
		}
		fs, err := env.Service.Findings(ctx, store.FindingFilter{RunID: run.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != 1 || fs[0].Category != string(recon.RefundMismatch) || fs[0].OutRequestNo != req["W-CLOSED"] ||
			fs[0].Severity != string(recon.Warning) || fs[0].PlatformStatus != "CLOSED" || !strings.Contains(fs[0].Detail, "query it") {
			t.Fatalf("the 22nd's findings: %+v", fs)
		}
		if c := run.Counts[string(recon.Matched)]; c.Count != 5 {
			t.Errorf("matched %+v, want the 3 payments and the 2 refunds", c)
		}

		// The query closes it locally; the bill, never updated, now agrees.
		if out, err := env.Service.RetryRefund(ctx, req["W-CLOSED"]); err != nil || out.Refund.Status != gateway.RefundFailed {
			t.Fatalf("query the closed refund: %+v %v", out, err)
		}
		run, err = env.Service.RunRecon(ctx, ops.ReconRequest{Channel: gateway.WeChat, Day: d}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if fs, err := env.Service.Findings(ctx, store.FindingFilter{RunID: run.ID}); err != nil || len(fs) != 0 {
			t.Fatalf("after the query: %+v %v", fs, err)
		}

		// The 23rd: the two refunds succeeded that day, but their rows were on
		// the 22nd's bill, dated when they were asked for.
		next := testenv.Order{OutTradeNo: "W-NEXT", Channel: gateway.WeChat, Amount: 800, CreatedAt: d.Add(34 * time.Hour)}
		env.ImportOrders(t, next)
		env.Pay(t, next, d.Add(34*time.Hour+time.Minute))
		env.WaitDelivered(t, time.Minute)
		clk.Set(d.Add(59 * time.Hour))
		run, err = env.Service.RunRecon(ctx, ops.ReconRequest{Channel: gateway.WeChat, Day: d.AddDate(0, 0, 1)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if fs, err := env.Service.Findings(ctx, store.FindingFilter{RunID: run.ID}); err != nil || len(fs) != 0 || run.Lines != 1 {
			t.Fatalf("the 23rd: %d lines, findings %+v %v", run.Lines, fs, err)
		}
	})
}

// wechatOnClock is a WeChat Pay merchant with the endpoint, paydesk and the
// sandbox all on clk: a test moves time through a day and the mornings its
// bills are cut.
func wechatOnClock(t *testing.T, db string, clk *testkit.Clock) *testenv.Env {
	t.Helper()
	return testenv.New(t, testenv.Options{DB: db, Serve: true, Now: clk.Now, Channels: []gateway.Channel{gateway.WeChat},
		Sandbox: func(c *sandbox.Config) { c.Now = clk.Now }})
}

// TestAlipaySummaryThroughTheSandbox: the bill paydesk downloads from
// Alipay (the sandbox) is kept as the zip it is served as, its summary file
// is read, and the run's stated fees are the summary's, in paydesk's sign
// (positive when charged), equal to the lines' fees.
func TestAlipaySummaryThroughTheSandbox(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{Serve: true, Channels: []gateway.Channel{gateway.Alipay}})
	ctx := context.Background()
	d := yesterday()
	var orders []testenv.Order
	for i, amount := range []gateway.Money{1999, 8800, 12345} {
		orders = append(orders, testenv.Order{OutTradeNo: "PDSUM000" + string(rune('1'+i)), Channel: gateway.Alipay, Amount: amount, CreatedAt: d.Add(9 * time.Hour)})
	}
	env.ImportOrders(t, orders...)
	for i, o := range orders {
		env.Pay(t, o, d.Add(time.Duration(10+i)*time.Hour))
	}
	env.WaitDelivered(t, time.Minute)
	if _, err := env.Sandbox.ConsoleRefund(sandbox.RefundSpec{Channel: gateway.Alipay, OutTradeNo: orders[1].OutTradeNo, Amount: 800, At: d.Add(15 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	env.WaitDelivered(t, time.Minute)
	run, err := env.Service.RunRecon(ctx, ops.ReconRequest{Channel: gateway.Alipay, Day: d}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := run.Bill
	kept, err := os.ReadFile(b.Path)
	if err != nil || !bytes.HasPrefix(kept, []byte("PK\x03\x04")) || !strings.HasSuffix(b.FileName, ".csv.zip") || b.Account != env.Sandbox.AlipayPID()+"0156" {
		t.Fatalf("kept bill %+v: %v", b, err)
	}
	wantFees := sandbox.AlipayFee(1999) + sandbox.AlipayFee(8800) + sandbox.AlipayFee(12345) - (sandbox.AlipayFee(800) - sandbox.AlipayFee(0))
	if b.Stated.Fees != wantFees || b.Computed.Fees != wantFees || run.Fees != wantFees {
		t.Fatalf("fees: stated %s computed %s run %s, want %s", b.Stated.Fees, b.Computed.Fees, run.Fees, wantFees)
	}
}
