package recon_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/recon"
)

// days runs consecutive days, each with the previous day's Carry as its
// Suspense, and returns the results.
type dayRun struct {
	date    string
	orders  []recon.Order
	refunds []recon.Refund
	lines   []gateway.BillLine
	want    []recon.Category // per line
}

func runDays(t *testing.T, st *store, ch gateway.Channel, suspenseDays int, runs []dayRun) []recon.Result {
	t.Helper()
	var carry []recon.Finding
	var out []recon.Result
	for _, r := range runs {
		in := st.input(ch, day(t, r.date), r.orders, r.refunds)
		in.Suspense, in.SuspenseDays = carry, suspenseDays
		cats, res := run(t, in, r.lines)
		for i := range r.want {
			if cats[i] != r.want[i] {
				t.Errorf("%s line %d: got %s, want %s", r.date, r.lines[i].Line, cats[i], r.want[i])
			}
		}
		out = append(out, res)
		// The store keeps the carry as JSON between runs.
		b, err := json.Marshal(res.Carry)
		if err != nil {
			t.Fatal(err)
		}
		carry = nil
		if err := json.Unmarshal(b, &carry); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// A payment paydesk booked at 23:58:30 that the platform booked after
// midnight: CROSS_DAY on day 1, MATCHED and settled on day 2.
func TestCrossDayPaydeskFirst(t *testing.T) {
	o := paid("M1", "T1", 1230, at(t, "2024-05-01 23:58:30"))
	st := newStore([]recon.Order{o}, nil)
	res := runDays(t, st, gateway.Alipay, 0, []dayRun{
		{date: "2024-05-01", orders: []recon.Order{o}},
		// Day 2's orders are those paid on day 2: the line finds M1 through the lookup.
		{date: "2024-05-02", lines: []gateway.BillLine{payLine(7, "M1", "T1", 1230, at(t, "2024-05-02 00:00:10"))},
			want: []recon.Category{recon.Matched}},
	})
	d1, d2 := res[0], res[1]
	f := only(t, d1, recon.CrossDay)
	if f.Side != recon.SideLocal || f.OutTradeNo != "M1" || f.TradeNo != "T1" || f.LocalAmount != 1230 || f.Severity != recon.Info {
		t.Errorf("day 1 finding %+v", f)
	}
	if len(d1.Carry) != 1 || d1.Carry[0] != f {
		t.Errorf("day 1 carry %+v", d1.Carry)
	}
	if b, _ := json.Marshal(f); !strings.Contains(string(b), `"local_amount":"12.30"`) || !strings.Contains(string(b), `"side":"local"`) {
		t.Errorf("finding JSON %s", b)
	}
	wantCount(t, d1, recon.CrossDay, 1, 1230)

	if len(d2.Findings) != 0 || len(d2.Carry) != 0 {
		t.Errorf("day 2: findings %+v carry %+v", d2.Findings, d2.Carry)
	}
	if len(d2.Settled) != 1 {
		t.Fatalf("day 2 settled %+v", d2.Settled)
	}
	s := d2.Settled[0]
	if s.Category != recon.Matched || s.OutTradeNo != "M1" || !s.Day.Equal(day(t, "2024-05-01")) ||
		s.BillLine != 7 || s.PlatformAmount != 1230 {
		t.Errorf("settled %+v", s)
	}
	wantCount(t, d2, recon.Matched, 1, 1230)
	wantCount(t, d2, recon.CrossDay, 0, 0)
}

// Outside the window the same payment is MISSING_PLATFORM on day 1; when
// the platform books it a day later it matches, with a notice.
func TestMissingPlatformThenBookedLater(t *testing.T) {
	o := paid("M1", "T1", 1230, at(t, "2024-05-01 23:40:00"))
	st := newStore([]recon.Order{o}, nil)
	res := runDays(t, st, gateway.Alipay, 0, []dayRun{
		{date: "2024-05-01", orders: []recon.Order{o}},
		{date: "2024-05-02", lines: []gateway.BillLine{payLine(1, "M1", "T1", 1230, at(t, "2024-05-02 00:00:10"))},
			want: []recon.Category{recon.Matched}},
	})
	only(t, res[0], recon.MissingPlatform)
	if len(res[0].Carry) != 0 {
		t.Errorf("day 1 carry %+v", res[0].Carry)
	}
	if len(res[1].Notices) != 1 || !strings.Contains(res[1].Notices[0].Detail, "2024-05-01 23:40:00") {
		t.Errorf("day 2 notices %+v", res[1].Notices)
	}
	// A shorter window makes 23:58:30 missing rather than held.
	late := paid("M2", "T2", 100, at(t, "2024-05-01 23:58:30"))
	in := st.input(gateway.Alipay, day(t, "2024-05-01"), []recon.Order{late}, nil)
	in.CrossDayWindow = time.Minute
	_, r := run(t, in, nil)
	only(t, r, recon.MissingPlatform)
}

// The platform booked at 23:59:58; paydesk dates the payment 00:00:03 the
// next day (paid by a live query that recorded its own clock). CROSS_DAY
// on day 1; on day 2 the order, now in that day's orders, settles it and is
// not reported missing.
func TestCrossDayPlatformFirst(t *testing.T) {
	for _, c := range []struct {
		name string
		via  string
		want recon.Category
	}{
		{"verified", recon.PaidViaNotify, recon.Matched},
		{"no notification", recon.PaidViaQuery, recon.NotifyMissing},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := paid("M1", "T1", 500, at(t, "2024-05-02 00:00:03"))
			o.PaidVia, o.NotifyVerified = c.via, c.via == recon.PaidViaNotify
			st := newStore([]recon.Order{o}, nil)
			res := runDays(t, st, gateway.Alipay, 0, []dayRun{
				{date: "2024-05-01", lines: []gateway.BillLine{payLine(3, "M1", "T1", 500, at(t, "2024-05-01 23:59:58"))},
					want: []recon.Category{recon.CrossDay}},
				{date: "2024-05-02", orders: []recon.Order{o}},
			})
			f := only(t, res[0], recon.CrossDay)
			if f.Side != recon.SidePlatform || f.BillLine != 3 || f.PlatformAmount != 500 || len(res[0].Carry) != 1 {
				t.Errorf("day 1: %+v carry %d", f, len(res[0].Carry))
			}
			d2 := res[1]
			if len(d2.Settled) != 1 || d2.Settled[0].Category != c.want || len(d2.Carry) != 0 {
				t.Fatalf("day 2 settled %+v carry %+v", d2.Settled, d2.Carry)
			}
			wantCount(t, d2, recon.MissingPlatform, 0, 0)
			if c.want == recon.Matched {
				if len(d2.Findings) != 0 {
					t.Errorf("day 2 findings %+v", d2.Findings)
				}
				wantCount(t, d2, recon.Matched, 1, 500)
			} else {
				g := only(t, d2, c.want)
				// Reported on day 2, about day 1's line.
				if !g.Day.Equal(day(t, "2024-05-01")) || g.BillLine != 3 {
					t.Errorf("day 2 finding %+v", g)
				}
				wantCount(t, d2, recon.Matched, 0, 0)
			}
		})
	}
}

