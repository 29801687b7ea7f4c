package ops_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/config"
	"github.com/paydesk/paydesk/internal/dbtest"
	"github.com/paydesk/paydesk/internal/serve"
	"github.com/paydesk/paydesk/internal/testenv"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

// paidByCallback makes an order and pays it at the sandbox; the payment
// arrives through the endpoint.
func paidByCallback(t *testing.T, env *testenv.Env, o testenv.Order) {
	t.Helper()
	env.ImportOrders(t, o)
	env.Pay(t, o, time.Time{})
	env.WaitDelivered(t, 10*time.Second)
	if got, _ := env.Store.GetOrder(context.Background(), o.OutTradeNo); got.Status != store.OrderPaid {
		t.Fatalf("order %s after its payment callback", got.Status)
	}
}

// refundEndingAs refunds a paid WeChat order whose refund the platform
// answers PROCESSING and then ends as ends, with its notification, and
// returns the refund once that notification made it so.
func refundEndingAs(t *testing.T, env *testenv.Env, o testenv.Order, amount gateway.Money, ends gateway.RefundStatus) store.Refund {
	t.Helper()
	paidByCallback(t, env, o)
	env.Sandbox.SetFault(gateway.WeChat, o.OutTradeNo, sandbox.Fault{RefundEnds: ends})
	defer env.Sandbox.ClearFaults()
	out, err := env.Service.Refund(context.Background(), o.OutTradeNo, amount, "returned")
	if err != nil {
		t.Fatal(err)
	}
	env.WaitDelivered(t, 10*time.Second)
	return waitRefund(t, env, out.Refund.OutRequestNo, ends)
}

// waitRefund polls the store until the refund has the status, as its
// notification makes it so.
func waitRefund(t *testing.T, env *testenv.Env, no string, want gateway.RefundStatus) store.Refund {
	t.Helper()
	return env.WaitRefund(t, no, want)
}

// TestAbnormalRefundKeepsTheCeiling: WeChat answers a refund PROCESSING and
// then notifies REFUND.ABNORMAL (the buyer's card refused the money). The
// refund is ABNORMAL, needs action, and keeps its amount out of the
// ceiling: a second refund that would exceed what was paid is refused
// while the first is ABNORMAL. Once the merchant has had it paid out,
// REFUND.SUCCESS makes it SUCCESS. Before issue 11 the notification was
// ignored, and a query made the refund FAILED, freeing the amount.
func TestAbnormalRefundKeepsTheCeiling(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, db string) {
		env := testenv.New(t, testenv.Options{DB: db, Serve: true})
		ctx := context.Background()
		o := testenv.Order{OutTradeNo: "PDABN0000001", Channel: gateway.WeChat, Amount: 10000}
		f := refundEndingAs(t, env, o, 6000, gateway.RefundAbnormal)
		if f.Error != "platform: ABNORMAL" {
			t.Fatalf("abnormal refund: %+v", f)
		}

		// 6,000 held by the ABNORMAL refund: 4,001 more does not fit.
		_, err := env.Service.Refund(ctx, o.OutTradeNo, 4001, "second refund")
		if !errors.Is(err, ops.ErrRefundInput) || !strings.Contains(err.Error(), "abnormal ¥60.00") {
			t.Fatalf("a refund past the ceiling while one is ABNORMAL: %v", err)
		}
		if rs, _ := env.Store.ListRefunds(ctx, store.RefundFilter{OutTradeNo: o.OutTradeNo}, 0, 10); len(rs) != 1 {
			t.Fatalf("%d refunds recorded, want the ABNORMAL one alone", len(rs))
		}
		// Asking again never re-sends an ABNORMAL refund: its money left.
		if res, err := env.Service.RetryRefund(ctx, f.OutRequestNo); err != nil || res.Refund.Status != gateway.RefundAbnormal ||
			!strings.Contains(res.Note, "异常退款") {
			t.Fatalf("retry of an ABNORMAL refund: %+v, %v", res, err)
		}
		d, err := env.Service.ShowOrder(ctx, o.OutTradeNo)
		if err != nil || d.Refundable != 4000 || len(d.Actions) != 1 || d.Actions[0].OutRequestNo != f.OutRequestNo ||
			!strings.Contains(d.Actions[0].Action, "apply-abnormal-refund") {
			t.Fatalf("order detail: refundable %s, actions %+v, %v", d.Refundable, d.Actions, err)
		}
		if tr, _ := env.Sandbox.Trade(gateway.WeChat, o.OutTradeNo); len(tr.Refunds) != 1 {
			t.Fatalf("%d refunds at the platform", len(tr.Refunds))
		}

		// Handled in the merchant platform: paid out, REFUND.SUCCESS.
		if err := env.Sandbox.SettleRefundAs(gateway.WeChat, o.OutTradeNo, f.OutRequestNo, gateway.RefundSuccess, time.Time{}); err != nil {
			t.Fatal(err)
		}
		env.WaitDelivered(t, 10*time.Second)
		waitRefund(t, env, f.OutRequestNo, gateway.RefundSuccess)
		if got, _ := env.Store.GetOrder(ctx, o.OutTradeNo); got.Refunded != 6000 || got.Status != store.OrderPartiallyRefunded {
			t.Fatalf("order after the abnormal refund was paid out: %+v", got)
		}
	})
}

