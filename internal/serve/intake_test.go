package serve_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/testenv"
	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/store"
)

// countBy counts notifications by apply status.
func countBy(t *testing.T, st *store.Store) (map[store.ApplyStatus]int, int) {
	t.Helper()
	all, err := st.ListNotifications(context.Background(), store.NotificationFilter{}, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[store.ApplyStatus]int{}
	for _, n := range all {
		out[n.ApplyStatus]++
	}
	return out, len(all)
}

// TestThousandPaymentsDeliveredThreeTimesApplyOnce: every notification is
// delivered three times at once while serve runs; each order ends PAID
// exactly once, every delivery is stored and acknowledged.
func TestThousandPaymentsDeliveredThreeTimesApplyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 orders × 3 deliveries")
	}
	// 3,000 deliveries start at once and queue for the one SQLite writer;
	// on a busy 2-core machine the last wait seconds, more than a platform's
	// usual timeout.
	env := testenv.New(t, testenv.Options{Serve: true, Sandbox: func(c *sandbox.Config) { c.DeliveryTimeout = time.Minute }})
	const n = 1000
	var orders []testenv.Order
	for i := range n {
		ch := gateway.Alipay
		if i%2 == 1 {
			ch = gateway.WeChat
		}
		orders = append(orders, testenv.Order{OutTradeNo: fmt.Sprintf("PDLOAD%06d", i), Channel: ch, Amount: gateway.Money(100 + i)})
	}
	env.ImportOrders(t, orders...)
	env.Sandbox.SetFault(gateway.Alipay, "", sandbox.Fault{DuplicateNotify: 2})
	env.Sandbox.SetFault(gateway.WeChat, "", sandbox.Fault{DuplicateNotify: 2})
	for _, o := range orders {
		env.Pay(t, o, time.Time{})
	}
	env.WaitDelivered(t, 2*time.Minute)

	for _, d := range env.Sandbox.Deliveries() {
		if !d.Acked {
			t.Fatalf("delivery not acknowledged (lost): %+v", d)
		}
	}
	attempts := 0
	for _, d := range env.Sandbox.Deliveries() {
		attempts += d.Attempts
	}
	by, total := countBy(t, env.Store)
	if total < 3*n || total > attempts {
		t.Fatalf("%d notifications stored; want every delivery (%d) and no more than the %d attempts", total, 3*n, attempts)
	}
	if by[store.ApplyApplied] != n || by[store.ApplyDuplicate] != total-n {
		t.Fatalf("apply outcomes %v; want %d APPLIED and the rest DUPLICATE", by, n)
	}
	paid, err := env.Store.CountOrders(context.Background(), store.OrderFilter{Status: store.OrderPaid})
	if err != nil || paid != n {
		t.Fatalf("%d orders PAID, %v", paid, err)
	}
	for _, o := range orders[:20] {
		got, _ := env.Store.GetOrder(context.Background(), o.OutTradeNo)
		if got.PaidVia != store.ViaNotify || got.TradeNo == "" {
			t.Fatalf("%+v", got)
		}
		if d, _ := env.Store.DuplicatePayments(context.Background(), o.OutTradeNo); len(d) != 0 {
			t.Fatalf("the same trade three times is not a duplicate payment: %+v", d)
		}
	}
}

