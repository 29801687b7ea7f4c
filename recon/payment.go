package recon

import (
	"fmt"
	"strings"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

func (m *Matcher) paymentLine(b *booked) Category {
	ref, ok := m.findOrder(b.outTradeNo)
	if !ok {
		f := m.platformOnly(MissingLocal, b)
		if b.outTradeNo == "" {
			f.Detail = fmt.Sprintf("%s booked a payment of %s (trade %s) without a merchant order number.",
				m.platformName(), b.amount.Yuan(), f.TradeNo)
		} else {
			f.Detail = fmt.Sprintf("%s booked a payment of %s (trade %s) for order %s, which paydesk has no record of.",
				m.platformName(), b.amount.Yuan(), f.TradeNo, f.OutTradeNo)
		}
		m.report(f)
		return MissingLocal
	}
	return m.pairPayment(ref, b)
}

// pairPayment decides which of the order's payments the platform booking b
// is, and judges the pair. The order's recorded payment is the one on its
// channel under its trade number (any trade number when paydesk has none);
// a booking that is not it is a known duplicate (ExtraTrades) or an unknown
// one, except that the first booking of an unpaid order is judged as its
// payment (UNPAID_LOCAL or AMOUNT_MISMATCH), so that only a second one is a
// duplicate.
func (m *Matcher) pairPayment(ref orderRef, b *booked) Category {
	o := ref.o
	if o.Channel != m.in.Channel && !o.Status.Paid() {
		return m.otherChannelPayment(o, b)
	}
	if !ref.taken() && o.Channel == m.in.Channel && (o.TradeNo == "" || o.TradeNo == b.tradeNo) {
		ref.take()
		return m.judgePayment(o, b)
	}
	// bookedAgain: the line repeats a further payment an earlier line of
	// this bill already booked.
	bookedAgain := false
	for i := range o.ExtraTrades {
		e := &o.ExtraTrades[i]
		if e.Channel != m.in.Channel || e.TradeNo != b.tradeNo {
			continue
		}
		key := tradeKey{e.Channel, e.TradeNo}
		if _, seen := m.extraSeen[key]; seen {
			bookedAgain = true
			break
		}
		if m.extraSeen == nil {
			m.extraSeen = make(map[tradeKey]struct{})
		}
		m.extraSeen[key] = struct{}{}
		f := m.pairFinding(DuplicatePayment, o, b)
		f.LocalAmount = e.Amount
		f.Detail = fmt.Sprintf("Order %s was paid twice: the second payment of %s (%s trade %s) was recorded when its notification arrived, and the bill confirms it.",
			o.OutTradeNo, b.amount.Yuan(), m.platformName(), f.TradeNo)
		m.reportPair(f, b)
		if b.hold == nil && m.dayOf(orDate(e.PaidAt, o)) < 0 {
			m.settleLocalHold(gateway.LinePayment, o.OutTradeNo, e.TradeNo, DuplicatePayment, b)
		}
		return DuplicatePayment
	}
	if !ref.taken() && !o.Status.Paid() {
		ref.take()
		return m.judgePayment(o, b)
	}
	f := m.pairFinding(DuplicatePayment, o, b)
	switch {
	case !o.Status.Paid():
		f.Detail = fmt.Sprintf("%s booked a second payment of %s (trade %s) for order %s, which paydesk still has as %s.",
			m.platformName(), b.amount.Yuan(), f.TradeNo, o.OutTradeNo, o.Status)
	case bookedAgain || (o.Channel == m.in.Channel && b.tradeNo == o.TradeNo):
		f.Detail = fmt.Sprintf("%s's bill books the payment of order %s under trade %s (%s) more than once.",
			m.platformName(), o.OutTradeNo, f.TradeNo, b.amount.Yuan())
	case o.Channel != m.in.Channel:
		f.Detail = fmt.Sprintf("Order %s was paid on %s (trade %s) and again on %s: %s booked %s (trade %s).",
			o.OutTradeNo, o.Channel.DisplayName(), o.TradeNo, m.platformName(), m.platformName(), b.amount.Yuan(), f.TradeNo)
	default:
		f.Detail = fmt.Sprintf("Order %s was paid again: %s booked a second payment of %s (trade %s) besides the recorded one (trade %s).",
			o.OutTradeNo, m.platformName(), b.amount.Yuan(), f.TradeNo, o.TradeNo)
	}
	m.reportPair(f, b)
	return DuplicatePayment
}

// otherChannelPayment judges a payment booked on this channel for an
// unpaid order of the other channel. It is never the order's payment: an
// order is paid on the channel it was made for, since the same number on
// two platforms is not proof of one sale (two systems of the merchant may
// number alike) and the money sits in another account than the order
// system books it in. So this channel has no order for it: MISSING_LOCAL,
// whose action fits (investigate; refund if foreign). The intake recorded
// such a payment as a further payment of the order (CHANNEL_MISMATCH), so
// it can be refunded by its own trade.
func (m *Matcher) otherChannelPayment(o *Order, b *booked) Category {
	recorded := ""
	for i := range o.ExtraTrades {
		e := &o.ExtraTrades[i]
		if e.Channel == m.in.Channel && e.TradeNo == b.tradeNo {
			if m.extraSeen == nil {
				m.extraSeen = make(map[tradeKey]struct{})
			}
			m.extraSeen[tradeKey{e.Channel, e.TradeNo}] = struct{}{}
			recorded = " paydesk recorded the payment, without applying it, when its verified notification arrived."
		}
	}
	f := m.platformOnly(MissingLocal, b)
	f.LocalAmount, f.LocalStatus, f.NotifyStatus = o.Amount, string(o.Status), notifyStatus(o)
	f.Detail = fmt.Sprintf("%s booked a payment of %s (trade %s) for order %s, but that is a %s order (paydesk has it as %s): a payment on another channel is never applied to an order. Refund it if it is not this order's; otherwise have the order system confirm the channel.%s",
		m.platformName(), b.amount.Yuan(), f.TradeNo, o.OutTradeNo, o.Channel.DisplayName(), o.Status, recorded)
	m.reportPair(f, b)
	return MissingLocal
}

// judgePayment judges a platform booking against the order's payment, by
// the precedence in the package doc.
func (m *Matcher) judgePayment(o *Order, b *booked) Category {
	paid := o.Status.Paid()
	verified := o.NotifyVerified || o.PaidVia == PaidViaNotify
	local := orDate(o.PaidAt, o)
	day := m.dayOf(local)
	wantFee, feeWrong := m.feeWrong(b)
	cat := Matched
	switch {
	case b.amount != o.Amount:
		cat = AmountMismatch
	case !paid:
		cat = UnpaidLocal
	case day > 0 && b.hold == nil:
		cat = CrossDay
	case feeWrong:
		cat = FeeMismatch
	case o.NotifyRejected && !verified:
		cat = NotifyRejected
	case !verified:
		cat = NotifyMissing
	}
	if paid && day < 0 && b.hold == nil {
		// paydesk dated the payment on an earlier day: that day's run held
		// it (settle the hold now) or reported it missing (say so).
		if !m.settleLocalHold(gateway.LinePayment, o.OutTradeNo, o.TradeNo, cat, b) && cat == Matched {
			n := m.pairFinding(Matched, o, b)
			n.Detail = fmt.Sprintf("%s booked order %s's payment on %s, but paydesk dates it %s: the run for that day may have reported it missing.",
				m.platformName(), o.OutTradeNo, m.date(m.start), m.stamp(local))
			m.notice(n)
		}
	}
	if cat == Matched {
		m.count(Matched, gateway.LinePayment, b.amount)
		return Matched
	}
	f := m.pairFinding(cat, o, b)
	switch cat {
	case AmountMismatch:
		f.Detail = fmt.Sprintf("%s booked %s for order %s, but the order is for %s (paydesk has it as %s).",
			m.platformName(), b.amount.Yuan(), o.OutTradeNo, o.Amount.Yuan(), o.Status)
	case UnpaidLocal:
		var why []string
		if o.NotifyRejected {
			why = append(why, "a notification for it was rejected")
		}
		if o.Channel != m.in.Channel {
			why = append(why, "the order is for "+o.Channel.DisplayName())
		}
		f.Detail = fmt.Sprintf("%s booked a payment of %s for order %s, but paydesk still has the order as %s",
			m.platformName(), b.amount.Yuan(), o.OutTradeNo, o.Status)
		if len(why) > 0 {
			f.Detail += "; " + strings.Join(why, "; ")
		}
		f.Detail += "."
	case CrossDay:
		f.Side = SidePlatform
		f.Detail = fmt.Sprintf("%s booked order %s's payment of %s at %s, but paydesk dates it %s; held until that day is reconciled.",
			m.platformName(), o.OutTradeNo, b.amount.Yuan(), m.bookedAt(b.at), m.stamp(local))
	case FeeMismatch:
		f.Detail = m.feeDetail(b, wantFee)
	case NotifyRejected:
		f.Detail = fmt.Sprintf("Order %s is paid and matches the bill, but a notification for it failed verification or apply and no verified one followed (paid %s).",
			o.OutTradeNo, paidHow(o))
	case NotifyMissing:
		f.Detail = fmt.Sprintf("Order %s is paid and matches the bill, but paydesk never received a verified payment notification for it (paid %s).",
			o.OutTradeNo, paidHow(o))
	}
	m.reportPair(f, b)
	return cat
}

// unpairedOrders reports the payments paydesk booked on this day on this
// channel that no line paired: held as CROSS_DAY in the last CrossDayWindow
// before midnight, where the platform may book them on the next day;
// otherwise MISSING_PLATFORM (the recorded payment) or DUPLICATE_PAYMENT (a
// verified further payment the bill does not have).
func (m *Matcher) unpairedOrders() {
	// Walking the index rather than Orders reads a few compact records
	// instead of a million large structs; an Order is read only when it has
	// something to report.
	m.orders.each(func(off int) {
		flags := *m.orders.flags(off)
		const due = fOnChannel | fPaid
		if flags&(due|fTaken) == due && m.orders.rec(off)[recDay] == 0 {
			m.unpairedPayment(m.indexed(off).o)
		}
		if flags&fExtras != 0 {
			m.unpairedExtras(m.indexed(off).o)
		}
	})
}

func (m *Matcher) unpairedPayment(o *Order) {
	local := orDate(o.PaidAt, o)
	f := m.localPayment(o, o.TradeNo, o.Amount)
	if m.nearMidnight(local) {
		f.Category, f.Side = CrossDay, SideLocal
		f.Detail = fmt.Sprintf("paydesk has order %s paid (%s) at %s, within %s of midnight, but the bill for %s has no such payment; held for the next day's bill.",
			o.OutTradeNo, o.Amount.Yuan(), m.stamp(local), m.windowText(), m.date(m.start))
	} else {
		f.Category = MissingPlatform
		f.Detail = fmt.Sprintf("paydesk has order %s paid (%s, trade %s, %s, %s), but %s's bill has no such payment.",
			o.OutTradeNo, o.Amount.Yuan(), orNone(o.TradeNo), m.stamp(local), paidHow(o), m.platformName())
	}
	m.report(f)
}

func (m *Matcher) unpairedExtras(o *Order) {
	for j := range o.ExtraTrades {
		e := &o.ExtraTrades[j]
		if e.Channel != m.in.Channel {
			continue
		}
		if _, seen := m.extraSeen[tradeKey{e.Channel, e.TradeNo}]; seen {
			continue
		}
		local := orDate(e.PaidAt, o)
		if m.dayOf(local) != 0 {
			continue
		}
		f := m.localPayment(o, e.TradeNo, e.Amount)
		if m.nearMidnight(local) {
			f.Category, f.Side = CrossDay, SideLocal
			f.Detail = fmt.Sprintf("A further payment of order %s (%s, trade %s) was verified at %s, within %s of midnight, but the bill for %s has no such payment; held for the next day's bill.",
				o.OutTradeNo, e.Amount.Yuan(), e.TradeNo, m.stamp(local), m.windowText(), m.date(m.start))
		} else if !o.Status.Paid() {
			// Recorded, not applied: a payment on another channel than
			// the order's (see otherChannelPayment).
			f.Category = MissingPlatform
			f.Detail = fmt.Sprintf("A verified notification says %s received a payment of %s (trade %s, %s) for order %s, a %s order that is not paid; it was recorded, not applied, and %s's bill has no such payment.",
				m.platformName(), e.Amount.Yuan(), e.TradeNo, m.stamp(local), o.OutTradeNo, o.Channel.DisplayName(), m.platformName())
		} else {
			f.Category = DuplicatePayment
			f.Detail = fmt.Sprintf("Order %s was paid twice according to a verified notification (trade %s, %s, %s), but %s's bill has no line for the second payment.",
				o.OutTradeNo, e.TradeNo, e.Amount.Yuan(), m.stamp(local), m.platformName())
		}
		m.report(f)
	}
}

// pairFinding is a finding about a platform booking and a local order.
func (m *Matcher) pairFinding(cat Category, o *Order, b *booked) Finding {
	return Finding{
		Category:       cat,
		Kind:           gateway.LinePayment,
		OutTradeNo:     o.OutTradeNo,
		TradeNo:        strings.Clone(b.tradeNo),
		LocalAmount:    o.Amount,
		PlatformAmount: b.amount,
		LocalStatus:    string(o.Status),
		PlatformStatus: m.platformStatus(b),
		NotifyStatus:   notifyStatus(o),
		BillLine:       b.line,
	}
}

// localPayment is a finding about a payment only paydesk has.
func (m *Matcher) localPayment(o *Order, tradeNo string, amount gateway.Money) Finding {
	return Finding{
		Kind:         gateway.LinePayment,
		Side:         SideLocal,
		OutTradeNo:   o.OutTradeNo,
		TradeNo:      tradeNo,
		LocalAmount:  amount,
		LocalStatus:  string(o.Status),
		NotifyStatus: notifyStatus(o),
	}
}

// platformOnly is a finding about a booking only the platform has.
func (m *Matcher) platformOnly(cat Category, b *booked) Finding {
	return Finding{
		Category:       cat,
		Kind:           b.kind,
		Side:           SidePlatform,
		OutTradeNo:     strings.Clone(b.outTradeNo),
		TradeNo:        strings.Clone(b.tradeNo),
		OutRequestNo:   strings.Clone(b.outRequestNo),
		PlatformAmount: b.amount,
		PlatformStatus: m.platformStatus(b),
		BillLine:       b.line,
	}
}

func (m *Matcher) platformStatus(b *booked) string {
	if b.state != "" {
		return strings.Clone(b.state)
	}
	return string(b.kind)
}

// reportPair reports a finding about a pair; when the platform side is a
// suspense item being settled, the finding keeps that item's day and line.
func (m *Matcher) reportPair(f Finding, b *booked) {
	if h := b.hold; h != nil {
		f.Day = h.f.Day
		f.Detail = strings.TrimSuffix(f.Detail, ".") + fmt.Sprintf(" (the bill line is line %d of %s, held as cross-day until now).",
			h.f.BillLine, m.date(h.f.Day))
	}
	m.report(f)
}

func notifyStatus(o *Order) string {
	switch {
	case o.NotifyVerified || o.PaidVia == PaidViaNotify:
		return NotifyStatusVerified
	case o.NotifyRejected:
		return NotifyStatusRejected
	}
	return NotifyStatusMissing
}

func paidHow(o *Order) string {
	switch o.PaidVia {
	case PaidViaNotify:
		return "by notification"
	case PaidViaQuery:
		return "by a live query"
	case PaidViaImport:
		return "by import"
	}
	return "by an unknown path"
}

// orDate is t, or the order's creation time for a record without one.
func orDate(t time.Time, o *Order) time.Time {
	if t.IsZero() {
		return o.CreatedAt
	}
	return t
}

func orNone(s string) string {
	if s == "" {
		return "none recorded"
	}
	return s
}