// TestClosedRefundFreesTheCeiling: REFUND.CLOSED (never carried out) makes
// the refund FAILED, and its amount can be refunded under a new number.
func TestClosedRefundFreesTheCeiling(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, db string) {
		env := testenv.New(t, testenv.Options{DB: db, Serve: true})
		ctx := context.Background()
		o := testenv.Order{OutTradeNo: "PDCLS0000001", Channel: gateway.WeChat, Amount: 5000}
		f := refundEndingAs(t, env, o, 5000, gateway.RefundFailed)
		ns, _ := env.Store.ListNotifications(ctx, store.NotificationFilter{OutTradeNo: o.OutTradeNo}, 0, 10)
		if len(ns) == 0 || ns[0].Event != gateway.EventRefundClosed || ns[0].ApplyStatus != store.ApplyApplied {
			t.Fatalf("REFUND.CLOSED notification: %+v", ns)
		}
		again, err := env.Service.Refund(ctx, o.OutTradeNo, 5000, "cancelled, second try")
		if err != nil || again.Refund.Status != gateway.RefundSuccess || again.Refund.OutRequestNo == f.OutRequestNo {
			t.Fatalf("refund after a closed one: %+v, %v", again, err)
		}
	})
}

// TestWeChatRateLimitAndSystemErrorStayPending: 429 FREQUENCY_LIMITED and
// SYSTEM_ERROR leave the refund PENDING (before issue 11, 429 made it
// FAILED); the retry re-sends the same out_refund_no, and one refund
// comes of each.
func TestWeChatRateLimitAndSystemErrorStayPending(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, db string) {
		for name, fault := range map[string]sandbox.Fault{"429": {RefundRateLimited: true}, "SYSTEM_ERROR": {RefundSystemError: true}} {
			t.Run(name, func(t *testing.T) {
				env := testenv.New(t, testenv.Options{DB: db, Serve: true})
				ctx := context.Background()
				o := testenv.Order{OutTradeNo: "PDLIM" + strings.ReplaceAll(name, "_", ""), Channel: gateway.WeChat, Amount: 3000}
				paidByCallback(t, env, o)
				env.Sandbox.SetFault(gateway.WeChat, o.OutTradeNo, fault)
				out, err := env.Service.Refund(ctx, o.OutTradeNo, 1000, "partial")
				if err != nil || !out.Unknown || out.Refund.Status != gateway.RefundPending || out.Refund.UnknownAt.IsZero() {
					t.Fatalf("%s: %+v, %v", name, out, err)
				}
				if _, err := env.Service.Refund(ctx, o.OutTradeNo, 2001, "too much"); err == nil {
					t.Fatal("the pending refund's amount was refundable again")
				}
				env.Sandbox.ClearFaults()
				res, err := env.Service.RetryRefund(ctx, out.Refund.OutRequestNo)
				if err != nil || res.Refund.Status != gateway.RefundSuccess {
					t.Fatalf("retry: %+v, %v", res, err)
				}
				tr, _ := env.Sandbox.Trade(gateway.WeChat, o.OutTradeNo)
				if len(tr.Refunds) != 1 || tr.Refunds[0].OutRequestNo != out.Refund.OutRequestNo || tr.Refunds[0].Amount != 1000 {
					t.Fatalf("platform refunds: %+v", tr.Refunds)
				}
			})
		}
	})
}