// Unsettled suspense is carried for SuspenseDays later days and then
// escalates: paydesk-side payments to MISSING_PLATFORM, platform-side ones
// to MISSING_LOCAL, refunds to REFUND_MISMATCH.
func TestSuspenseEscalates(t *testing.T) {
	local := paid("M1", "T1", 100, at(t, "2024-05-01 23:59:00"))
	// paydesk dates M2 a week later: its day never comes within the wait.
	far := paid("M2", "T2", 200, at(t, "2024-05-08 00:00:01"))
	ref := success("R1", "M9", 300, at(t, "2024-05-01 23:57:00"))
	st := newStore([]recon.Order{local, far}, []recon.Refund{ref})
	res := runDays(t, st, gateway.Alipay, 0, []dayRun{
		{date: "2024-05-01", orders: []recon.Order{local}, refunds: []recon.Refund{ref},
			lines: []gateway.BillLine{payLine(1, "M2", "T2", 200, at(t, "2024-05-01 23:59:59"))},
			want:  []recon.Category{recon.CrossDay}},
		{date: "2024-05-02"},
		{date: "2024-05-03"},
		{date: "2024-05-04"},
		{date: "2024-05-05"},
	})
	if n := res[0].Counts[recon.CrossDay].Count; n != 3 || len(res[0].Carry) != 3 {
		t.Fatalf("day 1: %d cross-day, carry %+v", n, res[0].Carry)
	}
	for i, r := range res[1:3] {
		if len(r.Findings) != 0 || len(r.Carry) != 3 {
			t.Errorf("day %d: findings %+v, carry %d", i+2, r.Findings, len(r.Carry))
		}
		for _, f := range r.Carry {
			if !f.Day.Equal(day(t, "2024-05-01")) {
				t.Errorf("carried item lost its day: %+v", f)
			}
		}
	}
	d4 := res[3]
	if len(d4.Carry) != 0 || len(d4.Findings) != 3 {
		t.Fatalf("day 4: findings %+v carry %+v", d4.Findings, d4.Carry)
	}
	mp := only(t, d4, recon.MissingPlatform)
	ml := only(t, d4, recon.MissingLocal)
	rm := only(t, d4, recon.RefundMismatch)
	if mp.OutTradeNo != "M1" || mp.LocalAmount != 100 || ml.OutTradeNo != "M2" || ml.PlatformAmount != 200 ||
		ml.BillLine != 1 || rm.OutRequestNo != "R1" || rm.Severity != recon.Warning {
		t.Errorf("escalations: %+v / %+v / %+v", mp, ml, rm)
	}
	for _, f := range d4.Findings {
		if !f.Day.Equal(day(t, "2024-05-01")) || !strings.Contains(f.Detail, "2024-05-01") || !strings.Contains(f.Detail, "held as cross-day") {
			t.Errorf("escalated item %+v should keep its first day", f)
		}
	}
	wantCount(t, d4, recon.MissingPlatform, 1, 100)
	wantCount(t, d4, recon.MissingLocal, 1, 200)
	wantCount(t, d4, recon.RefundMismatch, 1, -300)
	if len(res[4].Findings) != 0 || len(res[4].Carry) != 0 {
		t.Errorf("day 5 still has %+v", res[4])
	}

	// With SuspenseDays 1 the next day already escalates.
	short := runDays(t, st, gateway.Alipay, 1, []dayRun{
		{date: "2024-05-01", orders: []recon.Order{local}},
		{date: "2024-05-02"},
	})
	only(t, short[1], recon.MissingPlatform)

	// The last day of the wait still settles.
	last := runDays(t, st, gateway.Alipay, 0, []dayRun{
		{date: "2024-05-01", orders: []recon.Order{local}},
		{date: "2024-05-02"},
		{date: "2024-05-03"},
		{date: "2024-05-04", lines: []gateway.BillLine{payLine(1, "M1", "T1", 100, at(t, "2024-05-04 08:00:00"))},
			want: []recon.Category{recon.Matched}},
	})
	if len(last[3].Findings) != 0 || len(last[3].Settled) != 1 {
		t.Errorf("day 4: findings %+v settled %+v", last[3].Findings, last[3].Settled)
	}
}

