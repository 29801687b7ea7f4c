package recon

import (
	"fmt"

	"github.com/paydesk/paydesk/gateway"
)

func holdKeyOf(f *Finding) holdKey {
	if f.Kind == gateway.LineRefund {
		return holdKey{kind: f.Kind, side: f.Side, a: f.OutRequestNo}
	}
	return holdKey{kind: f.Kind, side: f.Side, a: f.OutTradeNo, b: f.TradeNo}
}

func (m *Matcher) loadSuspense(items []Finding) error {
	if len(items) == 0 {
		return nil
	}
	m.suspense = make([]suspenseItem, 0, len(items))
	seen := make(map[holdKey]bool, len(items))
	for i := range items {
		f := items[i]
		where := fmt.Sprintf("suspense item %d (%s %s%s)", i, f.Kind, f.OutTradeNo, f.OutRequestNo)
		switch {
		case f.Category != CrossDay:
			return inputErr("%s is %s, not CROSS_DAY", where, f.Category)
		case f.Channel != m.in.Channel:
			return inputErr("%s is for %s, not %s", where, f.Channel, m.in.Channel)
		case f.Kind != gateway.LinePayment && f.Kind != gateway.LineRefund:
			return inputErr("%s has kind %q", where, f.Kind)
		case f.Side != SideLocal && f.Side != SidePlatform:
			return inputErr("%s has side %q", where, f.Side)
		case f.Kind == gateway.LinePayment && f.OutTradeNo == "":
			return inputErr("%s has no out_trade_no", where)
		case f.Kind == gateway.LineRefund && f.OutRequestNo == "":
			return inputErr("%s has no out_request_no", where)
		case f.Day.IsZero() || !f.Day.Before(m.start):
			// Suspense comes from runs of earlier days only: an item of this
			// day or later means the carry of the wrong run was passed,
			// and would be reported twice.
			return inputErr("%s was found on %s, not before %s",
				where, f.Day.In(m.zone).Format("2006-01-02"), m.start.Format("2006-01-02"))
		}
		k := holdKeyOf(&f)
		if seen[k] {
			return inputErr("%s is held twice", where)
		}
		seen[k] = true
		m.suspense = append(m.suspense, suspenseItem{f: f})
		if f.Side == SideLocal {
			if m.localHold == nil {
				m.localHold = make(map[holdKey]int)
			}
			m.localHold[k] = len(m.suspense) - 1
		}
	}
	return nil
}

// settleLocalHold settles the local-side suspense item waiting for the
// local booking (kind, a, b) now that the platform booked it, with the
// category the pair ended in. It reports whether there was one.
func (m *Matcher) settleLocalHold(kind gateway.LineKind, a, b string, cat Category, by *booked) bool {
	if len(m.localHold) == 0 {
		return false
	}
	i, ok := m.localHold[holdKey{kind: kind, side: SideLocal, a: a, b: b}]
	if !ok || m.suspense[i].settled {
		return false
	}
	s := &m.suspense[i]
	s.settled = true
	f := s.f
	f.Category = cat
	f.Severity = cat.Severity()
	f.BillLine = by.line
	f.PlatformAmount = by.amount
	f.PlatformStatus = m.platformStatus(by)
	f.Detail = fmt.Sprintf("Held as cross-day since %s until %s booked it on %s (line %d)",
		m.date(f.Day), m.platformName(), m.date(m.start), by.line)
	if cat != Matched {
		f.Detail += "; it ended " + string(cat) + ", reported as such"
	}
	f.Detail += "."
	m.settled = append(m.settled, f)
	return true
}

