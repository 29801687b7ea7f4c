package recon_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/recon"
)

// TestEveryCategory reconciles one hand-built Alipay day in which every
// category occurs, and checks every finding field by field, every line's
// category, the counts and amounts, the carry and the notices.
func TestEveryCategory(t *testing.T) {
	d := day(t, "2024-05-01")
	p := func(s string) time.Time { return at(t, "2024-05-01 "+s) }
	y := func(s string) gateway.Money { return yuan(t, s) }

	pending := recon.Order{OutTradeNo: "M-A2", Channel: gateway.Alipay, Amount: y("50.00"),
		Status: recon.OrderPending, CreatedAt: p("09:00:00")}
	byQuery := paid("M-A6", "T-A6", y("60.00"), p("13:00:00"))
	byQuery.PaidVia, byQuery.NotifyVerified = recon.PaidViaQuery, false
	rejected := paid("M-A7", "T-A7", y("70.00"), p("14:00:00"))
	rejected.PaidVia, rejected.NotifyVerified, rejected.NotifyRejected = recon.PaidViaQuery, false, true
	refunded := paid("M-A9", "T-A9", y("90.00"), p("09:30:00"))
	refunded.Status = recon.OrderRefunded

	orders := []recon.Order{
		paid("M-A1", "T-A1", y("100.00"), p("10:00:00")),
		pending,
		paid("M-A3", "T-A3", y("30.00"), p("11:00:00")),
		paid("M-A4", "T-A4", y("20.00"), p("12:00:00")),
		paid("M-A5", "T-A5", y("40.00"), p("12:30:00")),
		byQuery,
		rejected,
		paid("M-A8", "T-A8", y("80.00"), p("23:55:00")),
		refunded,
	}
	fromConsole := success("R5", "M-A9", y("7.00"), p("18:00:00"))
	fromConsole.Source = recon.RefundSourcePlatform
	refunds := []recon.Refund{
		success("R1", "M-A1", y("10.00"), p("15:00:00")),
		success("R2", "M-A9", y("5.00"), p("12:00:00")),
		success("R4", "M-A9", y("8.00"), p("16:00:00")),
		fromConsole,
	}
	lines := []gateway.BillLine{
		payLine(1, "M-A1", "T-A1", y("100.00"), p("10:00:01")),
		payLine(2, "M-A2", "T-A2", y("50.00"), p("09:01:00")),
		payLine(3, "M-A4", "T-A4", y("2.00"), p("12:00:00")),
		payLine(4, "M-A5", "T-A5b", y("40.00"), p("12:31:00")), // the second payment comes first in the file
		payLine(5, "M-A5", "T-A5", y("40.00"), p("12:30:00")),
		payLine(6, "M-A6", "T-A6", y("60.00"), p("13:00:00")),
		payLine(7, "M-A7", "T-A7", y("70.00"), p("14:00:00")),
		payLine(8, "M-X", "T-X", y("9.99"), p("17:00:00")),
		payLine(9, "M-A9", "T-A9", y("90.00"), p("09:30:00")),
		refundLine(10, "M-A1", "T-A1", "R1", y("10.00"), p("15:00:00")),
		refundLine(11, "M-A9", "T-A9", "R3", y("3.00"), p("15:30:00")),
		refundLine(12, "M-A9", "T-A9", "R4", y("9.00"), p("16:00:00")),
		refundLine(13, "M-A9", "T-A9", "R5", y("7.00"), p("18:00:00")),
	}
	st := newStore(orders, refunds)
	cats, res := run(t, st.input(gateway.Alipay, d, orders, refunds), lines)

	wantCats := []recon.Category{
		recon.Matched, recon.UnpaidLocal, recon.AmountMismatch, recon.DuplicatePayment, recon.Matched,
		recon.NotifyMissing, recon.NotifyRejected, recon.MissingLocal, recon.Matched,
		recon.Matched, recon.RefundMismatch, recon.RefundMismatch, recon.Matched,
	}
	if !slices.Equal(cats, wantCats) {
		t.Errorf("line categories\n got %v\nwant %v", cats, wantCats)
	}

	pay, ref := gateway.LinePayment, gateway.LineRefund
	want := []recon.Finding{
		{Category: recon.MissingLocal, Severity: recon.Critical, Kind: pay, Side: recon.SidePlatform,
			OutTradeNo: "M-X", TradeNo: "T-X", PlatformAmount: y("9.99"), PlatformStatus: "交易", BillLine: 8},
		{Category: recon.DuplicatePayment, Severity: recon.Critical, Kind: pay,
			OutTradeNo: "M-A5", TradeNo: "T-A5b", LocalAmount: y("40.00"), PlatformAmount: y("40.00"),
			LocalStatus: "PAID", PlatformStatus: "交易", NotifyStatus: "verified", BillLine: 4},
		{Category: recon.AmountMismatch, Severity: recon.Critical, Kind: pay,
			OutTradeNo: "M-A4", TradeNo: "T-A4", LocalAmount: y("20.00"), PlatformAmount: y("2.00"),
			LocalStatus: "PAID", PlatformStatus: "交易", NotifyStatus: "verified", BillLine: 3},
		{Category: recon.RefundMismatch, Severity: recon.Critical, Kind: ref, Side: recon.SidePlatform,
			OutTradeNo: "M-A9", TradeNo: "T-A9", OutRequestNo: "R3", PlatformAmount: y("3.00"),
			PlatformStatus: "退款", BillLine: 11},
		{Category: recon.RefundMismatch, Severity: recon.Critical, Kind: ref,
			OutTradeNo: "M-A9", TradeNo: "T-A9", OutRequestNo: "R4", LocalAmount: y("8.00"), PlatformAmount: y("9.00"),
			LocalStatus: "SUCCESS", PlatformStatus: "退款", BillLine: 12},
		{Category: recon.RefundMismatch, Severity: recon.Warning, Kind: ref, Side: recon.SideLocal,
			OutTradeNo: "M-A9", OutRequestNo: "R2", LocalAmount: y("5.00"), LocalStatus: "SUCCESS"},
		{Category: recon.UnpaidLocal, Severity: recon.Warning, Kind: pay,
			OutTradeNo: "M-A2", TradeNo: "T-A2", LocalAmount: y("50.00"), PlatformAmount: y("50.00"),
			LocalStatus: "PENDING", PlatformStatus: "交易", NotifyStatus: "missing", BillLine: 2},
		{Category: recon.MissingPlatform, Severity: recon.Warning, Kind: pay, Side: recon.SideLocal,
			OutTradeNo: "M-A3", TradeNo: "T-A3", LocalAmount: y("30.00"), LocalStatus: "PAID", NotifyStatus: "verified"},
		{Category: recon.NotifyRejected, Severity: recon.Warning, Kind: pay,
			OutTradeNo: "M-A7", TradeNo: "T-A7", LocalAmount: y("70.00"), PlatformAmount: y("70.00"),
			LocalStatus: "PAID", PlatformStatus: "交易", NotifyStatus: "rejected", BillLine: 7},
		{Category: recon.NotifyMissing, Severity: recon.Info, Kind: pay,
			OutTradeNo: "M-A6", TradeNo: "T-A6", LocalAmount: y("60.00"), PlatformAmount: y("60.00"),
			LocalStatus: "PAID", PlatformStatus: "交易", NotifyStatus: "missing", BillLine: 6},
		{Category: recon.CrossDay, Severity: recon.Info, Kind: pay, Side: recon.SideLocal,
			OutTradeNo: "M-A8", TradeNo: "T-A8", LocalAmount: y("80.00"), LocalStatus: "PAID", NotifyStatus: "verified"},
	}
	for i := range want {
		want[i].Channel = gateway.Alipay
		want[i].Day = d
	}
	checkFindings(t, "Findings", res.Findings, want)
	checkFindings(t, "Carry", res.Carry, want[len(want)-1:])
	if len(res.Settled) != 0 {
		t.Errorf("Settled = %+v, want none", res.Settled)
	}
	if len(res.Notices) != 1 || res.Notices[0].OutRequestNo != "R5" || res.Notices[0].Category != recon.Matched ||
		!strings.Contains(res.Notices[0].Detail, "console") {
		t.Errorf("Notices = %+v, want the console refund R5", res.Notices)
	}

	// Counts: every category, with signed amounts (refunds negative).
	wantCount(t, res, recon.Matched, 5, y("213.00")) // 100 + 40 + 90 − 10 − 7
	wantCount(t, res, recon.MissingLocal, 1, y("9.99"))
	wantCount(t, res, recon.UnpaidLocal, 1, y("50.00"))
	wantCount(t, res, recon.MissingPlatform, 1, y("30.00"))
	wantCount(t, res, recon.AmountMismatch, 1, y("2.00"))
	wantCount(t, res, recon.RefundMismatch, 3, y("-17.00")) // R2 5 (local) + R3 3 + R4 9 (bill)
	wantCount(t, res, recon.DuplicatePayment, 1, y("40.00"))
	wantCount(t, res, recon.NotifyMissing, 1, y("60.00"))
	wantCount(t, res, recon.NotifyRejected, 1, y("70.00"))
	wantCount(t, res, recon.CrossDay, 1, y("80.00"))
	if len(res.Counts) != len(recon.Categories) {
		t.Errorf("Counts has %d categories, want all %d", len(res.Counts), len(recon.Categories))
	}

	wantTotals := gateway.BillTotals{Payments: 9, PaymentAmount: y("461.99"), Refunds: 4, RefundAmount: y("29.00")}
	for i := range lines {
		wantTotals.Fees += lines[i].Fee
		wantTotals.Net += lines[i].Net
	}
	if res.Computed != wantTotals {
		t.Errorf("Computed = %+v, want %+v", res.Computed, wantTotals)
	}
}

