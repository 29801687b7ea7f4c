package ops_test

import (
	"context"
	"errors"
	"os"
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

// TestChangesMoveWithEveryWrite: every kind of write — an import, a
// callback through the endpoint, a live query, a refund and its retry, a
// replay, a reconciliation, a resolution — moves the change stamp, in the
// fields that name it; reads (listings, an order's page, a finding's
// detail) move nothing. A console polling the stamp sees everything.
func TestChangesMoveWithEveryWrite(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, db string) {
		env := testenv.New(t, testenv.Options{DB: db, Serve: true})
		svc := env.Service
		ctx := context.Background()
		d := yesterday()
		last, err := svc.Changes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// moved runs a write and checks the stamp moved in exactly the fields
		// want names (and never went back).
		moved := func(what string, want []string, write func()) {
			t.Helper()
			write()
			now, err := svc.Changes(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := changedFields(last, now); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s moved %v, want %v (%+v → %+v)", what, got, want, last, now)
			}
			last = now
		}
		settle := func() {
			env.WaitDelivered(t, time.Minute)
			last, _ = svc.Changes(ctx)
		}

		paid := testenv.Order{OutTradeNo: "PDCHG00001", Channel: gateway.Alipay, Amount: 5000, CreatedAt: d.Add(9 * time.Hour)}
		late := testenv.Order{OutTradeNo: "PDCHG00002", Channel: gateway.Alipay, Amount: 700, CreatedAt: d.Add(9 * time.Hour)}
		quiet := testenv.Order{OutTradeNo: "PDCHG00003", Channel: gateway.WeChat, Amount: 900, CreatedAt: d.Add(9 * time.Hour)}
		moved("an import", []string{"Orders", "Audit"}, func() { env.ImportOrders(t, paid, quiet) })
		moved("a callback", []string{"Notifications", "Attempts"}, func() {
			env.Pay(t, paid, d.Add(10*time.Hour))
			env.WaitDelivered(t, time.Minute)
		})
		moved("a failed callback", []string{"Notifications", "Attempts"}, func() {
			env.Pay(t, late, d.Add(11*time.Hour)) // no such order yet: UNKNOWN_ORDER
			// A payment paydesk has no order for: a finding to resolve.
			env.Pay(t, testenv.Order{OutTradeNo: "PDCHGFOREIGN", Channel: gateway.Alipay, Amount: 300, CreatedAt: d.Add(9 * time.Hour)}, d.Add(11*time.Hour))
			env.WaitDelivered(t, time.Minute)
		})
		moved("a live query that applies a payment", []string{"Queries", "Audit"}, func() {
			env.Sandbox.SetFault(gateway.WeChat, quiet.OutTradeNo, sandbox.Fault{DropNotify: true})
			env.Pay(t, quiet, d.Add(12*time.Hour))
			env.WaitDelivered(t, time.Minute)
			if r, err := svc.QueryTrade(ctx, quiet.OutTradeNo); err != nil || !r.Applied {
				t.Fatalf("query: %+v %v", r, err)
			}
		})
		var pending string
		moved("a refund left pending", []string{"Refunds", "Audit"}, func() {
			env.Sandbox.SetFault(gateway.Alipay, paid.OutTradeNo, sandbox.Fault{ServerError: true})
			out, err := svc.Refund(ctx, paid.OutTradeNo, 1000, "changes test")
			if err != nil || !out.Unknown {
				t.Fatalf("refund: %+v %v", out, err)
			}
			pending = out.Refund.OutRequestNo
			env.Sandbox.ClearFaults()
		})
		settle()
		env.Sandbox.SetFault(gateway.Alipay, paid.OutTradeNo, sandbox.Fault{DropNotify: true})
		moved("a refund settled by a retry", []string{"Audit"}, func() {
			if out, err := svc.RetryRefund(ctx, pending); err != nil || out.Refund.Status != gateway.RefundSuccess {
				t.Fatalf("retry: %+v %v", out, err)
			}
		})
		settle()
		env.ImportOrders(t, late)
		settle()
		moved("a replay", []string{"Attempts", "Audit"}, func() {
			ns, err := svc.ListNotifications(ctx, store.NotificationFilter{OutTradeNo: late.OutTradeNo}, 0, 1)
			if err != nil || len(ns) != 1 {
				t.Fatalf("%v %v", ns, err)
			}
			if r, err := svc.ReplayNotification(ctx, ns[0].ID); err != nil || r.Apply != store.ApplyApplied {
				t.Fatalf("replay: %+v %v", r, err)
			}
		})
		var run store.Run
		moved("a reconciliation", []string{"Runs", "Audit"}, func() {
			if run, err = svc.RunRecon(ctx, ops.ReconRequest{Channel: gateway.Alipay, Day: d}, nil); err != nil {
				t.Fatal(err)
			}
		})
		fs, err := svc.Findings(ctx, store.FindingFilter{RunID: run.ID})
		if err != nil || len(fs) == 0 {
			t.Fatalf("findings: %v %v", fs, err)
		}
		moved("reads", nil, func() {
			if _, err := svc.ListOrders(ctx, store.OrderFilter{}, nil, store.Older, 100); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.ShowOrder(ctx, paid.OutTradeNo); err != nil {
				t.Fatal(err)
			}
			for _, f := range fs {
				if _, err := svc.FindingDetail(ctx, f.ID); err != nil {
					t.Fatal(err)
				}
				if _, err := svc.FindingBillLine(ctx, f.ID); err != nil && !errors.Is(err, ops.ErrNoBillLine) {
					t.Fatal(err)
				}
			}
			if _, err := svc.CountOrdersUpTo(ctx, store.OrderFilter{Number: "PD"}); err != nil {
				t.Fatal(err)
			}
		})
		moved("a resolution", []string{"Audit"}, func() {
			if _, err := svc.ResolveFinding(ctx, fs[0].ID, "resolved", "changes test"); err != nil {
				t.Fatal(err)
			}
		})
	})
}