// TestAlipayRefundWithoutStatusIsResent: Alipay takes the refund request but
// does not carry it out (a system error); its refund query then shows the
// request without refund_status, which means "not received, or failed".
// The retry waits [refund] query_after, then re-sends the same
// out_request_no with the same amount, and that refund goes through. Before
// issue 11 the retry read the query as PENDING and never re-sent it.
func TestAlipayRefundWithoutStatusIsResent(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, db string) {
		const wait = 300 * time.Millisecond
		env := testenv.New(t, testenv.Options{DB: db, Serve: true, RefundQueryAfter: wait})
		ctx := context.Background()
		o := testenv.Order{OutTradeNo: "PDNOSTATUS01", Channel: gateway.Alipay, Amount: 4000}
		paidByCallback(t, env, o)
		env.Sandbox.SetFault(gateway.Alipay, o.OutTradeNo, sandbox.Fault{RefundNotCarriedOut: true})
		out, err := env.Service.Refund(ctx, o.OutTradeNo, 1500, "damaged")
		if err != nil || !out.Unknown || out.Refund.Status != gateway.RefundPending {
			t.Fatalf("refund not carried out: %+v, %v", out, err)
		}
		env.Sandbox.ClearFaults()
		if _, err := env.Service.RetryRefund(ctx, out.Refund.OutRequestNo); !errors.Is(err, ops.ErrRefundTooSoon) {
			t.Fatalf("a retry at once: %v", err)
		}
		time.Sleep(wait)
		res, err := env.Service.RetryRefund(ctx, out.Refund.OutRequestNo)
		if err != nil || res.Refund.Status != gateway.RefundSuccess || !strings.Contains(res.Note, "same number and amount") {
			t.Fatalf("retry after the wait: %+v, %v", res, err)
		}
		tr, _ := env.Sandbox.Trade(gateway.Alipay, o.OutTradeNo)
		if len(tr.Refunds) != 1 || tr.Refunds[0].OutRequestNo != out.Refund.OutRequestNo || tr.Refunds[0].Amount != 1500 || tr.Refunds[0].Status != gateway.RefundSuccess {
			t.Fatalf("platform refunds: %+v", tr.Refunds)
		}
		env.WaitDelivered(t, 10*time.Second)
		if got, _ := env.Store.GetOrder(ctx, o.OutTradeNo); got.Refunded != 1500 {
			t.Fatalf("order: %+v", got)
		}
	})
}