// checkFindings compares findings field by field; Detail must be a
// sentence naming the order or request.
func checkFindings(t *testing.T, what string, got, want []recon.Finding) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %d, want %d", what, len(got), len(want))
		for _, f := range got {
			t.Logf("  got %s %s %s %s line %d: %s", f.Category, f.OutTradeNo, f.OutRequestNo, f.TradeNo, f.BillLine, f.Detail)
		}
		return
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Detail == "" || !strings.HasSuffix(g.Detail, ".") ||
			!strings.Contains(g.Detail, w.OutTradeNo) || !strings.Contains(g.Detail, w.OutRequestNo) {
			t.Errorf("%s[%d] %s: Detail %q does not name %s %s", what, i, w.Category, g.Detail, w.OutTradeNo, w.OutRequestNo)
		}
		g.Detail, w.Detail = "", ""
		if g != w {
			t.Errorf("%s[%d]\n got %+v\nwant %+v", what, i, g, w)
		}
	}
}

// TestFeesAndNet: fees and the settlement after fees are integer sums of the
// lines, refunds returning their fee.
func TestFeesAndNet(t *testing.T) {
	d := day(t, "2024-05-01")
	p := at(t, "2024-05-01 10:00:00")
	lines := []gateway.BillLine{
		{Line: 1, Kind: gateway.LinePayment, OutTradeNo: "A", TradeNo: "1", Amount: 10000, Net: 10000, Fee: 60, Time: p},
		{Line: 2, Kind: gateway.LinePayment, OutTradeNo: "B", TradeNo: "2", Amount: 333, Net: 333, Fee: 2, Time: p},
		{Line: 3, Kind: gateway.LineRefund, OutTradeNo: "A", TradeNo: "1", OutRequestNo: "RA", Amount: 5000, Net: -5000, Fee: -30, Time: p},
	}
	res, err := recon.Match(recon.Input{Channel: gateway.WeChat, Day: d}, lines)
	if err != nil {
		t.Fatal(err)
	}
	if res.Fees != 32 {
		t.Errorf("Fees = %d fen, want 32", res.Fees)
	}
	if res.Net != 10000+333-5000-32 {
		t.Errorf("Net = %d fen, want %d", res.Net, 10000+333-5000-32)
	}
	if res.Computed.Net != 5333 || res.Computed.Fees != 32 {
		t.Errorf("Computed = %+v", res.Computed)
	}
	// No local records at all: both payments are money without a record,
	// the refund a refund paydesk never made.
	wantCount(t, res, recon.MissingLocal, 2, 10333)
	wantCount(t, res, recon.RefundMismatch, 1, -5000)
	if f := only(t, res, recon.RefundMismatch); f.Severity != recon.Critical {
		t.Errorf("platform-only refund severity %s, want critical", f.Severity)
	}
}

