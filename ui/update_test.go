package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

// filterTo applies an Orders filter the way an operator types it.
func filterTo(t *testing.T, m *Model, text string) {
	t.Helper()
	press(t, m, "/")
	o := m.orders()
	o.input.SetValue("")
	press(t, m, "text:"+text, "enter")
}

func refunds(t *testing.T, f *fixture, no string) []store.Refund {
	t.Helper()
	r, err := f.svc.ListRefunds(context.Background(), store.RefundFilter{OutTradeNo: no}, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestOrdersFilter(t *testing.T) {
	f := newFixture(t, ops.Admin, true)
	m := newModel(t, f, testOptions(), 100, 30)
	filterTo(t, m, "paid alipay")
	o := m.orders()
	if o.filtering || o.q.f.Status != store.OrderPaid || o.q.f.Channel != gateway.Alipay {
		t.Fatalf("filter not applied: %+v", o.q)
	}
	if len(o.rows) != 3 || !o.counted || o.total.N != 3 {
		t.Fatalf("rows %d total %d", len(o.rows), o.total.N)
	}
	for _, r := range o.rows {
		if r.Status != store.OrderPaid || r.Channel != gateway.Alipay {
			t.Fatalf("row outside the filter: %+v", r.Order)
		}
	}
	mustContain(t, m.View(), "filter: status:PAID channel:alipay · 1 of 3 orders")

	// A bad filter keeps the line open with the reason and changes nothing.
	press(t, m, "/", "text: status:lost", "enter")
	if !o.filtering || !strings.Contains(o.filterErr, "status:lost") || o.q.f.Status != store.OrderPaid {
		t.Fatalf("bad filter: filtering=%v err=%q", o.filtering, o.filterErr)
	}
	mustContain(t, m.View(), "error: status:lost")
	// While the filter line has focus, global keys are text.
	press(t, m, "q", "2")
	if m.active != ordersTab {
		t.Fatal("a key typed into the filter switched tabs")
	}
	press(t, m, "esc")
	if o.filtering {
		t.Fatal("esc did not close the filter line")
	}
	// esc on the list clears the filter.
	press(t, m, "esc")
	if o.q.text != "" || o.total.N != 10 {
		t.Fatalf("esc did not clear the filter: %q %d", o.q.text, o.total.N)
	}
	// A number prefix and an empty result.
	filterTo(t, m, "PD20261121")
	if len(o.rows) != 2 {
		t.Fatalf("prefix: %d rows", len(o.rows))
	}
	filterTo(t, m, "PDNOPE")
	mustContain(t, m.View(), "No orders match PDNOPE")
}

// openRefund selects an order by number and opens its refund form.
func openRefund(t *testing.T, m *Model, no string) *refundForm {
	t.Helper()
	filterTo(t, m, no)
	press(t, m, "R")
	rf, ok := m.dialog.(*refundForm)
	if !ok {
		t.Fatalf("no refund form; dialog %T; frame:\n%s", m.dialog, m.View())
	}
	return rf
}

func TestRefundAcceptWithY(t *testing.T) {
	f := newFixture(t, ops.Admin, true)
	m := newModel(t, f, testOptions(), 100, 30)
	rf := openRefund(t, m, "PD20261122S8T9U2")
	if rf.amount.Value() != "35.60" {
		t.Fatalf("default amount %q, want the refundable remainder 35.60", rf.amount.Value())
	}
	press(t, m, "tab", "text:wrong size", "enter")
	c, ok := m.dialog.(*confirmDialog)
	if !ok {
		t.Fatalf("no confirmation: %T", m.dialog)
	}
	frame := m.View()
	mustContain(t, frame, "Confirm refund", "PD20261122S8T9U2", "alipay", "¥35.60", "wrong size",
		"the order becomes REFUNDED", "y to confirm")
	if c.typed != "" {
		t.Fatal("a refund under the threshold asks for the order number")
	}
	if len(refunds(t, f, "PD20261122S8T9U2")) != 0 {
		t.Fatal("refunded before confirmation")
	}
	press(t, m, "y")
	r := refunds(t, f, "PD20261122S8T9U2")
	if m.dialog != nil || len(r) != 1 || r[0].Amount != 3560 || r[0].Status != gateway.RefundSuccess || r[0].Reason != "wrong size" {
		t.Fatalf("after y: dialog %T refunds %+v", m.dialog, r)
	}
	if m.toast.kind != toastOK || !strings.Contains(m.toast.text, "of ¥35.60 for PD20261122S8T9U2: SUCCESS") {
		t.Fatalf("toast %+v", m.toast)
	}
	// The row shows the refund.
	if row := m.orders().rows[0]; row.Status != store.OrderRefunded || row.Refunded != 4560 {
		t.Fatalf("row not refreshed: %+v", row.Order)
	}
}

func TestRefundCancelWithAnyOtherKey(t *testing.T) {
	for _, k := range []string{"n", "Y2", "enter", "esc", "q"} {
		t.Run(k, func(t *testing.T) {
			f := newFixture(t, ops.Admin, true)
			m := newModel(t, f, testOptions(), 100, 30)
			openRefund(t, m, "PD20261122A1B2C3")
			press(t, m, "tab", "text:duplicate", "enter")
			if _, ok := m.dialog.(*confirmDialog); !ok {
				t.Fatalf("no confirmation: %T", m.dialog)
			}
			press(t, m, k)
			if m.dialog != nil || len(refunds(t, f, "PD20261122A1B2C3")) != 0 || len(f.alipayTrade(t, "PD20261122A1B2C3").Refunds) != 0 {
				t.Fatalf("key %q did not cancel", k)
			}
			if !strings.Contains(m.toast.text, "nothing was sent") {
				t.Fatalf("toast %q", m.toast.text)
			}
		})
	}
}

func TestRefundAboveThresholdNeedsTypedOrderNumber(t *testing.T) {
	f := newFixture(t, ops.Admin, true)
	m := newModel(t, f, testOptions(), 100, 30)
	open := func() {
		openRefund(t, m, "PD20261122K2M3N4")
		press(t, m, "tab", "text:contract ended", "enter")
	}
	open()
	c, ok := m.dialog.(*confirmDialog)
	if !ok || c.typed != "PD20261122K2M3N4" {
		t.Fatalf("¥2,000.00 is above ¥1,000.00: want a typed confirmation, got %T %+v", m.dialog, c)
	}
	mustContain(t, m.View(), "above ¥1,000.00", "Type PD20261122K2M3N4")
	// y is just text here; enter with the wrong text cancels.
	press(t, m, "y", "enter")
	if m.dialog != nil || len(f.alipayTrade(t, "PD20261122K2M3N4").Refunds) != 0 {
		t.Fatal("y confirmed a refund above the threshold")
	}
	open()
	press(t, m, "text:PD20261122K2M3N4", "enter")
	if r := refunds(t, f, "PD20261122K2M3N4"); len(r) != 1 || r[0].Amount != 200000 || r[0].Status != gateway.RefundSuccess {
		t.Fatalf("typed confirmation did not refund: %+v", r)
	}
	if at := f.alipayTrade(t, "PD20261122K2M3N4").Refunds; len(at) != 1 || at[0].Amount != 200000 {
		t.Fatalf("refunds at Alipay: %+v", at)
	}

	// The threshold is an option.
	f2 := newFixture(t, ops.Admin, true)
	opts := testOptions()
	limit := gateway.Money(1000) // ¥10.00
	opts.RefundConfirmAbove = &limit
	m2 := newModel(t, f2, opts, 100, 30)
	openRefund(t, m2, "PD20261122A1B2C3")
	press(t, m2, "tab", "text:x", "enter")
	if c, ok := m2.dialog.(*confirmDialog); !ok || c.typed == "" {
		t.Fatal("¥12.30 above a ¥10.00 threshold is not typed")
	}

	// [refund] confirm_above = "0" means every refund is typed, even ¥0.01
	// (zero is a choice, not "use the default").
	f3 := newFixture(t, ops.Admin, true)
	opts = testOptions()
	zero := gateway.Money(0)
	opts.RefundConfirmAbove = &zero
	m3 := newModel(t, f3, opts, 100, 30)
	rf := openRefund(t, m3, "PD20261122A1B2C3")
	rf.amount.SetValue("0.01")
	rf.reason.SetValue("x")
	press(t, m3, "enter")
	if c, ok := m3.dialog.(*confirmDialog); !ok || c.typed != "PD20261122A1B2C3" {
		t.Fatalf("a ¥0.01 refund under confirm_above 0 is not confirmed by the order number: %T %+v", m3.dialog, m3.dialog)
	}
}

func TestRefundFormValidation(t *testing.T) {
	f := newFixture(t, ops.Admin, true)
	m := newModel(t, f, testOptions(), 100, 30)
	rf := openRefund(t, m, "PD20261122A1B2C3")
	try := func(amount, reason, want string) {
		t.Helper()
		rf.amount.SetValue(amount)
		rf.reason.SetValue(reason)
		press(t, m, "enter")
		if m.dialog != rf || !strings.Contains(rf.err, want) {
			t.Fatalf("amount %q reason %q: dialog %T err %q, want %q", amount, reason, m.dialog, rf.err, want)
		}
	}
	try("abc", "r", "want yuan")
	try("1.234", "r", "want yuan")
	try("0", "r", "more than ¥0.00")
	try("-1", "r", "more than ¥0.00")
	try("12.31", "r", "more than the refundable ¥12.30")
	try("12.30", "  ", "a reason is required")
	if rf.focus != 1 {
		t.Fatal("a missing reason does not move to the reason field")
	}
	mustContain(t, m.View(), "error: a reason is required")
	// What only the store knows: a refund made meanwhile lowers the
	// ceiling, and PlanRefund's refusal shows in the form.
	if _, err := f.svc.Refund(context.Background(), "PD20261122A1B2C3", 1000, "meanwhile"); err != nil {
		t.Fatal(err)
	}
	try("12.30", "again", "more than the refundable ¥2.30")
	// "¥1,2.30"-style input with the sign and separators is accepted.
	rf.amount.SetValue("¥2.30")
	rf.reason.SetValue("rest")
	press(t, m, "enter")
	if _, ok := m.dialog.(*confirmDialog); !ok {
		t.Fatalf("valid input did not reach confirmation: %q", rf.err)
	}
	press(t, m, "esc")

	// An unpaid order never opens the form.
	filterTo(t, m, "PD20261122Y6Z7A8")
	press(t, m, "R")
	if m.dialog != nil || !strings.Contains(m.toast.text, "not paid") {
		t.Fatalf("pending order: dialog %T toast %q", m.dialog, m.toast.text)
	}
}

func TestReadOnlyRoleSeesNoMutatingKeys(t *testing.T) {
	f := newFixture(t, ops.Viewer, true)
	m := newModel(t, f, testOptions(), 100, 30)
	before, _ := f.svc.ListAudit(context.Background(), store.AuditFilter{}, 0, 1000)
	for tab := range tabCount {
		drive(t, m, keys(fmt.Sprint(int(tab)+1))...)
		press(t, m, "?")
		frame := m.View()
		mustNotContain(t, frame, "R refund", "P replay", "A replay", "r query", "D resolve", "I ignore", "S settle", "Refund an order")
		press(t, m, "?")
	}
	press(t, m, "1", "R", "r", "3", "P", "A", "4", "S")
	if m.dialog != nil || len(m.tasks) != 0 {
		t.Fatalf("a viewer opened %T / started %d tasks", m.dialog, len(m.tasks))
	}
	after, _ := f.svc.ListAudit(context.Background(), store.AuditFilter{}, 0, 1000)
	if len(after) != len(before) {
		t.Fatalf("a viewer's keys reached ops: %+v", after[:len(after)-len(before)])
	}
	mustContain(t, m.View(), "victor (viewer, read-only)")

	// support refunds but does not replay; engineer replays but does not refund.
	fs := newFixture(t, ops.Support, true)
	ms := newModel(t, fs, testOptions(), 100, 30)
	mustContain(t, ms.View(), "R refund")
	press(t, ms, "3")
	mustNotContain(t, ms.View(), "replay")
	fe := newFixture(t, ops.Engineer, true)
	me := newModel(t, fe, testOptions(), 100, 30)
	mustNotContain(t, me.View(), "R refund")
	press(t, me, "3")
	mustContain(t, me.View(), "P replay")
}

func TestOpsErrorsBecomeToasts(t *testing.T) {
	f := newFixture(t, ops.Admin, true)
	m := newModel(t, f, testOptions(), 100, 30)
	// The wechat order's channel is not configured: ops refuses the query.
	press(t, m, "r")
	if m.toast.kind != toastErr || !strings.Contains(m.toast.text, "wechat is not configured") {
		t.Fatalf("toast %+v", m.toast)
	}
	mustContain(t, m.View(), "error: query PD20261122D4E5F6: wechat is not configured")
	if len(m.tasks) != 0 || m.orders().querying["PD20261122D4E5F6"] {
		t.Fatal("the failed query left a task or a spinner behind")
	}
	// A platform failure on a configured channel: Alipay answers 500.
	f.env.Sandbox.SetFault(gateway.Alipay, "PD20261122A1B2C3", sandbox.Fault{ServerError: true})
	filterTo(t, m, "PD20261122A1B2C3")
	press(t, m, "r")
	if m.toast.kind != toastErr || !strings.Contains(m.toast.text, "500") {
		t.Fatalf("toast %+v", m.toast)
	}
	if p := m.orders().rows[0].Platform; p == nil || p.Error == "" {
		t.Fatalf("the failed query is not shown on the row: %+v", p)
	}
	mustContain(t, m.View(), "error 0s")
	f.env.Sandbox.ClearFaults()
	// A refund the platform refuses: Alipay has no such trade.
	filterTo(t, m, ghostOrder)
	press(t, m, "R", "tab", "text:x", "enter", "y")
	if m.toast.kind != toastErr || !strings.Contains(m.toast.text, "refund "+ghostOrder) || !strings.Contains(m.toast.text, "refused") {
		t.Fatalf("refund refusal toast %+v", m.toast)
	}
	if r := refunds(t, f, ghostOrder); len(r) != 1 || r[0].Status != gateway.RefundFailed {
		t.Fatalf("the refused refund is not FAILED: %+v", r)
	}
	// The console still works.
	press(t, m, "esc", "j")
	if m.orders().sel != 1 {
		t.Fatal("the console stopped responding after errors")
	}
}

func TestQueryShowsPlatformStateAndDisagreement(t *testing.T) {
	f := newFixture(t, ops.Admin, true)
	m := newModel(t, f, testOptions(), 100, 30)
	// At Alipay: A1B2C3 is paid, Y6Z7A8 was never paid and has closed,
	// and the ghost order is unknown while paid here: a disagreement.
	if _, err := f.env.Sandbox.CloseTrade(gateway.Alipay, "PD20261122Y6Z7A8", testNow.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	filterTo(t, m, "alipay")
	o := m.orders()
	for _, no := range []string{"PD20261122A1B2C3", "PD20261122Y6Z7A8", ghostOrder} {
		o.sel = o.indexOf(no)
		press(t, m, "space")
	}
	if len(o.marked) != 3 {
		t.Fatalf("marked %v", o.marked)
	}
	mustContain(t, m.View(), "3 marked")
	press(t, m, "r")
	if len(o.marked) != 0 {
		t.Fatal("marks survive a finished bulk query")
	}
	row := o.rows[o.indexOf(ghostOrder)]
	if !row.Disagrees || row.Platform == nil || row.Platform.PlatformState != ops.PlatformNotFound {
		t.Fatalf("ghost: %+v %+v", row.Disagrees, row.Platform)
	}
	if r := o.rows[o.indexOf("PD20261122A1B2C3")]; r.Disagrees || r.Platform.State != gateway.TradePaid {
		t.Fatalf("A1B2C3: %+v", r.Platform)
	}
	if r := o.rows[o.indexOf("PD20261122Y6Z7A8")]; !r.Disagrees || r.Platform.State != gateway.TradeClosed {
		t.Fatalf("Y6Z7A8 (pending here, closed there): %+v %+v", r.Disagrees, r.Platform)
	}
	frame := m.View()
	var line string
	for _, l := range strings.Split(frame, "\n") {
		if strings.Contains(l, ghostOrder) {
			line = l
		}
	}
	if !strings.Contains(line, "≠") || !strings.Contains(line, "NOT_FOUND 0s") {
		t.Fatalf("disagreement not marked: %q", line)
	}
	mustContain(t, frame, "PAID 0s", "CLOSED 0s", "queried 3 orders: 2 disagree")
	// Ages grow with the clock.
	m.c.now = testNow.Add(90e9)
	mustContain(t, m.View(), "PAID 1m")
}

// bigFixture adds n generated orders on 2026-11-20 through ops.
func bigFixture(t testing.TB, n int) *fixture {
	f := newFixture(t, ops.Admin, false)
	var b strings.Builder
	b.WriteString("out_trade_no,channel,amount,status,created_at\n")
	for i := range n {
		fmt.Fprintf(&b, "PD20261120%06d,alipay,%d.%02d,PAID,2026-11-20 %02d:%02d:%02d\n", i, 1+i%500, i%100, i/3600%24, i/60%60, i%60)
	}
	p := filepath.Join(f.dir, "big.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ImportOrders(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestPagingKeepsABoundedWindow(t *testing.T) {
	const n = 2500
	f := bigFixture(t, n)
	m := newModel(t, f, testOptions(), 100, 30)
	o := m.orders()
	check := func(what string) {
		t.Helper()
		if len(o.rows) > orderWindowMax {
			t.Fatalf("%s: %d rows in memory, more than %d", what, len(o.rows), orderWindowMax)
		}
		if o.sel < 0 || o.sel >= len(o.rows) || o.top > o.sel || o.sel >= o.top+o.pageRows() {
			t.Fatalf("%s: sel %d top %d of %d", what, o.sel, o.top, len(o.rows))
		}
	}
	seen := map[string]bool{}
	for range n / o.pageRows() * 2 {
		press(t, m, "pgdown")
		check("pgdown")
		seen[o.rows[o.sel].OutTradeNo] = true
	}
	if !o.atEnd || o.sel != len(o.rows)-1 || o.position() != n {
		t.Fatalf("paging down did not reach the end: atEnd %v pos %d", o.atEnd, o.position())
	}
	if last := o.rows[o.sel].OutTradeNo; last != "PD20261120000000" {
		t.Fatalf("last row %s, want the oldest order", last)
	}
	mustContain(t, m.View(), "2,500 of 2,500 orders")
	// Back up row by row across a page boundary: the window extends
	// upward from the store, and positions stay right.
	for range 3 * orderChunk {
		press(t, m, "k")
		check("k")
	}
	if o.position() != n-3*orderChunk {
		t.Fatalf("position %d after scrolling up, want %d", o.position(), n-3*orderChunk)
	}
	press(t, m, "g")
	check("g")
	if o.position() != 1 || o.rows[0].OutTradeNo != fmt.Sprintf("PD20261120%06d", n-1) {
		t.Fatalf("g: position %d first %s", o.position(), o.rows[0].OutTradeNo)
	}
	press(t, m, "G")
	check("G")
	if o.position() != n || !o.atEnd {
		t.Fatalf("G: position %d", o.position())
	}
	for range 150 {
		press(t, m, "up")
		check("up")
	}
	if o.position() != n-150 {
		t.Fatalf("position %d", o.position())
	}
	// Every row is reachable row by row: walk the whole listing down.
	press(t, m, "g")
	prev := ""
	for i := range n {
		cur := o.rows[o.sel].OutTradeNo
		if cur == prev {
			t.Fatalf("stuck at %s after %d rows", cur, i)
		}
		want := fmt.Sprintf("PD20261120%06d", n-1-i)
		if cur != want {
			t.Fatalf("row %d is %s, want %s", i, cur, want)
		}
		prev = cur
		press(t, m, "j")
		check("j")
	}
}

func TestBulkReplayConfirmation(t *testing.T) {
	f := newFixture(t, ops.Admin, true)
	m := newModel(t, f, testOptions(), 100, 30)
	press(t, m, "3")
	nv := m.notifications()
	attempts := func() int {
		n := 0
		for _, x := range nv.list.rows {
			n += x.Attempts
		}
		return n
	}
	// The filter narrows what a bulk replay touches, and the dialog says
	// how many.
	press(t, m, "/", "text:wechat", "enter", "A")
	c, ok := m.dialog.(*confirmDialog)
	if !ok {
		t.Fatalf("no confirmation: %T", m.dialog)
	}
	mustContain(t, m.View(), "Replay 2 notifications?", "Replay 2 failed notifications.", "Filter: channel:wechat")
	press(t, m, "n")
	if m.dialog != nil || attempts() != 2 {
		t.Fatalf("cancel replayed: attempts %d", attempts())
	}
	mustContain(t, m.View(), "replay cancelled")
	press(t, m, "A", "y")
	if attempts() != 4 {
		t.Fatalf("after y: attempts %d, want 4", attempts())
	}
	if !strings.Contains(m.toast.text, "replayed 2 notifications: 0 applied or settled, 2 still failing") {
		t.Fatalf("toast %q", m.toast.text)
	}
	_ = c
	// One replay, from the list and from the payload page.
	press(t, m, "esc", "j", "P")
	if !strings.Contains(m.toast.text, "notification 2 replayed: REJECTED REJECTED") {
		t.Fatalf("toast %q", m.toast.text)
	}
	press(t, m, "enter")
	if nv.detail == nil {
		t.Fatal("enter did not open the notification")
	}
	mustContain(t, m.View(), "Payload", "buyer_id=208***********80", "Attempts (2)")
	press(t, m, "P")
	mustContain(t, m.View(), "Attempts (3)", "replay by alice")
	press(t, m, "esc")
	if nv.detail != nil {
		t.Fatal("esc did not close the notification")
	}
	// Nothing failed in the filter: no dialog.
	press(t, m, "/", "text:order:NOPE", "enter", "A")
	if m.dialog != nil || !strings.Contains(m.toast.text, "nothing to replay") {
		t.Fatalf("empty bulk replay: %T %q", m.dialog, m.toast.text)
	}
}

func TestRetryPendingRefund(t *testing.T) {
	f := newFixture(t, ops.Admin, true)
	// Alipay answers 500 without doing the work: the outcome is unknown to
	// paydesk, so the refund stays PENDING.
	f.env.Sandbox.SetFault(gateway.Alipay, "PD20261122A1B2C3", sandbox.Fault{ServerError: true})
	if out, err := f.svc.Refund(context.Background(), "PD20261122A1B2C3", 100, "late"); err != nil || !out.Unknown {
		t.Fatalf("%+v %v", out, err)
	}
	f.env.Sandbox.ClearFaults()
	m := newModel(t, f, testOptions(), 100, 30)
	press(t, m, "4")
	rv := m.refunds()
	if len(rv.list.rows) != 1 || rv.list.rows[0].Status != gateway.RefundPending {
		t.Fatalf("refunds %+v", rv.list.rows)
	}
	req := rv.list.rows[0].OutRequestNo
	press(t, m, "r")
	if rv.list.rows[0].Status != gateway.RefundPending || len(m.tasks) != 0 {
		t.Fatal("lowercase r settled a refund: settling re-sends money and takes S")
	}
	press(t, m, "S")
	if rv.list.rows[0].Status != gateway.RefundSuccess {
		t.Fatalf("after S: %+v", rv.list.rows[0])
	}
	// The platform never had it, so it was re-sent under the same number:
	// one refund at Alipay.
	if at := f.alipayTrade(t, "PD20261122A1B2C3").Refunds; len(at) != 1 || at[0].OutRequestNo != req || at[0].Amount != 100 {
		t.Fatalf("re-send did not reuse the request number: %+v", at)
	}
	if !strings.Contains(m.toast.text, "re-sent with the same number") {
		t.Fatalf("toast %q", m.toast.text)
	}
	// A settled refund is not sent again.
	press(t, m, "S")
	if len(f.alipayTrade(t, "PD20261122A1B2C3").Refunds) != 1 || !strings.Contains(m.toast.text, "only PENDING") {
		t.Fatalf("retry of a SUCCESS refund: toast %q", m.toast.text)
	}
	// enter opens the refund's order.
	press(t, m, "enter")
	if m.active != ordersTab || m.orders().detail == nil || m.orders().detail.d.Order.OutTradeNo != "PD20261122A1B2C3" {
		t.Fatal("enter on a refund did not open its order")
	}
	mustContain(t, m.View(), "Timeline", "refund "+req)
}

func TestCommandLine(t *testing.T) {
	f := newFixture(t, ops.Admin, true)
	m := newModel(t, f, testOptions(), 100, 30)
	press(t, m, "5", ":", "text:order PD20261122S8T9U2", "enter")
	if m.active != ordersTab || m.orders().detail == nil {
		t.Fatal(":order did not open the order")
	}
	mustContain(t, m.View(), "Order PD20261122S8T9U2", "Refundable   ¥35.60")
	press(t, m, ":", "text:order NOPE", "enter")
	if m.toast.kind != toastErr || !strings.Contains(m.toast.text, "not found") {
		t.Fatalf("unknown order: %+v", m.toast)
	}
	press(t, m, ":", "text:recon wechat 2026-11-20", "enter")
	rv := m.views[reconTab].(*reconView)
	if m.active != reconTab || rv.channel != gateway.WeChat || !rv.day.Equal(day("2026-11-20")) {
		t.Fatalf(":recon: tab %d %s %s", m.active, rv.channel, rv.day)
	}
	press(t, m, ":", "text:recon paypal", "enter")
	if m.toast.kind != toastErr || !strings.Contains(m.toast.text, "paypal") {
		t.Fatalf("bad :recon: %+v", m.toast)
	}
	press(t, m, ":", "text:frobnicate", "enter")
	if !strings.Contains(m.toast.text, "unknown command") {
		t.Fatalf("toast %q", m.toast.text)
	}
	// esc leaves the line without running it.
	press(t, m, ":", "text:q", "esc")
	if m.cmdOpen {
		t.Fatal("esc left the command line open")
	}
	press(t, m, ":", "text:q")
	_, cmd := m.Update(keyMsg("enter"))
	msg := cmd()
	if _, ok := msg.(quitMsg); !ok {
		t.Fatalf(":q gave %T", msg)
	}
	_, cmd = m.Update(msg)
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal(":q does not quit")
	}
}

func TestGlobalKeys(t *testing.T) {
	f := newFixture(t, ops.Admin, true)
	opts := testOptions()
	opts.FirstRunHint = true
	m := newModel(t, f, opts, 100, 30)
	mustContain(t, m.View(), "Welcome to paydesk", "reconcile yesterday")
	// The first key only dismisses the hint.
	press(t, m, "j")
	if m.hint || m.orders().sel != 0 {
		t.Fatal("the hint's dismissal key moved the list")
	}
	press(t, m, "tab")
	if m.active != reconTab {
		t.Fatal("tab")
	}
	press(t, m, "shift+tab")
	drive(t, m, tea.KeyMsg{Type: tea.KeyShiftTab})
	if m.active != auditTab {
		t.Fatalf("shift+tab: %d", m.active)
	}
	press(t, m, "2", "?")
	if !m.showHelp {
		t.Fatal("? did not open help")
	}
	press(t, m, "esc")
	if m.showHelp {
		t.Fatal("esc did not close help")
	}
	for _, k := range []string{"q", "ctrl+c"} {
		_, cmd := m.Update(keyMsg(k))
		if cmd == nil {
			t.Fatalf("%s does not quit", k)
		}
		if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Fatalf("%s does not quit", k)
		}
	}
	// Toasts clear on their own timer, and an old timer never clears a
	// newer toast.
	m.c.opts.noTicks = false
	_, cmd := m.Update(toastMsg{kind: toastInfo, text: "first"})
	if cmd == nil {
		t.Fatal("a toast schedules no expiry")
	}
	first := m.toastID
	m.Update(toastMsg{kind: toastErr, text: "second"})
	m.Update(toastExpiredMsg{id: first})
	if m.toast.text != "second" {
		t.Fatal("an old timer cleared a newer toast")
	}
	m.Update(toastExpiredMsg{id: m.toastID})
	if m.toast.text != "" {
		t.Fatal("the toast did not clear")
	}
}

func TestMouseAndResize(t *testing.T) {
	f := bigFixture(t, 300)
	m := newModel(t, f, testOptions(), 100, 30)
	drive(t, m, tea.MouseMsg{X: 10, Y: 10, Button: tea.MouseButtonWheelDown, Action: tea.MouseActionPress})
	if m.orders().sel != 3 {
		t.Fatalf("wheel: sel %d", m.orders().sel)
	}
	m.View() // lays out the tabs
	x := m.tabX[auditTab][0] + 1
	drive(t, m, tea.MouseMsg{X: x, Y: 1, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
	if m.active != auditTab {
		t.Fatalf("click at %d did not open Audit", x)
	}
	for _, size := range [][2]int{{80, 24}, {100, 30}, {60, 15}, {200, 50}} {
		drive(t, m, tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		for tab := range tabCount {
			m.active = tab
			lines := strings.Split(m.View(), "\n")
			if len(lines) != size[1] {
				t.Fatalf("%v %s: %d lines", size, tabNames[tab], len(lines))
			}
			for _, l := range lines {
				if w := len([]rune(l)); w > size[0] {
					t.Fatalf("%v %s: line of %d cells: %q", size, tabNames[tab], w, l)
				}
			}
		}
	}
}

func TestTaskResultOvertakingItsStart(t *testing.T) {
	f := newFixture(t, ops.Admin, true)
	m := newModel(t, f, testOptions(), 100, 30)
	ch := make(chan tea.Msg)
	close(ch)
	// The final message arrives first (its command ran faster than the
	// one announcing the task), then the start.
	m.Update(taskMsg{ch: ch, msg: taskFinal{id: 42, msg: toastMsg{kind: toastOK, text: "done"}}})
	m.Update(taskStartedMsg{id: 42, label: "querying"})
	if len(m.tasks) != 0 {
		t.Fatalf("a finished task stuck in the status bar: %+v", m.tasks[0])
	}
	// In the usual order the task shows with its progress, then goes.
	m.Update(taskStartedMsg{id: 43, label: "replaying 4 notifications"})
	m.Update(taskMsg{ch: ch, msg: replayProgress{task: 43, done: 1, total: 4}})
	mustContain(t, m.View(), "replaying 4 notifications", "1/4")
	m.Update(taskMsg{ch: ch, msg: taskFinal{id: 43, msg: replayAllDoneMsg{}}})
	if len(m.tasks) != 0 {
		t.Fatal("the task did not end")
	}
}

func TestReconStagesShowProgress(t *testing.T) {
	f := newFixture(t, ops.Admin, true)
	m := newModel(t, f, testOptions(), 100, 30)
	press(t, m, "2")
	rv := m.views[reconTab].(*reconView)
	rv.running = true
	m.Update(taskStartedMsg{id: 7, label: "reconciling alipay 2026-11-22"})
	for _, p := range []ops.ReconProgress{
		{Stage: ops.StageDownload, Done: 2048},
		{Stage: ops.StageParse, Done: 1200, Total: 1200, Message: "1200 lines, totals check out"},
		{Stage: ops.StageLoad, Done: 300},
	} {
		m.Update(reconProgressMsg{task: 7, p: p})
	}
	frame := m.View()
	mustContain(t, frame, "✓ download  2,048 bytes", "✓ parse     1,200/1,200 lines  1200 lines, totals check out",
		"load      300 orders", "  match", "reconciling alipay 2026-11-22")
	// Keys keep working while it runs, and a second run is refused.
	press(t, m, "N")
	if !strings.Contains(m.toast.text, "already running") {
		t.Fatalf("toast %q", m.toast.text)
	}
}

func TestAuditAndRefundFilters(t *testing.T) {
	f := goldenFixture(t, ops.Admin)
	m := newModel(t, f, testOptions(), 100, 30)
	press(t, m, "5")
	av := m.audit()
	all := len(av.list.rows)
	press(t, m, "/", "text:action:query", "enter")
	if len(av.list.rows) != 2 || all <= 2 {
		t.Fatalf("action:query: %d of %d", len(av.list.rows), all)
	}
	for _, e := range av.list.rows {
		if e.Action != "query" {
			t.Fatalf("entry outside the filter: %+v", e)
		}
	}
	mustContain(t, m.View(), "filter: action:query")
	press(t, m, "/", "text: op:nobody", "enter")
	mustContain(t, m.View(), "No entries match op:nobody action:query")
	press(t, m, "esc", "enter")
	if av.detail == nil {
		t.Fatal("enter did not open the entry")
	}
	mustContain(t, m.View(), "Audit entry", "Operator  alice (admin)")
	press(t, m, "esc")
	if av.detail != nil {
		t.Fatal("esc did not close the entry")
	}
	press(t, m, "4")
	rv := m.refunds()
	if len(rv.list.rows) != 2 {
		t.Fatalf("refunds: %d", len(rv.list.rows))
	}
	press(t, m, "/", "text:pending", "enter")
	if len(rv.list.rows) != 1 || rv.list.rows[0].Status != gateway.RefundPending {
		t.Fatalf("pending: %+v", rv.list.rows)
	}
	press(t, m, "/", "text: status:maybe", "enter")
	mustContain(t, m.View(), "error: status:maybe")
}

func TestFindingReplayAndIgnore(t *testing.T) {
	f := newFixture(t, ops.Admin, true)
	bill := wechatBill(t, f.dir)
	m := newModel(t, f, testOptions(), 100, 30)
	press(t, m, "2", "c", "b", "text:"+bill, "enter", "N")
	rv := m.views[reconTab].(*reconView)
	if rv.run == nil {
		t.Fatal("no run")
	}
	// UNPAID_LOCAL D4E5F6: its callback was never stored under the order
	// (it never verified), so there is nothing to replay.
	press(t, m, "/", "text:unpaid", "enter")
	if len(rv.shown) != 1 {
		t.Fatalf("unpaid: %d", len(rv.shown))
	}
	press(t, m, "P")
	if !strings.Contains(m.toast.text, "no callback stored for PD20261122D4E5F6") {
		t.Fatalf("toast %q", m.toast.text)
	}
	press(t, m, "I", "text:test order, never shipped", "enter")
	fd, _ := rv.selected()
	if fd.Resolution != "ignored" || fd.Note != "test order, never shipped" {
		t.Fatalf("ignored: %+v", fd)
	}
	mustContain(t, m.View(), "[ignored by alice: test order, never shipped]")
	press(t, m, "esc")
	if len(rv.shown) != len(rv.findings) {
		t.Fatal("esc did not clear the findings filter")
	}
	press(t, m, "/", "text:open", "enter")
	if len(rv.shown) != len(rv.findings)-1 {
		t.Fatalf("open: %d of %d", len(rv.shown), len(rv.findings))
	}
	for _, i := range rv.shown {
		if rv.findings[i].Resolution != "" {
			t.Fatal("open shows a settled finding")
		}
	}
	// o opens the finding's order.
	press(t, m, "/", "text: notify", "enter", "o")
	if m.active != ordersTab || m.orders().detail == nil {
		t.Fatal("o did not open the order")
	}
}
