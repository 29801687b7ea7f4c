package recon_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/recon"
)

// TestPrecedence: one order, one or two lines, several conditions at once;
// each line ends in the highest category that applies.
func TestPrecedence(t *testing.T) {
	d := day(t, "2024-05-01")
	noon := at(t, "2024-05-01 12:00:00")
	nextDay := at(t, "2024-05-02 00:00:05")
	base := func() recon.Order { return paid("M1", "T1", 1000, noon) }
	line := func(trade string, amount gateway.Money) gateway.BillLine {
		return payLine(1, "M1", trade, amount, noon)
	}
	cases := []struct {
		name  string
		order func(o *recon.Order)
		lines []gateway.BillLine
		want  []recon.Category
	}{
		{"matched", nil, []gateway.BillLine{line("T1", 1000)}, []recon.Category{recon.Matched}},
		{"second trade, other amount, no notification: duplicate",
			func(o *recon.Order) { o.PaidVia, o.NotifyVerified = recon.PaidViaQuery, false },
			[]gateway.BillLine{line("T1", 1000), line("T2", 999)},
			[]recon.Category{recon.NotifyMissing, recon.DuplicatePayment}},
		{"unpaid, other amount, rejected notification: amount mismatch",
			func(o *recon.Order) {
				o.Status, o.TradeNo, o.PaidVia, o.NotifyVerified, o.NotifyRejected = recon.OrderPending, "", "", false, true
			},
			[]gateway.BillLine{line("T1", 999)}, []recon.Category{recon.AmountMismatch}},
		{"unpaid with a rejected notification: unpaid local",
			func(o *recon.Order) {
				o.Status, o.TradeNo, o.PaidVia, o.NotifyVerified, o.NotifyRejected = recon.OrderPending, "", "", false, true
			},
			[]gateway.BillLine{line("T1", 1000)}, []recon.Category{recon.UnpaidLocal}},
		{"closed order paid at the platform: unpaid local",
			func(o *recon.Order) {
				o.Status, o.TradeNo, o.PaidVia, o.NotifyVerified = recon.OrderClosed, "", "", false
			},
			[]gateway.BillLine{line("T1", 1000)}, []recon.Category{recon.UnpaidLocal}},
		{"unpaid order paid twice: unpaid local, then duplicate",
			func(o *recon.Order) {
				o.Status, o.TradeNo, o.PaidVia, o.NotifyVerified = recon.OrderPending, "", "", false
			},
			[]gateway.BillLine{line("T1", 1000), line("T2", 1000)},
			[]recon.Category{recon.UnpaidLocal, recon.DuplicatePayment}},
		{"paid by query, rejected notification, none verified: notify rejected",
			func(o *recon.Order) { o.PaidVia, o.NotifyVerified, o.NotifyRejected = recon.PaidViaQuery, false, true },
			[]gateway.BillLine{line("T1", 1000)}, []recon.Category{recon.NotifyRejected}},
		{"rejected, then a verified notification arrived: matched",
			func(o *recon.Order) { o.PaidVia, o.NotifyRejected = recon.PaidViaQuery, true },
			[]gateway.BillLine{line("T1", 1000)}, []recon.Category{recon.Matched}},
		{"paid by a notification after a rejected one: matched",
			func(o *recon.Order) { o.NotifyVerified, o.NotifyRejected = false, true },
			[]gateway.BillLine{line("T1", 1000)}, []recon.Category{recon.Matched}},
		{"imported without trade number or notification: notify missing",
			func(o *recon.Order) { o.TradeNo, o.PaidVia, o.NotifyVerified = "", recon.PaidViaImport, false },
			[]gateway.BillLine{line("T9", 1000)}, []recon.Category{recon.NotifyMissing}},
		{"refunded order still matches its payment",
			func(o *recon.Order) { o.Status = recon.OrderPartiallyRefunded },
			[]gateway.BillLine{line("T1", 1000)}, []recon.Category{recon.Matched}},
		{"paydesk dates it tomorrow, no notification: cross-day",
			func(o *recon.Order) { o.PaidAt, o.PaidVia, o.NotifyVerified = nextDay, recon.PaidViaQuery, false },
			[]gateway.BillLine{line("T1", 1000)}, []recon.Category{recon.CrossDay}},
		{"paydesk dates it tomorrow, other amount: amount mismatch",
			func(o *recon.Order) { o.PaidAt = nextDay },
			[]gateway.BillLine{line("T1", 1)}, []recon.Category{recon.AmountMismatch}},
		{"same trade booked twice: duplicate",
			nil, []gateway.BillLine{line("T1", 1000), line("T1", 1000)},
			[]recon.Category{recon.Matched, recon.DuplicatePayment}},
		{"known further payment booked twice: duplicate, twice",
			func(o *recon.Order) {
				o.ExtraTrades = []recon.Payment{{Channel: gateway.Alipay, TradeNo: "T2", Amount: 1000, PaidAt: noon}}
			},
			[]gateway.BillLine{line("T2", 1000), line("T1", 1000), line("T2", 1000)},
			[]recon.Category{recon.DuplicatePayment, recon.Matched, recon.DuplicatePayment}},
		{"known further payment (ExtraTrades) booked: duplicate",
			func(o *recon.Order) {
				o.ExtraTrades = []recon.Payment{{Channel: gateway.Alipay, TradeNo: "T2", Amount: 1000, PaidAt: noon}}
			},
			[]gateway.BillLine{line("T2", 1000), line("T1", 1000)},
			[]recon.Category{recon.DuplicatePayment, recon.Matched}},
		{"WeChat order paid on WeChat, Alipay books it too: duplicate",
			func(o *recon.Order) { o.Channel = gateway.WeChat },
			[]gateway.BillLine{line("T1", 1000)}, []recon.Category{recon.DuplicatePayment}},
		// A payment on another channel is never the order's payment: this
		// channel has no order for it.
		{"WeChat order unpaid, Alipay books it: missing local",
			func(o *recon.Order) {
				o.Channel, o.Status, o.TradeNo, o.PaidVia, o.NotifyVerified = gateway.WeChat, recon.OrderPending, "", "", false
			},
			[]gateway.BillLine{line("T1", 1000)}, []recon.Category{recon.MissingLocal}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := base()
			if c.order != nil {
				c.order(&o)
			}
			for i := range c.lines {
				c.lines[i].Line = i + 1
			}
			// The order comes through the lookup, as for a cross-day or other-channel order.
			st := newStore([]recon.Order{o}, nil)
			cats, res := run(t, st.input(gateway.Alipay, d, nil, nil), c.lines)
			if !slices.Equal(cats, c.want) {
				t.Fatalf("got %v, want %v", cats, c.want)
			}
			checkAccounting(t, res, len(c.lines))
			// A line repeating a booking says so, rather than calling it a
			// second payment by the buyer.
			for _, f := range res.Findings {
				earlier := false
				for _, l := range c.lines[:f.BillLine-1] {
					earlier = earlier || l.TradeNo == f.TradeNo
				}
				if earlier != strings.Contains(f.Detail, "more than once") {
					t.Errorf("line %d (repeat: %v): %s", f.BillLine, earlier, f.Detail)
				}
			}
		})
	}
}