func TestSeverityOfCategories(t *testing.T) {
	for _, c := range append(slices.Clone(recon.Categories), recon.FundCategories...) {
		want := recon.Info
		switch c {
		case recon.MissingLocal, recon.DuplicatePayment, recon.AmountMismatch,
			recon.FundUnexpected, recon.FundMissing, recon.FundAmountMismatch:
			want = recon.Critical
		case recon.UnpaidLocal, recon.MissingPlatform, recon.RefundMismatch, recon.NotifyRejected, recon.FeeMismatch:
			want = recon.Warning
		}
		if got := c.Severity(); got != want {
			t.Errorf("%s.Severity() = %s, want %s", c, got, want)
		}
		if c.Critical() != (want == recon.Critical) {
			t.Errorf("%s.Critical() wrong", c)
		}
		if !c.Valid() || c.Action() == "" {
			t.Errorf("%s: not valid or no action", c)
		}
	}
	if len(recon.Categories) != 11 || len(recon.FundCategories) != 5 || recon.Category("MATCH").Valid() {
		t.Error("the category lists are not exactly the eleven trade and five fund categories")
	}
	for _, c := range recon.Categories {
		if c.Kind() != recon.RunTrade {
			t.Errorf("%s is not a trade category", c)
		}
	}
	for _, c := range recon.FundCategories {
		if c.Kind() != recon.RunFunds {
			t.Errorf("%s is not a fund category", c)
		}
	}
}

