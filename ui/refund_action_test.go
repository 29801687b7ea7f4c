package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/testenv"
	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/ops"
)

// TestAbnormalRefundShowsWhatToDo: a refund that WeChat Pay (the sandbox)
// ends ABNORMAL, its REFUND.ABNORMAL callback through the real endpoint,
// then the day's trade run. ABNORMAL — the one refund status that needs a
// person — shows whole wherever a refund's status is shown, at 80, 100,
// 120 and 160 columns: the Refunds list (its row marked, its note saying it
// needs action; STATUS was 7 wide and cut it to "ABNORM…"), the order page
// (what to do), the reconciliation's finding (its detail line and page);
// and from 120 columns the Notifications list names the event whole
// (REFUND_ABNORMAL, not "REFUND_…", which REFUND_CLOSED also was).
func TestAbnormalRefundShowsWhatToDo(t *testing.T) {
	d := time.Date(2026, 11, 22, 0, 0, 0, 0, gateway.Shanghai)
	clk := testkit.NewClock(d.Add(10 * time.Hour))
	env := testenv.New(t, testenv.Options{Serve: true, Operator: "alice", Now: clk.Now, Channels: []gateway.Channel{gateway.WeChat},
		Sandbox: func(c *sandbox.Config) { c.Now = clk.Now }})
	ctx := context.Background()
	o := testenv.Order{OutTradeNo: "PD20261122ABNORMAL01", Channel: gateway.WeChat, Amount: 10000, CreatedAt: d.Add(10 * time.Hour)}
	env.ImportOrders(t, o)
	env.Pay(t, o, d.Add(10*time.Hour+time.Minute))
	env.WaitDelivered(t, time.Minute)
	clk.Set(d.Add(15 * time.Hour))
	env.Sandbox.SetFault(gateway.WeChat, o.OutTradeNo, sandbox.Fault{RefundEnds: gateway.RefundAbnormal})
	out, err := env.Service.Refund(ctx, o.OutTradeNo, 6000, "returned")
	if err != nil {
		t.Fatal(err)
	}
	no := out.Refund.OutRequestNo
	env.WaitRefund(t, no, gateway.RefundAbnormal)
	env.WaitDelivered(t, time.Minute)
	clk.Set(d.Add(34 * time.Hour))
	if _, err := env.Service.RunRecon(ctx, ops.ReconRequest{Channel: gateway.WeChat, Day: d}, nil); err != nil {
		t.Fatal(err)
	}
	f := &fixture{svc: env.Service, st: env.Store, env: env, dir: env.Dir}
	row := func(frame, has string) string {
		for _, l := range strings.Split(frame, "\n") {
			if strings.Contains(l, has) {
				return l
			}
		}
		t.Fatalf("no row with %q:\n%s", has, frame)
		return ""
	}
	for _, w := range []int{80, 100, 120, 160} {
		m := newModel(t, f, Options{Clock: clk.Now, Workspace: "~/shop/paydesk.db", noTicks: true}, w, 30)
		press(t, m, "4")
		if r := row(m.View(), "¥60.00"); !strings.Contains(r, " ABNORMAL ") || !strings.HasPrefix(r, ">! ") {
			t.Fatalf("%d columns: the refund's row %q does not show ABNORMAL whole, marked", w, r)
		}
		if w >= 100 {
			mustContain(t, m.View(), "needs actio")
		}
		press(t, m, "3")
		if r := row(m.View(), "VERIFIED   APPLIED"); w >= wideLayout && !strings.Contains(r, " REFUND_ABNORMAL ") {
			t.Fatalf("%d columns: the callback's row %q does not name REFUND_ABNORMAL whole", w, r)
		}
		press(t, m, "4", "enter")
		mustContain(t, m.View(), "Needs action (1)", "! refund "+no+" (¥60.00, ABNORMAL)", "held by an ABNORMAL refund")
		press(t, m, "esc", "2")
		mustContain(t, m.View(), "REFUND_MISMATCH", "on order PD20261122ABNORMAL01 is")
		press(t, m, "enter")
		mustContain(t, m.View(), "ABNORMAL (WeChat Pay's", "Handle it as")
	}
}
