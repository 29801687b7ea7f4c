package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/store"
)

// The filter language, shared by every list (each takes the terms that
// make sense for it):
//
//	status:paid  s:paid  paid         an order or refund status
//	channel:wechat  ch:wechat  wechat a channel
//	2026-11-22                        one business day (in the platform zone)
//	2026-11-20..2026-11-22            days, both ends included
//	since:2026-11-20  until:2026-11-22
//	PD20261122…  no:PD2026…           an order (or trade) number prefix
//	failed                            notifications that need attention
//	op:alice  action:refund           audit entries; other words search text
//
// Terms are separated by spaces; the filter line above each list shows the
// parsed terms in this same form.

type filterTerm struct{ key, value string }

func splitTerms(s string) []filterTerm {
	var out []filterTerm
	for _, w := range strings.Fields(s) {
		if k, v, ok := strings.Cut(w, ":"); ok && k != "" {
			out = append(out, filterTerm{strings.ToLower(k), v})
		} else {
			out = append(out, filterTerm{"", w})
		}
	}
	return out
}

// dayRange parses "2026-11-22" or "2026-11-20..2026-11-22" into the
// half-open [since, until) of those business days.
func dayRange(s string, zone *time.Location) (since, until time.Time, ok bool, err error) {
	from, to, isRange := strings.Cut(s, "..")
	if !looksLikeDay(from) {
		return time.Time{}, time.Time{}, false, nil
	}
	if since, err = time.ParseInLocation(time.DateOnly, from, zone); err != nil {
		return since, until, true, fmt.Errorf("%q is not a date like 2026-11-22", from)
	}
	until = since.AddDate(0, 0, 1)
	if isRange {
		end, err := time.ParseInLocation(time.DateOnly, to, zone)
		if err != nil {
			return since, until, true, fmt.Errorf("%q is not a date like 2026-11-22", to)
		}
		if end.Before(since) {
			return since, until, true, fmt.Errorf("%s ends before it starts", s)
		}
		until = end.AddDate(0, 0, 1)
	}
	return since, until, true, nil
}

func looksLikeDay(s string) bool {
	return len(s) == 10 && s[4] == '-' && s[7] == '-' && s[0] >= '0' && s[0] <= '9'
}

func parseDayValue(key, v string, zone *time.Location) (time.Time, error) {
	t, err := time.ParseInLocation(time.DateOnly, v, zone)
	if err != nil {
		return t, fmt.Errorf("%s:%s: want a date like 2026-11-22", key, v)
	}
	return t, nil
}

// showDays prints a [since, until) window back in the filter language.
func showDays(since, until time.Time, zone *time.Location) string {
	switch {
	case since.IsZero() && until.IsZero():
		return ""
	case since.IsZero():
		return "until:" + until.AddDate(0, 0, -1).In(zone).Format(time.DateOnly)
	case until.IsZero():
		return "since:" + since.In(zone).Format(time.DateOnly)
	}
	last := until.AddDate(0, 0, -1)
	if last.Equal(since) {
		return since.In(zone).Format(time.DateOnly)
	}
	return since.In(zone).Format(time.DateOnly) + ".." + last.In(zone).Format(time.DateOnly)
}

// dayBoundTerm applies since:DAY or until:DAY to a [since, until) window
// of business days: until: names the last day, so the window ends at the
// start of the day after.
func dayBoundTerm(t filterTerm, zone *time.Location, since, until *time.Time) error {
	d, err := parseDayValue(t.key, t.value, zone)
	if err != nil {
		return err
	}
	if t.key == "since" {
		*since = d
	} else {
		*until = d.AddDate(0, 0, 1)
	}
	return nil
}

// dayOrChannel reads a bare word that is a day, a range of days or a
// channel into a filter's fields. It reports false for any other word (a
// number, free text), which each list reads its own way; a word that
// looks like a day but is not a date is an error.
func dayOrChannel(w string, zone *time.Location, since, until *time.Time, ch *gateway.Channel) (bool, error) {
	s, u, isDay, err := dayRange(w, zone)
	switch {
	case err != nil:
		return true, err
	case isDay:
		*since, *until = s, u
		return true, nil
	}
	if c, err := gateway.ParseChannel(w); err == nil {
		*ch = c
		return true, nil
	}
	return false, nil
}

func parseStatusWord(s string) (store.OrderStatus, bool) {
	switch strings.ToLower(s) {
	case "partial", "partially_refunded", "partially-refunded":
		return store.OrderPartiallyRefunded, true
	}
	st, err := store.ParseOrderStatus(s)
	return st, err == nil
}

// filterQuery is a parsed filter: the store filter F and the canonical
// form shown above the list.
type filterQuery[F any] struct {
	f    F
	text string
}

// orderQuery is a parsed Orders filter.
type orderQuery = filterQuery[store.OrderFilter]