func TestInputErrors(t *testing.T) {
	d := day(t, "2024-05-01")
	o := paid("M1", "T1", 100, at(t, "2024-05-01 10:00:00"))
	hold := recon.Finding{Category: recon.CrossDay, Channel: gateway.Alipay, Kind: gateway.LinePayment,
		Side: recon.SideLocal, OutTradeNo: "M0", TradeNo: "T0", Day: day(t, "2024-04-30")}
	later := hold
	later.Day = d
	for name, in := range map[string]recon.Input{
		"no channel":        {Day: d},
		"no day":            {Channel: gateway.Alipay},
		"utc midnight":      {Channel: gateway.Alipay, Day: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)},
		"not midnight":      {Channel: gateway.Alipay, Day: d.Add(time.Hour)},
		"duplicate order":   {Channel: gateway.Alipay, Day: d, Orders: []recon.Order{o, o}},
		"order without no":  {Channel: gateway.Alipay, Day: d, Orders: []recon.Order{{}}},
		"duplicate refund":  {Channel: gateway.Alipay, Day: d, Refunds: []recon.Refund{{OutRequestNo: "R"}, {OutRequestNo: "R"}}},
		"negative window":   {Channel: gateway.Alipay, Day: d, CrossDayWindow: -time.Second},
		"negative suspense": {Channel: gateway.Alipay, Day: d, SuspenseDays: -1},
		"suspense same day": {Channel: gateway.Alipay, Day: d, Suspense: []recon.Finding{later}},
		"suspense twice":    {Channel: gateway.Alipay, Day: d, Suspense: []recon.Finding{hold, hold}},
		"suspense channel":  {Channel: gateway.WeChat, Day: d, Suspense: []recon.Finding{hold}},
		"suspense category": {Channel: gateway.Alipay, Day: d, Suspense: []recon.Finding{func() recon.Finding {
			f := hold
			f.Category = recon.MissingPlatform
			return f
		}()}},
	} {
		if _, err := recon.NewMatcher(in); !errors.Is(err, recon.ErrInput) {
			t.Errorf("%s: err = %v, want ErrInput", name, err)
		}
	}
	if _, err := recon.NewMatcher(recon.Input{Channel: gateway.Alipay, Day: d, Suspense: []recon.Finding{hold}}); err != nil {
		t.Errorf("valid input: %v", err)
	}
}

