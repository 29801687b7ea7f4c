package ops_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/dbtest"
	"github.com/paydesk/paydesk/internal/testenv"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

// v2RefundEnding refunds a paid order of a WeChat v2 merchant; the sandbox
// answers the refund as accepted and then ends it as ends, posting its v2
// refund notification (req_info refund_status CHANGE or REFUNDCLOSE), or
// losing it when lost. It returns the refund's request number once the
// platform has ended it.
func v2RefundEnding(t *testing.T, env *testenv.Env, o testenv.Order, amount gateway.Money, ends gateway.RefundStatus, lost bool) string {
	t.Helper()
	paidByCallback(t, env, o)
	env.Sandbox.SetFault(gateway.WeChat, o.OutTradeNo, sandbox.Fault{RefundEnds: ends, DropNotify: lost})
	defer env.Sandbox.ClearFaults()
	out, err := env.Service.Refund(context.Background(), o.OutTradeNo, amount, "returned")
	if err != nil || out.Refund.Status != gateway.RefundPending {
		t.Fatalf("v2 refund of %s: %+v, %v", o.OutTradeNo, out, err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if tr, _ := env.Sandbox.Trade(gateway.WeChat, o.OutTradeNo); len(tr.Refunds) == 1 && tr.Refunds[0].Status == ends {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the platform never ended refund %s %s", out.Refund.OutRequestNo, ends)
		}
	}
	env.WaitDelivered(t, 10*time.Second)
	return out.Refund.OutRequestNo
}

// TestV2AbnormalAndClosedRefunds: a WeChat v2 merchant's refunds end as
// APIv3's do, whether paydesk learns it from the v2 refund callback (the
// sandbox posts req_info with refund_status CHANGE or REFUNDCLOSE to the
// real endpoint) or, the callback lost, from refundquery (refund_status_0).
// CHANGE (退款异常) is ABNORMAL: it keeps the refund ceiling consumed, so a
// second refund past what was paid is refused, and it needs a person; once
// paid out it is SUCCESS. REFUNDCLOSE is FAILED and frees the ceiling.
// Before, a query read CHANGE as FAILED (freeing money that had left) and
// both callbacks were acknowledged and ignored.
func TestV2AbnormalAndClosedRefunds(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, db string) {
		for _, via := range []string{"callback", "query"} {
			t.Run(via, func(t *testing.T) {
				env := testenv.New(t, testenv.Options{DB: db, Serve: true, WeChatAPI: "v2"})
				ctx := context.Background()
				lost := via == "query"
				settle := func(no string, want gateway.RefundStatus) store.Refund {
					t.Helper()
					if lost {
						res, err := env.Service.RetryRefund(ctx, no)
						if err != nil || res.Refund.Status != want {
							t.Fatalf("query of %s: %+v, %v; want %s", no, res, err, want)
						}
					}
					return waitRefund(t, env, no, want)
				}
				p := strings.ToUpper(via[:1])

				// 退款异常: the money left, the buyer's card refused it.
				o := testenv.Order{OutTradeNo: "PDV2ABN" + p, Channel: gateway.WeChat, Amount: 10000}
				no := v2RefundEnding(t, env, o, 6000, gateway.RefundAbnormal, lost)
				f := settle(no, gateway.RefundAbnormal)
				if !f.Status.NeedsAction() || f.Error != "platform: CHANGE" {
					t.Fatalf("abnormal v2 refund: %+v", f)
				}
				_, err := env.Service.Refund(ctx, o.OutTradeNo, 4001, "second refund")
				if !errors.Is(err, ops.ErrRefundInput) || !strings.Contains(err.Error(), "abnormal ¥60.00") {
					t.Fatalf("a refund past the ceiling while one is ABNORMAL: %v", err)
				}
				if tr, _ := env.Sandbox.Trade(gateway.WeChat, o.OutTradeNo); len(tr.Refunds) != 1 {
					t.Fatalf("%d refunds at the platform", len(tr.Refunds))
				}
				if d, err := env.Service.ShowOrder(ctx, o.OutTradeNo); err != nil || d.Refundable != 4000 || len(d.Actions) != 1 {
					t.Fatalf("order detail: refundable %s, actions %+v, %v", d.Refundable, d.Actions, err)
				}
				if !lost {
					ns, _ := env.Store.ListNotifications(ctx, store.NotificationFilter{OutTradeNo: o.OutTradeNo}, 0, 10)
					if len(ns) == 0 || ns[0].Event != gateway.EventRefundAbnormal || ns[0].ApplyStatus != store.ApplyApplied {
						t.Fatalf("the v2 CHANGE callback: %+v", ns)
					}
				}
				// Handled (异常退款): paid out, SUCCESS; never FAILED before.
				env.Sandbox.SetFault(gateway.WeChat, o.OutTradeNo, sandbox.Fault{DropNotify: lost})
				if err := env.Sandbox.SettleRefundAs(gateway.WeChat, o.OutTradeNo, no, gateway.RefundSuccess, time.Time{}); err != nil {
					t.Fatal(err)
				}
				env.WaitDelivered(t, 10*time.Second)
				settle(no, gateway.RefundSuccess)
				if got, _ := env.Store.GetOrder(ctx, o.OutTradeNo); got.Refunded != 6000 || got.Status != store.OrderPartiallyRefunded {
					t.Fatalf("order after the abnormal refund was paid out: %+v", got)
				}

				// 退款关闭: never carried out; the amount is refundable again.
				c := testenv.Order{OutTradeNo: "PDV2CLS" + p, Channel: gateway.WeChat, Amount: 5000}
				no = v2RefundEnding(t, env, c, 5000, gateway.RefundFailed, lost)
				settle(no, gateway.RefundFailed)
				if !lost {
					ns, _ := env.Store.ListNotifications(ctx, store.NotificationFilter{OutTradeNo: c.OutTradeNo}, 0, 10)
					if len(ns) == 0 || ns[0].Event != gateway.EventRefundClosed || ns[0].ApplyStatus != store.ApplyApplied {
						t.Fatalf("the v2 REFUNDCLOSE callback: %+v", ns)
					}
				}
				again, err := env.Service.Refund(ctx, c.OutTradeNo, 5000, "cancelled, second try")
				if err != nil || again.Refund.OutRequestNo == no || again.Refund.Status == gateway.RefundFailed {
					t.Fatalf("refund after a closed one: %+v, %v", again, err)
				}
			})
		}
	})
}