// A refund paydesk recorded as succeeded at 23:56 that the platform booked
// on the next day's bill, and one the platform booked first.
func TestRefundBookedOnLaterDay(t *testing.T) {
	early := success("R1", "M1", 250, at(t, "2024-05-01 23:56:00"))
	late := success("R2", "M1", 120, at(t, "2024-05-02 00:02:00"))
	st := newStore(nil, []recon.Refund{early, late})
	res := runDays(t, st, gateway.Alipay, 0, []dayRun{
		{date: "2024-05-01", refunds: []recon.Refund{early},
			lines: []gateway.BillLine{refundLine(4, "M1", "T1", "R2", 120, at(t, "2024-05-01 23:59:30"))},
			want:  []recon.Category{recon.CrossDay}},
		{date: "2024-05-02", refunds: []recon.Refund{late},
			lines: []gateway.BillLine{refundLine(9, "M1", "T1", "R1", 250, at(t, "2024-05-02 00:00:40"))},
			want:  []recon.Category{recon.Matched}},
	})
	d1, d2 := res[0], res[1]
	wantCount(t, d1, recon.CrossDay, 2, -370)
	for _, f := range d1.Findings {
		want := recon.SideLocal
		if f.OutRequestNo == "R2" {
			want = recon.SidePlatform
		}
		if f.Category != recon.CrossDay || f.Kind != gateway.LineRefund || f.Side != want {
			t.Errorf("day 1 finding %+v", f)
		}
	}
	if len(d2.Findings) != 0 || len(d2.Carry) != 0 || len(d2.Settled) != 2 {
		t.Fatalf("day 2: findings %+v carry %+v settled %+v", d2.Findings, d2.Carry, d2.Settled)
	}
	for _, s := range d2.Settled {
		if s.Category != recon.Matched {
			t.Errorf("settled %+v", s)
		}
	}
	wantCount(t, d2, recon.Matched, 2, -370)
	wantCount(t, d2, recon.RefundMismatch, 0, 0)
}