// checkAccounting: items = the lines plus the local-only findings; every
// non-MATCHED count is exactly its findings.
func checkAccounting(t *testing.T, res recon.Result, lines int) {
	t.Helper()
	perCat := map[recon.Category]int{}
	localOnly := 0
	for _, f := range res.Findings {
		perCat[f.Category]++
		if f.Side == recon.SideLocal {
			localOnly++
		}
	}
	total := 0
	for _, c := range recon.Categories {
		total += res.Counts[c].Count
		if c != recon.Matched && res.Counts[c].Count != perCat[c] {
			t.Errorf("Counts[%s] = %d, findings %d", c, res.Counts[c].Count, perCat[c])
		}
	}
	if total != lines+localOnly {
		t.Errorf("items counted %d, want %d lines + %d local-only", total, lines, localOnly)
	}
}

// TestPrecedenceRandom draws every combination of the conditions a single
// payment line can meet and checks the line ends in the first applicable
// category of the documented precedence. The oracle lists which categories
// apply and picks by the list, independently of how the matcher decides.
func TestPrecedenceRandom(t *testing.T) {
	d := day(t, "2024-05-01")
	noon := at(t, "2024-05-01 12:00:00")
	tomorrow := at(t, "2024-05-02 00:03:00")
	precedence := []recon.Category{recon.MissingLocal, recon.DuplicatePayment, recon.AmountMismatch, recon.UnpaidLocal,
		recon.CrossDay, recon.NotifyRejected, recon.NotifyMissing, recon.Matched}
	statuses := []recon.OrderStatus{recon.OrderPending, recon.OrderPaid, recon.OrderClosed,
		recon.OrderRefunded, recon.OrderPartiallyRefunded}
	vias := []string{recon.PaidViaNotify, recon.PaidViaQuery, recon.PaidViaImport}
	rng := rand.New(rand.NewPCG(5, 7))
	for n := 0; n < 3000; n++ {
		status := statuses[rng.IntN(len(statuses))]
		via := vias[rng.IntN(len(vias))]
		verified, rejected := rng.IntN(2) == 0, rng.IntN(2) == 0
		otherAmount, otherTrade, otherChannel, late := rng.IntN(2) == 0, rng.IntN(3) == 0, rng.IntN(4) == 0, rng.IntN(3) == 0
		paidAt := noon
		if late {
			paidAt = tomorrow
		}
		o := recon.Order{OutTradeNo: "M1", Channel: gateway.Alipay, Amount: 500, Status: status, TradeNo: "T1",
			PaidAt: paidAt, PaidVia: via, NotifyVerified: verified, NotifyRejected: rejected}
		if otherChannel {
			o.Channel = gateway.WeChat
		}
		trade := "T1"
		if otherTrade {
			trade = "T2"
		}
		amount := gateway.Money(500)
		if otherAmount {
			amount = 499
		}

		isPaid := status != recon.OrderPending && status != recon.OrderClosed
		gotVerified := verified || via == recon.PaidViaNotify
		applies := map[recon.Category]bool{
			// A payment on another channel than an unpaid order's is not
			// its payment: this channel has no order for it.
			recon.MissingLocal: !isPaid && otherChannel,
			// A second payment: the order is paid, and this line is not its recorded payment.
			recon.DuplicatePayment: isPaid && (otherChannel || otherTrade),
			recon.AmountMismatch:   otherAmount,
			recon.UnpaidLocal:      !isPaid,
			recon.CrossDay:         isPaid && late,
			recon.NotifyRejected:   rejected && !gotVerified,
			recon.NotifyMissing:    !gotVerified,
			recon.Matched:          true,
		}
		var want recon.Category
		for _, c := range precedence {
			if applies[c] {
				want = c
				break
			}
		}
		st := newStore([]recon.Order{o}, nil)
		lines := []gateway.BillLine{payLine(1, "M1", trade, amount, noon)}
		cats, res := run(t, st.input(gateway.Alipay, d, nil, nil), lines)
		if cats[0] != want {
			t.Fatalf("case %+v, line %s %s: got %s, want %s", o, trade, amount, cats[0], want)
		}
		if want != recon.Matched && (len(res.Findings) != 1 || res.Findings[0].Category != want) {
			t.Fatalf("case %+v: findings %+v", o, res.Findings)
		}
		checkAccounting(t, res, 1)
	}
}