// TestRefundNotificationGoesToTheRefundsNotifyURL: WeChat refunds carry
// notify_url; the platform sends the refund's notification there, ahead of
// the trade's address. Here the trade's address is one endpoint and the
// refund's another, both real `serve` listeners on the same store.
func TestRefundNotificationGoesToTheRefundsNotifyURL(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, db string) {
		env := testenv.New(t, testenv.Options{DB: db, Serve: true})
		// A second endpoint for refunds, and a service whose WeChat client
		// names it as every refund's notify_url.
		ctx, cancel := context.WithCancel(context.Background())
		ready := make(chan string, 1)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = serve.New(env.Service, serve.Config{Listen: "127.0.0.1:0"}).ListenAndServe(ctx, time.Second, func(addr string) { ready <- addr })
		}()
		refundURL := "http://" + <-ready + "/notify/wechat"
		t.Cleanup(func() { cancel(); <-done })
		platforms := testenv.PlatformsWith(t, env.Sandbox, nil, func(_ *sandbox.Server, c *config.Config) { c.WeChat.RefundNotifyURL = refundURL })
		svc, err := ops.New(ops.Options{Store: env.Store, Platforms: platforms, Operator: ops.Operator{Name: "tester", Role: ops.Admin}, RefundQueryAfter: -1})
		if err != nil {
			t.Fatal(err)
		}
		o := testenv.Order{OutTradeNo: "PDNURL000001", Channel: gateway.WeChat, Amount: 900}
		env.ImportOrders(t, o)
		env.Pay(t, o, time.Time{})
		env.WaitDelivered(t, 10*time.Second)
		env.Sandbox.SetFault(gateway.WeChat, o.OutTradeNo, sandbox.Fault{RefundPending: true})
		out, err := svc.Refund(context.Background(), o.OutTradeNo, 900, "refund")
		if err != nil || out.Refund.Status != gateway.RefundPending {
			t.Fatalf("%+v, %v", out, err)
		}
		if err := env.Sandbox.SettleRefund(gateway.WeChat, o.OutTradeNo, out.Refund.OutRequestNo, true, time.Time{}); err != nil {
			t.Fatal(err)
		}
		env.WaitDelivered(t, 10*time.Second)
		waitRefund(t, env, out.Refund.OutRequestNo, gateway.RefundSuccess)
		var urls []string
		for _, d := range env.Sandbox.Deliveries() {
			urls = append(urls, string(d.Event)+" → "+d.URL)
			if d.Event == sandbox.EventRefunded && (d.URL != refundURL || !d.Acked) {
				t.Fatalf("refund notification delivered to %s (acked %v), want the refund's notify_url %s", d.URL, d.Acked, refundURL)
			}
			if d.Event == sandbox.EventPaid && d.URL == refundURL {
				t.Fatal("the payment's notification went to the refund's URL")
			}
		}
		if len(urls) != 2 {
			t.Fatalf("deliveries: %v", urls)
		}
	})
}

// TestFieldLimitsRefuseBeforeRecording: a refund the platform would refuse
// for a field's length is refused before anything is recorded: no PENDING
// row, nothing sent. Before issue 11 an 81–256-byte reason passed paydesk's
// single 256-byte rule and went to WeChat Pay, which documents 80 bytes
// and refuses it (PARAM_ERROR; the sandbox now does too): a FAILED row for
// a request that could never have worked.
func TestFieldLimitsRefuseBeforeRecording(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, db string) {
		env := testenv.New(t, testenv.Options{DB: db})
		ctx := context.Background()
		for _, tc := range []struct {
			ch     gateway.Channel
			reason string
			field  string
		}{
			{gateway.WeChat, strings.Repeat("质量问题", 7), "reason"},         // 84 bytes: over WeChat's 80
			{gateway.Alipay, strings.Repeat("质量问题", 22), "refund_reason"}, // 264 bytes: over Alipay's 256
		} {
			o := testenv.Order{OutTradeNo: "PDFL" + string(tc.ch), Channel: tc.ch, Amount: 1000}
			paidOrder(t, env, o)
			_, err := env.Service.Refund(ctx, o.OutTradeNo, 100, tc.reason)
			var fe *gateway.FieldError
			if !errors.Is(err, ops.ErrRefundInput) || !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("%s: %v", tc.ch, err)
			}
			if rs, _ := env.Store.ListRefunds(ctx, store.RefundFilter{OutTradeNo: o.OutTradeNo}, 0, 10); len(rs) != 0 {
				t.Fatalf("%s: a refund was recorded: %+v", tc.ch, rs)
			}
			if tr, _ := env.Sandbox.Trade(tc.ch, o.OutTradeNo); len(tr.Refunds) != 0 {
				t.Fatalf("%s: the platform got the refund", tc.ch)
			}
			// Within the limit it goes through.
			if out, err := env.Service.Refund(ctx, o.OutTradeNo, 100, tc.reason[:len(tc.reason)-12]); err != nil || out.Refund.Status != gateway.RefundSuccess {
				t.Fatalf("%s within the limit: %+v, %v", tc.ch, out, err)
			}
		}
	})
}
