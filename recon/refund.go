package recon

import (
	"fmt"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

func (m *Matcher) refundLine(b *booked) Category {
	ref, ok := m.findRefund(b.outRequestNo)
	if !ok {
		f := m.platformOnly(RefundMismatch, b)
		// The platform paid money back that paydesk has no request for:
		// money moved without a local record.
		f.Severity = Critical
		if b.outRequestNo == "" {
			f.Detail = fmt.Sprintf("%s booked a refund of %s on order %s without a request number, so paydesk cannot match it.",
				m.platformName(), b.amount.Yuan(), orNone(f.OutTradeNo))
		} else {
			f.Detail = fmt.Sprintf("%s booked refund %s of %s on order %s, which paydesk has no record of.",
				m.platformName(), f.OutRequestNo, b.amount.Yuan(), orNone(f.OutTradeNo))
		}
		m.report(f)
		return RefundMismatch
	}
	return m.pairRefund(ref, b)
}

// refundAbnormal is WeChat Pay's ABNORMAL refund status (the money left
// the merchant and did not reach the buyer): gateway's refund status of that
// name once the store has one; until then the string is shared.
const refundAbnormal gateway.RefundStatus = "ABNORMAL"

// refundDate is the time that places a local refund on a bill: when it was
// asked for where the platform dates refund lines by request (WeChat Pay),
// else when it succeeded.
func (m *Matcher) refundDate(r *Refund) time.Time {
	if m.in.RefundDating == gateway.RefundsDatedAtRequest && !r.RequestedAt.IsZero() {
		return r.RequestedAt
	}
	return r.RefundedAt
}

// refundDateWord names what refundDate is, for details.
func (m *Matcher) refundDateWord() string {
	if m.in.RefundDating == gateway.RefundsDatedAtRequest {
		return "request"
	}
	return "success"
}

// pairRefund judges a platform refund booking against the local refund of
// the same request number. A line is judged by the status the bill prints
// for it (WeChat Pay's 退款状态, never updated after the bill is cut), not
// taken for a refund that succeeded. Precedence: REFUND_MISMATCH >
// CROSS_DAY > MATCHED.
func (m *Matcher) pairRefund(ref refundRef, b *booked) Category {
	r := ref.r
	twice := *ref.taken
	*ref.taken = true
	local := m.refundDate(r)
	day := m.dayOf(local)
	success := r.Status == gateway.RefundSuccess
	printed := b.refundStatus
	if printed == "" {
		printed = gateway.RefundSuccess
	}
	cat := Matched
	var detail string
	sev := Warning
	switch {
	case twice:
		cat, sev = RefundMismatch, Critical
		detail = fmt.Sprintf("%s booked refund %s (%s) again; paydesk has one refund of %s under that number.",
			m.platformName(), r.OutRequestNo, b.amount.Yuan(), r.Amount.Yuan())
	case r.Channel != m.in.Channel || (r.OutTradeNo != "" && b.outTradeNo != "" && r.OutTradeNo != b.outTradeNo):
		cat, sev = RefundMismatch, Critical
		detail = fmt.Sprintf("%s booked refund %s (%s) on order %s, but paydesk has that request on %s order %s.",
			m.platformName(), r.OutRequestNo, b.amount.Yuan(), orNone(b.outTradeNo), r.Channel.DisplayName(), r.OutTradeNo)
	case printed == refundAbnormal || r.Status == refundAbnormal:
		// Money left the merchant and did not reach the buyer: someone
		// must act, whatever either side says next.
		cat, sev = RefundMismatch, Critical
		detail = fmt.Sprintf("Refund %s of %s on order %s is ABNORMAL (%s's bill: %s; paydesk: %s): the money left the merchant but did not reach the buyer (a closed bank card, say). "+
			"Handle it as an abnormal refund: have it re-issued to another account of the buyer (the platform's abnormal-refund request) or settle with the buyer offline, then resolve this finding.",
			r.OutRequestNo, b.amount.Yuan(), r.OutTradeNo, m.platformName(), b.state, r.Status)
	case printed == gateway.RefundFailed && success:
		cat, sev = RefundMismatch, Critical
		detail = fmt.Sprintf("%s's bill has refund %s of %s on order %s as %s (not refunded), but paydesk has it as succeeded: the buyer may not have the money. Query the refund.",
			m.platformName(), r.OutRequestNo, b.amount.Yuan(), r.OutTradeNo, b.state)
	case printed == gateway.RefundFailed && r.Status != gateway.RefundFailed:
		cat = RefundMismatch
		detail = fmt.Sprintf("%s's bill has refund %s of %s on order %s as %s (not refunded), but paydesk still has it as %s: query it so that paydesk records the outcome.",
			m.platformName(), r.OutRequestNo, b.amount.Yuan(), r.OutTradeNo, b.state, r.Status)
	case printed == gateway.RefundFailed:
		// Both sides: asked for and not carried out. Nothing to do.
	case r.Status == gateway.RefundFailed:
		// paydesk would let the operator refund again under a new number.
		cat, sev = RefundMismatch, Critical
		detail = fmt.Sprintf("%s booked refund %s of %s on order %s, but paydesk has it as FAILED.",
			m.platformName(), r.OutRequestNo, b.amount.Yuan(), r.OutTradeNo)
	case printed == gateway.RefundPending && !success:
		cat = RefundMismatch
		detail = fmt.Sprintf("%s's bill has refund %s of %s on order %s still processing when the bill was cut (a bill never updates it), and paydesk has it as %s: query it for its outcome.",
			m.platformName(), r.OutRequestNo, b.amount.Yuan(), r.OutTradeNo, r.Status)
	case !success:
		cat = RefundMismatch
		detail = fmt.Sprintf("%s booked refund %s of %s on order %s, but paydesk still has it as %s.",
			m.platformName(), r.OutRequestNo, b.amount.Yuan(), r.OutTradeNo, r.Status)
	case b.amount != r.Amount:
		cat, sev = RefundMismatch, Critical
		detail = fmt.Sprintf("%s booked refund %s on order %s as %s, but paydesk has it as %s.",
			m.platformName(), r.OutRequestNo, r.OutTradeNo, b.amount.Yuan(), r.Amount.Yuan())
	case day > 0 && b.hold == nil:
		cat, sev = CrossDay, Info
		detail = fmt.Sprintf("%s booked refund %s of %s on order %s at %s, but paydesk dates its %s %s; held until that day is reconciled.",
			m.platformName(), r.OutRequestNo, b.amount.Yuan(), r.OutTradeNo, m.bookedAt(b.at), m.refundDateWord(), m.stamp(local))
	default:
		if want, wrong := m.feeWrong(b); wrong {
			cat, sev = FeeMismatch, Warning
			detail = m.feeDetail(b, want)
		}
	}
	if success && day < 0 && b.hold == nil {
		if !m.settleLocalHold(gateway.LineRefund, r.OutRequestNo, "", cat, b) && cat == Matched {
			n := m.refundPair(Matched, r, b)
			n.Detail = fmt.Sprintf("%s booked refund %s on %s, but paydesk dates its %s %s: the run for that day may have reported it.",
				m.platformName(), r.OutRequestNo, m.date(m.start), m.refundDateWord(), m.stamp(local))
			m.notice(n)
		}
	}
	if cat == Matched {
		if r.Source == RefundSourcePlatform {
			// Matched, but a refund nobody made through paydesk is worth a
			// look: it was made in the platform's console.
			n := m.refundPair(Matched, r, b)
			n.Detail = fmt.Sprintf("Refund %s of %s on order %s was made in the %s console, not through paydesk; the bill confirms it.",
				r.OutRequestNo, r.Amount.Yuan(), r.OutTradeNo, m.platformName())
			m.notice(n)
		}
		m.count(Matched, gateway.LineRefund, b.amount)
		return Matched
	}
	f := m.refundPair(cat, r, b)
	f.Severity = sev
	if cat == CrossDay {
		f.Side = SidePlatform
	}
	f.Detail = detail
	m.reportPair(f, b)
	return cat
}

// unpairedRefunds reports the refunds paydesk expects on this bill that no
// line paired: CROSS_DAY near midnight, else REFUND_MISMATCH. Expected are
// the refunds of this channel that succeeded (or went ABNORMAL: the money
// left) and are dated on this day by the platform's rule.
func (m *Matcher) unpairedRefunds() {
	for i := range m.in.Refunds {
		r := &m.in.Refunds[i]
		moved := r.Status == gateway.RefundSuccess || (r.Status == refundAbnormal && m.in.RefundDating == gateway.RefundsDatedAtRequest)
		at := m.refundDate(r)
		if m.refundTaken[i] || r.Channel != m.in.Channel || !moved || m.dayOf(at) != 0 {
			continue
		}
		f := Finding{
			Kind:         gateway.LineRefund,
			Side:         SideLocal,
			OutTradeNo:   r.OutTradeNo,
			OutRequestNo: r.OutRequestNo,
			LocalAmount:  r.Amount,
			LocalStatus:  string(r.Status),
		}
		state := "succeeded"
		if r.Status != gateway.RefundSuccess {
			state = string(r.Status)
		}
		if !at.IsZero() && m.nearMidnight(at) {
			when := "succeeded"
			if m.in.RefundDating == gateway.RefundsDatedAtRequest {
				when = "asked for (now " + state + ")"
			}
			f.Category = CrossDay
			f.Detail = fmt.Sprintf("paydesk has refund %s of %s on order %s %s at %s, within %s of midnight, but the bill for %s has no such refund; held for the next day's bill.",
				r.OutRequestNo, r.Amount.Yuan(), r.OutTradeNo, when, m.stamp(at), m.windowText(), m.date(m.start))
		} else {
			f.Category = RefundMismatch
			f.Detail = fmt.Sprintf("paydesk has refund %s of %s on order %s as %s (%s), but %s's bill has no such refund.",
				r.OutRequestNo, r.Amount.Yuan(), r.OutTradeNo, state, sourceName(r.Source), m.platformName())
		}
		m.report(f)
	}
}

func (m *Matcher) refundPair(cat Category, r *Refund, b *booked) Finding {
	f := m.platformOnly(cat, b)
	f.Side = ""
	if r.OutTradeNo != "" {
		f.OutTradeNo = r.OutTradeNo
	}
	f.OutRequestNo = r.OutRequestNo
	f.LocalAmount = r.Amount
	f.LocalStatus = string(r.Status)
	return f
}

func sourceName(s string) string {
	if s == RefundSourcePlatform {
		return "made in the platform console"
	}
	return "requested through paydesk"
}
