package ops_test

import (
	"context"
	"fmt"
	"github.com/paydesk/paydesk/internal/testkit"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/dbtest"
	"github.com/paydesk/paydesk/internal/testenv"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/recon"
	"github.com/paydesk/paydesk/store"
)

// yesterday is the latest day the platforms have a bill for.
func yesterday() time.Time {
	d, _ := gateway.Day(time.Now().In(gateway.Shanghai).AddDate(0, 0, -1), gateway.Shanghai)
	return d
}

func importPaid(t *testing.T, env *testenv.Env, no string, ch gateway.Channel, amount gateway.Money, paidAt time.Time, tradeNo string) {
	t.Helper()
	p := fmt.Sprintf("%s/paid-%s.csv", env.Dir, no)
	csv := fmt.Sprintf("out_trade_no,channel,amount,created_at,status,trade_no,paid_at\n%s,%s,%s,%s,PAID,%s,%s\n",
		no, ch, amount, paidAt.Add(-time.Minute).Format(time.RFC3339), tradeNo, paidAt.Format(time.RFC3339))
	if err := writeFile(p, csv); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Service.ImportOrders(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

// findingsByOrder maps out_trade_no (or request number) to categories.
func findingsByOrder(t *testing.T, svc *ops.Service, run store.Run) map[string][]string {
	t.Helper()
	fs, err := svc.Findings(context.Background(), store.FindingFilter{RunID: run.ID})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, f := range fs {
		k := f.OutTradeNo
		if f.Kind == string(gateway.LineRefund) {
			k = "refund:" + f.OutTradeNo
		}
		out[k] = append(out[k], f.Category)
	}
	return out
}

// TestReconFindsEveryInjectedFault pays orders through the sandbox with
// faults injected, lets the callbacks arrive through the real endpoint,
// then reconciles yesterday from the bill the sandbox serves: each fault is
// found in its category and nothing else is flagged.
func TestReconFindsEveryInjectedFault(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, db string) {
		env := testenv.New(t, testenv.Options{DB: db, Serve: true})
		ctx := context.Background()
		d := yesterday()
		at := func(h, m int) time.Time { return d.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
		order := func(no string, ch gateway.Channel, amount gateway.Money) testenv.Order {
			return testenv.Order{OutTradeNo: no, Channel: ch, Amount: amount, CreatedAt: at(9, 0)}
		}

		var fine []testenv.Order
		for i := range 12 {
			ch := gateway.Alipay
			if i%3 == 0 {
				ch = gateway.WeChat
			}
			fine = append(fine, order(fmt.Sprintf("PDOK%04d", i), ch, gateway.Money(1000+i*37)))
		}
		drop := order("PDDROP0001", gateway.Alipay, 2500)
		tamper := order("PDTAMP0001", gateway.WeChat, 3300)
		mismatch := order("PDMISM0001", gateway.Alipay, 1200)
		viaQuery := order("PDQRY00001", gateway.WeChat, 800)
		late := order("PDLATE0001", gateway.Alipay, 4500)
		consoleSeen := order("PDCONS0001", gateway.Alipay, 6000)
		consoleLost := order("PDCONS0002", gateway.WeChat, 7000)
		dup := order("PDDUP00001", gateway.Alipay, 1500)
		env.ImportOrders(t, append(fine, drop, tamper, mismatch, viaQuery, consoleSeen, consoleLost, dup)...)

		for i, o := range fine {
			env.Pay(t, o, at(10, i))
		}
		env.Sandbox.SetFault(gateway.Alipay, drop.OutTradeNo, sandbox.Fault{DropNotify: true})
		env.Pay(t, drop, at(11, 0))
		env.Sandbox.SetFault(gateway.WeChat, tamper.OutTradeNo, sandbox.Fault{TamperAmount: 100})
		env.Pay(t, tamper, at(11, 5))
		// The platform charged 10.00 for a 12.00 order.
		env.Pay(t, testenv.Order{OutTradeNo: mismatch.OutTradeNo, Channel: gateway.Alipay, Amount: 1000, CreatedAt: at(9, 0)}, at(11, 10))
		// A payment whose callback was lost, found later by a live query.
		env.Sandbox.SetFault(gateway.WeChat, viaQuery.OutTradeNo, sandbox.Fault{DropNotify: true})
		env.Pay(t, viaQuery, at(11, 20))
		// A payment for an order paydesk never had.
		env.Pay(t, order("PDFOREIGN1", gateway.Alipay, 990), at(12, 0))
		// The callback failed (no order yet); the order came later and was
		// paid by query: its callback path is broken.
		env.Pay(t, late, at(12, 30))
		env.WaitDelivered(t, time.Minute)
		env.ImportOrders(t, late)
		for _, no := range []string{viaQuery.OutTradeNo, late.OutTradeNo} {
			if r, err := env.Service.QueryTrade(ctx, no); err != nil || !r.Applied {
				t.Fatalf("query %s: %+v %v", no, r, err)
			}
		}
		// Refunds made in the platform's console: one notified, one not.
		env.Pay(t, consoleSeen, at(13, 0))
		env.Pay(t, consoleLost, at(13, 5))
		env.WaitDelivered(t, time.Minute)
		if _, err := env.Sandbox.ConsoleRefund(sandbox.RefundSpec{Channel: gateway.Alipay, OutTradeNo: consoleSeen.OutTradeNo, Amount: 2000, At: at(15, 0)}); err != nil {
			t.Fatal(err)
		}
		env.Sandbox.SetFault(gateway.WeChat, consoleLost.OutTradeNo, sandbox.Fault{DropNotify: true})
		if _, err := env.Sandbox.ConsoleRefund(sandbox.RefundSpec{Channel: gateway.WeChat, OutTradeNo: consoleLost.OutTradeNo, Amount: 3000, At: at(15, 5)}); err != nil {
			t.Fatal(err)
		}
		// One order paid on both platforms.
		env.Pay(t, dup, at(14, 0))
		env.WaitDelivered(t, time.Minute) // the first payment is the order's; the second the duplicate
		env.Pay(t, testenv.Order{OutTradeNo: dup.OutTradeNo, Channel: gateway.WeChat, Amount: dup.Amount, CreatedAt: at(9, 0)}, at(14, 1))
		// Paid locally (an import), unknown to the platform.
		importPaid(t, env, "PDGHOST001", gateway.Alipay, 5000, at(16, 0), "2026000000000000GHOST")
		env.WaitDelivered(t, time.Minute)

		want := map[gateway.Channel]map[string][]string{
			gateway.Alipay: {
				drop.OutTradeNo:     {"UNPAID_LOCAL"},
				mismatch.OutTradeNo: {"AMOUNT_MISMATCH"},
				"PDFOREIGN1":        {"MISSING_LOCAL"},
				late.OutTradeNo:     {"NOTIFY_REJECTED"},
				"PDGHOST001":        {"MISSING_PLATFORM"},
			},
			gateway.WeChat: {
				tamper.OutTradeNo:                  {"UNPAID_LOCAL"},
				viaQuery.OutTradeNo:                {"NOTIFY_MISSING"},
				"refund:" + consoleLost.OutTradeNo: {"REFUND_MISMATCH"},
				dup.OutTradeNo:                     {"DUPLICATE_PAYMENT"},
			},
		}
		for _, ch := range gateway.Channels {
			run, err := env.Service.RunRecon(ctx, ops.ReconRequest{Channel: ch, Day: d}, nil)
			if err != nil {
				t.Fatalf("%s: %v", ch, err)
			}
			got := findingsByOrder(t, env.Service, run)
			if fmt.Sprint(sorted(got)) != fmt.Sprint(sorted(want[ch])) {
				t.Errorf("%s findings:\n got  %v\n want %v", ch, sorted(got), sorted(want[ch]))
			}
			if run.Bill == nil || run.Bill.Source != "download" || len(run.Bill.SHA256) != 64 {
				t.Errorf("%s bill: %+v", ch, run.Bill)
			}
			if run.Counts[string(recon.Matched)].Count == 0 {
				t.Errorf("%s: nothing matched: %+v", ch, run.Counts)
			}
			if ch == gateway.Alipay {
				if len(run.Notices) != 1 || run.Notices[0].OutTradeNo != consoleSeen.OutTradeNo {
					t.Errorf("the console refund that was notified should be a notice: %+v", run.Notices)
				}
			}
		}
	})
}

func sorted(m map[string][]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+strings.Join(v, "+"))
	}
	sort.Strings(out)
	return out
}