func TestLineErrors(t *testing.T) {
	m, err := recon.NewMatcher(recon.Input{Channel: gateway.Alipay, Day: day(t, "2024-05-01")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Line(nil); err == nil {
		t.Error("nil line accepted")
	}
	if _, err := m.Line(&gateway.BillLine{Line: 1, Kind: "TRANSFER", Amount: 1}); err == nil {
		t.Error("unknown kind accepted")
	}
	if _, err := m.Line(&gateway.BillLine{Line: 2, Kind: gateway.LinePayment, Amount: -1}); err == nil {
		t.Error("negative amount accepted")
	}
	res := m.Finish()
	if res.Computed != (gateway.BillTotals{}) {
		t.Errorf("rejected lines were counted: %+v", res.Computed)
	}
	if _, err := m.Line(&gateway.BillLine{Line: 3, Kind: gateway.LinePayment, Amount: 1}); !errors.Is(err, recon.ErrFinished) {
		t.Errorf("line after Finish: %v", err)
	}
}

// TestRefundCases: each way a refund line and paydesk's refund can
// disagree, with its severity; REFUND_MISMATCH is critical when the platform
// paid back money paydesk has no matching success for.
func TestRefundCases(t *testing.T) {
	d := day(t, "2024-05-01")
	when := at(t, "2024-05-01 15:00:00")
	ok := success("R-OK", "M1", 500, when)
	failed := success("R-FAILED", "M1", 500, when)
	failed.Status = gateway.RefundFailed
	pending := success("R-PENDING", "M1", 500, time.Time{})
	pending.Status = gateway.RefundPending
	otherOrder := success("R-OTHER", "M2", 500, when)
	wechat := success("R-WECHAT", "M1", 500, when)
	wechat.Channel = gateway.WeChat
	refunds := []recon.Refund{ok, failed, pending, otherOrder, wechat}
	st := newStore(nil, refunds)
	lines := []gateway.BillLine{
		refundLine(1, "M1", "T1", "R-OK", 500, when),
		refundLine(2, "M1", "T1", "R-OK", 500, when), // booked twice
		refundLine(3, "M1", "T1", "R-FAILED", 500, when),
		refundLine(4, "M1", "T1", "R-PENDING", 500, when),
		refundLine(5, "M1", "T1", "R-OTHER", 500, when),
		refundLine(6, "M1", "T1", "R-WECHAT", 500, when),
		refundLine(7, "M1", "T1", "", 500, when),
		refundLine(8, "M1", "T1", "R-NONE", 500, when),
	}
	// paydesk's day holds only R-OK; the rest come through the lookup.
	cats, res := run(t, st.input(gateway.Alipay, d, nil, []recon.Refund{ok}), lines)
	want := []recon.Category{recon.Matched, recon.RefundMismatch, recon.RefundMismatch, recon.RefundMismatch,
		recon.RefundMismatch, recon.RefundMismatch, recon.RefundMismatch, recon.RefundMismatch}
	if !slices.Equal(cats, want) {
		t.Fatalf("got %v, want %v", cats, want)
	}
	sev := map[int]recon.Severity{}
	for _, f := range res.Findings {
		sev[f.BillLine] = f.Severity
	}
	wantSev := map[int]recon.Severity{2: recon.Critical, 3: recon.Critical, 4: recon.Warning,
		5: recon.Critical, 6: recon.Critical, 7: recon.Critical, 8: recon.Critical}
	for line, s := range wantSev {
		if sev[line] != s {
			t.Errorf("line %d: severity %q, want %q", line, sev[line], s)
		}
	}
	wantCount(t, res, recon.Matched, 1, -500)
	wantCount(t, res, recon.RefundMismatch, 7, -3500)
	checkAccounting(t, res, len(lines))
}

// An order's facts survive the matcher's compact record: an unusual status,
// a creation time standing in for a payment time, the channel of another
// platform.
func TestOrderFactsSurviveTheIndex(t *testing.T) {
	d := day(t, "2024-05-01")
	odd := recon.Order{OutTradeNo: "M-ODD", Channel: gateway.Alipay, Amount: 700, Status: "ON_HOLD",
		CreatedAt: at(t, "2024-05-01 08:00:00")}
	imported := recon.Order{OutTradeNo: "M-IMP", Channel: gateway.Alipay, Amount: 800, Status: recon.OrderPaid,
		TradeNo: "T-IMP", CreatedAt: at(t, "2024-05-01 09:15:00"), PaidVia: recon.PaidViaImport}
	elsewhere := paid("M-WX", "W-1", 900, at(t, "2024-05-01 10:00:00"))
	elsewhere.Channel = gateway.WeChat
	orders := []recon.Order{odd, imported, elsewhere}
	_, res := run(t, recon.Input{Channel: gateway.Alipay, Day: d, Orders: orders}, []gateway.BillLine{
		payLine(1, "M-ODD", "T-ODD", 700, at(t, "2024-05-01 08:01:00")),
		payLine(2, "M-WX", "T-WX", 900, at(t, "2024-05-01 10:01:00")),
	})
	u := only(t, res, recon.UnpaidLocal)
	if u.LocalStatus != "ON_HOLD" || u.LocalAmount != 700 || !strings.Contains(u.Detail, "ON_HOLD") {
		t.Errorf("unpaid %+v", u)
	}
	mp := only(t, res, recon.MissingPlatform)
	if mp.OutTradeNo != "M-IMP" || mp.TradeNo != "T-IMP" || mp.NotifyStatus != "missing" ||
		!strings.Contains(mp.Detail, "2024-05-01 09:15:00") || !strings.Contains(mp.Detail, "by import") {
		t.Errorf("missing platform %+v", mp)
	}
	dp := only(t, res, recon.DuplicatePayment)
	if dp.LocalAmount != 900 || !strings.Contains(dp.Detail, "WeChat Pay (trade W-1)") {
		t.Errorf("duplicate %+v", dp)
	}
}
