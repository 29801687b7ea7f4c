package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/recon"
	"github.com/paydesk/paydesk/store"
)

// wechatFundBill writes the 资金账单 of 2026-11-22 for the fixture's WeChat
// day (wechatBill): the two payments and their fees, the refund netted of
// its fee, nothing for the order paid at 23:59:55, a deduction nothing
// explains and a withdrawal.
func wechatFundBill(t testing.TB, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "wechat-funds-2026-11-22.txt")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	at := func(s string) time.Time {
		v, _ := time.ParseInLocation(time.DateTime, "2026-11-22 "+s, gateway.Shanghai)
		return v
	}
	w := sandbox.NewWeChatFundWriter(f, gateway.Shanghai, 100000)
	for _, r := range []sandbox.WeChatFundRow{
		{Time: at("13:01:00"), BizNo: "4200002026112200005", FlowNo: "F1", Name: "交易", Type: "交易", Amount: 8800, Voucher: "PD20261122P5Q6R7"},
		{Time: at("13:01:00"), BizNo: "4200002026112200005", FlowNo: "F2", Name: "交易", Type: "扣除交易手续费", Amount: -sandbox.WeChatFee(8800), Voucher: "PD20261122P5Q6R7"},
		{Time: at("15:00:10"), BizNo: "4200002026112200007", FlowNo: "F3", Name: "交易", Type: "交易", Amount: 1990, Voucher: "PD20261122V3W4X5"},
		{Time: at("15:00:10"), BizNo: "4200002026112200007", FlowNo: "F4", Name: "交易", Type: "扣除交易手续费", Amount: -sandbox.WeChatFee(1990), Voucher: "PD20261122V3W4X5"},
		{Time: at("15:30:00"), BizNo: "50300000000001", FlowNo: "F5", Name: "退款", Type: "退款", Amount: -1990 + sandbox.WeChatFee(1990), Voucher: "RF20261122WX0001"},
		{Time: at("17:00:00"), BizNo: "4200002026112200099", FlowNo: "F6", Name: "交易", Type: "交易", Amount: 5000, Voucher: "PDFOREIGN000001"},
		{Time: at("17:00:00"), BizNo: "4200002026112200099", FlowNo: "F7", Name: "交易", Type: "扣除交易手续费", Amount: -sandbox.WeChatFee(5000), Voucher: "PDFOREIGN000001"},
		{Time: at("20:00:00"), FlowNo: "F8", Name: "其他", Type: "调账", Amount: -1200, Remark: "交易赔付扣款"},
		{Time: at("22:00:00"), FlowNo: "F9", Name: "提现", Type: "提现", Amount: -10000, Remark: "自动提现"},
	} {
		if err := w.Add(&r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestReconcileFundsMarkAndChanges: t shows the fund-flow side of the day,
// which runs as its own stage with its own cards; findings marked with
// space are resolved together with one note; a run again shows what
// changed since the run before, on each row and in one line.
func TestReconcileFundsMarkAndChanges(t *testing.T) {
	f := newFixture(t, ops.Admin, true)
	m := newModel(t, f, testOptions(), 110, 34)
	press(t, m, "2", "c")
	rv := m.views[reconTab].(*reconView)
	press(t, m, "b", "text:"+wechatBill(t, f.dir), "enter", "N")
	if rv.run == nil || rv.run.Kind != store.BillTrade {
		t.Fatalf("trade run: %+v %q", rv.run, rv.runErr)
	}
	press(t, m, "t")
	if !rv.funds() || rv.run != nil {
		t.Fatalf("t did not switch to funds: %q %+v", rv.kind, rv.run)
	}
	mustContain(t, m.View(), "[funds: account movements]", "No fund run for this day yet")
	press(t, m, "b", "text:"+wechatFundBill(t, f.dir), "enter", "N")
	if rv.runErr != "" || rv.run == nil || rv.run.Kind != store.BillFunds {
		t.Fatalf("fund run: %q %+v", rv.runErr, rv.run)
	}
	frame := m.View()
	if testing.Verbose() {
		t.Log("\n" + frame)
	}
	mustContain(t, frame, "fund run", "9 movements", "withdrawn ¥100.00", "!! FUND_UNEXPECTED", "i WITHDRAWAL", "✓ FUND_MATCHED",
		// The order paid at 23:59:55 has no movement: a warning, since its
		// money may move after midnight.
		"! FUND_MISSING", "F8", "F9")
	// Cards come from recon's fund categories, in their order.
	if got := runCategories(rv.run); len(got) != len(recon.FundCategories) || got[0] != recon.FundUnexpected {
		t.Fatalf("fund cards %v", got)
	}
	// Back on the trade side, the trade run is still the day's.
	press(t, m, "t")
	if rv.run == nil || rv.run.Kind != store.BillTrade {
		t.Fatalf("back to trades: %+v", rv.run)
	}
	press(t, m, "t")

	// Mark two findings and resolve both with one note.
	press(t, m, " ", " ")
	if len(rv.marked) != 2 {
		t.Fatalf("marked %v", rv.marked)
	}
	mustContain(t, m.View(), "2 marked: D/I decides for all")
	press(t, m, "I")
	p, ok := m.dialog.(*promptDialog)
	if !ok || !strings.Contains(p.title, "Ignore 2 marked findings, with one note") {
		t.Fatalf("dialog %T %+v", m.dialog, m.dialog)
	}
	press(t, m, "text:checked with the platform: known", "enter")
	fs, err := f.svc.Findings(t.Context(), store.FindingFilter{RunID: rv.run.ID})
	if err != nil {
		t.Fatal(err)
	}
	ignored := 0
	for _, fd := range fs {
		if fd.Resolution == "ignored" && fd.Note == "checked with the platform: known" && fd.Resolver == "alice" {
			ignored++
		}
	}
	if ignored != 2 || len(rv.marked) != 0 {
		t.Fatalf("%d ignored, marks %v", ignored, rv.marked)
	}

	// Run again: every finding is still there, two of them resolved.
	first := rv.run.ID
	press(t, m, "N")
	if rv.run == nil || rv.run.ID == first {
		t.Fatalf("re-run: %+v", rv.run)
	}
	frame = m.View()
	mustContain(t, frame, "since run ", ": 1 still open · 2 resolved")
	if n := strings.Count(frame, "I✓ "); n != 2 {
		t.Errorf("%d rows marked ignored and resolved-since, want 2:\n%s", n, frame)
	}
}

// A viewer sees the fund runs but has no marks (it may not resolve).
func TestReconcileFundsViewerHasNoMarks(t *testing.T) {
	f := newFixture(t, ops.Viewer, true)
	m := newModel(t, f, testOptions(), 110, 34)
	press(t, m, "2", "t", " ")
	rv := m.views[reconTab].(*reconView)
	if !rv.funds() || len(rv.marked) != 0 {
		t.Fatalf("viewer: funds %v marks %v", rv.funds(), rv.marked)
	}
	mustNotContain(t, m.View(), "space mark")
}