func changedFields(a, b ops.Changes) []string {
	var out []string
	for _, f := range []struct {
		name string
		a, b int64
	}{{"Orders", a.Orders, b.Orders}, {"Notifications", a.Notifications, b.Notifications}, {"Attempts", a.Attempts, b.Attempts},
		{"Queries", a.Queries, b.Queries}, {"Refunds", a.Refunds, b.Refunds}, {"Runs", a.Runs, b.Runs}, {"Audit", a.Audit, b.Audit}} {
		if f.b < f.a {
			out = append(out, f.name+" went back")
		} else if f.b > f.a {
			out = append(out, f.name)
		}
	}
	return out
}

// TestFindingDetail opens findings of a reconciliation made from the
// platform's bill: the bill line comes back as the kept file holds it (file,
// line number, every column), with the local order, its callbacks and
// queries; a payment paydesk has no order for shows the callbacks that
// named it; opening writes nothing; and a bill file changed since the run
// is said, not shown.
func TestFindingDetail(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, db string) {
		env := testenv.New(t, testenv.Options{DB: db, Serve: true})
		svc := env.Service
		ctx := context.Background()
		d := yesterday()
		lost := testenv.Order{OutTradeNo: "PDFDLOST01", Channel: gateway.Alipay, Amount: 2500, CreatedAt: d.Add(9 * time.Hour)}
		fine := testenv.Order{OutTradeNo: "PDFDFINE01", Channel: gateway.Alipay, Amount: 1200, CreatedAt: d.Add(9 * time.Hour)}
		env.ImportOrders(t, lost, fine)
		env.Pay(t, fine, d.Add(10*time.Hour))
		env.Sandbox.SetFault(gateway.Alipay, lost.OutTradeNo, sandbox.Fault{DropNotify: true})
		env.Pay(t, lost, d.Add(11*time.Hour))
		env.Pay(t, testenv.Order{OutTradeNo: "PDFDFOREIGN", Channel: gateway.Alipay, Amount: 990, CreatedAt: d.Add(9 * time.Hour)}, d.Add(12*time.Hour))
		env.WaitDelivered(t, time.Minute)
		if _, err := svc.QueryTrade(ctx, fine.OutTradeNo); err != nil {
			t.Fatal(err)
		}
		run, err := svc.RunRecon(ctx, ops.ReconRequest{Channel: gateway.Alipay, Day: d}, nil)
		if err != nil {
			t.Fatal(err)
		}
		fs, err := svc.Findings(ctx, store.FindingFilter{RunID: run.ID})
		if err != nil {
			t.Fatal(err)
		}
		byOrder := map[string]store.Finding{}
		for _, f := range fs {
			byOrder[f.OutTradeNo] = f
		}
		before, _ := svc.Changes(ctx)

		unpaid, ok := byOrder[lost.OutTradeNo]
		if !ok || unpaid.Category != "UNPAID_LOCAL" || unpaid.BillLine == 0 {
			t.Fatalf("the lost callback's finding: %+v", unpaid)
		}
		fd, err := svc.FindingDetail(ctx, unpaid.ID)
		if err != nil {
			t.Fatal(err)
		}
		l, err := svc.FindingBillLine(ctx, unpaid.ID)
		if err != nil || l.Line != unpaid.BillLine || !strings.HasPrefix(l.File, run.Bill.FileName) || len(l.Fields) != len(l.Columns) || len(l.Columns) < 10 {
			t.Fatalf("bill line: %+v (%v)", l, err)
		}
		col := map[string]string{}
		for i, c := range l.Columns {
			col[c] = strings.TrimSpace(l.Fields[i])
		}
		if col["商户订单号"] != lost.OutTradeNo || col["订单金额（元）"] != "25.00" || !strings.Contains(l.Text, lost.OutTradeNo) {
			t.Errorf("the line is not the order's as Alipay wrote it: %q / %q", col, l.Text)
		}
		if fd.Order == nil || fd.Order.Order.OutTradeNo != lost.OutTradeNo || len(fd.Order.Timeline) == 0 || fd.Action == "" {
			t.Errorf("order, timeline or action missing: %+v", fd)
		}

		foreign, ok := byOrder["PDFDFOREIGN"]
		if !ok || foreign.Category != "MISSING_LOCAL" {
			t.Fatalf("the foreign payment's finding: %+v", foreign)
		}
		fd, err = svc.FindingDetail(ctx, foreign.ID)
		if err != nil || fd.Order != nil || len(fd.Callbacks) == 0 {
			t.Fatalf("foreign payment: order %v, %d callbacks, %v", fd.Order, len(fd.Callbacks), err)
		}
		if l, err := svc.FindingBillLine(ctx, foreign.ID); err != nil || !strings.Contains(l.Text, "PDFDFOREIGN") {
			t.Fatalf("foreign payment's line: %+v %v", l, err)
		}
		for _, n := range fd.Callbacks {
			if n.OutTradeNo != "PDFDFOREIGN" || n.ApplyStatus != store.ApplyUnknownOrder {
				t.Errorf("callback %d of the foreign payment: %s %s", n.ID, n.OutTradeNo, n.ApplyStatus)
			}
		}
		if after, _ := svc.Changes(ctx); after != before {
			t.Errorf("opening findings wrote something: %+v → %+v", before, after)
		}

		// The kept file changed since the run: the line is not shown as if it
		// were the one reconciled.
		path := run.Bill.Path
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(data, '\n'), 0o600); err != nil {
			t.Fatal(err)
		}
		if l, err := svc.FindingBillLine(ctx, unpaid.ID); err == nil || !strings.Contains(err.Error(), "has changed since the run") {
			t.Fatalf("changed bill: %+v %v", l, err)
		}
	})
}
