package recon

import (
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// Helpers for the Detail sentences. Times are shown in the platforms' zone,
// the one the bill and the business day are in.

func channelName(c gateway.Channel) string {
	switch c {
	case gateway.Alipay:
		return "Alipay"
	case gateway.WeChat:
		return "WeChat Pay"
	}
	return string(c)
}

func (m *Matcher) platformName() string { return channelName(m.in.Channel) }

// stamp is a date and time.
func (m *Matcher) stamp(t time.Time) string {
	if t.IsZero() {
		return "without a time"
	}
	return t.In(m.zone).Format("2006-01-02 15:04:05")
}

// clock is a time of day (the date is the run's, or obvious).
func (m *Matcher) clock(t time.Time) string {
	if t.IsZero() {
		return "an unknown time"
	}
	return t.In(m.zone).Format("15:04:05")
}

func (m *Matcher) date(t time.Time) string { return t.In(m.zone).Format("2006-01-02") }
