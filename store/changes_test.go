package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// The SQL lists are read from the one table of apply statuses: a callback
// stored with each status is listed as failed exactly when Failed says so.
func TestApplyStatusSetsAgree(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		failed := 0
		for a, c := range applyClasses {
			id, err := s.SaveRawNotification(ctx, RawNotification{Channel: gateway.Alipay, ReceivedAt: t0, Body: []byte("x")})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.RecordAttempt(ctx, id, Attempt{Kind: AttemptIntake, At: t0, VerifyStatus: Verified, ApplyStatus: a}); err != nil {
				t.Fatal(err)
			}
			if a.Failed() != c.failed || a.Settled() != c.settled || a.Delivered() != c.delivered {
				t.Errorf("%s: methods disagree with the table", a)
			}
			if strings.Contains(failedStatuses, "'"+string(a)+"'") != a.Failed() || strings.Contains(deliveredStatuses, "'"+string(a)+"'") != a.Delivered() {
				t.Errorf("%s: the SQL lists disagree with the table", a)
			}
			if a.Failed() {
				failed++
			}
		}
		if n, err := s.CountNotifications(ctx, NotificationFilter{Failed: true}); err != nil || n != failed {
			t.Errorf("failed callbacks counted %d, want %d (%v)", n, failed, err)
		}
		if !ApplyStatus("SOMETHING_NEW").Failed() || ApplyStatus("SOMETHING_NEW").Settled() {
			t.Error("an unknown status is not treated as needing attention")
		}
	})
}

// A count that would walk a long range stops past the limit and says so;
// a count under it is exact.
func TestCountsStopPastTheLimit(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		var orders []Order
		for i := range 30 {
			o := pending(fmt.Sprintf("PDCAP%04d", i), 100)
			o.CreatedAt = t0.Add(time.Duration(i) * time.Minute)
			orders = append(orders, o)
		}
		seed(t, s, orders...)
		for _, tc := range []struct {
			f     OrderFilter
			limit int
			n     int
			more  bool
		}{
			{OrderFilter{Number: "PDCAP"}, 10, 10, true},
			{OrderFilter{Number: "PDCAP"}, 30, 30, false},
			{OrderFilter{Number: "PDCAP"}, 0, 30, false},
			{OrderFilter{Number: "PDCAP001"}, 5, 5, true},
			{OrderFilter{Number: "PDCAP002"}, 10, 10, false},
			{OrderFilter{Since: t0, Until: t0.Add(5 * time.Minute)}, 10, 5, false},
			{OrderFilter{}, 10, 30, false}, // order_counts: exact and instant
		} {
			n, more, err := s.CountOrdersUpTo(ctx, tc.f, tc.limit)
			if err != nil || n != tc.n || more != tc.more {
				t.Errorf("%+v up to %d: %d %v %v, want %d %v", tc.f, tc.limit, n, more, err, tc.n, tc.more)
			}
		}
		for range 3 {
			if _, err := s.SaveRawNotification(ctx, RawNotification{Channel: gateway.WeChat, ReceivedAt: t0, Body: []byte("x")}); err != nil {
				t.Fatal(err)
			}
		}
		if n, more, err := s.CountNotificationsUpTo(ctx, NotificationFilter{}, 2); err != nil || n != 2 || !more {
			t.Errorf("notifications up to 2: %d %v %v", n, more, err)
		}
	})
}
