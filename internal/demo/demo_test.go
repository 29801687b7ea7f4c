package demo_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/internal/demo"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

// TestDemoSeedsEveryFaultWhereAPersonWillFindIt runs the whole bootstrap
// into a temp folder, then checks each seeded fault: its callback in the
// notification log, and its category in yesterday's reconciliation, run as
// the console would run it. Nothing else may be flagged.
func TestDemoSeedsEveryFaultWhereAPersonWillFindIt(t *testing.T) {
	checkDemoFaults(t, demo.Options{Dir: t.TempDir(), OrdersPerDay: 60, Seed: 1})
}

// The demo of a WeChat v2-only merchant (`paydesk demo --wechat-api v2`)
// shows the same faults in the same places: its callbacks are v2 XML, its
// live query, platform-console refund and bill go through v2.
func TestDemoOfAV2MerchantSeedsTheSameFaults(t *testing.T) {
	checkDemoFaults(t, demo.Options{Dir: t.TempDir(), OrdersPerDay: 60, Seed: 1, WeChatAPI: "v2"})
}

func checkDemoFaults(t *testing.T, opt demo.Options) {
	if testing.Short() {
		t.Skip("bootstraps a demo workspace")
	}
	ctx := context.Background()
	start := time.Now()
	d, err := demo.Start(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	t.Logf("bootstrap took %s", time.Since(start))
	svc := d.Service()

	if opt.WeChatAPI == "v2" {
		all, _ := svc.ListNotifications(ctx, store.NotificationFilter{Channel: gateway.WeChat}, 0, 100000)
		for _, n := range all {
			// Listings carry no bodies: open each.
			raw, _, err := svc.Notification(ctx, n.ID)
			if err != nil || !strings.HasPrefix(string(raw.Body), "<xml>") {
				t.Fatalf("a v2 merchant got a callback that is not v2 XML: %.60q %v", raw.Body, err)
			}
		}
		if len(all) == 0 {
			t.Fatal("no WeChat callbacks")
		}
	}
	if len(d.Faults) < 10 {
		t.Fatalf("only %d faults seeded", len(d.Faults))
	}
	for _, f := range d.Faults {
		if f.Callback == "" {
			continue
		}
		list, err := svc.ListNotifications(ctx, store.NotificationFilter{OutTradeNo: f.OutTradeNo}, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if f.Callback == store.ApplyRejected {
			// A forged callback names its order only in its unverified
			// body: find it there (listings carry no bodies; open each).
			all, _ := svc.ListNotifications(ctx, store.NotificationFilter{Failed: true}, 0, 10000)
			list = nil
			for _, n := range all {
				if raw, _, err := svc.Notification(ctx, n.ID); err == nil && strings.Contains(string(raw.Body), f.OutTradeNo) {
					list = append(list, raw)
				}
			}
		}
		found := false
		for _, n := range list {
			found = found || n.ApplyStatus == f.Callback
		}
		if !found {
			t.Errorf("%s (%s): no notification %s among %d", f.Name, f.OutTradeNo, f.Callback, len(list))
		}
	}

	want := map[string]string{} // out_trade_no (+refund) → category, per the faults on yesterday
	for _, f := range d.Faults {
		if f.Finding != "" && f.Day.Equal(d.Yesterday) {
			want[key(f.OutTradeNo, f.Refund)] = f.Finding
		}
	}
	got := map[string]string{}
	settled := 0
	for _, ch := range gateway.Channels {
		run, err := svc.RunRecon(ctx, ops.ReconRequest{Channel: ch, Day: d.Yesterday}, nil)
		if err != nil {
			t.Fatal(err)
		}
		fs, _ := svc.Findings(ctx, store.FindingFilter{RunID: run.ID})
		for _, f := range fs {
			got[key(f.OutTradeNo, f.Kind == string(gateway.LineRefund))] = f.Category
		}
		settled += len(run.Settled)
	}
	for k, cat := range want {
		if got[k] != cat {
			t.Errorf("%s: reconciliation says %q, want %q", k, got[k], cat)
		}
	}
	for k, cat := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected finding %s", k, cat)
		}
	}
	if settled != 1 {
		t.Errorf("%d items settled from the day before; want the payment just before midnight", settled)
	}

	// The failed callback waits for replay: replaying it pays the order.
	for _, f := range d.Faults {
		if f.Name != "failed callback waiting for replay" {
			continue
		}
		list, _ := svc.ListNotifications(ctx, store.NotificationFilter{OutTradeNo: f.OutTradeNo}, 0, 100)
		if len(list) == 0 {
			t.Fatal("no callback stored for the order waiting for replay")
		}
		if _, err := svc.ReplayNotification(ctx, list[0].ID); err != nil {
			t.Fatal(err)
		}
		d2, _ := svc.ShowOrder(ctx, f.OutTradeNo)
		if d2.Order.Status != store.OrderPaid {
			t.Fatalf("after replay: %+v", d2.Order)
		}
	}
}

func key(no string, refund bool) string {
	if refund {
		return "refund:" + no
	}
	return no
}
