package recon_test

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/recon"
)

// A generated day: orders with a planned fate each, the bill those fates
// produce, and what every line and every local-only booking must end in.
// The benchmark and the randomized accounting test share it.

type fate int

const (
	fateMatched fate = iota
	fateMissingLocal
	fateUnpaid
	fateMissingPlatform
	fateAmount
	fateDuplicate
	fateNotifyMissing
	fateNotifyRejected
	fateCrossDayLocal
	fateCrossDayPlatform
	fateRefundLocalOnly
	fateRefundPlatformOnly
	fateRefundAmount
	fateKnownDuplicate
	numFates
)

type scenario struct {
	day     time.Time
	orders  []recon.Order
	refunds []recon.Refund
	lines   []gateway.BillLine
	// lineWant[i] is what lines[i] must end in.
	lineWant []recon.Category
	// localWant is what each local booking without a line must end in,
	// keyed by localKey.
	localWant map[string]recon.Category
	// elsewhere holds the orders not given as the day's orders, found only
	// through LookupOrder.
	elsewhere map[string]recon.Order
}

func localKey(f recon.Finding) string {
	if f.Kind == gateway.LineRefund {
		return "R|" + f.OutRequestNo
	}
	return "P|" + f.OutTradeNo + "|" + f.TradeNo
}

func (s *scenario) input() recon.Input {
	return recon.Input{
		Channel: gateway.Alipay, Day: s.day, Zone: gateway.Shanghai,
		Orders: s.orders, Refunds: s.refunds,
		LookupOrder: func(no string) (recon.Order, bool) {
			o, ok := s.elsewhere[no]
			return o, ok
		},
	}
}

