package ui

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/testenv"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

// wechatBill writes a WeChat ALL bill of 2026-11-22 for the fixture: one
// order paid on both sides, one refunded, one paid at the platform but
// pending here, and one payment with no local order.
func wechatBill(t testing.TB, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "wechat-2026-11-22.csv")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := sandbox.NewWeChatBillWriter(f, "ALL")
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		v, _ := time.ParseInLocation(time.DateTime, "2026-11-22 "+s, gateway.Shanghai)
		return v
	}
	row := func(tm, tradeNo, no string, amount gateway.Money) *sandbox.WeChatBillRow {
		return &sandbox.WeChatBillRow{Time: at(tm), AppID: "wx0000000000000000", MchID: "1900000001", TradeNo: tradeNo, OutTradeNo: no,
			OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", Subject: "x", Amount: amount, Fee: sandbox.WeChatFee(amount)}
	}
	for _, r := range []*sandbox.WeChatBillRow{
		row("13:01:00", "4200002026112200005", "PD20261122P5Q6R7", 8800),
		row("15:00:10", "4200002026112200007", "PD20261122V3W4X5", 1990),
		row("23:59:55", "4200002026112200002", "PD20261122D4E5F6", 1),
		row("17:00:00", "4200002026112200099", "PDFOREIGN000001", 5000),
	} {
		if err := w.Payment(r); err != nil {
			t.Fatal(err)
		}
	}
	ref := row("15:30:00", "4200002026112200007", "PD20261122V3W4X5", 0)
	ref.RefundID, ref.OutRefundNo, ref.RefundAmount, ref.Fee = "50300000000001", "RF20261122WX0001", 1990, -sandbox.WeChatFee(1990)
	if err := w.Refund(ref); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReconcileFromAFile(t *testing.T) {
	f := newFixture(t, ops.Admin, true)
	bill := wechatBill(t, f.dir)
	opts := testOptions()
	opts.ExportDir = t.TempDir()
	m := newModel(t, f, opts, 100, 30)
	press(t, m, "2")
	rv := m.views[reconTab].(*reconView)
	if !rv.day.Equal(day("2026-11-22")) || rv.channel != gateway.Alipay {
		t.Fatalf("default %s %s, want alipay (the configured one) yesterday", rv.channel, rv.day)
	}
	mustContain(t, m.View(), "[alipay]", "[2026-11-22]", "No run for this day yet")
	press(t, m, "c")
	if rv.channel != gateway.WeChat {
		t.Fatal("c did not switch the channel")
	}
	press(t, m, "l")
	if !rv.day.Equal(day("2026-11-22")) || !strings.Contains(m.toast.text, "yesterday is the newest") {
		t.Fatal("l went past yesterday")
	}
	press(t, m, "h", "l")
	// Downloading needs the platform: wechat is not configured.
	press(t, m, "N")
	if rv.runErr == "" || !strings.Contains(m.toast.text, "not configured") {
		t.Fatalf("download without a platform: %q / %q", rv.runErr, m.toast.text)
	}
	mustContain(t, m.View(), "! download", "Nothing was saved")
	press(t, m, "b", "text:"+bill, "enter")
	if rv.billFile != bill {
		t.Fatalf("bill file %q", rv.billFile)
	}
	press(t, m, "N")
	if rv.runErr != "" || rv.run == nil {
		t.Fatalf("run: %q", rv.runErr)
	}
	if rv.run.Lines != 5 {
		t.Fatalf("lines %d", rv.run.Lines)
	}
	frame := m.View()
	if testing.Verbose() {
		t.Log("\n" + frame)
	}
	mustContain(t, frame, "MISSING_LOCAL", "UNPAID_LOCAL", "!! MISSING_LOCAL", "PDFOREIGN000001")
	// f narrows to one category at a time.
	press(t, m, "f")
	if rv.category != "MISSING_LOCAL" || len(rv.shown) != 1 {
		t.Fatalf("category %q shown %d", rv.category, len(rv.shown))
	}
	// Resolve it with a note: the note is required.
	press(t, m, "D", "enter")
	if p, ok := m.dialog.(*promptDialog); !ok || !strings.Contains(p.err, "note is required") {
		t.Fatalf("empty note: %T", m.dialog)
	}
	press(t, m, "text:foreign test payment, refunded by hand", "enter")
	fs, err := f.svc.Findings(t.Context(), store.FindingFilter{RunID: rv.run.ID, Category: "MISSING_LOCAL"})
	if err != nil || len(fs) != 1 || fs[0].Resolution != "resolved" || fs[0].Resolver != "alice" {
		t.Fatalf("resolved: %+v %v", fs, err)
	}
	// Marks: selected, severity, resolved, new (the day's first run).
	mustContain(t, m.View(), "> !R+ MISSING_LOCAL")
	// Actions on findings: query and refund are refused with reasons.
	press(t, m, "r")
	if m.toast.kind != toastErr || !strings.Contains(m.toast.text, "order not found: PDFOREIGN000001") {
		t.Fatalf("query of a foreign payment: %+v", m.toast)
	}
	press(t, m, "R")
	if m.dialog != nil || !strings.Contains(m.toast.text, "duplicate payments") {
		t.Fatalf("refund on a non-duplicate: %T %q", m.dialog, m.toast.text)
	}
	// x exports the run to the export folder, asking before overwriting.
	press(t, m, "x")
	want := filepath.Join(m.c.opts.ExportDir, "paydesk-recon-wechat-2026-11-22.xlsx")
	if !strings.Contains(m.toast.text, "exported run 1 to "+want) {
		t.Fatalf("export toast %+v", m.toast)
	}
	if rv.exported != want {
		t.Fatalf("exported %q", rv.exported)
	}
	if _, err := os.Stat(want); err != nil {
		t.Fatalf("no workbook: %v", err)
	}
	// The run line names the workbook; at this width the path is cut.
	mustContain(t, m.View(), "· expor…")
	before, _ := os.ReadFile(want)
	press(t, m, "x")
	if _, ok := m.dialog.(*confirmDialog); !ok {
		t.Fatalf("a second export does not ask before overwriting: %T, toast %+v", m.dialog, m.toast)
	}
	// The dialog wraps the long path wherever the temp folder's length puts
	// the break, so the question is checked, not where it wraps.
	mustContain(t, m.View(), "Overwrite /", "bytes,", "replaced by the report of run 1")
	if d, ok := m.dialog.(*confirmDialog); !ok || !strings.Contains(d.title+strings.Join(d.lines, " "), want) {
		t.Fatalf("the overwrite question does not name %s", want)
	}
	press(t, m, "n")
	if !strings.Contains(m.toast.text, "export cancelled") {
		t.Fatalf("toast %q", m.toast.text)
	}
	if after, _ := os.ReadFile(want); !bytes.Equal(before, after) {
		t.Fatal("a cancelled overwrite changed the file")
	}
	press(t, m, "x", "y")
	if m.dialog != nil || !strings.Contains(m.toast.text, "exported run 1 to "+want) {
		t.Fatalf("overwrite with y: %T %+v", m.dialog, m.toast)
	}
	// Coming back to the day shows the saved run.
	press(t, m, "h", "l")
	if rv.run == nil || len(rv.findings) == 0 {
		t.Fatal("the saved run was not found again")
	}
	// :recon jumps.
	press(t, m, "1", ":", "text:recon wechat 2026-11-22", "enter")
	if m.active != reconTab || rv.run == nil {
		t.Fatal(":recon did not show the run")
	}
}

// TestRefundDuplicatePaymentFromAFinding: an order paid on Alipay and again
// on WeChat, both callbacks through the real endpoint; yesterday's WeChat
// reconciliation, with the bill downloaded from the sandbox, finds the
// duplicate; R on it refunds the WeChat trade (the duplicate), defaulting
// to its whole amount, and leaves the order's Alipay payment alone.
func TestRefundDuplicatePaymentFromAFinding(t *testing.T) {
	env := testenv.New(t, testenv.Options{Operator: "alice", Now: pinnedClock, Serve: true})
	const no = "PD20261122DUP001"
	first := testenv.Order{OutTradeNo: no, Channel: gateway.Alipay, Amount: 15800, CreatedAt: day("2026-11-22").Add(10 * time.Hour)}
	env.ImportOrders(t, first)
	env.Pay(t, first, first.CreatedAt.Add(time.Minute))
	env.WaitDelivered(t, time.Minute)
	second := env.Pay(t, testenv.Order{OutTradeNo: no, Channel: gateway.WeChat, Amount: 15800, CreatedAt: first.CreatedAt.Add(3 * time.Minute)},
		first.CreatedAt.Add(4*time.Minute))
	env.WaitDelivered(t, time.Minute)
	// A second order paid twice, whose WeChat callback was lost: only the
	// bill knows the second payment.
	const lost = "PD20261122DUP002"
	other := testenv.Order{OutTradeNo: lost, Channel: gateway.Alipay, Amount: 900, CreatedAt: first.CreatedAt.Add(time.Hour)}
	env.ImportOrders(t, other)
	env.Pay(t, other, other.CreatedAt.Add(time.Minute))
	env.Sandbox.SetFault(gateway.WeChat, lost, sandbox.Fault{DropNotify: true})
	env.Pay(t, testenv.Order{OutTradeNo: lost, Channel: gateway.WeChat, Amount: 900, CreatedAt: other.CreatedAt}, other.CreatedAt.Add(2*time.Minute))
	env.WaitDelivered(t, time.Minute)

	f := &fixture{svc: env.Service, st: env.Store, env: env, dir: env.Dir}
	opts := testOptions()
	limit := gateway.Money(10000) // ¥100.00: this refund needs the order number typed
	opts.RefundConfirmAbove = &limit
	m := newModel(t, f, opts, 100, 30)
	press(t, m, "2", "c", "N")
	rv := m.views[reconTab].(*reconView)
	if rv.run == nil || rv.channel != gateway.WeChat {
		t.Fatalf("no wechat run: %q; toast %+v", rv.runErr, m.toast)
	}
	press(t, m, "/", "text:dup "+lost, "enter")
	if fd, ok := rv.selected(); !ok || fd.Category != "DUPLICATE_PAYMENT" {
		t.Fatalf("finding %+v", fd)
	}
	press(t, m, "R")
	if m.dialog != nil || m.toast.kind != toastErr || !strings.Contains(m.toast.text, "no record of the second payment") {
		t.Fatalf("duplicate only the bill knows: %T %+v", m.dialog, m.toast)
	}
	press(t, m, "/")
	rv.filter.input.SetValue("")
	press(t, m, "text:dup "+no, "enter")
	fd, ok := rv.selected()
	if !ok || fd.Category != "DUPLICATE_PAYMENT" || fd.TradeNo != second.TradeNo || fd.Channel != gateway.WeChat {
		t.Fatalf("finding %+v", fd)
	}
	press(t, m, "R")
	rf, ok := m.dialog.(*refundForm)
	if !ok {
		t.Fatalf("no refund form: %T, toast %+v", m.dialog, m.toast)
	}
	if rf.amount.Value() != "158.00" || rf.dup == nil || rf.dup.TradeNo != second.TradeNo {
		t.Fatalf("form: amount %q dup %+v", rf.amount.Value(), rf.dup)
	}
	mustContain(t, m.View(), "Refund the duplicate payment of "+no, "Duplicate   wechat ¥158.00  trade "+second.TradeNo, "stays paid")
	press(t, m, "tab", "text:paid twice", "enter")
	c, ok := m.dialog.(*confirmDialog)
	if !ok || c.typed != no {
		t.Fatalf("¥158.00 is above ¥100.00: want the order number typed, got %T %+v", m.dialog, c)
	}
	mustContain(t, m.View(), "Confirm refund of a duplicate payment", "Refunds     wechat trade "+second.TradeNo+" (the duplicate)",
		"¥158.00 of the duplicate's ¥158.00", "the order's own alipay payment stays")
	press(t, m, "text:"+no, "enter")
	if m.toast.kind != toastOK || !strings.Contains(m.toast.text, "the duplicate payment "+second.TradeNo+" of "+no+": SUCCESS") {
		t.Fatalf("toast %+v", m.toast)
	}

	wx, _ := env.Sandbox.Trade(gateway.WeChat, no)
	ali, _ := env.Sandbox.Trade(gateway.Alipay, no)
	if len(wx.Refunds) != 1 || wx.Refunds[0].Amount != 15800 || len(ali.Refunds) != 0 {
		t.Fatalf("refunds at the platforms: wechat %+v, alipay %+v", wx.Refunds, ali.Refunds)
	}
	o, _ := env.Store.GetOrder(t.Context(), no)
	dups, _ := env.Store.DuplicatePayments(t.Context(), no)
	if o.Status != store.OrderPaid || o.Refunded != 0 || len(dups) != 1 || dups[0].Refunded != 15800 {
		t.Fatalf("order %+v, duplicate %+v", o, dups)
	}
	// Nothing is left to refund on it: R says so instead of opening a form.
	press(t, m, "R")
	if m.dialog != nil || !strings.Contains(m.toast.text, "nothing left to refund") {
		t.Fatalf("second R: %T %q", m.dialog, m.toast.text)
	}
}
