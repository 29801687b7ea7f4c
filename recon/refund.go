package recon

import (
	"fmt"

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

// pairRefund judges a platform refund booking against the local refund of
// the same request number. Precedence: REFUND_MISMATCH > CROSS_DAY >
// MATCHED.
func (m *Matcher) pairRefund(ref refundRef, b *booked) Category {
	r := ref.r
	twice := *ref.taken
	*ref.taken = true
	local := r.RefundedAt
	day := m.dayOf(local)
	success := r.Status == gateway.RefundSuccess
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
	case r.Status == gateway.RefundFailed:
		// paydesk would let the operator refund again under a new number.
		cat, sev = RefundMismatch, Critical
		detail = fmt.Sprintf("%s booked refund %s of %s on order %s, but paydesk has it as FAILED.",
			m.platformName(), r.OutRequestNo, b.amount.Yuan(), r.OutTradeNo)
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
		detail = fmt.Sprintf("%s booked refund %s of %s on order %s at %s, but paydesk dates its success %s; held until that day is reconciled.",
			m.platformName(), r.OutRequestNo, b.amount.Yuan(), r.OutTradeNo, m.bookedAt(b.at), m.stamp(local))
	default:
		if want, wrong := m.feeWrong(b); wrong {
			cat, sev = FeeMismatch, Warning
			detail = m.feeDetail(b, want)
		}
	}
	if success && day < 0 && b.hold == nil {
		if !m.settleLocalHold(gateway.LineRefund, r.OutRequestNo, "", cat, b) && cat == Matched {
			n := m.refundPair(Matched, r, b)
			n.Detail = fmt.Sprintf("%s booked refund %s on %s, but paydesk dates its success %s: the run for that day may have reported it.",
				m.platformName(), r.OutRequestNo, m.date(m.start), m.stamp(local))
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

// unpairedRefunds reports the refunds paydesk has as succeeded on this day
// on this channel that no line paired: CROSS_DAY near midnight, else
// REFUND_MISMATCH.
func (m *Matcher) unpairedRefunds() {
	for i := range m.in.Refunds {
		r := &m.in.Refunds[i]
		if m.refundTaken[i] || r.Channel != m.in.Channel || r.Status != gateway.RefundSuccess || m.dayOf(r.RefundedAt) != 0 {
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
		if !r.RefundedAt.IsZero() && m.nearMidnight(r.RefundedAt) {
			f.Category = CrossDay
			f.Detail = fmt.Sprintf("paydesk has refund %s of %s on order %s succeeded at %s, within %s of midnight, but the bill for %s has no such refund; held for the next day's bill.",
				r.OutRequestNo, r.Amount.Yuan(), r.OutTradeNo, m.stamp(r.RefundedAt), m.windowText(), m.date(m.start))
		} else {
			f.Category = RefundMismatch
			f.Detail = fmt.Sprintf("paydesk has refund %s of %s on order %s as succeeded (%s), but %s's bill has no such refund.",
				r.OutRequestNo, r.Amount.Yuan(), r.OutTradeNo, sourceName(r.Source), m.platformName())
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
