package recon

import (
	"strconv"
	"time"
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
func (m *Matcher) windowText() string {
	w := m.window
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