// generate makes n orders for 2024-05-01 on Alipay. Every every-th order
// (none when every is 0) gets one of the perturbed fates, in turn; the rest
// match, one in 40 of them with a matched refund too. Lines are shuffled:
// a bill is in no useful order.
func generate(n, every int, seed uint64) *scenario {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	start := time.Date(2024, 5, 1, 0, 0, 0, 0, gateway.Shanghai)
	s := &scenario{
		day:       start,
		orders:    make([]recon.Order, 0, n),
		lines:     make([]gateway.BillLine, 0, n+n/30),
		lineWant:  make([]recon.Category, 0, n+n/30),
		localWant: map[string]recon.Category{},
		elsewhere: map[string]recon.Order{},
	}
	num := func(prefix string, i int, width int) string {
		b := make([]byte, 0, len(prefix)+width)
		b = append(b, prefix...)
		d := strconv.Itoa(i)
		for k := len(d); k < width; k++ {
			b = append(b, '0')
		}
		return string(append(b, d...))
	}
	// Trade numbers are unique but sort unlike the order numbers (their
	// digits are the order's reversed), so that an ordering by one cannot
	// pass for an ordering by the other.
	tradeNo := func(i int) string {
		b := []byte(num("", i, 15))
		slices.Reverse(b)
		return "2024050122001" + string(b)
	}
	// Times stay clear of the last CrossDayWindow unless a fate wants it.
	daytime := func() time.Time { return start.Add(time.Duration(rng.Int64N(int64(23*time.Hour + 40*time.Minute)))) }
	line := func(kind gateway.LineKind, o *recon.Order, trade, req string, amount gateway.Money, when time.Time, want recon.Category) {
		l := gateway.BillLine{Kind: kind, OutTradeNo: o.OutTradeNo, TradeNo: trade, OutRequestNo: req,
			Amount: amount, Net: amount, Fee: amount * 6 / 1000, Time: when, State: "交易"}
		if kind == gateway.LineRefund {
			l.Net, l.Fee, l.State = -amount, -l.Fee, "退款"
		}
		s.lines = append(s.lines, l)
		s.lineWant = append(s.lineWant, want)
	}
	refunds := 0
	refund := func(o *recon.Order, amount gateway.Money) recon.Refund {
		refunds++
		return recon.Refund{OutRequestNo: num("RQ", refunds, 9), OutTradeNo: o.OutTradeNo, Channel: gateway.Alipay,
			Amount: amount, Status: gateway.RefundSuccess, Source: recon.RefundSourceLocal, RefundedAt: daytime()}
	}

	perturbed := 0
	for i := 0; i < n; i++ {
		f := fateMatched
		if every > 0 && i%every == 0 {
			f = fate(perturbed%int(numFates-1) + 1)
			perturbed++
		}
		paidAt := daytime()
		o := recon.Order{
			OutTradeNo: num("M2024050100", i, 10), Channel: gateway.Alipay,
			Amount: gateway.Money(100 + rng.Int64N(99900)), Status: recon.OrderPaid,
			TradeNo: tradeNo(i), CreatedAt: paidAt.Add(-time.Minute), PaidAt: paidAt,
			PaidVia: recon.PaidViaNotify, NotifyVerified: true,
		}
		given := true
		switch f {
		case fateMatched:
			line(gateway.LinePayment, &o, o.TradeNo, "", o.Amount, paidAt, recon.Matched)
			if i%40 == 1 {
				r := refund(&o, o.Amount/2)
				o.Status = recon.OrderPartiallyRefunded
				s.refunds = append(s.refunds, r)
				line(gateway.LineRefund, &o, o.TradeNo, r.OutRequestNo, r.Amount, r.RefundedAt, recon.Matched)
			}
		case fateMissingLocal:
			given = false
			o.OutTradeNo = "X" + o.OutTradeNo // an order paydesk never made
			line(gateway.LinePayment, &o, o.TradeNo, "", o.Amount, paidAt, recon.MissingLocal)
		case fateUnpaid:
			o.Status, o.TradeNo, o.PaidAt, o.PaidVia, o.NotifyVerified = recon.OrderPending, "", time.Time{}, "", false
			line(gateway.LinePayment, &o, tradeNo(i), "", o.Amount, paidAt, recon.UnpaidLocal)
		case fateMissingPlatform:
			s.localWant["P|"+o.OutTradeNo+"|"+o.TradeNo] = recon.MissingPlatform
		case fateAmount:
			line(gateway.LinePayment, &o, o.TradeNo, "", o.Amount+1, paidAt, recon.AmountMismatch)
		case fateDuplicate:
			line(gateway.LinePayment, &o, o.TradeNo, "", o.Amount, paidAt, recon.Matched)
			line(gateway.LinePayment, &o, o.TradeNo+"D", "", o.Amount, paidAt.Add(time.Second), recon.DuplicatePayment)
		case fateNotifyMissing:
			o.PaidVia, o.NotifyVerified = recon.PaidViaQuery, false
			line(gateway.LinePayment, &o, o.TradeNo, "", o.Amount, paidAt, recon.NotifyMissing)
		case fateNotifyRejected:
			o.PaidVia, o.NotifyVerified, o.NotifyRejected = recon.PaidViaQuery, false, true
			line(gateway.LinePayment, &o, o.TradeNo, "", o.Amount, paidAt, recon.NotifyRejected)
		case fateCrossDayLocal:
			o.PaidAt = start.Add(24*time.Hour - time.Duration(1+rng.Int64N(int64(9*time.Minute))))
			s.localWant["P|"+o.OutTradeNo+"|"+o.TradeNo] = recon.CrossDay
		case fateCrossDayPlatform:
			// paydesk dates it after midnight: not one of the day's orders.
			given = false
			o.PaidAt = start.Add(24*time.Hour + time.Duration(rng.Int64N(int64(5*time.Minute))))
			s.elsewhere[o.OutTradeNo] = o
			line(gateway.LinePayment, &o, o.TradeNo, "", o.Amount, start.Add(24*time.Hour-time.Second), recon.CrossDay)
		case fateRefundLocalOnly:
			line(gateway.LinePayment, &o, o.TradeNo, "", o.Amount, paidAt, recon.Matched)
			r := refund(&o, o.Amount)
			o.Status = recon.OrderRefunded
			s.refunds = append(s.refunds, r)
			s.localWant["R|"+r.OutRequestNo] = recon.RefundMismatch
		case fateRefundPlatformOnly:
			line(gateway.LinePayment, &o, o.TradeNo, "", o.Amount, paidAt, recon.Matched)
			refunds++
			line(gateway.LineRefund, &o, o.TradeNo, num("RQ", refunds, 9), o.Amount, daytime(), recon.RefundMismatch)
		case fateRefundAmount:
			line(gateway.LinePayment, &o, o.TradeNo, "", o.Amount, paidAt, recon.Matched)
			r := refund(&o, o.Amount/3)
			o.Status = recon.OrderPartiallyRefunded
			s.refunds = append(s.refunds, r)
			line(gateway.LineRefund, &o, o.TradeNo, r.OutRequestNo, r.Amount+1, r.RefundedAt, recon.RefundMismatch)
		case fateKnownDuplicate:
			extra := recon.Payment{Channel: gateway.Alipay, TradeNo: o.TradeNo + "E", Amount: o.Amount, PaidAt: paidAt.Add(time.Minute)}
			o.ExtraTrades = []recon.Payment{extra}
			line(gateway.LinePayment, &o, o.TradeNo, "", o.Amount, paidAt, recon.Matched)
			line(gateway.LinePayment, &o, extra.TradeNo, "", extra.Amount, extra.PaidAt, recon.DuplicatePayment)
		}
		if given {
			s.orders = append(s.orders, o)
		}
	}
	rng.Shuffle(len(s.lines), func(i, j int) {
		s.lines[i], s.lines[j] = s.lines[j], s.lines[i]
		s.lineWant[i], s.lineWant[j] = s.lineWant[j], s.lineWant[i]
	})
	for i := range s.lines {
		s.lines[i].Line = i + 1
	}
	rng.Shuffle(len(s.orders), func(i, j int) { s.orders[i], s.orders[j] = s.orders[j], s.orders[i] })
	// Lay the strings out in memory as they arrive for real: a store scan
	// allocates each order's strings in scan order, a bill parser each
	// line's in file order, never sharing one string between the two.
	// Sharing them would make every line's key a cache miss that a parsed
	// bill does not have.
	for i := range s.orders {
		o := &s.orders[i]
		o.OutTradeNo, o.TradeNo = strings.Clone(o.OutTradeNo), strings.Clone(o.TradeNo)
	}
	for i := range s.lines {
		l := &s.lines[i]
		l.OutTradeNo, l.TradeNo, l.OutRequestNo = strings.Clone(l.OutTradeNo), strings.Clone(l.TradeNo), strings.Clone(l.OutRequestNo)
	}
	return s
}