// TestForgedAndMalformedNotificationsChangeNothing sends each kind of bad
// notification through the real endpoint: each is stored, refused with the
// platform's "send again" reply, and changes no order; replaying it changes
// nothing either.
func TestForgedAndMalformedNotificationsChangeNothing(t *testing.T) {
	env := testenv.New(t, testenv.Options{Serve: true})
	ctx := context.Background()
	bad := []struct {
		name  string
		ch    gateway.Channel
		fault sandbox.Fault
		want  store.ApplyStatus
	}{
		{"alipay bad signature", gateway.Alipay, sandbox.Fault{BadSignature: true}, store.ApplyRejected},
		{"wechat bad signature", gateway.WeChat, sandbox.Fault{BadSignature: true}, store.ApplyRejected},
		{"alipay tampered amount", gateway.Alipay, sandbox.Fault{TamperAmount: -99}, store.ApplyRejected},
		{"wechat tampered amount", gateway.WeChat, sandbox.Fault{TamperAmount: -99}, store.ApplyRejected},
		{"wechat stale timestamp", gateway.WeChat, sandbox.Fault{StaleBy: 10 * time.Minute}, store.ApplyRejected},
	}
	var orders []testenv.Order
	for i, b := range bad {
		orders = append(orders, testenv.Order{OutTradeNo: fmt.Sprintf("PDBAD%04d", i), Channel: b.ch, Amount: 1000})
	}
	env.ImportOrders(t, orders...)
	for i, b := range bad {
		env.Sandbox.SetFault(b.ch, orders[i].OutTradeNo, b.fault)
		env.Pay(t, orders[i], time.Time{})
	}
	// A payment for an order paydesk does not have.
	env.Pay(t, testenv.Order{OutTradeNo: "PDUNKNOWN01", Channel: gateway.Alipay, Amount: 500}, time.Time{})
	env.WaitDelivered(t, time.Minute)

	for _, d := range env.Sandbox.Deliveries() {
		if d.Acked || !d.GaveUp {
			t.Errorf("a bad notification was acknowledged or not retried to the end: %+v", d)
		}
		if d.Attempts != len(testkit.FastRetries[d.Channel])+1 {
			t.Errorf("%s %s: %d attempts; the platform retries until acknowledged", d.Channel, d.OutTradeNo, d.Attempts)
		}
	}
	for i, b := range bad {
		list, err := env.Store.ListNotifications(ctx, store.NotificationFilter{Channel: b.ch}, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 0 {
			t.Fatalf("%s: nothing stored", b.name)
		}
		o, _ := env.Store.GetOrder(ctx, orders[i].OutTradeNo)
		if o.Status != store.OrderPending {
			t.Errorf("%s changed the order: %+v", b.name, o)
		}
	}
	by, total := countBy(t, env.Store)
	attempts := len(testkit.FastRetries[gateway.Alipay]) + 1
	if total != (len(bad)+1)*attempts || by[store.ApplyRejected] != len(bad)*attempts || by[store.ApplyUnknownOrder] != attempts {
		t.Fatalf("stored %d: %v", total, by)
	}

	// Replaying every one of them changes nothing.
	failed, err := env.Service.FailedNotifications(ctx, ops_ReplayAll())
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(failed))
	for i, n := range failed {
		ids[i] = n.ID
	}
	results, err := env.Service.ReplayNotifications(ctx, ids, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Apply != store.ApplyRejected && r.Apply != store.ApplyUnknownOrder {
			t.Errorf("replay of a bad notification: %+v", r)
		}
	}
	if paid, _ := env.Store.CountOrders(ctx, store.OrderFilter{Status: store.OrderPaid}); paid != 0 {
		t.Fatalf("%d orders became PAID", paid)
	}
}

