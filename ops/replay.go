package ops

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/paydesk/paydesk/store"
)

// ReplayNotification verifies a stored notification again, with the headers
// and body it arrived with and freshness judged at its receipt time (rule
// 5: a forged one never becomes valid by replay), applies it exactly once,
// and records the attempt and who replayed it.
func (s *Service) ReplayNotification(ctx context.Context, id int64) (IntakeResult, error) {
	target := "notification " + strconv.FormatInt(id, 10)
	if err := s.allow(ctx, ActReplay, target); err != nil {
		return IntakeResult{}, err
	}
	n, err := s.store.GetNotification(ctx, id)
	if err != nil {
		s.auditResult(ctx, ActReplay, target, "", err)
		return IntakeResult{}, err
	}
	res := IntakeResult{NotificationID: id, Verify: store.Unverified, Apply: store.ApplyPending}
	s.processStored(context.WithoutCancel(ctx), n, store.AttemptReplay, s.operator.Name, &res)
	detail := fmt.Sprintf("%s %s", res.Verify, res.Apply)
	if res.Detail != "" {
		detail += ": " + res.Detail
	}
	if res.Notification != nil {
		target = res.Notification.OutTradeNo
		detail = fmt.Sprintf("notification %d %s", id, detail)
	}
	// The replay itself worked; whether it applied anything is its outcome.
	outcome := store.AuditOK
	if res.Apply.Failed() {
		outcome = store.AuditError
	}
	s.audit(ctx, ActReplay, target, detail, outcome, nil)
	return res, nil
}

// ReplayFilter selects failed notifications to replay in bulk.
type ReplayFilter struct {
	Since time.Time
	Until time.Time
}

// FailedNotifications lists the notifications a bulk replay would touch,
// newest first (the console states their count before it asks).
func (s *Service) FailedNotifications(ctx context.Context, f ReplayFilter) ([]store.Notification, error) {
	if err := s.allow(ctx, ActRead, ""); err != nil {
		return nil, err
	}
	var out []store.Notification
	var before int64
	for {
		page, err := s.store.ListNotificationsWithoutRaw(ctx, store.NotificationFilter{Failed: true, Since: f.Since, Until: f.Until}, before, 1000)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < 1000 {
			return out, nil
		}
		before = page[len(page)-1].ID
	}
}

// ReplayResult is one notification's replay in a bulk replay.
type ReplayResult struct {
	ID     int64              `json:"id"`
	Verify store.VerifyStatus `json:"verify_status"`
	Apply  store.ApplyStatus  `json:"apply_status"`
	Detail string             `json:"detail,omitempty"`
	Err    string             `json:"error,omitempty"`
}

// ReplayNotifications replays each id in turn, reporting progress after
// each; it stops early only when ctx ends.
func (s *Service) ReplayNotifications(ctx context.Context, ids []int64, progress func(done, total int)) ([]ReplayResult, error) {
	if err := s.allow(ctx, ActReplay, fmt.Sprintf("%d notifications", len(ids))); err != nil {
		return nil, err
	}
	out := make([]ReplayResult, 0, len(ids))
	for i, id := range ids {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		r, err := s.ReplayNotification(ctx, id)
		rr := ReplayResult{ID: id, Verify: r.Verify, Apply: r.Apply, Detail: r.Detail}
		if err != nil {
			rr.Err = err.Error()
		}
		out = append(out, rr)
		if progress != nil {
			progress(i+1, len(ids))
		}
	}
	return out, nil
}

// ListNotifications returns a page of stored notifications, newest first,
// without their raw requests (Notification has them, one at a time).
func (s *Service) ListNotifications(ctx context.Context, f store.NotificationFilter, beforeID int64, limit int) ([]store.Notification, error) {
	if err := s.allow(ctx, ActRead, ""); err != nil {
		return nil, err
	}
	return s.store.ListNotificationsWithoutRaw(ctx, f, beforeID, limit)
}

// CountNotifications counts what a filter selects.
func (s *Service) CountNotifications(ctx context.Context, f store.NotificationFilter) (int, error) {
	if err := s.allow(ctx, ActRead, ""); err != nil {
		return 0, err
	}
	return s.store.CountNotifications(ctx, f)
}

// CountNotificationsUpTo counts what a filter selects, up to CountLimit.
func (s *Service) CountNotificationsUpTo(ctx context.Context, f store.NotificationFilter) (Count, error) {
	if err := s.allow(ctx, ActRead, ""); err != nil {
		return Count{}, err
	}
	n, more, err := s.store.CountNotificationsUpTo(ctx, f, CountLimit)
	return Count{N: n, More: more}, err
}

// Notification returns one stored notification with its attempts.
func (s *Service) Notification(ctx context.Context, id int64) (store.Notification, []store.Attempt, error) {
	if err := s.allow(ctx, ActRead, ""); err != nil {
		return store.Notification{}, nil, err
	}
	n, err := s.store.GetNotification(ctx, id)
	if err != nil {
		return n, nil, err
	}
	a, err := s.store.Attempts(ctx, id)
	return n, a, err
}