func parseOrderFilter(s string, zone *time.Location) (orderQuery, error) {
	var q orderQuery
	for _, t := range splitTerms(s) {
		switch t.key {
		case "status", "s":
			st, ok := parseStatusWord(t.value)
			if !ok {
				return q, fmt.Errorf("status:%s: want paid, pending, closed, refunded or partial", t.value)
			}
			q.f.Status = st
		case "channel", "ch":
			ch, err := gateway.ParseChannel(t.value)
			if err != nil {
				return q, err
			}
			q.f.Channel = ch
		case "since", "until":
			if err := dayBoundTerm(t, zone, &q.f.Since, &q.f.Until); err != nil {
				return q, err
			}
		case "no", "order", "number":
			if q.f.Number != "" {
				return q, fmt.Errorf("one number prefix at a time (have %s)", q.f.Number)
			}
			q.f.Number = t.value
		case "":
			// No status word looks like a day or is a channel, so asking
			// for a status first reads every word as before.
			if st, ok := parseStatusWord(t.value); ok {
				q.f.Status = st
				continue
			}
			ok, err := dayOrChannel(t.value, zone, &q.f.Since, &q.f.Until, &q.f.Channel)
			if err != nil {
				return q, err
			}
			if ok {
				continue
			}
			if q.f.Number != "" {
				return q, fmt.Errorf("one number prefix at a time (have %s, and %s)", q.f.Number, t.value)
			}
			q.f.Number = t.value
		default:
			return q, fmt.Errorf("unknown filter %s: (try status:, channel:, a date, since:, until: or a number)", t.key)
		}
	}
	q.text = joinNonEmpty(
		prefixed("status:", string(q.f.Status)),
		prefixed("channel:", string(q.f.Channel)),
		showDays(q.f.Since, q.f.Until, zone),
		q.f.Number,
	)
	return q, nil
}

// notificationQuery is a parsed Notifications filter.
type notificationQuery = filterQuery[store.NotificationFilter]

func parseNotificationFilter(s string, zone *time.Location) (notificationQuery, error) {
	var q notificationQuery
	for _, t := range splitTerms(s) {
		switch t.key {
		case "channel", "ch":
			ch, err := gateway.ParseChannel(t.value)
			if err != nil {
				return q, err
			}
			q.f.Channel = ch
		case "order", "no":
			q.f.OutTradeNo = t.value
		case "since", "until":
			if err := dayBoundTerm(t, zone, &q.f.Since, &q.f.Until); err != nil {
				return q, err
			}
		case "":
			if strings.EqualFold(t.value, "failed") {
				q.f.Failed = true
				continue
			}
			ok, err := dayOrChannel(t.value, zone, &q.f.Since, &q.f.Until, &q.f.Channel)
			if err != nil {
				return q, err
			}
			if !ok {
				q.f.OutTradeNo = t.value
			}
		default:
			return q, fmt.Errorf("unknown filter %s: (try failed, channel:, order:, a date)", t.key)
		}
	}
	failed := ""
	if q.f.Failed {
		failed = "failed"
	}
	q.text = joinNonEmpty(failed, prefixed("channel:", string(q.f.Channel)), showDays(q.f.Since, q.f.Until, zone), prefixed("order:", q.f.OutTradeNo))
	return q, nil
}

// refundQuery is a parsed Refunds filter.
type refundQuery = filterQuery[store.RefundFilter]

func parseRefundFilter(s string, zone *time.Location) (refundQuery, error) {
	var q refundQuery
	for _, t := range splitTerms(s) {
		switch t.key {
		case "status", "s":
			st, ok := parseRefundStatus(t.value)
			if !ok {
				return q, fmt.Errorf("status:%s: want pending, success or failed", t.value)
			}
			q.f.Status = st
		case "channel", "ch":
			ch, err := gateway.ParseChannel(t.value)
			if err != nil {
				return q, err
			}
			q.f.Channel = ch
		case "order", "no":
			q.f.OutTradeNo = t.value
		case "":
			if st, ok := parseRefundStatus(t.value); ok {
				q.f.Status = st
				continue
			}
			ok, err := dayOrChannel(t.value, zone, &q.f.Since, &q.f.Until, &q.f.Channel)
			if err != nil {
				return q, err
			}
			if !ok {
				q.f.OutTradeNo = t.value
			}
		default:
			return q, fmt.Errorf("unknown filter %s: (try status:, channel:, order:, a date)", t.key)
		}
	}
	q.text = joinNonEmpty(prefixed("status:", string(q.f.Status)), prefixed("channel:", string(q.f.Channel)),
		showDays(q.f.Since, q.f.Until, zone), prefixed("order:", q.f.OutTradeNo))
	return q, nil
}

func parseRefundStatus(s string) (gateway.RefundStatus, bool) {
	st, err := gateway.ParseRefundStatus(s)
	return st, err == nil
}

// auditQuery is a parsed Audit filter.
type auditQuery = filterQuery[store.AuditFilter]

func parseAuditFilter(s string, zone *time.Location) (auditQuery, error) {
	var q auditQuery
	var words []string
	for _, t := range splitTerms(s) {
		switch t.key {
		case "op", "operator":
			q.f.Operator = t.value
		case "action", "a":
			q.f.Action = strings.ToLower(t.value)
		case "target":
			q.f.Target = t.value
		case "since":
			d, err := parseDayValue(t.key, t.value, zone)
			if err != nil {
				return q, err
			}
			q.f.Since = d
		case "":
			if looksLikeDay(t.value) {
				d, err := parseDayValue("since", t.value, zone)
				if err != nil {
					return q, err
				}
				q.f.Since = d
				continue
			}
			words = append(words, t.value)
		default:
			return q, fmt.Errorf("unknown filter %s: (try op:, action:, target:, since: or words)", t.key)
		}
	}
	q.f.Text = strings.Join(words, " ")
	since := ""
	if !q.f.Since.IsZero() {
		since = "since:" + q.f.Since.In(zone).Format(time.DateOnly)
	}
	q.text = joinNonEmpty(prefixed("op:", q.f.Operator), prefixed("action:", q.f.Action), prefixed("target:", q.f.Target), since, q.f.Text)
	return q, nil
}

func prefixed(p, v string) string {
	if v == "" {
		return ""
	}
	return p + v
}

func joinNonEmpty(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p)
	}
	return b.String()
}