// TestOtherMerchantsNotificationIsRejected: correctly signed by the
// platform, but for another app_id / mchid.
func TestOtherMerchantsNotificationIsRejected(t *testing.T) {
	env := testenv.New(t, testenv.Options{Serve: true})
	other := testkit.StartSandbox(t, func(c *sandbox.Config) {
		c.Keys.AlipayAppID = "2021999999999999"
		c.Keys.WeChatMchID = "1999999999"
		c.NotifyURL = map[gateway.Channel]string{gateway.Alipay: env.ServeURL + "/notify/alipay", gateway.WeChat: env.ServeURL + "/notify/wechat"}
	})
	orders := []testenv.Order{{OutTradeNo: "PDOTHER01", Channel: gateway.Alipay, Amount: 700}, {OutTradeNo: "PDOTHER02", Channel: gateway.WeChat, Amount: 700}}
	env.ImportOrders(t, orders...)
	for _, o := range orders {
		if _, err := other.CreateTrade(sandbox.TradeSpec{Channel: o.Channel, OutTradeNo: o.OutTradeNo, Amount: o.Amount}); err != nil {
			t.Fatal(err)
		}
		if _, err := other.Pay(o.Channel, o.OutTradeNo, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := other.WaitDelivered(ctx); err != nil {
		t.Fatal(err)
	}
	list, _ := env.Store.ListNotifications(context.Background(), store.NotificationFilter{}, 0, 100)
	if len(list) == 0 {
		t.Fatal("nothing stored")
	}
	for _, n := range list {
		if n.VerifyStatus != store.Rejected || !strings.Contains(n.VerifyError, "not addressed to this merchant") {
			t.Errorf("%+v", n)
		}
	}
	if paid, _ := env.Store.CountOrders(context.Background(), store.OrderFilter{Status: store.OrderPaid}); paid != 0 {
		t.Fatalf("%d orders paid by another merchant's notification", paid)
	}
}

// TestGarbageAndOversizedBodiesAreStoredAndRefused posts directly.
func TestGarbageAndOversizedBodiesAreStoredAndRefused(t *testing.T) {
	env := testenv.New(t, testenv.Options{Serve: true})
	cases := []struct {
		path, body string
		status     int
		reply      string
	}{
		{"/notify/alipay", "this is not a form \x00\xff", 200, "fail"},
		{"/notify/wechat", `{"id":`, 400, `"code":"FAIL"`},
		{"/notify/wechat", strings.Repeat("x", 70<<10), 413, "too large"},
		{"/notify/alipay", strings.Repeat("a=b&", 20<<10), 413, "too large"},
	}
	for _, c := range cases {
		resp, err := http.Post(env.ServeURL+c.path, "application/octet-stream", bytes.NewReader([]byte(c.body)))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || !strings.Contains(string(b), c.reply) {
			t.Errorf("%s %.20q: %d %q; want %d %q", c.path, c.body, resp.StatusCode, b, c.status, c.reply)
		}
	}
	list, _ := env.Store.ListNotifications(context.Background(), store.NotificationFilter{}, 0, 100)
	if len(list) != len(cases) {
		t.Fatalf("%d stored; want every one of %d", len(list), len(cases))
	}
	for _, n := range list {
		if n.VerifyStatus != store.Rejected || n.ApplyStatus != store.ApplyRejected || len(n.Body) == 0 || len(n.Body) > 64<<10 {
			t.Errorf("%d: %s %s %d bytes", n.ID, n.VerifyStatus, n.ApplyStatus, len(n.Body))
		}
	}
	resp, err := http.Get(env.ServeURL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
}

// TestUnknownOrderIsAppliedByReplayOnceTheOrderExists: the failed callback
// waits; after the order is imported, replay applies it exactly once.
func TestUnknownOrderIsAppliedByReplayOnceTheOrderExists(t *testing.T) {
	env := testenv.New(t, testenv.Options{Serve: true})
	ctx := context.Background()
	o := testenv.Order{OutTradeNo: "PDLATE0001", Channel: gateway.WeChat, Amount: 4200}
	env.Sandbox.SetFault(gateway.WeChat, o.OutTradeNo, sandbox.Fault{DuplicateNotify: 1})
	env.Pay(t, o, time.Time{})
	env.WaitDelivered(t, time.Minute)
	failed, err := env.Service.FailedNotifications(ctx, ops_ReplayAll())
	if err != nil || len(failed) == 0 {
		t.Fatalf("%v %v", failed, err)
	}
	env.ImportOrders(t, o)
	ids := []int64{}
	for _, n := range failed {
		ids = append(ids, n.ID)
	}
	results, err := env.Service.ReplayNotifications(ctx, ids, nil)
	if err != nil {
		t.Fatal(err)
	}
	applied := 0
	for _, r := range results {
		switch r.Apply {
		case store.ApplyApplied:
			applied++
		case store.ApplyDuplicate:
		default:
			t.Errorf("replay: %+v", r)
		}
	}
	if applied != 1 {
		t.Fatalf("%d replays applied; want exactly 1", applied)
	}
	got, _ := env.Store.GetOrder(ctx, o.OutTradeNo)
	if got.Status != store.OrderPaid || got.PaidVia != store.ViaNotify {
		t.Fatalf("%+v", got)
	}
	audit, _ := env.Store.ListAudit(ctx, store.AuditFilter{Action: "replay"}, 0, 100)
	if len(audit) < len(ids) || audit[0].Operator != "tester" {
		t.Fatalf("replays not audited: %+v", audit)
	}
	if a, _ := env.Store.Attempts(ctx, ids[0]); len(a) < 2 || a[len(a)-1].Kind != store.AttemptReplay || a[len(a)-1].Operator != "tester" {
		t.Fatalf("attempts: %+v", a)
	}
}