// settleBillSide settles the bill-side suspense items (a line of an
// earlier day whose local record was dated later) whose local record is
// now dated on or before this day, of those which (a part of a spilled
// day) selects. The pair is judged as a line of this run would be; the
// local record, if it is one of this day's, is paired and so not reported
// missing.
func (m *Matcher) settleBillSide(which func(*suspenseItem) bool) {
	for i := range m.suspense {
		s := &m.suspense[i]
		if s.f.Side != SidePlatform || s.settled || !which(s) {
			continue
		}
		f := &s.f
		b := booked{
			kind:         f.Kind,
			outTradeNo:   f.OutTradeNo,
			tradeNo:      f.TradeNo,
			outRequestNo: f.OutRequestNo,
			amount:       f.PlatformAmount,
			state:        f.PlatformStatus,
			refundStatus: gateway.RefundSuccess, // only a succeeded refund line is held
			line:         f.BillLine,
			hold:         s,
		}
		var cat Category
		if f.Kind == gateway.LinePayment {
			ref, ok := m.findOrder(f.OutTradeNo)
			if !ok || !m.dueByNow(ref.o, f.TradeNo) {
				continue
			}
			cat = m.pairPayment(ref, &b)
		} else {
			ref, ok := m.findRefund(f.OutRequestNo)
			if !ok || ref.r.Status != gateway.RefundSuccess || m.dayOf(m.refundDate(ref.r)) > 0 {
				continue
			}
			cat = m.pairRefund(ref, &b)
		}
		// pairPayment and pairRefund tallied the pair (and reported it when
		// it did not match); Settled only tells ops which hold is done.
		s.settled = true
		out := s.f
		out.Category = cat
		out.Severity = cat.Severity()
		out.Detail = m.settledNote(s, cat)
		m.settled = append(m.settled, out)
	}
}

// dueByNow reports whether the order's booking a bill-side item waits for
// is paid and dated on or before this day.
func (m *Matcher) dueByNow(o *Order, tradeNo string) bool {
	for i := range o.ExtraTrades {
		e := &o.ExtraTrades[i]
		if e.Channel == m.in.Channel && e.TradeNo == tradeNo {
			return m.dayOf(orDate(e.PaidAt, o)) <= 0
		}
	}
	return o.Status.Paid() && m.dayOf(orDate(o.PaidAt, o)) <= 0
}

func (m *Matcher) settledNote(s *suspenseItem, cat Category) string {
	d := fmt.Sprintf("Held as cross-day since %s (bill line %d) until paydesk's record of it came due on %s",
		m.date(s.f.Day), s.f.BillLine, m.date(m.start))
	if cat != Matched {
		d += "; it ended " + string(cat) + ", reported as such"
	}
	return d + "."
}

// ageSuspense escalates the unsettled suspense items that have waited
// SuspenseDays later bills, and carries the others on.
func (m *Matcher) ageSuspense() {
	for i := range m.suspense {
		s := &m.suspense[i]
		if s.settled {
			continue
		}
		age := m.daysSince(s.f.Day)
		if age < m.suspenseDays {
			m.carry = append(m.carry, s.f)
			continue
		}
		f := s.f
		switch {
		case f.Kind == gateway.LinePayment && f.Side == SideLocal:
			f.Category = MissingPlatform
			f.Detail = fmt.Sprintf("paydesk has order %s paid (%s, trade %s), held as cross-day since %s, but %s's bills of the %s since have no such payment.",
				f.OutTradeNo, f.LocalAmount.Yuan(), orNone(f.TradeNo), m.date(f.Day), m.platformName(), plural(age, "day"))
		case f.Kind == gateway.LinePayment:
			f.Category = MissingLocal
			f.Detail = fmt.Sprintf("%s booked a payment of %s for order %s (trade %s) on %s, held as cross-day, but paydesk has no payment of it dated within the %s since.",
				m.platformName(), f.PlatformAmount.Yuan(), f.OutTradeNo, f.TradeNo, m.date(f.Day), plural(age, "day"))
		case f.Side == SideLocal:
			f.Category = RefundMismatch
			f.Detail = fmt.Sprintf("paydesk has refund %s of %s on order %s as succeeded, held as cross-day since %s, but %s's bills of the %s since have no such refund.",
				f.OutRequestNo, f.LocalAmount.Yuan(), f.OutTradeNo, m.date(f.Day), m.platformName(), plural(age, "day"))
		default:
			f.Category = RefundMismatch
			f.Detail = fmt.Sprintf("%s booked refund %s of %s on order %s on %s, held as cross-day, but paydesk has no success of it dated within the %s since.",
				m.platformName(), f.OutRequestNo, f.PlatformAmount.Yuan(), f.OutTradeNo, m.date(f.Day), plural(age, "day"))
		}
		f.Severity = f.Category.Severity()
		if f.Kind == gateway.LineRefund && f.Side == SidePlatform {
			f.Severity = Critical // money paid back with no matching local success
		}
		m.report(f)
	}
}
