package recon

import (
	"fmt"
	"strconv"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// Helpers for the Detail sentences. Times are shown in the platforms' zone,
// the one the bill and the business day are in.

func (m *Matcher) platformName() string { return m.in.Channel.DisplayName() }

// stamp is a date and time.
func (m *Matcher) stamp(t time.Time) string {
	if t.IsZero() {
		return "without a time"
	}
	return t.In(m.zone).Format("2006-01-02 15:04:05")
}

// bookedAt is when the platform booked a line: its time, or the bill's
// date when the line has none.
func (m *Matcher) bookedAt(t time.Time) string {
	if t.IsZero() {
		return "some time on " + m.date(m.start)
	}
	return m.stamp(t)
}

func (m *Matcher) date(t time.Time) string { return t.In(m.zone).Format("2006-01-02") }

// windowText is the cross-day window as people say it ("10 minutes").
func (m *Matcher) windowText() string { return windowText(m.window) }

func windowText(w time.Duration) string {
	switch {
	case w%time.Hour == 0:
		return plural(int(w/time.Hour), "hour")
	case w%time.Minute == 0:
		return plural(int(w/time.Minute), "minute")
	case w%time.Second == 0:
		return plural(int(w/time.Second), "second")
	}
	return w.String()
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// feeDetail explains a FEE_MISMATCH: the bill's fee against the rate's.
func (m *Matcher) feeDetail(b *booked, want gateway.Money) string {
	if b.kind == gateway.LineRefund {
		return fmt.Sprintf("%s gave back a fee of %s with refund %s of %s on order %s, but the contracted rate %s gives back %s (%s off).",
			m.platformName(), (-b.fee).Yuan(), orNone(b.outRequestNo), b.amount.Yuan(), orNone(b.outTradeNo), m.in.FeeRate, (-want).Yuan(), (b.fee - want).Yuan())
	}
	return fmt.Sprintf("%s charged a fee of %s on order %s's payment of %s (trade %s), but the contracted rate %s gives %s (%s off).",
		m.platformName(), b.fee.Yuan(), orNone(b.outTradeNo), b.amount.Yuan(), orNone(b.tradeNo), m.in.FeeRate, want.Yuan(), (b.fee - want).Yuan())
}