// TestCrossDayPaymentSettlesNextDay: paid at 23:59:58, booked by the
// platform at 00:00:08: CROSS_DAY on day 1, MATCHED (settled) on day 2.
// Re-running day 1 keeps a resolution.
func TestCrossDayPaymentSettlesNextDay(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, db string) {
		env := testenv.New(t, testenv.Options{DB: db, Serve: true})
		ctx := context.Background()
		day2 := yesterday()
		day1 := day2.AddDate(0, 0, -1)
		o := testenv.Order{OutTradeNo: "PDMIDNIGHT", Channel: gateway.Alipay, Amount: 8800, CreatedAt: day2.Add(-time.Minute)}
		other := testenv.Order{OutTradeNo: "PDNOON0001", Channel: gateway.Alipay, Amount: 100, CreatedAt: day1.Add(12 * time.Hour)}
		env.ImportOrders(t, o, other)
		env.Pay(t, other, day1.Add(12*time.Hour))
		env.Sandbox.SetFault(gateway.Alipay, o.OutTradeNo, sandbox.Fault{BookLate: 10 * time.Second})
		env.Pay(t, o, day2.Add(-2*time.Second))
		env.WaitDelivered(t, time.Minute)

		run1, err := env.Service.RunRecon(ctx, ops.ReconRequest{Channel: gateway.Alipay, Day: day1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := findingsByOrder(t, env.Service, run1); fmt.Sprint(got) != "map[PDMIDNIGHT:[CROSS_DAY]]" {
			t.Fatalf("day 1: %v", got)
		}
		fs, _ := env.Service.Findings(ctx, store.FindingFilter{RunID: run1.ID})
		if _, err := env.Service.ResolveFinding(ctx, fs[0].ID, "ignored", "booked after midnight, checked with the bill of the 2nd"); err != nil {
			t.Fatal(err)
		}
		rerun, err := env.Service.RunRecon(ctx, ops.ReconRequest{Channel: gateway.Alipay, Day: day1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		fs, _ = env.Service.Findings(ctx, store.FindingFilter{RunID: rerun.ID})
		if len(fs) != 1 || fs[0].Resolution != "ignored" || fs[0].Resolver != "tester" {
			t.Fatalf("re-run lost the resolution: %+v", fs)
		}
		if old, _ := env.Service.ReconRun(ctx, run1.ID); old.Superseded != rerun.ID || old.Bill.ID != rerun.Bill.ID {
			t.Fatalf("the first run is not superseded, or the same bill was stored twice: %+v", old)
		}

		run2, err := env.Service.RunRecon(ctx, ops.ReconRequest{Channel: gateway.Alipay, Day: day2}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := findingsByOrder(t, env.Service, run2); len(got) != 0 {
			t.Fatalf("day 2 findings: %v", got)
		}
		if len(run2.Settled) != 1 || run2.Settled[0].OutTradeNo != o.OutTradeNo || run2.Settled[0].Category != string(recon.Matched) {
			t.Fatalf("day 2 settled: %+v", run2.Settled)
		}
	})
}

// TestRefundBookedOnALaterDay: an order paid on day 1 and refunded on day
// 2 reconciles on both days.
func TestRefundBookedOnALaterDay(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, db string) {
		env := testenv.New(t, testenv.Options{DB: db, Serve: true})
		ctx := context.Background()
		day2 := yesterday()
		day1 := day2.AddDate(0, 0, -1)
		for _, ch := range gateway.Channels {
			o := testenv.Order{OutTradeNo: "PDREFLATER" + string(ch[:1]), Channel: ch, Amount: 5000, CreatedAt: day1.Add(9 * time.Hour)}
			env.ImportOrders(t, o)
			env.Pay(t, o, day1.Add(10*time.Hour))
			env.WaitDelivered(t, time.Minute)
			// The refund made through paydesk, succeeding "on day 2".
			if _, err := env.Sandbox.ConsoleRefund(sandbox.RefundSpec{Channel: ch, OutTradeNo: o.OutTradeNo, Amount: 1500, At: day2.Add(9 * time.Hour)}); err != nil {
				t.Fatal(err)
			}
			env.WaitDelivered(t, time.Minute)
			for _, d := range []time.Time{day1, day2} {
				run, err := env.Service.RunRecon(ctx, ops.ReconRequest{Channel: ch, Day: d}, nil)
				if err != nil {
					t.Fatal(err)
				}
				if got := findingsByOrder(t, env.Service, run); len(got) != 0 {
					t.Errorf("%s %s: %v", ch, d.Format(store.DayFormat), got)
				}
				if d.Equal(day2) && (run.Counts[string(recon.Matched)].Count != 1 || run.Lines != 1) {
					t.Errorf("%s day 2: the refund line should match: %+v", ch, run.Counts)
				}
			}
		}
	})
}

// TestBillDisagreeingWithItselfSavesNothing: a bill whose stated totals do
// not match its lines fails the run with a message naming it.
func TestBillDisagreeingWithItselfSavesNothing(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, db string) {
		env := testenv.New(t, testenv.Options{DB: db})
		ctx := context.Background()
		path := testdataPath("alipay", "totals_disagree.csv")
		_, err := env.Service.RunRecon(ctx, ops.ReconRequest{Channel: gateway.Alipay, Day: yesterday(), BillFile: path}, nil)
		if err == nil || !strings.Contains(err.Error(), "totals_disagree.csv") {
			t.Fatalf("error %v; want one naming the bill", err)
		}
		if runs, _ := env.Service.ReconRuns(ctx, 10); len(runs) != 0 {
			t.Fatalf("a failed run saved %d runs", len(runs))
		}
	})
}

func testdataPath(elem ...string) string {
	return testkit.Testdata(elem...)
}

func writeFile(p, content string) error { return os.WriteFile(p, []byte(content), 0o600) }