// One order paid on Alipay and on WeChat: the Alipay bill matches, the
// WeChat bill's payment is the duplicate, found through the lookup.
func TestDuplicateAcrossChannels(t *testing.T) {
	d := day(t, "2024-05-01")
	o := paid("M1", "2024050122001", 8800, at(t, "2024-05-01 10:00:00"))
	st := newStore([]recon.Order{o}, nil)

	_, ali := run(t, st.input(gateway.Alipay, d, []recon.Order{o}, nil),
		[]gateway.BillLine{payLine(1, "M1", "2024050122001", 8800, at(t, "2024-05-01 10:00:00"))})
	if len(ali.Findings) != 0 {
		t.Errorf("alipay findings %+v", ali.Findings)
	}
	wantCount(t, ali, recon.Matched, 1, 8800)

	other := recon.Order{OutTradeNo: "W1", Channel: gateway.WeChat, Amount: 100, Status: recon.OrderPaid,
		TradeNo: "4200001", PaidAt: at(t, "2024-05-01 11:00:00"), PaidVia: recon.PaidViaNotify}
	cats, wx := run(t, st.input(gateway.WeChat, d, []recon.Order{other}, nil), []gateway.BillLine{
		payLine(1, "W1", "4200001", 100, at(t, "2024-05-01 11:00:00")),
		payLine(2, "M1", "4200002", 8800, at(t, "2024-05-01 10:01:00")),
	})
	if cats[0] != recon.Matched || cats[1] != recon.DuplicatePayment {
		t.Fatalf("wechat lines %v", cats)
	}
	f := only(t, wx, recon.DuplicatePayment)
	if f.Severity != recon.Critical || f.Channel != gateway.WeChat || f.TradeNo != "4200002" ||
		f.LocalAmount != 8800 || f.PlatformAmount != 8800 || f.BillLine != 2 ||
		!strings.Contains(f.Detail, "Alipay") || !strings.Contains(f.Detail, "WeChat Pay") {
		t.Errorf("duplicate %+v", f)
	}
	wantCount(t, wx, recon.DuplicatePayment, 1, 8800)

	// The callback intake saw the WeChat payment and recorded it as a
	// further trade: the WeChat run (given the order because it has a
	// WeChat payment that day) still reports it — once, whether the bill
	// has the line or not.
	known := o
	known.ExtraTrades = []recon.Payment{{Channel: gateway.WeChat, TradeNo: "4200002", Amount: 8800,
		PaidAt: at(t, "2024-05-01 10:01:00")}}
	st = newStore([]recon.Order{known}, nil)
	_, withLine := run(t, st.input(gateway.WeChat, d, []recon.Order{known}, nil),
		[]gateway.BillLine{payLine(2, "M1", "4200002", 8800, at(t, "2024-05-01 10:01:00"))})
	if g := only(t, withLine, recon.DuplicatePayment); g.BillLine != 2 || g.Side != "" {
		t.Errorf("known duplicate with line %+v", g)
	}
	_, without := run(t, st.input(gateway.WeChat, d, []recon.Order{known}, nil), nil)
	if g := only(t, without, recon.DuplicatePayment); g.Side != recon.SideLocal || g.TradeNo != "4200002" || g.LocalAmount != 8800 {
		t.Errorf("known duplicate without line %+v", g)
	}
	// The Alipay run is about the Alipay payment only.
	_, ali = run(t, st.input(gateway.Alipay, d, []recon.Order{known}, nil),
		[]gateway.BillLine{payLine(1, "M1", "2024050122001", 8800, at(t, "2024-05-01 10:00:00"))})
	if len(ali.Findings) != 0 {
		t.Errorf("alipay findings %+v", ali.Findings)
	}
}

// Orders given for the day that the bill is not about make no item.
func TestNotDueOrdersMakeNoItem(t *testing.T) {
	d := day(t, "2024-05-01")
	pending := recon.Order{OutTradeNo: "P", Channel: gateway.Alipay, Amount: 1, Status: recon.OrderPending,
		CreatedAt: at(t, "2024-05-01 09:00:00")}
	paidTomorrow := paid("T", "T-T", 2, at(t, "2024-05-02 09:00:00"))
	wechat := paid("W", "W-W", 3, at(t, "2024-05-01 09:00:00"))
	wechat.Channel = gateway.WeChat
	pendingRefund := success("RP", "X", 4, time.Time{})
	pendingRefund.Status = gateway.RefundPending
	_, res := run(t, recon.Input{Channel: gateway.Alipay, Day: d,
		Orders:  []recon.Order{pending, paidTomorrow, wechat},
		Refunds: []recon.Refund{pendingRefund}}, nil)
	for _, c := range recon.Categories {
		if res.Counts[c].Count != 0 {
			t.Errorf("Counts[%s] = %+v", c, res.Counts[c])
		}
	}
}
