package ops_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/dbtest"
	"github.com/paydesk/paydesk/internal/testenv"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

// paidOrder makes an order, pays it at the sandbox and applies the payment
// through a live query (no endpoint needed).
func paidOrder(t *testing.T, env *testenv.Env, o testenv.Order) {
	t.Helper()
	env.ImportOrders(t, o)
	env.Pay(t, o, time.Time{})
	r, err := env.Service.QueryTrade(context.Background(), o.OutTradeNo)
	if err != nil || !r.Applied {
		t.Fatalf("query did not apply the payment: %+v %v", r, err)
	}
}

// TestRefundTimeoutThenRetry: the platform refunds but its answer never
// comes; the refund stays PENDING; a retry settles it with the same request
// number. One refund at the platform, the order's refunded amount right.
func TestRefundTimeoutThenRetry(t *testing.T) {
	for _, ch := range gateway.Channels {
		t.Run(string(ch), func(t *testing.T) {
			dbtest.Engines(t, func(t *testing.T, db string) {
				env := testenv.New(t, testenv.Options{DB: db, HTTPTimeout: 500 * time.Millisecond})
				ctx := context.Background()
				o := testenv.Order{OutTradeNo: "PDRF" + string(ch), Channel: ch, Amount: 10000}
				paidOrder(t, env, o)
				env.Sandbox.SetFault(ch, o.OutTradeNo, sandbox.Fault{Hang: true})

				out, err := env.Service.Refund(ctx, o.OutTradeNo, 2500, "damaged in transit")
				if err != nil || !out.Unknown || out.Refund.Status != gateway.RefundPending {
					t.Fatalf("timed-out refund: %+v %v", out, err)
				}
				// The ceiling counts the pending refund: nothing can refund
				// the same money meanwhile.
				if _, err := env.Service.Refund(ctx, o.OutTradeNo, 7501, "too much"); err == nil {
					t.Fatal("a refund above paid − pending was accepted")
				}
				env.Sandbox.ClearFaults()
				for range 2 { // retrying a settled refund changes nothing
					res, err := env.Service.RetryRefund(ctx, out.Refund.OutRequestNo)
					if err != nil || res.Refund.Status != gateway.RefundSuccess {
						t.Fatalf("retry: %+v %v", res, err)
					}
				}
				tr, _ := env.Sandbox.Trade(ch, o.OutTradeNo)
				if len(tr.Refunds) != 1 || tr.Refunds[0].OutRequestNo != out.Refund.OutRequestNo || tr.Refunds[0].Amount != 2500 {
					t.Fatalf("platform refunds: %+v", tr.Refunds)
				}
				got, _ := env.Store.GetOrder(ctx, o.OutTradeNo)
				if got.Refunded != 2500 || got.Status != store.OrderPartiallyRefunded {
					t.Fatalf("order: %+v", got)
				}
			})
		})
	}
}

// TestRefundNeverReachedThePlatformIsResent: a 5xx before the platform did
// anything; the retry finds no such refund and re-sends the same number.
func TestRefundNeverReachedThePlatformIsResent(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, db string) {
		env := testenv.New(t, testenv.Options{DB: db})
		ctx := context.Background()
		o := testenv.Order{OutTradeNo: "PDRF5XX01", Channel: gateway.WeChat, Amount: 3000}
		paidOrder(t, env, o)
		env.Sandbox.SetFault(gateway.WeChat, o.OutTradeNo, sandbox.Fault{ServerError: true})
		out, err := env.Service.Refund(ctx, o.OutTradeNo, 3000, "cancelled")
		if err != nil || !out.Unknown {
			t.Fatalf("%+v %v", out, err)
		}
		env.Sandbox.ClearFaults()
		res, err := env.Service.RetryRefund(ctx, out.Refund.OutRequestNo)
		if err != nil || res.Refund.Status != gateway.RefundSuccess {
			t.Fatalf("%+v %v", res, err)
		}
		got, _ := env.Store.GetOrder(ctx, o.OutTradeNo)
		if got.Status != store.OrderRefunded || got.Refunded != 3000 {
			t.Fatalf("%+v", got)
		}
	})
}

// TestConcurrentRefundsThroughThePlatform: 20 operators refund at once; the
// sum refunded never exceeds what was paid, locally or at the platform.
func TestConcurrentRefundsThroughThePlatform(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, db string) {
		env := testenv.New(t, testenv.Options{DB: db})
		ctx := context.Background()
		o := testenv.Order{OutTradeNo: "PDRFCONC1", Channel: gateway.Alipay, Amount: 1000}
		paidOrder(t, env, o)
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = env.Service.Refund(ctx, o.OutTradeNo, 300, "partial")
			}()
		}
		wg.Wait()
		tr, _ := env.Sandbox.Trade(gateway.Alipay, o.OutTradeNo)
		succeeded, pending := tr.Refunded()
		got, _ := env.Store.GetOrder(ctx, o.OutTradeNo)
		if succeeded+pending > 1000 || got.Refunded != succeeded || got.Refunded != 900 {
			t.Fatalf("platform %s+%s, local %s", succeeded, pending, got.Refunded)
		}
	})
}

