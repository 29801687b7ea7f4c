package recon_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/recon"
)

func mv(n int, kind gateway.FundKind, amount gateway.Money, trade, order string) gateway.FundLine {
	return gateway.FundLine{Line: n, Kind: kind, Amount: amount, TradeNo: trade, OutTradeNo: order,
		FlowNo: "F" + trade, Type: string(kind)}
}

func fundRun(t *testing.T, in recon.FundInput, bill []gateway.BillLine, moves []gateway.FundLine) recon.FundResult {
	t.Helper()
	m, err := recon.NewFundMatcher(in)
	if err != nil {
		t.Fatal(err)
	}
	if bill != nil {
		if err := m.Expect(bill); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Movements(moves); err != nil {
		t.Fatal(err)
	}
	return m.Finish()
}

func fundOnly(t *testing.T, res recon.FundResult, c recon.Category, match string) recon.Finding {
	t.Helper()
	var got []recon.Finding
	for _, f := range res.Findings {
		if f.Category == c && (f.OutTradeNo == match || f.OutRequestNo == match || f.FlowNo == match) {
			got = append(got, f)
		}
	}
	if len(got) != 1 {
		t.Fatalf("want one %s finding for %s, got %d in %+v", c, match, len(got), res.Findings)
	}
	return got[0]
}

// TestFundCategoriesOneByOne walks every fund category with the trade bill
// as the source of the day's bookings and fees, and paydesk's records
// beside it.
func TestFundCategoriesOneByOne(t *testing.T) {
	d := day(t, "2026-11-22")
	when := at(t, "2026-11-22 10:00:00")
	orders := []recon.Order{
		paid("SEPARATE", "T1", 10000, when), // income and its fee as two movements
		paid("NETTED", "T2", 10000, when),   // one movement, fee netted
		paid("NOFEE", "T3", 10000, when),    // income only: no fee taken that day
		paid("MISSING", "T4", 5000, when),   // no movement: 短款
		paid("SHORT", "T5", 2000, when),     // 19.00 came in for a 20.00 payment
		paid("FEEONLY", "T6", 3000, when),   // the fee was taken, the money never came
		paid("LOCALONLY", "T7", 4000, when), // not on the trade bill: the rate's fee
		paid("LATE", "T8", 1000, at(t, "2026-11-22 23:58:00")),
		paid("REFUNDED", "T9", 20000, when),
	}
	refunds := []recon.Refund{success("RQ1", "REFUNDED", 5000, when), success("RQ_MISSING", "REFUNDED", 1000, when)}
	s := newStore(orders, refunds)
	yesterday := paid("YESTERDAY", "T0", 700, at(t, "2026-11-21 23:59:59"))
	in := recon.FundInput{Channel: gateway.Alipay, Day: d, Zone: zone, FeeRate: rate(t, "0.006"), Orders: orders, Refunds: refunds,
		LookupTrade: func(no string) (recon.Order, bool) {
			if no == "T0" {
				return yesterday, true
			}
			for _, o := range s.orders {
				if o.TradeNo == no {
					return o, true
				}
			}
			return recon.Order{}, false
		},
		LookupOrder: func(no string) (recon.Order, bool) { o, ok := s.orders[no]; return o, ok },
	}
	bill := []gateway.BillLine{
		payLine(1, "SEPARATE", "T1", 10000, when), payLine(2, "NETTED", "T2", 10000, when), payLine(3, "NOFEE", "T3", 10000, when),
		payLine(4, "MISSING", "T4", 5000, when), payLine(5, "SHORT", "T5", 2000, when), payLine(6, "FEEONLY", "T6", 3000, when),
		payLine(7, "LATE", "T8", 1000, at(t, "2026-11-22 23:58:00")), payLine(8, "REFUNDED", "T9", 20000, when),
		refundLine(9, "REFUNDED", "T9", "RQ1", 5000, when), refundLine(10, "REFUNDED", "T9", "RQ_MISSING", 1000, when),
		// A payment only the bill has: it is expected to move all the same.
		payLine(11, "BILLONLY", "T10", 6600, when),
	}
	moves := []gateway.FundLine{
		mv(6, gateway.FundPayment, 10000, "T1", "SEPARATE"), mv(7, gateway.FundFee, -60, "T1", ""),
		mv(8, gateway.FundPayment, 10000-60, "T2", "NETTED"),
		mv(9, gateway.FundPayment, 10000, "T3", "NOFEE"),
		mv(10, gateway.FundPayment, 1900, "T5", "SHORT"), mv(11, gateway.FundFee, -12, "T5", ""),
		mv(12, gateway.FundFee, -18, "T6", ""),
		mv(13, gateway.FundPayment, 4000, "T7", "LOCALONLY"), mv(14, gateway.FundFee, -25, "T7", ""), // rate: 0.24, a fen off is rounding
		mv(15, gateway.FundPayment, 20000, "T9", "REFUNDED"), mv(16, gateway.FundFee, -120, "T9", ""),
		// Alipay names a refund by its trade only; its fee comes back apart.
		mv(17, gateway.FundRefund, -5000, "T9", "REFUNDED"), mv(18, gateway.FundFee, 30, "T9", ""),
		mv(19, gateway.FundPayment, 6600, "T10", "BILLONLY"), mv(20, gateway.FundFee, -39, "T10", ""),
		// Yesterday's payment at 23:59:59 moved after midnight.
		mv(21, gateway.FundPayment, 700, "T0", "YESTERDAY"),
		// Unexplained: money in (长款), a deduction, a refund nobody made.
		mv(22, gateway.FundOther, 10000, "", ""), mv(23, gateway.FundOther, -1200, "", ""),
		{Line: 24, Kind: gateway.FundRefund, Amount: -300, TradeNo: "T99", FlowNo: "FR99", Type: "交易退款"},
		// Withdrawals: listed and totalled.
		{Line: 25, Kind: gateway.FundWithdrawal, Amount: -500000, FlowNo: "W1", Type: "提现"},
		{Line: 26, Kind: gateway.FundWithdrawal, Amount: -100000, FlowNo: "W2", Type: "提现"},
	}
	moves[16].FlowNo, moves[17].FlowNo = "FOTHER1", "FOTHER2"
	res := fundRun(t, in, bill, moves)

	m := fundOnly(t, res, recon.FundMissing, "MISSING")
	if m.Severity != recon.Critical || m.LocalAmount != 5000-30 || m.PlatformAmount != 0 || m.Side != recon.SideLocal ||
		!strings.Contains(m.Detail, "短款") || m.LocalStatus != "bill+paydesk" {
		t.Errorf("missing: %+v", m)
	}
	late := fundOnly(t, res, recon.FundMissing, "LATE")
	if late.Severity != recon.Warning || !strings.Contains(late.Detail, "within 10 minutes of midnight") {
		t.Errorf("late: %+v", late)
	}
	fo := fundOnly(t, res, recon.FundMissing, "FEEONLY")
	if fo.PlatformAmount != -18 || !strings.Contains(fo.Detail, "only a fee of ¥0.18") {
		t.Errorf("fee only: %+v", fo)
	}
	rm := fundOnly(t, res, recon.FundMissing, "RQ_MISSING")
	if rm.Kind != gateway.LineRefund || rm.LocalAmount != -1000+6 || !strings.Contains(rm.Detail, "no money left the account") {
		t.Errorf("refund missing: %+v", rm)
	}
	sh := fundOnly(t, res, recon.FundAmountMismatch, "SHORT")
	if sh.LocalAmount != 2000-12 || sh.PlatformAmount != 1900-12 || sh.BillLine != 10 || sh.FlowNo != "FT5" ||
		!strings.Contains(sh.Detail, "(¥19.00 of ¥20.00 payment coming in and -¥0.12 of fees)") {
		t.Errorf("short: %+v", sh)
	}
	in1 := fundOnly(t, res, recon.FundUnexpected, "FOTHER1")
	if in1.PlatformAmount != 10000 || in1.Severity != recon.Critical || !strings.Contains(in1.Detail, "长款") {
		t.Errorf("income: %+v", in1)
	}
	out1 := fundOnly(t, res, recon.FundUnexpected, "FOTHER2")
	if out1.PlatformAmount != -1200 || !strings.Contains(out1.Detail, "deduction or chargeback") {
		t.Errorf("deduction: %+v", out1)
	}
	r99 := fundOnly(t, res, recon.FundUnexpected, "FR99")
	if !strings.Contains(r99.Detail, "for a refund") || r99.TradeNo != "T99" {
		t.Errorf("unknown refund: %+v", r99)
	}
	w := fundOnly(t, res, recon.Withdrawal, "W1")
	if w.Severity != recon.Info || w.PlatformAmount != -500000 {
		t.Errorf("withdrawal: %+v", w)
	}
	if res.Withdrawals != -600000 || res.Counts[recon.Withdrawal] != (recon.CategoryTotal{Count: 2, Amount: -600000}) {
		t.Errorf("withdrawals %s %+v", res.Withdrawals, res.Counts[recon.Withdrawal])
	}
	// Matched: SEPARATE, NETTED, NOFEE, LOCALONLY, REFUNDED's payment and
	// RQ1, BILLONLY, YESTERDAY.
	wantMatched := recon.CategoryTotal{Count: 8, Amount: (10000 - 60) + (10000 - 60) + 10000 + (4000 - 25) + (20000 - 120) + (-5000 + 30) + (6600 - 39) + 700}
	if got := res.Counts[recon.FundMatched]; got != wantMatched {
		t.Errorf("matched %+v, want %+v", got, wantMatched)
	}
	wantCounts := map[recon.Category]int{recon.FundMissing: 4, recon.FundAmountMismatch: 1, recon.FundUnexpected: 3, recon.Withdrawal: 2}
	for c, n := range wantCounts {
		if res.Counts[c].Count != n {
			t.Errorf("%s: %d, want %d", c, res.Counts[c].Count, n)
		}
	}
	if len(res.Findings) != 10 {
		t.Errorf("%d findings, want 10", len(res.Findings))
	}
	// Expected fees: the bill's (payLine: 0.6% truncated) for its lines,
	// the rate's for LOCALONLY; charged: the fee movements and NETTED's
	// netted fee.
	wantExpected := gateway.Money(60 + 60 + 60 + 30 + 12 + 18 + 6 + 120 - 30 - 6 + 39 + 24)
	if res.ExpectedFees != wantExpected {
		t.Errorf("expected fees %s, want %s", res.ExpectedFees, wantExpected)
	}
	if want := gateway.Money(60 + 60 + 12 + 18 + 25 + 120 - 30 + 39); res.ChargedFees != want {
		t.Errorf("charged fees %s, want %s", res.ChargedFees, want)
	}
	if res.Computed.Income != 10 || res.Computed.Expense != 11 {
		t.Errorf("computed %+v", res.Computed)
	}
}

// TestFundWithoutTradeBill: paydesk's own records are the bookings, and the
// contracted rate says what each should cost; without a rate any fee
// movement is taken as charged.
func TestFundWithoutTradeBill(t *testing.T) {
	d := day(t, "2026-11-22")
	when := at(t, "2026-11-22 10:00:00")
	orders := []recon.Order{paid("A", "T1", 10000, when), paid("B", "T2", 10000, when)}
	moves := []gateway.FundLine{
		mv(1, gateway.FundPayment, 10000, "T1", "A"), mv(2, gateway.FundFee, -61, "T1", ""), // a fen off the rate: rounding
		mv(3, gateway.FundPayment, 10000, "T2", "B"), mv(4, gateway.FundFee, -70, "T2", ""),
	}
	in := recon.FundInput{Channel: gateway.Alipay, Day: d, Zone: zone, FeeRate: rate(t, "0.006"), Orders: orders}
	res := fundRun(t, in, nil, moves)
	if res.Counts[recon.FundMatched].Count != 1 || fundOnly(t, res, recon.FundAmountMismatch, "B").LocalAmount != 10000-60 {
		t.Errorf("with a rate: %+v", res.Counts)
	}
	in.FeeRate = gateway.FeeRate{}
	res = fundRun(t, in, nil, moves)
	if res.Counts[recon.FundMatched].Count != 2 || len(res.Findings) != 0 || res.ExpectedFees != 0 {
		t.Errorf("without a rate: %+v %+v", res.Counts, res.Findings)
	}
}

// TestFundRefundLinesByStatus: a trade bill's refund line expects money out
// only when it says the refund succeeded. WeChat Pay lists a refund on the
// day it was asked for with the status of the morning the bill was cut, so
// a line still processing or closed expects nothing, and one paydesk has
// as succeeded that day is expected from paydesk's record.
func TestFundRefundLinesByStatus(t *testing.T) {
	d := day(t, "2026-11-22")
	when := at(t, "2026-11-22 10:00:00")
	refund := func(n int, req string, st gateway.RefundStatus) gateway.BillLine {
		return gateway.BillLine{Line: n, Kind: gateway.LineRefund, TradeNo: "T" + req, OutTradeNo: "O" + req, OutRequestNo: req,
			Amount: 500, Net: -500, Time: when, State: "REFUND", RefundStatus: st}
	}
	bill := []gateway.BillLine{refund(2, "R1", gateway.RefundPending), refund(3, "R2", gateway.RefundFailed),
		refund(4, "R3", gateway.RefundSuccess), refund(5, "R4", gateway.RefundPending)}
	local := []recon.Refund{{Channel: gateway.WeChat, OutTradeNo: "OR4", OutRequestNo: "R4", Amount: 500, Status: gateway.RefundSuccess, RefundedAt: when}}
	res := fundRun(t, recon.FundInput{Channel: gateway.WeChat, Day: d, Zone: zone, Refunds: local}, bill, nil)
	fundOnly(t, res, recon.FundMissing, "R3")
	fundOnly(t, res, recon.FundMissing, "R4")
	if n := res.Counts[recon.FundMissing].Count; n != 2 || len(res.Findings) != 2 {
		t.Errorf("FUND_MISSING %d, findings %+v", n, res.Findings)
	}
}

// TestFundAbnormalRefunds: an ABNORMAL refund's money left the account (the
// platform took it; the buyer's bank refused it), so the fund run expects
// it to move as a successful refund does: from a trade bill line that says
// ABNORMAL, and from paydesk's record of the day it went ABNORMAL
// (MovedAt). Paid out later (SUCCESS), it moves nothing more: the day of
// its success expects nothing. A movement for an ABNORMAL refund of an
// earlier day is paydesk's refund, not an unexplained deduction.
func TestFundAbnormalRefunds(t *testing.T) {
	d := day(t, "2026-11-22")
	when, before := at(t, "2026-11-22 10:00:00"), at(t, "2026-11-21 10:00:00")
	line := func(n int, req string) gateway.BillLine {
		return gateway.BillLine{Line: n, Kind: gateway.LineRefund, TradeNo: "T" + req, OutTradeNo: "O" + req, OutRequestNo: req,
			Amount: 500, Net: -500, Time: when, State: "REFUND", RefundStatus: gateway.RefundAbnormal}
	}
	local := func(req string, st gateway.RefundStatus, moved, refunded time.Time) recon.Refund {
		return recon.Refund{Channel: gateway.WeChat, OutTradeNo: "O" + req, OutRequestNo: req, Amount: 500, Status: st,
			MovedAt: moved, RefundedAt: refunded, RequestedAt: moved}
	}
	refunds := []recon.Refund{
		local("LOCAL_ABN", gateway.RefundAbnormal, when, time.Time{}), // went ABNORMAL today, no movement
		local("PAID_OUT", gateway.RefundSuccess, before, when),        // ABNORMAL yesterday, paid out today
		local("OLD_ABN", gateway.RefundAbnormal, before, time.Time{}), // ABNORMAL yesterday, its money moves today
		local("MOVED_ABN", gateway.RefundAbnormal, when, time.Time{}), // went ABNORMAL today and moved
	}
	s := newStore(nil, refunds)
	in := recon.FundInput{Channel: gateway.WeChat, Day: d, Zone: zone, Refunds: refunds,
		LookupRefund: func(no string) (recon.Refund, bool) { r, ok := s.refunds[no]; return r, ok }}
	out := func(n int, req string) gateway.FundLine {
		l := mv(n, gateway.FundRefund, -500, "T"+req, "O"+req)
		l.OutRequestNo = req
		return l
	}
	res := fundRun(t, in, []gateway.BillLine{line(2, "BILL_ABN"), line(3, "BILL_MOVED")},
		[]gateway.FundLine{out(2, "BILL_MOVED"), out(3, "OLD_ABN"), out(4, "MOVED_ABN")})
	fundOnly(t, res, recon.FundMissing, "BILL_ABN")
	fundOnly(t, res, recon.FundMissing, "LOCAL_ABN")
	if n := res.Counts[recon.FundMissing].Count; n != 2 || len(res.Findings) != 2 {
		t.Errorf("FUND_MISSING %d, findings %+v", n, res.Findings)
	}
	if m := res.Counts[recon.FundMatched]; m.Count != 3 || m.Amount != -1500 {
		t.Errorf("FUND_MATCHED %+v, want BILL_MOVED, OLD_ABN and MOVED_ABN going out", m)
	}
}

// TestFundEveryMovementOnce: every movement ends in exactly one item, and
// Counts add up to the findings.
func TestFundEveryMovementOnce(t *testing.T) {
	d := day(t, "2026-11-22")
	when := at(t, "2026-11-22 10:00:00")
	orders := []recon.Order{paid("A", "T1", 10000, when)}
	moves := []gateway.FundLine{
		mv(1, gateway.FundPayment, 10000, "T1", "A"),
		mv(2, gateway.FundPayment, 10000, "T1", "A"), // twice: the item mismatches, the movement is not lost
	}
	res := fundRun(t, recon.FundInput{Channel: gateway.Alipay, Day: d, Orders: orders}, nil, moves)
	f := fundOnly(t, res, recon.FundAmountMismatch, "A")
	if f.PlatformAmount != 20000 || f.LocalAmount != 10000 {
		t.Errorf("%+v", f)
	}
	for _, c := range recon.FundCategories {
		if c == recon.FundMatched {
			continue
		}
		n := 0
		for _, f := range res.Findings {
			if f.Category == c {
				n++
			}
		}
		if n != res.Counts[c].Count {
			t.Errorf("%s: %d findings, Counts %d", c, n, res.Counts[c].Count)
		}
	}
}

func TestFundInputErrors(t *testing.T) {
	d := day(t, "2026-11-22")
	for name, in := range map[string]recon.FundInput{
		"no channel":   {Day: d},
		"no day":       {Channel: gateway.Alipay},
		"utc midnight": {Channel: gateway.Alipay, Day: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)},
		"dup refund":   {Channel: gateway.Alipay, Day: d, Refunds: []recon.Refund{success("R", "A", 1, d.Add(time.Hour)), success("R", "A", 1, d.Add(time.Hour))}},
	} {
		if _, err := recon.NewFundMatcher(in); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	m, _ := recon.NewFundMatcher(recon.FundInput{Channel: gateway.Alipay, Day: d})
	_ = m.Movements(nil)
	if err := m.Expect(nil); err == nil {
		t.Error("trade bill lines accepted after movements")
	}
	m.Finish()
	if err := m.Movements(nil); err == nil {
		t.Error("movements accepted after Finish")
	}
}

// scribbled gives s's bytes in buf, reused from call to call (never grown:
// its capacity is made large enough), as a scan or a parser hands out text
// that is only the callee's until it returns.
func scribbled(buf *[]byte, s string) string {
	if s == "" {
		return ""
	}
	if len(*buf)+len(s) > cap(*buf) {
		panic("scribbled: the buffer would grow")
	}
	*buf = append(*buf, s...)
	b := (*buf)[len(*buf)-len(s):]
	return unsafe.String(&b[0], len(b))
}

// scribble overwrites all of buf's array.
func scribble(buf []byte) {
	buf = buf[:cap(buf)]
	for i := range buf {
		buf[i] = 'X'
	}
}

// TestFundMatcherCopiesWhatItKeeps: the matcher keeps the numbers of the
// orders, bill lines and movements it is fed, whose text is the caller's
// only until each call returns (store.EachPaidOrder's, a parser's chunk).
// Fed a day whose text is overwritten after every call, it must judge it
// exactly as when the text stays put: among the bookings, orders without
// a trade number (found by order number, then given the bill's), refunds,
// and payments missing, short and unexpected.
func TestFundMatcherCopiesWhatItKeeps(t *testing.T) {
	d := day(t, "2026-11-22")
	var orders []recon.Order
	var bill []gateway.BillLine
	var moves []gateway.FundLine
	for i := range 3000 {
		no, trade := fmt.Sprintf("ORDER%05d", i), fmt.Sprintf("2026112222001%08d", i)
		when := d.Add(time.Duration(i) * 20 * time.Second)
		amount := gateway.Money(1000 + i)
		o := paid(no, trade, amount, when)
		if i%7 == 0 {
			o.TradeNo = "" // imported without its trade number
		}
		if i%11 != 0 {
			orders = append(orders, o)
		}
		if i%13 != 0 {
			bill = append(bill, payLine(len(bill)+2, no, trade, amount, when))
		}
		if i%17 == 0 {
			bill = append(bill, refundLine(len(bill)+2, no, trade, "REQ"+no, 500, when.Add(time.Second)))
			refund := mv(len(moves)+2, gateway.FundRefund, -500, trade, no)
			if i%34 == 0 { // named by its request number alone
				refund.TradeNo, refund.OutTradeNo, refund.OutRequestNo = "", "", "REQ"+no
			}
			moves = append(moves, refund)
		}
		switch {
		case i%19 == 0: // no movement: 短款
		case i%23 == 0:
			moves = append(moves, mv(len(moves)+2, gateway.FundPayment, amount-1, trade, no)) // short
		default:
			moves = append(moves, mv(len(moves)+2, gateway.FundPayment, amount, trade, no),
				mv(len(moves)+3, gateway.FundFee, -(amount*6/1000), trade, no))
		}
		if i%29 == 0 {
			moves = append(moves, mv(len(moves)+2, gateway.FundPayment, 777, "STRAY"+trade, "")) // 长款
		}
	}
	in := func() recon.FundInput { return recon.FundInput{Channel: gateway.Alipay, Day: d, Bookings: len(bill)} }
	const chunk = 256
	run := func(scribbling bool) recon.FundResult {
		fin := in()
		buf := make([]byte, 0, 64<<10)
		fin.EachOrder = func(fn func(recon.Order) error) error {
			row := make([]byte, 0, 64)
			for _, o := range orders {
				if scribbling {
					row = row[:0]
					o.OutTradeNo, o.TradeNo = scribbled(&row, o.OutTradeNo), scribbled(&row, o.TradeNo)
				}
				if err := fn(o); err != nil {
					return err
				}
				scribble(row)
			}
			return nil
		}
		m, err := recon.NewFundMatcher(fin)
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < len(bill); k += chunk {
			part := slices.Clone(bill[k:min(k+chunk, len(bill))])
			buf = buf[:0]
			for j := range part {
				if l := &part[j]; scribbling {
					l.OutTradeNo, l.TradeNo, l.OutRequestNo = scribbled(&buf, l.OutTradeNo), scribbled(&buf, l.TradeNo), scribbled(&buf, l.OutRequestNo)
				}
			}
			if err := m.Expect(part); err != nil {
				t.Fatal(err)
			}
			scribble(buf)
		}
		for k := 0; k < len(moves); k += chunk {
			part := slices.Clone(moves[k:min(k+chunk, len(moves))])
			buf = buf[:0]
			for j := range part {
				if l := &part[j]; scribbling {
					l.OutTradeNo, l.TradeNo, l.FlowNo, l.Type = scribbled(&buf, l.OutTradeNo), scribbled(&buf, l.TradeNo), scribbled(&buf, l.FlowNo), scribbled(&buf, l.Type)
					l.OutRequestNo = scribbled(&buf, l.OutRequestNo)
				}
			}
			if err := m.Movements(part); err != nil {
				t.Fatal(err)
			}
			scribble(buf)
		}
		return m.Finish()
	}
	want, got := run(false), run(true)
	for _, c := range []recon.Category{recon.FundMissing, recon.FundAmountMismatch, recon.FundUnexpected} {
		if want.Counts[c].Count == 0 {
			t.Fatalf("the day has no %s: the test would not see its numbers", c)
		}
	}
	if want.Counts[recon.FundMatched].Count < 2000 {
		t.Fatalf("only %d bookings matched", want.Counts[recon.FundMatched].Count)
	}
	if !reflect.DeepEqual(got, want) {
		for i := range min(len(got.Findings), len(want.Findings)) {
			if !reflect.DeepEqual(got.Findings[i], want.Findings[i]) {
				t.Fatalf("finding %d with the text overwritten:\n got %+v\nwant %+v", i, got.Findings[i], want.Findings[i])
			}
		}
		t.Fatalf("with the text overwritten: %d findings, counts %+v; want %d, %+v", len(got.Findings), got.Counts, len(want.Findings), want.Counts)
	}
}
