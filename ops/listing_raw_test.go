package ops

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/store"
)

// TestListingsDoNotReadRawBodies: the failed-notification listing, the
// paged listing, an order's detail and the notification export read the
// callbacks' outcomes only; the raw headers and body come from the store
// only for the one notification opened (and for replay).
func TestListingsDoNotReadRawBodies(t *testing.T) {
	eachEngine(t, func(t *testing.T, db string) {
		s := testService(t, Admin, db)
		ctx := context.Background()
		body := []byte("out_trade_no=PD0000000001&sign=" + strings.Repeat("A", 60<<10))
		var ids []int64
		for range 3 {
			id, err := s.store.SaveRawNotification(ctx, store.RawNotification{Channel: gateway.Alipay, ReceivedAt: time.Now(),
				RemoteAddr: "203.0.113.9", Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: body})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.store.RecordAttempt(ctx, id, store.Attempt{Kind: store.AttemptIntake, At: time.Now(), VerifyStatus: store.Rejected,
				ApplyStatus: store.ApplyRejected, VerifyError: "bad signature", OutTradeNo: "PD0000000001"}); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		failed, err := s.FailedNotifications(ctx, ReplayFilter{})
		if err != nil || len(failed) != 3 {
			t.Fatalf("%d %v", len(failed), err)
		}
		page, err := s.ListNotifications(ctx, store.NotificationFilter{}, 0, 10)
		if err != nil || len(page) != 3 {
			t.Fatalf("%d %v", len(page), err)
		}
		for _, n := range append(failed, page...) {
			if n.Body != nil || n.Header != nil || n.ApplyStatus != store.ApplyRejected || n.VerifyError != "bad signature" {
				t.Fatalf("listing row %d: body %d bytes, headers %v, %s %q", n.ID, len(n.Body), n.Header, n.ApplyStatus, n.VerifyError)
			}
		}
		// The one opened still has everything, and replay reads it.
		n, _, err := s.Notification(ctx, ids[0])
		if err != nil || len(n.Body) != len(body) || n.Header.Get("Content-Type") == "" {
			t.Fatalf("opened: %d bytes %v %v", len(n.Body), n.Header, err)
		}
		raw, err := s.store.ListNotifications(ctx, store.NotificationFilter{}, 0, 10)
		if err != nil || len(raw) != 3 || len(raw[0].Body) != len(body) {
			t.Fatalf("the raw listing (crash recovery) lost its bodies: %v", err)
		}
	})
}
