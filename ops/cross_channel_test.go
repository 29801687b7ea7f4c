package ops_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/internal/dbtest"
	"github.com/paydesk/paydesk/internal/testenv"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/recon"
	"github.com/paydesk/paydesk/store"
)

// TestPaymentOnAnotherChannelIsAFinding: a verified Alipay payment for an
// order imported as a WeChat Pay order, delivered to the real endpoint, is
// stored, acknowledged (resending would change nothing) and recorded as a
// payment of that number, but not applied: the order stays a PENDING
// WeChat Pay order. The notification needs attention (CHANNEL_MISMATCH),
// the Alipay run reports the payment as MISSING_LOCAL saying why, and the
// payment can be refunded by its own trade.
func TestPaymentOnAnotherChannelIsAFinding(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, db string) {
		env := testenv.New(t, testenv.Options{DB: db, Serve: true})
		ctx := context.Background()
		day := yesterday()
		o := testenv.Order{OutTradeNo: "PDCROSS00000001", Channel: gateway.WeChat, Amount: 2500, CreatedAt: day.Add(10 * time.Hour)}
		env.ImportOrders(t, o)
		paidOnAlipay := o
		paidOnAlipay.Channel = gateway.Alipay
		tr := env.Pay(t, paidOnAlipay, day.Add(10*time.Hour+time.Minute))
		env.WaitDelivered(t, time.Minute)

		for _, d := range env.Sandbox.Deliveries() {
			if !d.Acked {
				t.Errorf("not acknowledged, so the platform would resend it: %+v", d)
			}
		}
		got, err := env.Service.ShowOrder(ctx, o.OutTradeNo)
		if err != nil {
			t.Fatal(err)
		}
		if got.Order.Status != store.OrderPending || got.Order.Channel != gateway.WeChat || got.Order.TradeNo != "" {
			t.Fatalf("the order changed: %+v", got.Order)
		}
		if len(got.Duplicates) != 1 || got.Duplicates[0].Channel != gateway.Alipay || got.Duplicates[0].TradeNo != tr.TradeNo {
			t.Fatalf("the Alipay payment is not on record: %+v", got.Duplicates)
		}
		failed, err := env.Service.FailedNotifications(ctx, ops.ReplayFilter{})
		if err != nil || len(failed) != 1 || failed[0].ApplyStatus != store.ApplyChannelMismatch || failed[0].VerifyStatus != store.Verified ||
			!strings.Contains(failed[0].ApplyDetail, "is a wechat order") {
			t.Fatalf("failed notifications: %+v %v", failed, err)
		}
		// Replaying it changes nothing.
		if r, err := env.Service.ReplayNotification(ctx, failed[0].ID); err != nil || r.Apply != store.ApplyChannelMismatch {
			t.Fatalf("replay: %+v %v", r, err)
		}

		run, err := env.Service.RunRecon(ctx, ops.ReconRequest{Channel: gateway.Alipay, Day: day}, nil)
		if err != nil {
			t.Fatal(err)
		}
		fs, _ := env.Service.Findings(ctx, store.FindingFilter{RunID: run.ID})
		if len(fs) != 1 || fs[0].Category != string(recon.MissingLocal) || fs[0].OutTradeNo != o.OutTradeNo ||
			!strings.Contains(fs[0].Detail, "never applied to an order") || !strings.Contains(fs[0].Detail, "recorded the payment") {
			t.Fatalf("alipay findings: %+v", fs)
		}
		if run2, err := env.Service.RunRecon(ctx, ops.ReconRequest{Channel: gateway.WeChat, Day: day}, nil); err == nil {
			if fs, _ := env.Service.Findings(ctx, store.FindingFilter{RunID: run2.ID}); len(fs) != 0 {
				t.Fatalf("wechat findings for an order nobody paid on WeChat: %+v", fs)
			}
		}

		out, err := env.Service.RefundDuplicate(ctx, gateway.Alipay, tr.TradeNo, 2500, "paid on the wrong platform")
		if err != nil || out.Refund.Status != gateway.RefundSuccess {
			t.Fatalf("refund of the Alipay payment: %+v %v", out, err)
		}
	})
}