// TestQueryReportsWhatItDoesNotApply: a refund made in the platform console
// shows on a query as a disagreement, never applied by the query.
func TestQueryReportsWhatItDoesNotApply(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, db string) {
		env := testenv.New(t, testenv.Options{DB: db})
		ctx := context.Background()
		o := testenv.Order{OutTradeNo: "PDQCONS01", Channel: gateway.WeChat, Amount: 5000}
		paidOrder(t, env, o)
		if _, err := env.Sandbox.ConsoleRefund(sandbox.RefundSpec{Channel: gateway.WeChat, OutTradeNo: o.OutTradeNo, Amount: 1000}); err != nil {
			t.Fatal(err)
		}
		r, err := env.Service.QueryTrade(ctx, o.OutTradeNo)
		if err != nil || !r.Disagrees || r.Applied {
			t.Fatalf("%+v %v", r, err)
		}
		got, _ := env.Store.GetOrder(ctx, o.OutTradeNo)
		if got.Refunded != 0 || got.Status != store.OrderPaid {
			t.Fatalf("the query applied a refund: %+v", got)
		}
		qs, _ := env.Store.TradeQueries(ctx, o.OutTradeNo)
		if len(qs) != 2 || qs[1].PlatformState != "REFUND" {
			t.Fatalf("queries not logged: %+v", qs)
		}
	})
}

// TestDuplicatePaymentIsRefundedOnItsOwnTrade: an order paid on Alipay and
// again on WeChat; refunding the duplicate refunds the WeChat trade and
// leaves the order's own payment alone.
func TestDuplicatePaymentIsRefundedOnItsOwnTrade(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, db string) {
		env := testenv.New(t, testenv.Options{DB: db, Serve: true})
		ctx := context.Background()
		o := testenv.Order{OutTradeNo: "PDDUPREF01", Channel: gateway.Alipay, Amount: 2000}
		env.ImportOrders(t, o)
		env.Pay(t, o, time.Time{})
		env.WaitDelivered(t, time.Minute)
		second := env.Pay(t, testenv.Order{OutTradeNo: o.OutTradeNo, Channel: gateway.WeChat, Amount: 2000}, time.Time{})
		env.WaitDelivered(t, time.Minute)
		// Asked with no amount yet, the plan still says what can be refunded.
		plan, err := env.Service.PlanDuplicateRefund(ctx, gateway.WeChat, second.TradeNo, 0, "")
		if !errors.Is(err, ops.ErrRefundInput) || plan.Duplicate == nil || plan.Refundable != 2000 || plan.Order.OutTradeNo != o.OutTradeNo {
			t.Fatalf("plan without an amount: %+v %v", plan, err)
		}
		if _, err := env.Service.RefundDuplicate(ctx, gateway.WeChat, second.TradeNo, 2001, "paid twice"); err == nil {
			t.Fatal("refund above the duplicate's amount accepted")
		}
		out, err := env.Service.RefundDuplicate(ctx, gateway.WeChat, second.TradeNo, 2000, "paid twice")
		if err != nil || out.Refund.Status != gateway.RefundSuccess || out.Refund.TradeNo != second.TradeNo {
			t.Fatalf("%+v %v", out, err)
		}
		env.WaitDelivered(t, time.Minute) // the REFUND.SUCCESS notification finds it already done
		wx, _ := env.Sandbox.Trade(gateway.WeChat, o.OutTradeNo)
		ali, _ := env.Sandbox.Trade(gateway.Alipay, o.OutTradeNo)
		if len(wx.Refunds) != 1 || len(ali.Refunds) != 0 {
			t.Fatalf("refunded at the platforms: wechat %d, alipay %d", len(wx.Refunds), len(ali.Refunds))
		}
		got, _ := env.Store.GetOrder(ctx, o.OutTradeNo)
		d, _ := env.Store.DuplicatePayments(ctx, o.OutTradeNo)
		if got.Refunded != 0 || got.Status != store.OrderPaid || len(d) != 1 || d[0].Refunded != 2000 {
			t.Fatalf("order %+v, duplicate %+v", got, d)
		}
		if _, err := env.Service.RefundDuplicate(ctx, gateway.WeChat, second.TradeNo, 1, "again"); err == nil {
			t.Fatal("a fully refunded duplicate refunded again")
		}
	})
}
