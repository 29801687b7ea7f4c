package ui

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/recon"
	"github.com/paydesk/paydesk/store"
)

// colleague is another person's service over the same store: the CLI from
// cron, a second console, an SSH session.
func colleague(t *testing.T, f *fixture) *ops.Service {
	t.Helper()
	svc, err := ops.New(ops.Options{Store: f.st, Operator: ops.Operator{Name: "bob", Role: ops.Admin}, Now: pinnedClock, Platforms: f.env.Platforms})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// tick is one second of the console's clock: it polls the change stamp
// and lets the view in front reload (ticks are off in tests, so they are
// driven by hand).
func tick(t *testing.T, m *Model) { drive(t, m, clockMsg(testNow)) }

func runCount(t *testing.T, svc *ops.Service) int {
	t.Helper()
	runs, err := svc.ReconRuns(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(runs)
}

// A run made elsewhere (the CLI, cron, a colleague) while Reconcile is on
// screen shows by itself on the next tick; a tick with nothing new reads
// nothing but the stamp.
func TestARunMadeElsewhereAppearsInReconcile(t *testing.T) {
	f := newFixture(t, ops.Admin, true)
	bill := wechatBill(t, f.dir)
	m := newModel(t, f, testOptions(), 100, 30)
	press(t, m, "2", "c")
	rv := m.views[reconTab].(*reconView)
	mustContain(t, m.View(), "[wechat]", "No run for this day yet")
	tick(t, m)
	lookups := rv.lookup
	tick(t, m)
	if rv.lookup != lookups {
		t.Fatal("a tick with nothing changed read the run again")
	}
	run, err := colleague(t, f).RunRecon(context.Background(), ops.ReconRequest{Channel: gateway.WeChat, Day: day("2026-11-22"), BillFile: bill}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, m.View(), "No run for this day yet") // not yet: the next tick
	tick(t, m)
	if rv.run == nil || rv.run.ID != run.ID {
		t.Fatalf("the colleague's run %d did not appear: %+v", run.ID, rv.run)
	}
	mustContain(t, m.View(), "run 1 by bob", "MISSING_LOCAL", "5 of 5 findings")

	// A resolution made elsewhere shows too, and the selection stays on
	// its finding.
	press(t, m, "j", "j")
	sel, _ := rv.selected()
	if _, err := colleague(t, f).ResolveFinding(context.Background(), rv.findings[0].ID, "resolved", "handled by bob"); err != nil {
		t.Fatal(err)
	}
	tick(t, m)
	if now, _ := rv.selected(); now.ID != sel.ID {
		t.Fatalf("the selection moved from finding %d to %d", sel.ID, now.ID)
	}
	if rv.findings[0].Resolution != "resolved" {
		t.Fatal("the colleague's resolution is not shown")
	}

	// Switching away and back reads the day again even without a tick.
	if _, err := colleague(t, f).RunRecon(context.Background(), ops.ReconRequest{Channel: gateway.WeChat, Day: day("2026-11-22"), BillFile: bill}, nil); err != nil {
		t.Fatal(err)
	}
	press(t, m, "1", "2")
	if rv.run.ID == run.ID {
		t.Fatal("showing Reconcile again did not read the new run")
	}
}

// enter on a finding opens its page — the bill line as the platform wrote
// it, the order, its callbacks, the live query, the actions — and starts
// no run, writes nothing; N starts a run.
func TestEnterOpensAFindingAndWritesNothing(t *testing.T) {
	f := newFixture(t, ops.Admin, true)
	bill := wechatBill(t, f.dir)
	m := newModel(t, f, testOptions(), 100, 30)
	press(t, m, "2", "c", "b", "text:"+bill, "enter", "N")
	rv := m.views[reconTab].(*reconView)
	if rv.run == nil || runCount(t, f.svc) != 1 {
		t.Fatalf("N did not run: %q", rv.runErr)
	}
	before, _ := f.svc.Changes(context.Background())
	press(t, m, "/", "text:unpaid", "enter", "enter")
	if rv.detail == nil {
		t.Fatal("enter did not open the finding")
	}
	frame := m.View()
	if testing.Verbose() {
		t.Log("\n" + frame)
	}
	mustContain(t, frame, "Finding ", "UNPAID_LOCAL", "Bill line")
	// The whole page, as it scrolls.
	frame = strings.Join(rv.detail.page.lines, "\n")
	mustContain(t, frame, "Finding ", "UNPAID_LOCAL", "Usual action: query the trade or replay its notification",
		"Bill line  wechat-2026-11-22.csv:", "交易时间", "`2026-11-22 23:59:55", "PD20261122D4E5F6",
		"Local order PD20261122D4E5F6", "Timeline (", "Callbacks (", "Live query", "never queried",
		"Actions", "r query the platform now", "D resolve", "o open the order in Orders")
	// Every column of the line, beside the header's name.
	for _, col := range []string{"公众账号ID", "商户号", "微信订单号", "商户订单号", "用户标识", "交易状态", "应结订单金额", "手续费"} {
		mustContain(t, frame, col)
	}
	// The buyer's openid in the line is masked like everywhere else.
	page := strings.Join(rv.detail.page.lines, "\n")
	if strings.Contains(page, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o") || !strings.Contains(page, gateway.MaskBuyerID("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")) {
		t.Errorf("the openid in the bill line is not masked:\n%s", page)
	}
	if after, _ := f.svc.Changes(context.Background()); after != before || runCount(t, f.svc) != 1 {
		t.Fatalf("opening a finding wrote something: %+v → %+v, %d runs", before, after, runCount(t, f.svc))
	}
	// The finding's actions work from its page; esc goes back to the list.
	press(t, m, "I", "text:test order", "enter")
	if fd, _ := rv.selected(); fd.Resolution != "ignored" {
		t.Fatalf("I on the page did not ignore the finding: %+v", fd)
	}
	mustContain(t, strings.Join(rv.detail.page.lines, "\n"), "ignored by alice: test order")
	press(t, m, "esc")
	if rv.detail != nil {
		t.Fatal("esc did not go back")
	}
	mustContain(t, m.View(), "findings", "UNPAID_LOCAL")
	// A payment with no local order: no order, its callbacks, no query key.
	press(t, m, "esc", "/", "text:PDFOREIGN", "enter", "enter")
	page = strings.Join(rv.detail.page.lines, "\n")
	mustContain(t, page, "MISSING_LOCAL", "paydesk has no order PDFOREIGN000001", "Callbacks (0)")
	mustNotContain(t, page, "r query the platform now")
}

// The Notifications view is a live tail: a callback that arrives while it
// is on screen shows at the top on the next tick, selected if the newest
// was; a selection further down stays on its row.
func TestNotificationsAreALiveTail(t *testing.T) {
	f := newFixture(t, ops.Admin, true)
	m := newModel(t, f, testOptions(), 100, 30)
	press(t, m, "3")
	nv := m.notifications()
	mustContain(t, m.View(), "3 notifications")
	arrive := func(id string) {
		f.env.Service.IntakeNotification(context.Background(), ops.Callback{Channel: gateway.WeChat, Header: http.Header{},
			Body: []byte(`{"id":"` + id + `","event_type":"TRANSACTION.SUCCESS"}`), RemoteAddr: "203.0.113.9", ReceivedAt: testNow})
	}
	arrive("EV-LIVE-1")
	tick(t, m)
	if len(nv.list.rows) != 4 || nv.list.sel != 0 || nv.list.rows[0].ID != 4 {
		t.Fatalf("the new callback is not on top and selected: sel %d, %d rows", nv.list.sel, len(nv.list.rows))
	}
	mustContain(t, m.View(), "4 notifications", ">!      4 ")
	press(t, m, "j", "j")
	kept := nv.list.rows[nv.list.sel].ID
	arrive("EV-LIVE-2")
	tick(t, m)
	if len(nv.list.rows) != 5 || nv.list.rows[nv.list.sel].ID != kept {
		t.Fatalf("the selection left notification %d", kept)
	}
}

// A refund made in another session shows in Orders without a key press.
func TestOrdersShowARefundMadeElsewhere(t *testing.T) {
	f := newFixture(t, ops.Admin, true)
	m := newModel(t, f, testOptions(), 100, 30)
	o := m.orders()
	press(t, m, "j", "j", "j")
	if r, _ := o.selected(); r.OutTradeNo != "PD20261122S8T9U2" {
		t.Fatalf("selected %s", r.OutTradeNo)
	}
	if _, err := colleague(t, f).Refund(context.Background(), "PD20261122S8T9U2", 500, "done by bob"); err != nil {
		t.Fatal(err)
	}
	mustContain(t, m.View(), "¥10.00")
	tick(t, m)
	r, _ := o.selected()
	if r.OutTradeNo != "PD20261122S8T9U2" || r.Refunded != 1500 {
		t.Fatalf("after the tick: %s refunded %s", r.OutTradeNo, r.Refunded.Yuan())
	}
	mustContain(t, m.View(), "¥15.00")
	// An order imported elsewhere appears on top: the selection stays.
	p := f.dir + "/late.csv"
	writeTestFile(t, p, "out_trade_no,channel,amount,created_at\nPD20261123NEW001,alipay,9.99,2026-11-23 09:00:00\n")
	if _, err := colleague(t, f).ImportOrders(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	tick(t, m)
	if r, _ := o.selected(); r.OutTradeNo != "PD20261122S8T9U2" || o.rows[0].OutTradeNo != "PD20261123NEW001" {
		t.Fatalf("after an import: selected %s, top %s", r.OutTradeNo, o.rows[0].OutTradeNo)
	}
	mustContain(t, m.View(), "of 11 orders", "PD20261123NEW001")
}

// At 120 columns and more, order and trade numbers are never cut and the
// detail column takes the rest; at 80 the compact layout stays.
func TestWideTerminalsShowWholeNumbers(t *testing.T) {
	f := newFixture(t, ops.Admin, true)
	const long = "PD2026112212345678901234567890AB" // 32 characters, WeChat's longest
	p := f.dir + "/long.csv"
	writeTestFile(t, p, "out_trade_no,channel,amount,created_at\n"+long+",wechat,1.00,2026-11-23 09:00:00\n")
	if _, err := f.svc.ImportOrders(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	bill := wechatBill(t, f.dir)
	for _, size := range [][2]int{{200, 50}, {120, 30}} {
		m := newModel(t, f, testOptions(), size[0], size[1])
		frame := m.View()
		mustContain(t, frame, long, "PD20261122D4E5F6 ")
		if size[0] == 200 {
			mustContain(t, frame, "TRADE_NO", "SUBJECT", "4200002026112200005", "Gift card")
		}
		press(t, m, "2", "c", "b", "text:"+bill, "enter")
		if runCount(t, f.svc) == 0 {
			press(t, m, "N")
		}
		frame = m.View()
		if testing.Verbose() {
			t.Logf("%dx%d:\n%s", size[0], size[1], frame)
		}
		mustContain(t, frame, "PD20261122D4E5F6 ", "PDFOREIGN000001 ", "4200002026112200099")
		for _, l := range strings.Split(frame, "\n") {
			if strings.Contains(l, "PD2026") && strings.Contains(l, "PD2026…") {
				t.Errorf("a cut order number at %d columns: %q", size[0], l)
			}
		}
	}
	m := newModel(t, f, testOptions(), 80, 24)
	mustContain(t, m.View(), "PD2026112212345678901…")
}

// A category recon adds shows as a card with no change to the console:
// the cards come from recon's list and from what the run counts.
func TestANewCategoryShowsAsACard(t *testing.T) {
	f := newFixture(t, ops.Admin, false)
	m := newModel(t, f, testOptions(), 100, 30)
	press(t, m, "2")
	rv := m.views[reconTab].(*reconView)
	run := store.Run{ID: 9, Channel: gateway.Alipay, Day: "2026-11-22", Counts: map[string]store.CategoryTotal{
		"FEE_MISMATCH": {Count: 2, Amount: 12}, "FUND_MISSING": {Count: 1, Amount: 500}, string(recon.Matched): {Count: 5, Amount: 900},
	}}
	fs := []store.Finding{{ID: 1, Category: "FEE_MISMATCH", Severity: "warning", OutTradeNo: "PD1"}, {ID: 2, Category: "FEE_MISMATCH", Severity: "warning", OutTradeNo: "PD2"},
		{ID: 3, Category: "FUND_MISSING", Severity: "critical", OutTradeNo: "PD3"}}
	drive(t, m, reconRunMsg{gen: rv.lookup, run: run, found: true, findings: fs})
	mustContain(t, m.View(), "! FEE_MISMATCH", "2 · ¥0.12", "!! FUND_MISSING", "✓ MATCHED")
	press(t, m, "f")
	if rv.category != "FEE_MISMATCH" && rv.category != "FUND_MISSING" {
		t.Fatalf("f does not cycle to the new categories: %q", rv.category)
	}
	// Every category recon lists gets a card when the run counts it.
	run.Counts = map[string]store.CategoryTotal{}
	for _, c := range recon.Categories {
		run.Counts[string(c)] = store.CategoryTotal{Count: 1}
	}
	drive(t, m, reconRunMsg{gen: rv.lookup, run: run, found: true})
	cards := rv.cards()
	for _, c := range recon.Categories {
		mustContain(t, cards, string(c))
	}
}

// A count that would walk most of a million orders stops at 100,000 and
// says so.
func TestCappedCountReads100000Plus(t *testing.T) {
	f := newFixture(t, ops.Admin, true)
	m := newModel(t, f, testOptions(), 100, 30)
	o := m.orders()
	drive(t, m, ordersCountMsg{gen: o.countGen, n: ops.Count{N: ops.CountLimit, More: true}})
	mustContain(t, m.View(), "all orders · 1 of 100,000+ orders")
	press(t, m, "3")
	nv := m.notifications()
	drive(t, m, notificationCountMsg{gen: nv.countGen, n: ops.Count{N: ops.CountLimit, More: true}})
	mustContain(t, m.View(), "100,000+ notifications")
}

// The first-run hint sits over the list, which shows around it.
func TestFirstRunHintSitsOverTheList(t *testing.T) {
	f := newFixture(t, ops.Admin, true)
	opts := testOptions()
	opts.FirstRunHint = true
	m := newModel(t, f, opts, 100, 30)
	frame := m.View()
	mustContain(t, frame, "Welcome to paydesk", "all orders · 1 of 10 orders", "PD20261122D4E5F6", "OUT_TRADE_NO")
	press(t, m, "space")
	mustNotContain(t, m.View(), "Welcome to paydesk")
}

func writeTestFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}
